/**
 * BGP path attributes, the body of an UPDATE's attribute field (RFC 4271 §4.3, §5, §6.3):
 * ORIGIN, AS_PATH and AS4_PATH (RFC 6793), NEXT_HOP, MED, LOCAL_PREF, COMMUNITIES
 * (RFC 1997), LARGE_COMMUNITY (RFC 8092), MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760
 * §3, §4). Decoding never throws: an error either resets the session with the
 * NOTIFICATION of §6.3 or, per RFC 7606, treats the UPDATE as withdraw.
 */
import { ipFromBytes, type IP } from '../../src/net/ip.js';
import {
  AS_SEQUENCE,
  AS_SET,
  AS_TRANS,
  ATTR_AGGREGATOR,
  ATTR_AS4_AGGREGATOR,
  ATTR_AS4_PATH,
  ATTR_AS_PATH,
  ATTR_ATOMIC_AGGREGATE,
  ATTR_COMMUNITIES,
  ATTR_LARGE_COMMUNITY,
  ATTR_LOCAL_PREF,
  ATTR_MED,
  ATTR_MP_REACH_NLRI,
  ATTR_MP_UNREACH_NLRI,
  ATTR_NEXT_HOP,
  ATTR_ORIGIN,
  ERR_UPDATE,
  ERR_UPDATE_ATTR_FLAGS,
  ERR_UPDATE_ATTR_LENGTH,
  ERR_UPDATE_INVALID_ORIGIN,
  ERR_UPDATE_MALFORMED_AS_PATH,
  ERR_UPDATE_MALFORMED_ATTRS,
  ERR_UPDATE_MISSING_WELL_KNOWN,
  ERR_UPDATE_OPTIONAL_ATTR,
  ERR_UPDATE_UNRECOGNIZED_WELL_KNOWN,
  FLAG_EXTENDED_LENGTH,
  FLAG_OPTIONAL,
  FLAG_PARTIAL,
  FLAG_TRANSITIVE,
  type AsPathSegment,
  type AttributeError,
  type CodecOptions,
  type LargeCommunity,
  type PathAttributes,
  type SessionResetError,
} from './messages.js';
import { decodePrefixes, encodePrefixes, familyOfAfi, ipBytes, u16, u32 } from './wire.js';

/**
 * The attribute field decoded: the attributes and, when RFC 7606 applies, why the UPDATE
 * withdraws its routes; or the UPDATE Message Error (§6.3) that resets the session.
 */
export type AttributesResult =
  | { readonly ok: true; readonly attributes: PathAttributes; readonly errors: readonly AttributeError[] }
  | { readonly ok: false; readonly error: SessionResetError };

function updateError(
  subcode: number,
  reason: string,
  data: Buffer = Buffer.alloc(0),
): { ok: false; error: SessionResetError } {
  return {
    ok: false,
    error: { code: ERR_UPDATE, subcode, data, reason, handling: 'session-reset', message: 'update' },
  };
}

/** An RFC 7606 error that leaves the session up, with the §6.3 subcode it would have reset it with. */
function softError(
  handling: AttributeError['handling'],
  subcode: number,
  reason: string,
  data: Buffer = Buffer.alloc(0),
): AttributeError {
  return { code: ERR_UPDATE, subcode, data, reason, handling, message: 'update' };
}

// ---------------------------------------------------------------- encoding

/** One attribute: flags, type code, then a 1-byte length, or a 2-byte one past 255 bytes (§4.3). */
function attr(flags: number, code: number, value: Buffer): Buffer {
  const ext = value.length > 255;
  const head = ext
    ? Buffer.from([flags | FLAG_EXTENDED_LENGTH, code, value.length >> 8, value.length & 0xff])
    : Buffer.from([flags & ~FLAG_EXTENDED_LENGTH, code, value.length]);
  return Buffer.concat([head, value]);
}

function encodeAsPath(segs: readonly AsPathSegment[], four: boolean): Buffer {
  const parts: Buffer[] = [];
  for (const s of segs) {
    // A segment holds at most 255 ASes (§4.3); longer ones split.
    for (let i = 0; i < s.asns.length || (i === 0 && s.asns.length === 0); i += 255) {
      const chunk = s.asns.slice(i, i + 255);
      parts.push(Buffer.from([s.type, chunk.length]));
      for (const a of chunk) parts.push(four ? u32(a) : u16(a > 0xffff ? AS_TRANS : a));
      if (s.asns.length === 0) break;
    }
  }
  return Buffer.concat(parts);
}

/** Encodes the path attributes (without the withdrawn and NLRI fields). */
export function encodeAttributes(a: PathAttributes, opts: CodecOptions): Buffer {
  const out: Buffer[] = [];
  if (a.origin !== undefined) out.push(attr(FLAG_TRANSITIVE, ATTR_ORIGIN, Buffer.from([a.origin])));
  if (a.asPath !== undefined) out.push(attr(FLAG_TRANSITIVE, ATTR_AS_PATH, encodeAsPath(a.asPath, opts.fourOctetAs)));
  if (a.nextHop !== undefined && a.nextHop.family === 'IPv4')
    out.push(attr(FLAG_TRANSITIVE, ATTR_NEXT_HOP, ipBytes(a.nextHop)));
  if (a.med !== undefined) out.push(attr(FLAG_OPTIONAL, ATTR_MED, u32(a.med)));
  if (a.localPref !== undefined) out.push(attr(FLAG_TRANSITIVE, ATTR_LOCAL_PREF, u32(a.localPref)));
  if (a.communities && a.communities.length > 0)
    out.push(attr(FLAG_OPTIONAL | FLAG_TRANSITIVE, ATTR_COMMUNITIES, Buffer.concat(a.communities.map(u32))));
  if (a.mpReach) {
    const nh = Buffer.concat(a.mpReach.nextHops.map(ipBytes));
    out.push(
      attr(
        FLAG_OPTIONAL,
        ATTR_MP_REACH_NLRI,
        Buffer.concat([
          u16(a.mpReach.afi),
          Buffer.from([a.mpReach.safi, nh.length]),
          nh,
          Buffer.from([0]),
          encodePrefixes(a.mpReach.nlri),
        ]),
      ),
    );
  }
  if (a.mpUnreach)
    out.push(
      attr(
        FLAG_OPTIONAL,
        ATTR_MP_UNREACH_NLRI,
        Buffer.concat([u16(a.mpUnreach.afi), Buffer.from([a.mpUnreach.safi]), encodePrefixes(a.mpUnreach.withdrawn)]),
      ),
    );
  if (a.as4Path !== undefined)
    out.push(attr(FLAG_OPTIONAL | FLAG_TRANSITIVE, ATTR_AS4_PATH, encodeAsPath(a.as4Path, true)));
  if (a.largeCommunities && a.largeCommunities.length > 0) {
    out.push(
      attr(
        FLAG_OPTIONAL | FLAG_TRANSITIVE,
        ATTR_LARGE_COMMUNITY,
        Buffer.concat(a.largeCommunities.map(([g, l1, l2]) => Buffer.concat([u32(g), u32(l1), u32(l2)]))),
      ),
    );
  }
  for (const o of a.other ?? []) out.push(attr(o.flags, o.code, o.value));
  return Buffer.concat(out);
}

// ---------------------------------------------------------------- decoding

/** Well-known attributes and the flags each must carry (§5, RFC 7606 §3.d). */
const EXPECTED_FLAGS: Record<number, number> = {
  [ATTR_ORIGIN]: FLAG_TRANSITIVE,
  [ATTR_AS_PATH]: FLAG_TRANSITIVE,
  [ATTR_NEXT_HOP]: FLAG_TRANSITIVE,
  [ATTR_MED]: FLAG_OPTIONAL,
  [ATTR_LOCAL_PREF]: FLAG_TRANSITIVE,
  [ATTR_ATOMIC_AGGREGATE]: FLAG_TRANSITIVE,
  [ATTR_AGGREGATOR]: FLAG_OPTIONAL | FLAG_TRANSITIVE,
  [ATTR_COMMUNITIES]: FLAG_OPTIONAL | FLAG_TRANSITIVE,
  [ATTR_MP_REACH_NLRI]: FLAG_OPTIONAL,
  [ATTR_MP_UNREACH_NLRI]: FLAG_OPTIONAL,
  [ATTR_AS4_PATH]: FLAG_OPTIONAL | FLAG_TRANSITIVE,
  [ATTR_AS4_AGGREGATOR]: FLAG_OPTIONAL | FLAG_TRANSITIVE,
  [ATTR_LARGE_COMMUNITY]: FLAG_OPTIONAL | FLAG_TRANSITIVE,
};

function decodeAsPath(v: Buffer, four: boolean): AsPathSegment[] | undefined {
  const size = four ? 4 : 2;
  const segs: AsPathSegment[] = [];
  let at = 0;
  while (at < v.length) {
    if (at + 2 > v.length) return undefined;
    const type = v[at]!;
    const count = v[at + 1]!;
    if ((type !== AS_SET && type !== AS_SEQUENCE) || count === 0 || at + 2 + count * size > v.length) return undefined;
    const asns: number[] = [];
    for (let i = 0; i < count; i++) asns.push(four ? v.readUInt32BE(at + 2 + i * 4) : v.readUInt16BE(at + 2 + i * 2));
    segs.push({ type, asns });
    at += 2 + count * size;
  }
  return segs;
}

/**
 * Decodes an UPDATE's path attribute field (exactly the Total Path Attribute Length bytes).
 * `ipv4Nlri` says whether the UPDATE's own NLRI field announces anything: §6.3 then needs
 * NEXT_HOP as well as ORIGIN and AS_PATH.
 */
export function decodeAttributes(field: Buffer, ipv4Nlri: boolean, opts: CodecOptions): AttributesResult {
  const attrs: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = {};
  const other: { flags: number; code: number; value: Buffer }[] = [];
  const seen = new Set<number>();
  const errors: AttributeError[] = [];
  /** RFC 7606 §2: the UPDATE's routes are withdrawn; the first reason is kept, the rest add nothing. */
  const withdraw = (subcode: number, reason: string, data?: Buffer): void => {
    if (!errors.some((e) => e.handling === 'treat-as-withdraw'))
      errors.push(softError('treat-as-withdraw', subcode, reason, data));
  };
  let at = 0;
  const end = field.length;
  while (at < end) {
    if (at + 3 > end) return updateError(ERR_UPDATE_MALFORMED_ATTRS, 'truncated attribute header');
    const flags = field[at]!;
    const code = field[at + 1]!;
    const ext = (flags & FLAG_EXTENDED_LENGTH) !== 0;
    if (ext && at + 4 > end) return updateError(ERR_UPDATE_MALFORMED_ATTRS, 'truncated attribute header');
    const len = ext ? field.readUInt16BE(at + 2) : field[at + 2]!;
    const vStart = at + (ext ? 4 : 3);
    if (vStart + len > end)
      return updateError(
        ERR_UPDATE_ATTR_LENGTH,
        `attribute ${code} overruns the attribute field`,
        field.subarray(at, end),
      );
    const v = field.subarray(vStart, vStart + len);
    const whole = field.subarray(at, vStart + len);
    at = vStart + len;
    if (seen.has(code)) {
      // RFC 7606 §3.g: repeated MP attributes are fatal; other repeats are discarded.
      if (code === ATTR_MP_REACH_NLRI || code === ATTR_MP_UNREACH_NLRI)
        return updateError(ERR_UPDATE_MALFORMED_ATTRS, `attribute ${code} appears twice`);
      errors.push(
        softError(
          'attribute-discard',
          ERR_UPDATE_MALFORMED_ATTRS,
          `attribute ${code} appears twice; the repeat is discarded`,
        ),
      );
      continue;
    }
    seen.add(code);
    const expected = EXPECTED_FLAGS[code];
    if (expected !== undefined && (flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE)) !== expected) {
      // RFC 7606 §3.c: a flags error on a known attribute is treated as an attribute length error.
      withdraw(ERR_UPDATE_ATTR_FLAGS, `attribute ${code} has flags 0x${flags.toString(16)}`, whole);
      continue;
    }
    switch (code) {
      case ATTR_ORIGIN:
        if (len !== 1 || v[0]! > 2)
          withdraw(len !== 1 ? ERR_UPDATE_ATTR_LENGTH : ERR_UPDATE_INVALID_ORIGIN, `invalid ORIGIN`, whole);
        else attrs.origin = v[0] as 0 | 1 | 2;
        break;
      case ATTR_AS_PATH: {
        const p = decodeAsPath(v, opts.fourOctetAs);
        if (!p) withdraw(ERR_UPDATE_MALFORMED_AS_PATH, 'malformed AS_PATH');
        else attrs.asPath = p;
        break;
      }
      case ATTR_AS4_PATH: {
        const p = decodeAsPath(v, true);
        // RFC 6793 §6 (and RFC 7606 §7.2 for AS4_PATH): a malformed AS4_PATH is discarded.
        if (p) attrs.as4Path = p;
        else errors.push(softError('attribute-discard', ERR_UPDATE_OPTIONAL_ATTR, 'malformed AS4_PATH', whole));
        break;
      }
      case ATTR_NEXT_HOP:
        if (len !== 4) withdraw(ERR_UPDATE_ATTR_LENGTH, 'NEXT_HOP must be 4 bytes', whole);
        else attrs.nextHop = ipFromBytes(v);
        break;
      case ATTR_MED:
        if (len !== 4) withdraw(ERR_UPDATE_ATTR_LENGTH, 'MULTI_EXIT_DISC must be 4 bytes', whole);
        else attrs.med = v.readUInt32BE(0);
        break;
      case ATTR_LOCAL_PREF:
        if (len !== 4) withdraw(ERR_UPDATE_ATTR_LENGTH, 'LOCAL_PREF must be 4 bytes', whole);
        else attrs.localPref = v.readUInt32BE(0);
        break;
      case ATTR_COMMUNITIES: {
        if (len === 0 || len % 4 !== 0)
          withdraw(ERR_UPDATE_OPTIONAL_ATTR, 'COMMUNITIES length is not a multiple of 4', whole);
        else attrs.communities = Array.from({ length: len / 4 }, (_, i) => v.readUInt32BE(i * 4));
        break;
      }
      case ATTR_LARGE_COMMUNITY: {
        if (len === 0 || len % 12 !== 0)
          withdraw(ERR_UPDATE_OPTIONAL_ATTR, 'LARGE_COMMUNITY length is not a multiple of 12', whole);
        else
          attrs.largeCommunities = Array.from({ length: len / 12 }, (_, i): LargeCommunity => [
            v.readUInt32BE(i * 12),
            v.readUInt32BE(i * 12 + 4),
            v.readUInt32BE(i * 12 + 8),
          ]);
        break;
      }
      case ATTR_MP_REACH_NLRI: {
        if (len < 5) return updateError(ERR_UPDATE_OPTIONAL_ATTR, 'MP_REACH_NLRI too short', whole);
        const afi = v.readUInt16BE(0);
        const safi = v[2]!;
        const nhLen = v[3]!;
        const family = familyOfAfi(afi);
        if (4 + nhLen + 1 > len)
          return updateError(ERR_UPDATE_OPTIONAL_ATTR, 'MP_REACH_NLRI next hop overruns the attribute', whole);
        const nextHops: IP[] = [];
        if (nhLen === 4 || nhLen === 16 || nhLen === 32) {
          for (let i = 0; i < nhLen; i += nhLen === 4 ? 4 : 16)
            nextHops.push(ipFromBytes(v.subarray(4 + i, 4 + i + (nhLen === 4 ? 4 : 16))));
        }
        const prefixes = family ? decodePrefixes(v.subarray(4 + nhLen + 1), family) : [];
        if (!prefixes) return updateError(ERR_UPDATE_OPTIONAL_ATTR, 'malformed MP_REACH_NLRI prefixes', whole);
        attrs.mpReach = { afi, safi, nextHops, nlri: prefixes };
        break;
      }
      case ATTR_MP_UNREACH_NLRI: {
        if (len < 3) return updateError(ERR_UPDATE_OPTIONAL_ATTR, 'MP_UNREACH_NLRI too short', whole);
        const afi = v.readUInt16BE(0);
        const family = familyOfAfi(afi);
        const prefixes = family ? decodePrefixes(v.subarray(3), family) : [];
        if (!prefixes) return updateError(ERR_UPDATE_OPTIONAL_ATTR, 'malformed MP_UNREACH_NLRI prefixes', whole);
        attrs.mpUnreach = { afi, safi: v[2]!, withdrawn: prefixes };
        break;
      }
      default:
        if ((flags & FLAG_OPTIONAL) === 0 && expected === undefined) {
          return updateError(ERR_UPDATE_UNRECOGNIZED_WELL_KNOWN, `unrecognized well-known attribute ${code}`, whole);
        }
        // Unknown optional transitive attributes are passed on with the Partial bit (§5).
        other.push({
          flags: (flags & FLAG_TRANSITIVE) !== 0 ? flags | FLAG_PARTIAL : flags,
          code,
          value: Buffer.from(v),
        });
    }
  }
  if (other.length > 0) attrs.other = other;
  // §6.3: an UPDATE that carries NLRI needs ORIGIN, AS_PATH and (for IPv4 NLRI) NEXT_HOP.
  const announces = ipv4Nlri || (attrs.mpReach?.nlri.length ?? 0) > 0;
  if (announces && !errors.some((e) => e.handling === 'treat-as-withdraw')) {
    const missing =
      attrs.origin === undefined
        ? ATTR_ORIGIN
        : attrs.asPath === undefined
          ? ATTR_AS_PATH
          : ipv4Nlri && attrs.nextHop === undefined
            ? ATTR_NEXT_HOP
            : undefined;
    // RFC 7606 §3.d: a missing well-known attribute withdraws instead of resetting.
    if (missing !== undefined)
      withdraw(ERR_UPDATE_MISSING_WELL_KNOWN, `missing well-known attribute ${missing}`, Buffer.from([missing]));
  }
  return { ok: true, attributes: attrs, errors };
}
