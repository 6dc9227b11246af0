/**
 * Packs announcements and withdrawals into as few UPDATE messages as fit the negotiated
 * maximum size: every prefix that shares one attribute set rides in the same messages.
 * IPv4 prefixes go in the NLRI field (or MP_REACH_NLRI when asked), IPv6 in MP_REACH_NLRI.
 */
import type { CIDR } from '../../src/net/cidr.js';
import type { IP } from '../../src/net/ip.js';
import { encodeAttributes } from './attributes.js';
import {
  AFI_IPV4,
  AFI_IPV6,
  HEADER_LENGTH,
  SAFI_UNICAST,
  type CodecOptions,
  type PathAttributes,
  type UpdateMessage,
} from './messages.js';
import { prefixWireLength } from './wire.js';

/** Bytes of an UPDATE besides attributes and prefixes: header, two 2-byte lengths. */
const FIXED = HEADER_LENGTH + 4;
/** MP_REACH_NLRI overhead besides next hop and prefixes: flags, code, 2-byte length, AFI, SAFI, nh len, reserved. */
const MP_REACH_OVERHEAD = 4 + 2 + 1 + 1 + 1;
const MP_UNREACH_OVERHEAD = 4 + 2 + 1;

function chunk(prefixes: readonly CIDR[], room: number): CIDR[][] {
  const out: CIDR[][] = [];
  let cur: CIDR[] = [];
  let used = 0;
  for (const p of prefixes) {
    const n = prefixWireLength(p);
    if (used + n > room && cur.length > 0) {
      out.push(cur);
      cur = [];
      used = 0;
    }
    cur.push(p);
    used += n;
  }
  if (cur.length > 0) out.push(cur);
  return out;
}

export interface AnnounceOptions extends CodecOptions {
  /** Carry IPv4 prefixes in MP_REACH_NLRI (an IPv4 family over an IPv6 session). */
  readonly ipv4ViaMp?: boolean;
}

/** UPDATEs announcing `prefixes` (one family) with `attrs` (without next hop/MP fields) via `nextHop`. */
export function packAnnouncements(
  prefixes: readonly CIDR[],
  attrs: PathAttributes,
  nextHops: readonly IP[],
  opts: AnnounceOptions,
): UpdateMessage[] {
  if (prefixes.length === 0) return [];
  const family = prefixes[0]!.family;
  if (family === 'IPv4' && !opts.ipv4ViaMp) {
    const full: PathAttributes = { ...attrs, nextHop: nextHops[0]! };
    const room = opts.maxMessageSize - FIXED - encodeAttributes(full, opts).length;
    return chunk(prefixes, room).map((nlri) => ({ type: 'update', withdrawn: [], attributes: full, nlri }));
  }
  const nhBytes = nextHops.reduce((n, ip) => n + (ip.family === 'IPv4' ? 4 : 16), 0);
  const base = encodeAttributes(attrs, opts).length;
  const room = opts.maxMessageSize - FIXED - base - MP_REACH_OVERHEAD - nhBytes;
  const afi = family === 'IPv4' ? AFI_IPV4 : AFI_IPV6;
  return chunk(prefixes, room).map((nlri) => ({
    type: 'update',
    withdrawn: [],
    attributes: { ...attrs, mpReach: { afi, safi: SAFI_UNICAST, nextHops, nlri } },
    nlri: [],
  }));
}

/** UPDATEs withdrawing `prefixes` (one family). */
export function packWithdrawals(prefixes: readonly CIDR[], opts: AnnounceOptions): UpdateMessage[] {
  if (prefixes.length === 0) return [];
  const family = prefixes[0]!.family;
  if (family === 'IPv4' && !opts.ipv4ViaMp) {
    return chunk(prefixes, opts.maxMessageSize - FIXED).map((withdrawn) => ({
      type: 'update',
      withdrawn,
      attributes: {},
      nlri: [],
    }));
  }
  const afi = family === 'IPv4' ? AFI_IPV4 : AFI_IPV6;
  return chunk(prefixes, opts.maxMessageSize - FIXED - MP_UNREACH_OVERHEAD).map((withdrawn) => ({
    type: 'update',
    withdrawn: [],
    attributes: { mpUnreach: { afi, safi: SAFI_UNICAST, withdrawn } },
    nlri: [],
  }));
}

/** RFC 4724 §2: End-of-RIB for a family. */
export function endOfRib(afi: number): UpdateMessage {
  if (afi === AFI_IPV4) return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  return {
    type: 'update',
    withdrawn: [],
    attributes: { mpUnreach: { afi, safi: SAFI_UNICAST, withdrawn: [] } },
    nlri: [],
  };
}
