/**
 * BGP-4 messages as data (RFC 4271 §4), tagged by `type`, and the protocol constants the
 * codec and the FSM share. Section numbers are RFC 4271's unless another RFC is named.
 */
import type { CIDR } from '../../src/net/cidr.js';
import type { IP } from '../../src/net/ip.js';

/** §4.1: the 16-byte marker, 2-byte length and 1-byte type. */
export const HEADER_LENGTH = 19;
export const MARKER_LENGTH = 16;
/** §4.1: without RFC 8654 extended messages. */
export const MAX_MESSAGE = 4096;
/** RFC 8654 §3. */
export const MAX_EXTENDED_MESSAGE = 65535;

export const MSG_OPEN = 1;
export const MSG_UPDATE = 2;
export const MSG_NOTIFICATION = 3;
export const MSG_KEEPALIVE = 4;
/** RFC 2918 §3. */
export const MSG_ROUTE_REFRESH = 5;

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;

/** RFC 6793 §9: AS_TRANS stands in the 2-byte My AS field for a 4-byte AS. */
export const AS_TRANS = 23456;

// §4.3 path attribute type codes.
export const ATTR_ORIGIN = 1;
export const ATTR_AS_PATH = 2;
export const ATTR_NEXT_HOP = 3;
export const ATTR_MED = 4;
export const ATTR_LOCAL_PREF = 5;
export const ATTR_ATOMIC_AGGREGATE = 6;
export const ATTR_AGGREGATOR = 7;
/** RFC 1997. */
export const ATTR_COMMUNITIES = 8;
/** RFC 4760 §3 and §4. */
export const ATTR_MP_REACH_NLRI = 14;
export const ATTR_MP_UNREACH_NLRI = 15;
/** RFC 6793 §3. */
export const ATTR_AS4_PATH = 17;
export const ATTR_AS4_AGGREGATOR = 18;
/** RFC 8092. */
export const ATTR_LARGE_COMMUNITY = 32;

// §4.3 attribute flags.
export const FLAG_OPTIONAL = 0x80;
export const FLAG_TRANSITIVE = 0x40;
export const FLAG_PARTIAL = 0x20;
export const FLAG_EXTENDED_LENGTH = 0x10;

export const AS_SET = 1;
export const AS_SEQUENCE = 2;

// Capability codes (IANA; RFC 5492 for the container).
export const OPT_PARAM_CAPABILITIES = 2;
/**
 * RFC 9072 §2: Non-Ext OP Len and Non-Ext OP Type both 255 announce the extended optional
 * parameters format (a 2-byte total length, and 2-byte parameter lengths).
 */
export const OPT_PARAM_EXTENDED = 255;
/** The largest optional parameters field without RFC 9072. */
export const MAX_OPT_PARAMS_LENGTH = 255;
export const CAP_MULTIPROTOCOL = 1;
export const CAP_ROUTE_REFRESH = 2;
export const CAP_EXTENDED_MESSAGE = 6;
export const CAP_GRACEFUL_RESTART = 64;
export const CAP_FOUR_OCTET_AS = 65;

// §4.5 NOTIFICATION error codes and subcodes (§6).
export const ERR_HEADER = 1;
export const ERR_HEADER_NOT_SYNCHRONIZED = 1;
export const ERR_HEADER_BAD_LENGTH = 2;
export const ERR_HEADER_BAD_TYPE = 3;
export const ERR_OPEN = 2;
export const ERR_OPEN_UNSUPPORTED_VERSION = 1;
export const ERR_OPEN_BAD_PEER_AS = 2;
export const ERR_OPEN_BAD_BGP_ID = 3;
export const ERR_OPEN_UNSUPPORTED_PARAM = 4;
export const ERR_OPEN_UNACCEPTABLE_HOLD = 6;
export const ERR_UPDATE = 3;
export const ERR_UPDATE_MALFORMED_ATTRS = 1;
export const ERR_UPDATE_UNRECOGNIZED_WELL_KNOWN = 2;
export const ERR_UPDATE_MISSING_WELL_KNOWN = 3;
export const ERR_UPDATE_ATTR_FLAGS = 4;
export const ERR_UPDATE_ATTR_LENGTH = 5;
export const ERR_UPDATE_INVALID_ORIGIN = 6;
export const ERR_UPDATE_OPTIONAL_ATTR = 9;
export const ERR_UPDATE_INVALID_NETWORK = 10;
export const ERR_UPDATE_MALFORMED_AS_PATH = 11;
export const ERR_HOLD_TIMER_EXPIRED = 4;
export const ERR_FSM = 5;
export const ERR_CEASE = 6;
/** The subcodes of ERR_FSM and ERR_CEASE are tables in notification.ts (RFC 6608, RFC 4486). */

export interface Family {
  readonly afi: number;
  readonly safi: number;
}

export interface GracefulRestartCap {
  /** R bit: the sender has restarted. */
  readonly restarting: boolean;
  /** Seconds, 12 bits. */
  readonly restartTime: number;
  readonly families: readonly (Family & { readonly forwardingPreserved: boolean })[];
}

export interface Capabilities {
  readonly multiprotocol: readonly Family[];
  readonly routeRefresh: boolean;
  /** RFC 6793: the sender's 4-byte AS. */
  readonly fourOctetAs?: number;
  readonly gracefulRestart?: GracefulRestartCap;
  readonly extendedMessage: boolean;
  /** Capabilities the codec does not interpret, kept as received. */
  readonly other: readonly { readonly code: number; readonly value: Buffer }[];
}

export interface OpenMessage {
  readonly type: 'open';
  readonly version: number;
  /** The 2-byte My AS field (AS_TRANS for a 4-byte AS). */
  readonly myAs: number;
  readonly holdTime: number;
  readonly bgpId: string;
  readonly capabilities: Capabilities;
}

export interface AsPathSegment {
  readonly type: typeof AS_SET | typeof AS_SEQUENCE;
  readonly asns: readonly number[];
}

export type LargeCommunity = readonly [number, number, number];

export interface PathAttributes {
  readonly origin?: 0 | 1 | 2;
  readonly asPath?: readonly AsPathSegment[];
  readonly as4Path?: readonly AsPathSegment[];
  readonly nextHop?: IP;
  readonly med?: number;
  readonly localPref?: number;
  /** RFC 1997 communities as 32-bit numbers (asn << 16 | value). */
  readonly communities?: readonly number[];
  readonly largeCommunities?: readonly LargeCommunity[];
  readonly mpReach?: {
    readonly afi: number;
    readonly safi: number;
    readonly nextHops: readonly IP[];
    readonly nlri: readonly CIDR[];
  };
  readonly mpUnreach?: { readonly afi: number; readonly safi: number; readonly withdrawn: readonly CIDR[] };
  /** Attributes the codec does not interpret, kept as received. */
  readonly other?: readonly { readonly flags: number; readonly code: number; readonly value: Buffer }[];
}

export interface UpdateMessage {
  readonly type: 'update';
  readonly withdrawn: readonly CIDR[];
  readonly attributes: PathAttributes;
  readonly nlri: readonly CIDR[];
  /**
   * RFC 7606 errors that did not reset the session: `treat-as-withdraw` (the UPDATE's routes
   * count as withdrawn) and `attribute-discard` (that attribute is ignored).
   */
  readonly errors?: readonly AttributeError[];
}

export interface NotificationMessage {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
}

export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

export interface RouteRefreshMessage {
  readonly type: 'routeRefresh';
  readonly afi: number;
  readonly safi: number;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/**
 * Why decoding failed: `malformed` input from the peer (the NOTIFICATION of §6 names what is
 * wrong), or `internal`, a bug in the decoder itself (a TypeError, a RangeError, a broken
 * invariant). Both reset the session; only `internal` is ever a defect of Herald, and tests,
 * logs and metrics tell them apart by this field.
 */
export type DecodeErrorKind = 'malformed' | 'internal';

/**
 * What an error does to the session (RFC 7606 §2, GoBGP's `ErrorHandling`): reset it with the
 * NOTIFICATION; withdraw the UPDATE's routes and carry on; or ignore the one attribute.
 */
export type ErrorHandling = 'session-reset' | 'treat-as-withdraw' | 'attribute-discard';

/** Where the error was found: the header (§6.1, also the framer's) or a message's body. */
export type MessageKind = 'header' | BgpMessage['type'];

/** An error found while decoding: the NOTIFICATION of §6 it maps to and a readable reason. */
export interface DecodeError {
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  readonly reason: string;
  readonly handling: ErrorHandling;
  readonly message: MessageKind;
  /** Absent means `malformed`. */
  readonly kind?: DecodeErrorKind;
  /** For `internal`: what the decoder threw. */
  readonly cause?: unknown;
}

/** An error that resets the session: what `decode` and the framer return. */
export type SessionResetError = DecodeError & { readonly handling: 'session-reset' };

/** An UPDATE attribute error that leaves the session up (RFC 7606). */
export type AttributeError = DecodeError & {
  readonly handling: 'treat-as-withdraw' | 'attribute-discard';
  readonly message: 'update';
};

export function decodeErrorKind(e: DecodeError): DecodeErrorKind {
  return e.kind ?? 'malformed';
}

/** The error that makes the UPDATE withdraw its routes (RFC 7606 §2), if any. */
export function treatAsWithdraw(u: UpdateMessage): AttributeError | undefined {
  return u.errors?.find((e) => e.handling === 'treat-as-withdraw');
}

export type DecodeResult<T = BgpMessage> =
  { readonly ok: true; readonly message: T } | { readonly ok: false; readonly error: SessionResetError };

export interface CodecOptions {
  /** Both sides advertised the 4-octet AS capability: AS_PATH carries 4-byte ASes. */
  readonly fourOctetAs: boolean;
  /** 4096, or 65535 when both sides advertised extended messages. */
  readonly maxMessageSize: number;
}

export const DEFAULT_CODEC: CodecOptions = { fourOctetAs: true, maxMessageSize: MAX_MESSAGE };

export function isEndOfRib(u: UpdateMessage): Family | undefined {
  const a = u.attributes;
  if (
    u.withdrawn.length === 0 &&
    u.nlri.length === 0 &&
    Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined).length === 0
  ) {
    return { afi: AFI_IPV4, safi: SAFI_UNICAST };
  }
  if (
    u.withdrawn.length === 0 &&
    u.nlri.length === 0 &&
    a.mpUnreach &&
    a.mpUnreach.withdrawn.length === 0 &&
    !a.mpReach &&
    !a.origin &&
    !a.asPath
  ) {
    return { afi: a.mpUnreach.afi, safi: a.mpUnreach.safi };
  }
  return undefined;
}
