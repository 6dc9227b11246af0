/**
 * SWIM datagrams on the wire (pure): `{"m": "<message JSON>", "h": "<hex HMAC-SHA256 of m>"}`
 * under the memberlist Secret's key. Decoding never throws and believes nothing unchecked:
 * the signature first, then every field's type and range, so a key holder with a bug (or a
 * different version) cannot hand the detector a message it would trip over.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MemberState, SwimMessage, Update } from './swim.js';

/** A UDP datagram holds at most this much; anything longer was not sent by a speaker. */
export const MAX_DATAGRAM = 65_507;
/** Gossip piggy-backed on one message, at most. */
export const MAX_UPDATES = 1024;
const MAX_NAME = 253;

export type SwimDropReason = 'tooLarge' | 'notJson' | 'badEnvelope' | 'badSignature' | 'badMessage';

export type SwimDecode =
  | { readonly ok: true; readonly message: SwimMessage }
  | { readonly ok: false; readonly reason: SwimDropReason; readonly detail: string };

const TYPES: ReadonlySet<string> = new Set(['ping', 'ack', 'pingReq', 'indirectAck']);
const STATES: ReadonlySet<string> = new Set<MemberState>(['alive', 'suspect', 'dead', 'left']);

export function encodeDatagram(m: SwimMessage, key: Buffer): Buffer {
  const body = JSON.stringify(m);
  const h = createHmac('sha256', key).update(body).digest('hex');
  return Buffer.from(JSON.stringify({ m: body, h }));
}

function drop(reason: SwimDropReason, detail: string): SwimDecode {
  return { ok: false, reason, detail };
}

function isName(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_NAME;
}

function isCounter(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function readUpdate(v: unknown): Update | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  if (!isName(o['name']) || typeof o['state'] !== 'string' || !STATES.has(o['state']) || !isCounter(o['incarnation']))
    return undefined;
  return { name: o['name'], state: o['state'] as MemberState, incarnation: o['incarnation'] };
}

/** The message's fields, checked; only known fields are kept. */
export function readMessage(v: unknown): SwimMessage | string {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not an object';
  const o = v as Record<string, unknown>;
  const type = o['type'];
  if (typeof type !== 'string' || !TYPES.has(type)) return `unknown type ${JSON.stringify(type)?.slice(0, 40)}`;
  if (!isCounter(o['seq'])) return 'seq is not a non-negative integer';
  if (!isName(o['from'])) return 'from is not a member name';
  const raw = o['updates'];
  if (!Array.isArray(raw) || raw.length > MAX_UPDATES) return `updates is not a list of at most ${MAX_UPDATES}`;
  const updates: Update[] = [];
  for (const u of raw) {
    const r = readUpdate(u);
    if (!r) return 'an update is not {name, state, incarnation}';
    updates.push(r);
  }
  const seq = o['seq'];
  const from = o['from'];
  if (type === 'ping' || type === 'ack') return { type, seq, from, updates };
  const target = o['target'];
  if (!isName(target)) return 'target is not a member name';
  return { type: type as 'pingReq' | 'indirectAck', seq, from, target, updates };
}

export function decodeDatagram(data: Buffer, key: Buffer): SwimDecode {
  if (data.length > MAX_DATAGRAM) return drop('tooLarge', `${data.length} bytes`);
  let env: unknown;
  try {
    env = JSON.parse(data.toString('utf8'));
  } catch {
    return drop('notJson', 'the datagram is not JSON');
  }
  if (typeof env !== 'object' || env === null || Array.isArray(env)) return drop('badEnvelope', 'not {m, h}');
  const { m, h } = env as { m?: unknown; h?: unknown };
  if (typeof m !== 'string' || typeof h !== 'string') return drop('badEnvelope', 'm and h must be strings');
  const want = createHmac('sha256', key).update(m).digest();
  const got = Buffer.from(h, 'hex');
  if (got.length !== want.length || !timingSafeEqual(got, want))
    return drop('badSignature', 'HMAC does not match the memberlist key');
  let body: unknown;
  try {
    body = JSON.parse(m);
  } catch {
    return drop('badMessage', 'the signed message is not JSON');
  }
  const r = readMessage(body);
  return typeof r === 'string' ? drop('badMessage', r) : { ok: true, message: r };
}
