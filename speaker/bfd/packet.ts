/**
 * BFD Control packets (RFC 5880 §4): a pure codec over Buffer. Intervals are carried in
 * microseconds on the wire and in milliseconds here. The optional Authentication Section
 * (§4.2–§4.4) is parsed so that a receiver can say which scheme the peer uses; Herald's
 * BFDProfile configures no authentication, so the session discards authenticated packets
 * (§6.8.6) and says why.
 */
import { HeraldError } from '../../src/core/errors.js';

/** §4.1 Version. */
export const BFD_VERSION = 1;
/** §4.1: the fixed part; §6.8.6: at least 24 bytes, 26 with the A bit. */
export const MIN_LENGTH = 24;
export const MIN_LENGTH_AUTH = 26;
/** RFC 5881 §4 / RFC 5883 §5: destination ports. */
export const PORT_SINGLE_HOP = 3784;
export const PORT_MULTI_HOP = 4784;
/** RFC 5881 §4: the source port range. */
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;
/** RFC 5881 §5 (GTSM): single-hop packets are sent with, and must arrive with, TTL 255. */
export const SINGLE_HOP_TTL = 255;

/** §4.1 State (Sta). */
export type BfdState = 'AdminDown' | 'Down' | 'Init' | 'Up';
const STATES: readonly BfdState[] = ['AdminDown', 'Down', 'Init', 'Up'];

/** §4.1 Diagnostic (Diag). */
export const DIAG = {
  none: 0,
  controlDetectionTimeExpired: 1,
  echoFunctionFailed: 2,
  neighborSignaledSessionDown: 3,
  forwardingPlaneReset: 4,
  pathDown: 5,
  concatenatedPathDown: 6,
  administrativelyDown: 7,
  reverseConcatenatedPathDown: 8,
} as const;
const DIAG_NAMES = Object.fromEntries(Object.entries(DIAG).map(([k, v]) => [v, k])) as Record<number, string>;

export function diagName(d: number): string {
  return DIAG_NAMES[d] ?? `diag${d}`;
}

/** §4.1 Auth Type. */
export const AUTH_TYPE = {
  simplePassword: 1,
  keyedMd5: 2,
  meticulousKeyedMd5: 3,
  keyedSha1: 4,
  meticulousKeyedSha1: 5,
} as const;
const AUTH_NAMES: Record<number, string> = {
  1: 'Simple Password',
  2: 'Keyed MD5',
  3: 'Meticulous Keyed MD5',
  4: 'Keyed SHA1',
  5: 'Meticulous Keyed SHA1',
};

export function authTypeName(t: number): string {
  return AUTH_NAMES[t] ?? `auth type ${t}`;
}

export type AuthSection =
  /** §4.2 Simple Password: 1 to 16 bytes. */
  | { readonly type: 1; readonly keyId: number; readonly password: Buffer }
  /** §4.3 Keyed / Meticulous Keyed MD5 (16-byte digest), §4.4 SHA1 (20-byte hash). */
  | { readonly type: 2 | 3 | 4 | 5; readonly keyId: number; readonly sequence: number; readonly digest: Buffer };

export interface ControlPacket {
  readonly diag: number;
  readonly state: BfdState;
  readonly poll: boolean;
  readonly final: boolean;
  readonly controlPlaneIndependent: boolean;
  readonly demand: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  /** Milliseconds (fractions kept). */
  readonly desiredMinTxMs: number;
  readonly requiredMinRxMs: number;
  readonly requiredMinEchoRxMs: number;
  readonly auth?: AuthSection;
}

export class BfdDecodeError extends HeraldError {
  constructor(message: string) {
    super('ParseError', `BFD: ${message}`);
    this.name = 'BfdDecodeError';
  }
}

const FLAG_P = 0x20;
const FLAG_F = 0x10;
const FLAG_C = 0x08;
const FLAG_A = 0x04;
const FLAG_D = 0x02;
const FLAG_M = 0x01;

function usToMs(us: number): number {
  return us / 1000;
}

function msToUs(ms: number): number {
  return Math.min(0xffffffff, Math.round(ms * 1000));
}

function decodeAuth(b: Buffer): AuthSection {
  if (b.length < 2) throw new BfdDecodeError('authentication section shorter than 2 bytes');
  const type = b[0]!;
  const len = b[1]!;
  if (len > b.length) throw new BfdDecodeError(`authentication length ${len} beyond the packet`);
  if (type === AUTH_TYPE.simplePassword) {
    if (len < 4 || len > 19) throw new BfdDecodeError(`Simple Password section length ${len} (4 to 19)`);
    return { type: 1, keyId: b[2]!, password: Buffer.from(b.subarray(3, len)) };
  }
  const digestLen = type === 2 || type === 3 ? 16 : type === 4 || type === 5 ? 20 : -1;
  if (digestLen < 0) throw new BfdDecodeError(`unknown authentication type ${type}`);
  if (len !== 8 + digestLen)
    throw new BfdDecodeError(`${authTypeName(type)} section length ${len}, expected ${8 + digestLen}`);
  return { type, keyId: b[2]!, sequence: b.readUInt32BE(4), digest: Buffer.from(b.subarray(8, len)) } as AuthSection;
}

/** Decodes and checks what §6.8.6 asks of every packet before a session is looked up. */
export function decodeControl(b: Buffer): ControlPacket {
  if (b.length < MIN_LENGTH) throw new BfdDecodeError(`packet of ${b.length} bytes, shorter than ${MIN_LENGTH}`);
  const version = b[0]! >> 5;
  if (version !== BFD_VERSION) throw new BfdDecodeError(`version ${version}, expected ${BFD_VERSION}`);
  const flags = b[1]!;
  const authPresent = (flags & FLAG_A) !== 0;
  const length = b[3]!;
  if (length < (authPresent ? MIN_LENGTH_AUTH : MIN_LENGTH))
    throw new BfdDecodeError(`length field ${length} too small`);
  if (length > b.length) throw new BfdDecodeError(`length field ${length} beyond the ${b.length}-byte payload`);
  const detectMult = b[2]!;
  if (detectMult === 0) throw new BfdDecodeError('Detect Mult is zero');
  if (flags & FLAG_M) throw new BfdDecodeError('Multipoint bit set');
  const myDiscriminator = b.readUInt32BE(4);
  if (myDiscriminator === 0) throw new BfdDecodeError('My Discriminator is zero');
  const state = STATES[flags >> 6]!;
  const yourDiscriminator = b.readUInt32BE(8);
  if (yourDiscriminator === 0 && state !== 'Down' && state !== 'AdminDown')
    throw new BfdDecodeError(`Your Discriminator is zero in state ${state}`);
  return {
    diag: b[0]! & 0x1f,
    state,
    poll: (flags & FLAG_P) !== 0,
    final: (flags & FLAG_F) !== 0,
    controlPlaneIndependent: (flags & FLAG_C) !== 0,
    demand: (flags & FLAG_D) !== 0,
    detectMult,
    myDiscriminator,
    yourDiscriminator,
    desiredMinTxMs: usToMs(b.readUInt32BE(12)),
    requiredMinRxMs: usToMs(b.readUInt32BE(16)),
    requiredMinEchoRxMs: usToMs(b.readUInt32BE(20)),
    ...(authPresent ? { auth: decodeAuth(b.subarray(MIN_LENGTH, length)) } : {}),
  };
}

export type ControlFields = Omit<ControlPacket, 'auth' | 'controlPlaneIndependent' | 'demand'> & {
  readonly controlPlaneIndependent?: boolean;
  readonly demand?: boolean;
};

/** Encodes an unauthenticated Control packet (P and F never both set, §6.5). */
export function encodeControl(p: ControlFields): Buffer {
  if (p.poll && p.final) throw new HeraldError('Internal', 'BFD: Poll and Final in one packet');
  const b = Buffer.alloc(MIN_LENGTH);
  b[0] = (BFD_VERSION << 5) | (p.diag & 0x1f);
  b[1] =
    (STATES.indexOf(p.state) << 6) |
    (p.poll ? FLAG_P : 0) |
    (p.final ? FLAG_F : 0) |
    (p.controlPlaneIndependent ? FLAG_C : 0) |
    (p.demand ? FLAG_D : 0);
  b[2] = p.detectMult;
  b[3] = MIN_LENGTH;
  b.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  b.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  b.writeUInt32BE(msToUs(p.desiredMinTxMs), 12);
  b.writeUInt32BE(msToUs(p.requiredMinRxMs), 16);
  b.writeUInt32BE(msToUs(p.requiredMinEchoRxMs), 20);
  return b;
}
