/**
 * BGP-4 codec (RFC 4271 §4, with RFC 4760, 6793, 1997, 8092, 2918, 4724, 8654): pure
 * functions from messages to bytes and back. Decoding never throws: a malformed message
 * yields the NOTIFICATION code/subcode/data of RFC 4271 §6, or for UPDATE attribute errors
 * RFC 7606's treat-as-withdraw.
 */
import { ipFromBytes, type IP } from '../../src/net/ip.js';
import {
  AFI_IPV4, AFI_IPV6, AS_SEQUENCE, AS_SET, ATTR_AS4_PATH, ATTR_AS_PATH, ATTR_ATOMIC_AGGREGATE, ATTR_AGGREGATOR, ATTR_AS4_AGGREGATOR, ATTR_COMMUNITIES, ATTR_LARGE_COMMUNITY, ATTR_LOCAL_PREF, ATTR_MED,
  ATTR_MP_REACH_NLRI, ATTR_MP_UNREACH_NLRI, ATTR_NEXT_HOP, ATTR_ORIGIN, CAP_EXTENDED_MESSAGE, CAP_FOUR_OCTET_AS, CAP_GRACEFUL_RESTART, CAP_MULTIPROTOCOL, CAP_ROUTE_REFRESH,
  ERR_HEADER, ERR_HEADER_BAD_LENGTH, ERR_HEADER_BAD_TYPE, ERR_HEADER_NOT_SYNCHRONIZED, ERR_OPEN, ERR_OPEN_UNACCEPTABLE_HOLD, ERR_OPEN_UNSUPPORTED_PARAM, ERR_OPEN_UNSUPPORTED_VERSION, ERR_UPDATE,
  ERR_UPDATE_ATTR_LENGTH, ERR_UPDATE_INVALID_NETWORK, ERR_UPDATE_MALFORMED_ATTRS, ERR_UPDATE_OPTIONAL_ATTR, ERR_UPDATE_UNRECOGNIZED_WELL_KNOWN, FLAG_EXTENDED_LENGTH,
  FLAG_OPTIONAL, FLAG_PARTIAL, FLAG_TRANSITIVE, HEADER_LENGTH, MARKER_LENGTH, MSG_KEEPALIVE, MSG_NOTIFICATION, MSG_OPEN, MSG_ROUTE_REFRESH, MSG_UPDATE, OPT_PARAM_CAPABILITIES,
  type AsPathSegment, type BgpMessage, type Capabilities, type CodecOptions, type DecodeError, type DecodeResult, type LargeCommunity, type OpenMessage, type PathAttributes, type UpdateMessage,
} from './messages.js';
import { decodePrefixes, encodePrefixes, familyOfAfi, ipBytes, ipv4FromString, ipv4ToString } from './wire.js';

const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

function frame(type: number, body: Buffer): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH + body.length, 0xff);
  out.writeUInt16BE(HEADER_LENGTH + body.length, MARKER_LENGTH);
  out[MARKER_LENGTH + 2] = type;
  body.copy(out, HEADER_LENGTH);
  return out;
}

// ---------------------------------------------------------------- OPEN (§4.2)

function encodeCapabilities(c: Capabilities): Buffer {
  const caps: Buffer[] = [];
  const cap = (code: number, value: Buffer): void => {
    caps.push(Buffer.concat([Buffer.from([code, value.length]), value]));
  };
  for (const f of c.multiprotocol) cap(CAP_MULTIPROTOCOL, Buffer.concat([u16(f.afi), Buffer.from([0, f.safi])]));
  if (c.routeRefresh) cap(CAP_ROUTE_REFRESH, Buffer.alloc(0));
  if (c.extendedMessage) cap(CAP_EXTENDED_MESSAGE, Buffer.alloc(0));
  if (c.gracefulRestart) {
    const g = c.gracefulRestart;
    const head = u16(((g.restarting ? 0x8 : 0) << 12) | (g.restartTime & 0x0fff));
    cap(CAP_GRACEFUL_RESTART, Buffer.concat([head, ...g.families.map((f) => Buffer.concat([u16(f.afi), Buffer.from([f.safi, f.forwardingPreserved ? 0x80 : 0])]))]));
  }
  if (c.fourOctetAs !== undefined) cap(CAP_FOUR_OCTET_AS, u32(c.fourOctetAs));
  for (const o of c.other) cap(o.code, o.value);
  // One optional parameter per capability: accepted by every implementation (RFC 5492 §4).
  return Buffer.concat(caps.map((b) => Buffer.concat([Buffer.from([OPT_PARAM_CAPABILITIES, b.length]), b])));
}

export function encodeOpen(m: OpenMessage): Buffer {
  const params = encodeCapabilities(m.capabilities);
  if (params.length > 255) throw new Error('OPEN optional parameters exceed 255 bytes');
  return frame(MSG_OPEN, Buffer.concat([Buffer.from([m.version]), u16(m.myAs), u16(m.holdTime), ipv4FromString(m.bgpId), Buffer.from([params.length]), params]));
}

function fail(code: number, subcode: number, reason: string, data: Buffer = Buffer.alloc(0)): { ok: false; error: DecodeError } {
  return { ok: false, error: { code, subcode, data, reason } };
}

function decodeOpen(body: Buffer): DecodeResult {
  if (body.length < 10) return fail(ERR_HEADER, ERR_HEADER_BAD_LENGTH, 'OPEN shorter than 29 bytes', u16(body.length + HEADER_LENGTH));
  const version = body[0]!;
  if (version !== 4) return fail(ERR_OPEN, ERR_OPEN_UNSUPPORTED_VERSION, `BGP version ${version} is not supported`, u16(4));
  const myAs = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  if (holdTime === 1 || holdTime === 2) return fail(ERR_OPEN, ERR_OPEN_UNACCEPTABLE_HOLD, `hold time ${holdTime} is neither 0 nor at least 3`);
  const bgpId = ipv4ToString(body, 5);
  const optLen = body[9]!;
  if (10 + optLen !== body.length) return fail(ERR_OPEN, 0, 'optional parameters length does not match the message');
  const multiprotocol: { afi: number; safi: number }[] = [];
  const other: { code: number; value: Buffer }[] = [];
  let routeRefresh = false;
  let extendedMessage = false;
  let fourOctetAs: number | undefined;
  let gracefulRestart: Capabilities['gracefulRestart'];
  let at = 10;
  while (at < body.length) {
    if (at + 2 > body.length) return fail(ERR_OPEN, 0, 'truncated optional parameter');
    const ptype = body[at]!;
    const plen = body[at + 1]!;
    if (at + 2 + plen > body.length) return fail(ERR_OPEN, 0, 'optional parameter overruns the message');
    if (ptype !== OPT_PARAM_CAPABILITIES) return fail(ERR_OPEN, ERR_OPEN_UNSUPPORTED_PARAM, `optional parameter type ${ptype} is not supported`);
    let c = at + 2;
    const end = c + plen;
    while (c < end) {
      if (c + 2 > end) return fail(ERR_OPEN, 0, 'truncated capability');
      const code = body[c]!;
      const len = body[c + 1]!;
      if (c + 2 + len > end) return fail(ERR_OPEN, 0, `capability ${code} overruns its parameter`);
      const v = body.subarray(c + 2, c + 2 + len);
      switch (code) {
        case CAP_MULTIPROTOCOL:
          if (len !== 4) return fail(ERR_OPEN, 0, 'multiprotocol capability must be 4 bytes');
          multiprotocol.push({ afi: v.readUInt16BE(0), safi: v[3]! });
          break;
        case CAP_ROUTE_REFRESH:
          routeRefresh = true;
          break;
        case CAP_EXTENDED_MESSAGE:
          extendedMessage = true;
          break;
        case CAP_FOUR_OCTET_AS:
          if (len !== 4) return fail(ERR_OPEN, 0, '4-octet AS capability must be 4 bytes');
          fourOctetAs = v.readUInt32BE(0);
          break;
        case CAP_GRACEFUL_RESTART: {
          if (len < 2 || (len - 2) % 4 !== 0) return fail(ERR_OPEN, 0, 'malformed graceful restart capability');
          const head = v.readUInt16BE(0);
          const families = [];
          for (let i = 2; i < len; i += 4) families.push({ afi: v.readUInt16BE(i), safi: v[i + 2]!, forwardingPreserved: (v[i + 3]! & 0x80) !== 0 });
          gracefulRestart = { restarting: (head & 0x8000) !== 0, restartTime: head & 0x0fff, families };
          break;
        }
        default:
          other.push({ code, value: Buffer.from(v) });
      }
      c += 2 + len;
    }
    at = end;
  }
  return {
    ok: true,
    message: {
      type: 'open',
      version,
      myAs,
      holdTime,
      bgpId,
      capabilities: { multiprotocol, routeRefresh, extendedMessage, other, ...(fourOctetAs !== undefined ? { fourOctetAs } : {}), ...(gracefulRestart ? { gracefulRestart } : {}) },
    },
  };
}

// ---------------------------------------------------------------- UPDATE (§4.3)

function attr(flags: number, code: number, value: Buffer): Buffer {
  const ext = value.length > 255;
  const head = ext ? Buffer.from([flags | FLAG_EXTENDED_LENGTH, code, value.length >> 8, value.length & 0xff]) : Buffer.from([flags & ~FLAG_EXTENDED_LENGTH, code, value.length]);
  return Buffer.concat([head, value]);
}

function encodeAsPath(segs: readonly AsPathSegment[], four: boolean): Buffer {
  const parts: Buffer[] = [];
  for (const s of segs) {
    // A segment holds at most 255 ASes (§4.3); longer ones split.
    for (let i = 0; i < s.asns.length || (i === 0 && s.asns.length === 0); i += 255) {
      const chunk = s.asns.slice(i, i + 255);
      parts.push(Buffer.from([s.type, chunk.length]));
      for (const a of chunk) parts.push(four ? u32(a) : u16(a > 0xffff ? 23456 : a));
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
  if (a.nextHop !== undefined && a.nextHop.family === 'IPv4') out.push(attr(FLAG_TRANSITIVE, ATTR_NEXT_HOP, ipBytes(a.nextHop)));
  if (a.med !== undefined) out.push(attr(FLAG_OPTIONAL, ATTR_MED, u32(a.med)));
  if (a.localPref !== undefined) out.push(attr(FLAG_TRANSITIVE, ATTR_LOCAL_PREF, u32(a.localPref)));
  if (a.communities && a.communities.length > 0) out.push(attr(FLAG_OPTIONAL | FLAG_TRANSITIVE, ATTR_COMMUNITIES, Buffer.concat(a.communities.map(u32))));
  if (a.mpReach) {
    const nh = Buffer.concat(a.mpReach.nextHops.map(ipBytes));
    out.push(attr(FLAG_OPTIONAL, ATTR_MP_REACH_NLRI, Buffer.concat([u16(a.mpReach.afi), Buffer.from([a.mpReach.safi, nh.length]), nh, Buffer.from([0]), encodePrefixes(a.mpReach.nlri)])));
  }
  if (a.mpUnreach) out.push(attr(FLAG_OPTIONAL, ATTR_MP_UNREACH_NLRI, Buffer.concat([u16(a.mpUnreach.afi), Buffer.from([a.mpUnreach.safi]), encodePrefixes(a.mpUnreach.withdrawn)])));
  if (a.as4Path !== undefined) out.push(attr(FLAG_OPTIONAL | FLAG_TRANSITIVE, ATTR_AS4_PATH, encodeAsPath(a.as4Path, true)));
  if (a.largeCommunities && a.largeCommunities.length > 0) {
    out.push(attr(FLAG_OPTIONAL | FLAG_TRANSITIVE, ATTR_LARGE_COMMUNITY, Buffer.concat(a.largeCommunities.map(([g, l1, l2]) => Buffer.concat([u32(g), u32(l1), u32(l2)])))));
  }
  for (const o of a.other ?? []) out.push(attr(o.flags, o.code, o.value));
  return Buffer.concat(out);
}

export function encodeUpdate(m: UpdateMessage, opts: CodecOptions): Buffer {
  const withdrawn = encodePrefixes(m.withdrawn.filter((p) => p.family === 'IPv4'));
  const attrs = encodeAttributes(m.attributes, opts);
  const nlri = encodePrefixes(m.nlri.filter((p) => p.family === 'IPv4'));
  const msg = frame(MSG_UPDATE, Buffer.concat([u16(withdrawn.length), withdrawn, u16(attrs.length), attrs, nlri]));
  if (msg.length > opts.maxMessageSize) throw new Error(`UPDATE of ${msg.length} bytes exceeds ${opts.maxMessageSize}`);
  return msg;
}

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

function decodeUpdate(body: Buffer, opts: CodecOptions): DecodeResult {
  const malformed = (reason: string): { ok: false; error: DecodeError } => fail(ERR_UPDATE, ERR_UPDATE_MALFORMED_ATTRS, reason);
  if (body.length < 4) return malformed('UPDATE shorter than 23 bytes');
  const wLen = body.readUInt16BE(0);
  if (2 + wLen + 2 > body.length) return malformed('withdrawn routes length overruns the message');
  const withdrawn = decodePrefixes(body.subarray(2, 2 + wLen), 'IPv4');
  if (!withdrawn) return fail(ERR_UPDATE, ERR_UPDATE_INVALID_NETWORK, 'malformed withdrawn routes');
  const aLen = body.readUInt16BE(2 + wLen);
  const aStart = 4 + wLen;
  if (aStart + aLen > body.length) return malformed('path attribute length overruns the message');
  const nlri = decodePrefixes(body.subarray(aStart + aLen), 'IPv4');
  if (!nlri) return fail(ERR_UPDATE, ERR_UPDATE_INVALID_NETWORK, 'malformed NLRI field');
  const attrs: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = {};
  const other: { flags: number; code: number; value: Buffer }[] = [];
  const seen = new Set<number>();
  let treatAsWithdraw: string | undefined;
  let at = aStart;
  const end = aStart + aLen;
  while (at < end) {
    if (at + 3 > end) return malformed('truncated attribute header');
    const flags = body[at]!;
    const code = body[at + 1]!;
    const ext = (flags & FLAG_EXTENDED_LENGTH) !== 0;
    if (ext && at + 4 > end) return malformed('truncated attribute header');
    const len = ext ? body.readUInt16BE(at + 2) : body[at + 2]!;
    const vStart = at + (ext ? 4 : 3);
    if (vStart + len > end) return fail(ERR_UPDATE, ERR_UPDATE_ATTR_LENGTH, `attribute ${code} overruns the attribute field`, body.subarray(at, end));
    const v = body.subarray(vStart, vStart + len);
    const whole = body.subarray(at, vStart + len);
    at = vStart + len;
    if (seen.has(code)) {
      // RFC 7606 §3.g: repeated MP attributes are fatal; other repeats are discarded.
      if (code === ATTR_MP_REACH_NLRI || code === ATTR_MP_UNREACH_NLRI) return malformed(`attribute ${code} appears twice`);
      continue;
    }
    seen.add(code);
    const expected = EXPECTED_FLAGS[code];
    if (expected !== undefined && (flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE)) !== expected) {
      // RFC 7606 §3.c: a flags error on a known attribute is treated as an attribute length error.
      treatAsWithdraw ??= `attribute ${code} has flags 0x${flags.toString(16)}`;
      continue;
    }
    switch (code) {
      case ATTR_ORIGIN:
        if (len !== 1 || v[0]! > 2) treatAsWithdraw ??= `invalid ORIGIN`;
        else attrs.origin = v[0] as 0 | 1 | 2;
        break;
      case ATTR_AS_PATH: {
        const p = decodeAsPath(v, opts.fourOctetAs);
        if (!p) treatAsWithdraw ??= 'malformed AS_PATH';
        else attrs.asPath = p;
        break;
      }
      case ATTR_AS4_PATH: {
        const p = decodeAsPath(v, true);
        if (p) attrs.as4Path = p; // RFC 6793 §6: a malformed AS4_PATH is discarded.
        break;
      }
      case ATTR_NEXT_HOP:
        if (len !== 4) treatAsWithdraw ??= 'NEXT_HOP must be 4 bytes';
        else attrs.nextHop = ipFromBytes(v);
        break;
      case ATTR_MED:
        if (len !== 4) treatAsWithdraw ??= 'MULTI_EXIT_DISC must be 4 bytes';
        else attrs.med = v.readUInt32BE(0);
        break;
      case ATTR_LOCAL_PREF:
        if (len !== 4) treatAsWithdraw ??= 'LOCAL_PREF must be 4 bytes';
        else attrs.localPref = v.readUInt32BE(0);
        break;
      case ATTR_COMMUNITIES: {
        if (len === 0 || len % 4 !== 0) treatAsWithdraw ??= 'COMMUNITIES length is not a multiple of 4';
        else attrs.communities = Array.from({ length: len / 4 }, (_, i) => v.readUInt32BE(i * 4));
        break;
      }
      case ATTR_LARGE_COMMUNITY: {
        if (len === 0 || len % 12 !== 0) treatAsWithdraw ??= 'LARGE_COMMUNITY length is not a multiple of 12';
        else attrs.largeCommunities = Array.from({ length: len / 12 }, (_, i): LargeCommunity => [v.readUInt32BE(i * 12), v.readUInt32BE(i * 12 + 4), v.readUInt32BE(i * 12 + 8)]);
        break;
      }
      case ATTR_MP_REACH_NLRI: {
        if (len < 5) return fail(ERR_UPDATE, ERR_UPDATE_OPTIONAL_ATTR, 'MP_REACH_NLRI too short', whole);
        const afi = v.readUInt16BE(0);
        const safi = v[2]!;
        const nhLen = v[3]!;
        const family = familyOfAfi(afi);
        if (4 + nhLen + 1 > len) return fail(ERR_UPDATE, ERR_UPDATE_OPTIONAL_ATTR, 'MP_REACH_NLRI next hop overruns the attribute', whole);
        const nextHops: IP[] = [];
        if (nhLen === 4 || nhLen === 16 || nhLen === 32) {
          for (let i = 0; i < nhLen; i += nhLen === 4 ? 4 : 16) nextHops.push(ipFromBytes(v.subarray(4 + i, 4 + i + (nhLen === 4 ? 4 : 16))));
        }
        const prefixes = family ? decodePrefixes(v.subarray(4 + nhLen + 1), family) : [];
        if (!prefixes) return fail(ERR_UPDATE, ERR_UPDATE_OPTIONAL_ATTR, 'malformed MP_REACH_NLRI prefixes', whole);
        attrs.mpReach = { afi, safi, nextHops, nlri: prefixes };
        break;
      }
      case ATTR_MP_UNREACH_NLRI: {
        if (len < 3) return fail(ERR_UPDATE, ERR_UPDATE_OPTIONAL_ATTR, 'MP_UNREACH_NLRI too short', whole);
        const afi = v.readUInt16BE(0);
        const family = familyOfAfi(afi);
        const prefixes = family ? decodePrefixes(v.subarray(3), family) : [];
        if (!prefixes) return fail(ERR_UPDATE, ERR_UPDATE_OPTIONAL_ATTR, 'malformed MP_UNREACH_NLRI prefixes', whole);
        attrs.mpUnreach = { afi, safi: v[2]!, withdrawn: prefixes };
        break;
      }
      default:
        if ((flags & FLAG_OPTIONAL) === 0 && expected === undefined) {
          return fail(ERR_UPDATE, ERR_UPDATE_UNRECOGNIZED_WELL_KNOWN, `unrecognized well-known attribute ${code}`, whole);
        }
        // Unknown optional transitive attributes are passed on with the Partial bit (§5).
        other.push({ flags: (flags & FLAG_TRANSITIVE) !== 0 ? flags | FLAG_PARTIAL : flags, code, value: Buffer.from(v) });
    }
  }
  if (other.length > 0) attrs.other = other;
  // §6.3: an UPDATE that carries NLRI needs ORIGIN, AS_PATH and (for IPv4 NLRI) NEXT_HOP.
  const announces = nlri.length > 0 || (attrs.mpReach?.nlri.length ?? 0) > 0;
  if (announces && !treatAsWithdraw) {
    const missing = attrs.origin === undefined ? ATTR_ORIGIN : attrs.asPath === undefined ? ATTR_AS_PATH : nlri.length > 0 && attrs.nextHop === undefined ? ATTR_NEXT_HOP : undefined;
    // RFC 7606 §3.d: a missing well-known attribute withdraws instead of resetting.
    if (missing !== undefined) treatAsWithdraw = `missing well-known attribute ${missing}`;
  }
  const message: UpdateMessage = { type: 'update', withdrawn, attributes: attrs, nlri, ...(treatAsWithdraw ? { treatAsWithdraw } : {}) };
  return { ok: true, message };
}

// ---------------------------------------------------------------- the rest

export function encode(m: BgpMessage, opts: CodecOptions): Buffer {
  switch (m.type) {
    case 'open':
      return encodeOpen(m);
    case 'update':
      return encodeUpdate(m, opts);
    case 'keepalive':
      return frame(MSG_KEEPALIVE, Buffer.alloc(0));
    case 'notification':
      return frame(MSG_NOTIFICATION, Buffer.concat([Buffer.from([m.code, m.subcode]), m.data]));
    case 'routeRefresh':
      return frame(MSG_ROUTE_REFRESH, Buffer.concat([u16(m.afi), Buffer.from([0, m.safi])]));
  }
}

/** Checks a message header (§6.1); the length bound depends on extended messages. */
export function checkHeader(buf: Buffer, maxSize: number): DecodeError | undefined {
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (buf[i] !== 0xff) return { code: ERR_HEADER, subcode: ERR_HEADER_NOT_SYNCHRONIZED, data: Buffer.alloc(0), reason: 'marker is not all ones' };
  }
  const length = buf.readUInt16BE(MARKER_LENGTH);
  const type = buf[MARKER_LENGTH + 2]!;
  const bad = (): DecodeError => ({ code: ERR_HEADER, subcode: ERR_HEADER_BAD_LENGTH, data: u16(length), reason: `bad message length ${length} for type ${type}` });
  if (length < HEADER_LENGTH || length > maxSize) return bad();
  if (type < MSG_OPEN || type > MSG_ROUTE_REFRESH) return { code: ERR_HEADER, subcode: ERR_HEADER_BAD_TYPE, data: Buffer.from([type]), reason: `unknown message type ${type}` };
  if ((type === MSG_OPEN && length < 29) || (type === MSG_UPDATE && length < 23) || (type === MSG_NOTIFICATION && length < 21) || (type === MSG_KEEPALIVE && length !== 19) || (type === MSG_ROUTE_REFRESH && length !== 23)) return bad();
  return undefined;
}

/** Decodes one complete message (header included). Never throws. */
export function decode(buf: Buffer, opts: CodecOptions): DecodeResult {
  if (buf.length < HEADER_LENGTH) return fail(ERR_HEADER, ERR_HEADER_BAD_LENGTH, 'shorter than a header', u16(buf.length));
  const bad = checkHeader(buf, Math.max(opts.maxMessageSize, 4096));
  if (bad) return { ok: false, error: bad };
  const length = buf.readUInt16BE(MARKER_LENGTH);
  if (length !== buf.length) return fail(ERR_HEADER, ERR_HEADER_BAD_LENGTH, 'buffer does not hold exactly one message', u16(length));
  const body = buf.subarray(HEADER_LENGTH);
  try {
    switch (buf[MARKER_LENGTH + 2]) {
      case MSG_OPEN:
        return decodeOpen(body);
      case MSG_UPDATE:
        return decodeUpdate(body, opts);
      case MSG_KEEPALIVE:
        return { ok: true, message: { type: 'keepalive' } };
      case MSG_NOTIFICATION:
        return { ok: true, message: { type: 'notification', code: body[0]!, subcode: body[1]!, data: Buffer.from(body.subarray(2)) } };
      default:
        return { ok: true, message: { type: 'routeRefresh', afi: body.readUInt16BE(0), safi: body[3]! } };
    }
  } catch (err) {
    // A bug here must not take the process down: answer as for a malformed message.
    return fail(ERR_HEADER, ERR_HEADER_BAD_LENGTH, `decoder error: ${(err as Error).message}`);
  }
}

export { AFI_IPV4, AFI_IPV6 };
