/**
 * BGP-4 message codec (RFC 4271 §4.1, §4.2, §4.4, §4.5, §6.1, §6.2, with RFC 5492, 4760,
 * 6793, 2918, 4724, 8654 for OPEN capabilities and ROUTE-REFRESH): pure functions from
 * messages to bytes and back. The UPDATE's path attributes are in attributes.ts. Decoding
 * never throws: a malformed message yields the NOTIFICATION code/subcode/data of RFC 4271
 * §6, or for UPDATE attribute errors RFC 7606's treat-as-withdraw.
 */
import { decodeAttributes, encodeAttributes } from './attributes.js';
import {
  ERR_CEASE,
  MAX_MESSAGE,
  MAX_OPT_PARAMS_LENGTH,
  OPT_PARAM_EXTENDED,
  CAP_EXTENDED_MESSAGE,
  CAP_FOUR_OCTET_AS,
  CAP_GRACEFUL_RESTART,
  CAP_MULTIPROTOCOL,
  CAP_ROUTE_REFRESH,
  ERR_HEADER,
  ERR_HEADER_BAD_LENGTH,
  ERR_HEADER_BAD_TYPE,
  ERR_HEADER_NOT_SYNCHRONIZED,
  ERR_OPEN,
  ERR_OPEN_UNACCEPTABLE_HOLD,
  ERR_OPEN_UNSUPPORTED_PARAM,
  ERR_OPEN_UNSUPPORTED_VERSION,
  ERR_UPDATE,
  ERR_UPDATE_INVALID_NETWORK,
  ERR_UPDATE_MALFORMED_ATTRS,
  HEADER_LENGTH,
  MARKER_LENGTH,
  MSG_KEEPALIVE,
  MSG_NOTIFICATION,
  MSG_OPEN,
  MSG_ROUTE_REFRESH,
  MSG_UPDATE,
  OPT_PARAM_CAPABILITIES,
  type BgpMessage,
  type Capabilities,
  type CodecOptions,
  type DecodeResult,
  type MessageKind,
  type SessionResetError,
  type OpenMessage,
  type UpdateMessage,
} from './messages.js';
import { decodePrefixes, encodePrefixes, ipv4FromString, ipv4ToString, u16, u32 } from './wire.js';
import { errorMessage, HeraldError } from '../../src/core/errors.js';

function frame(type: number, body: Buffer): Buffer {
  const out = Buffer.alloc(HEADER_LENGTH + body.length, 0xff);
  out.writeUInt16BE(HEADER_LENGTH + body.length, MARKER_LENGTH);
  out[MARKER_LENGTH + 2] = type;
  body.copy(out, HEADER_LENGTH);
  return out;
}

// ---------------------------------------------------------------- OPEN (§4.2)

/** Each capability as code, length, value (RFC 5492 §4). */
function capabilityTlvs(c: Capabilities): Buffer[] {
  const caps: Buffer[] = [];
  const cap = (code: number, value: Buffer): void => {
    if (value.length > 255)
      throw new HeraldError('BgpMessage', `capability ${code} has ${value.length} bytes; at most 255 fit`);
    caps.push(Buffer.concat([Buffer.from([code, value.length]), value]));
  };
  for (const f of c.multiprotocol) cap(CAP_MULTIPROTOCOL, Buffer.concat([u16(f.afi), Buffer.from([0, f.safi])]));
  if (c.routeRefresh) cap(CAP_ROUTE_REFRESH, Buffer.alloc(0));
  if (c.extendedMessage) cap(CAP_EXTENDED_MESSAGE, Buffer.alloc(0));
  if (c.gracefulRestart) {
    const g = c.gracefulRestart;
    const head = u16(((g.restarting ? 0x8 : 0) << 12) | (g.restartTime & 0x0fff));
    cap(
      CAP_GRACEFUL_RESTART,
      Buffer.concat([
        head,
        ...g.families.map((f) => Buffer.concat([u16(f.afi), Buffer.from([f.safi, f.forwardingPreserved ? 0x80 : 0])])),
      ]),
    );
  }
  if (c.fourOctetAs !== undefined) cap(CAP_FOUR_OCTET_AS, u32(c.fourOctetAs));
  for (const o of c.other) cap(o.code, o.value);
  return caps;
}

/**
 * The optional parameters field, Non-Ext OP Len included. One capability per parameter when
 * that fits in 255 bytes (accepted by every implementation, RFC 5492 §4); else as many per
 * parameter as fit; else, when even that is too long (a peer's OPEN with many capabilities,
 * encoded again), RFC 9072's extended format with all capabilities in one parameter.
 */
function encodeOptionalParameters(c: Capabilities): Buffer {
  const caps = capabilityTlvs(c);
  const param = (b: Buffer): Buffer => Buffer.concat([Buffer.from([OPT_PARAM_CAPABILITIES, b.length]), b]);
  const single = Buffer.concat(caps.map(param));
  if (single.length <= MAX_OPT_PARAMS_LENGTH) return Buffer.concat([Buffer.from([single.length]), single]);
  const packed: Buffer[] = [];
  let group: Buffer[] = [];
  let size = 0;
  for (const t of caps) {
    if (size + t.length > 255) {
      packed.push(param(Buffer.concat(group)));
      group = [];
      size = 0;
    }
    group.push(t);
    size += t.length;
  }
  if (group.length > 0) packed.push(param(Buffer.concat(group)));
  const grouped = Buffer.concat(packed);
  if (grouped.length <= MAX_OPT_PARAMS_LENGTH) return Buffer.concat([Buffer.from([grouped.length]), grouped]);
  const all = Buffer.concat(caps);
  const ext = Buffer.concat([Buffer.from([OPT_PARAM_CAPABILITIES]), u16(all.length), all]);
  if (ext.length > 0xffff)
    throw new HeraldError(
      'BgpMessage',
      `OPEN capabilities of ${all.length} bytes do not fit even in RFC 9072 extended parameters`,
    );
  return Buffer.concat([Buffer.from([OPT_PARAM_EXTENDED, OPT_PARAM_EXTENDED]), u16(ext.length), ext]);
}

export function encodeOpen(m: OpenMessage): Buffer {
  const params = encodeOptionalParameters(m.capabilities);
  const msg = frame(
    MSG_OPEN,
    Buffer.concat([Buffer.from([m.version]), u16(m.myAs), u16(m.holdTime), ipv4FromString(m.bgpId), params]),
  );
  if (msg.length > MAX_MESSAGE)
    throw new HeraldError('BgpMessage', `OPEN of ${msg.length} bytes exceeds ${MAX_MESSAGE}`);
  return msg;
}

/** An error that resets the session (§6), found in `message`. */
function resetError(
  message: MessageKind,
  code: number,
  subcode: number,
  reason: string,
  data: Buffer = Buffer.alloc(0),
): SessionResetError {
  return { code, subcode, data, reason, handling: 'session-reset', message };
}

function fail(
  message: MessageKind,
  code: number,
  subcode: number,
  reason: string,
  data?: Buffer,
): { ok: false; error: SessionResetError } {
  return { ok: false, error: resetError(message, code, subcode, reason, data) };
}

function decodeOpen(body: Buffer): DecodeResult {
  if (body.length < 10)
    return fail(
      'open',
      ERR_HEADER,
      ERR_HEADER_BAD_LENGTH,
      'OPEN shorter than 29 bytes',
      u16(body.length + HEADER_LENGTH),
    );
  const version = body[0]!;
  if (version !== 4)
    return fail('open', ERR_OPEN, ERR_OPEN_UNSUPPORTED_VERSION, `BGP version ${version} is not supported`, u16(4));
  const myAs = body.readUInt16BE(1);
  const holdTime = body.readUInt16BE(3);
  if (holdTime === 1 || holdTime === 2)
    return fail('open', ERR_OPEN, ERR_OPEN_UNACCEPTABLE_HOLD, `hold time ${holdTime} is neither 0 nor at least 3`);
  const bgpId = ipv4ToString(body, 5);
  // RFC 9072 §2: 255/255 announces 2-byte lengths for the field and for each parameter.
  const extended = body[9] === OPT_PARAM_EXTENDED && body.length > 10 && body[10] === OPT_PARAM_EXTENDED;
  const lenBytes = extended ? 2 : 1;
  let at = extended ? 13 : 10;
  if (extended && body.length < 13) return fail('open', ERR_OPEN, 0, 'truncated extended optional parameters length');
  const optLen = extended ? body.readUInt16BE(11) : body[9]!;
  if (at + optLen !== body.length)
    return fail('open', ERR_OPEN, 0, 'optional parameters length does not match the message');
  const multiprotocol: { afi: number; safi: number }[] = [];
  const other: { code: number; value: Buffer }[] = [];
  let routeRefresh = false;
  let extendedMessage = false;
  let fourOctetAs: number | undefined;
  let gracefulRestart: Capabilities['gracefulRestart'];
  while (at < body.length) {
    if (at + 1 + lenBytes > body.length) return fail('open', ERR_OPEN, 0, 'truncated optional parameter');
    const ptype = body[at]!;
    const plen = extended ? body.readUInt16BE(at + 1) : body[at + 1]!;
    if (at + 1 + lenBytes + plen > body.length)
      return fail('open', ERR_OPEN, 0, 'optional parameter overruns the message');
    if (ptype !== OPT_PARAM_CAPABILITIES)
      return fail('open', ERR_OPEN, ERR_OPEN_UNSUPPORTED_PARAM, `optional parameter type ${ptype} is not supported`);
    let c = at + 1 + lenBytes;
    const end = c + plen;
    while (c < end) {
      if (c + 2 > end) return fail('open', ERR_OPEN, 0, 'truncated capability');
      const code = body[c]!;
      const len = body[c + 1]!;
      if (c + 2 + len > end) return fail('open', ERR_OPEN, 0, `capability ${code} overruns its parameter`);
      const v = body.subarray(c + 2, c + 2 + len);
      switch (code) {
        case CAP_MULTIPROTOCOL:
          if (len !== 4) return fail('open', ERR_OPEN, 0, 'multiprotocol capability must be 4 bytes');
          multiprotocol.push({ afi: v.readUInt16BE(0), safi: v[3]! });
          break;
        case CAP_ROUTE_REFRESH:
          routeRefresh = true;
          break;
        case CAP_EXTENDED_MESSAGE:
          extendedMessage = true;
          break;
        case CAP_FOUR_OCTET_AS:
          if (len !== 4) return fail('open', ERR_OPEN, 0, '4-octet AS capability must be 4 bytes');
          fourOctetAs = v.readUInt32BE(0);
          break;
        case CAP_GRACEFUL_RESTART: {
          if (len < 2 || (len - 2) % 4 !== 0) return fail('open', ERR_OPEN, 0, 'malformed graceful restart capability');
          const head = v.readUInt16BE(0);
          const families = [];
          for (let i = 2; i < len; i += 4)
            families.push({ afi: v.readUInt16BE(i), safi: v[i + 2]!, forwardingPreserved: (v[i + 3]! & 0x80) !== 0 });
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
      capabilities: {
        multiprotocol,
        routeRefresh,
        extendedMessage,
        other,
        ...(fourOctetAs !== undefined ? { fourOctetAs } : {}),
        ...(gracefulRestart ? { gracefulRestart } : {}),
      },
    },
  };
}

// ---------------------------------------------------------------- UPDATE (§4.3)

export function encodeUpdate(m: UpdateMessage, opts: CodecOptions): Buffer {
  const withdrawn = encodePrefixes(m.withdrawn.filter((p) => p.family === 'IPv4'));
  const attrs = encodeAttributes(m.attributes, opts);
  const nlri = encodePrefixes(m.nlri.filter((p) => p.family === 'IPv4'));
  const msg = frame(MSG_UPDATE, Buffer.concat([u16(withdrawn.length), withdrawn, u16(attrs.length), attrs, nlri]));
  if (msg.length > opts.maxMessageSize)
    throw new HeraldError('BgpMessage', `UPDATE of ${msg.length} bytes exceeds ${opts.maxMessageSize}`);
  return msg;
}

function decodeUpdate(body: Buffer, opts: CodecOptions): DecodeResult {
  const malformed = (reason: string): { ok: false; error: SessionResetError } =>
    fail('update', ERR_UPDATE, ERR_UPDATE_MALFORMED_ATTRS, reason);
  if (body.length < 4) return malformed('UPDATE shorter than 23 bytes');
  const wLen = body.readUInt16BE(0);
  if (2 + wLen + 2 > body.length) return malformed('withdrawn routes length overruns the message');
  const withdrawn = decodePrefixes(body.subarray(2, 2 + wLen), 'IPv4');
  if (!withdrawn) return fail('update', ERR_UPDATE, ERR_UPDATE_INVALID_NETWORK, 'malformed withdrawn routes');
  const aLen = body.readUInt16BE(2 + wLen);
  const aStart = 4 + wLen;
  if (aStart + aLen > body.length) return malformed('path attribute length overruns the message');
  const nlri = decodePrefixes(body.subarray(aStart + aLen), 'IPv4');
  if (!nlri) return fail('update', ERR_UPDATE, ERR_UPDATE_INVALID_NETWORK, 'malformed NLRI field');
  const attrs = decodeAttributes(body.subarray(aStart, aStart + aLen), nlri.length > 0, opts);
  if (!attrs.ok) return { ok: false, error: attrs.error };
  const { attributes, errors } = attrs;
  const message: UpdateMessage = {
    type: 'update',
    withdrawn,
    attributes,
    nlri,
    ...(errors.length > 0 ? { errors } : {}),
  };
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
export function checkHeader(buf: Buffer, maxSize: number): SessionResetError | undefined {
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (buf[i] !== 0xff) return resetError('header', ERR_HEADER, ERR_HEADER_NOT_SYNCHRONIZED, 'marker is not all ones');
  }
  const length = buf.readUInt16BE(MARKER_LENGTH);
  const type = buf[MARKER_LENGTH + 2]!;
  const bad = (): SessionResetError =>
    resetError(
      'header',
      ERR_HEADER,
      ERR_HEADER_BAD_LENGTH,
      `bad message length ${length} for type ${type}`,
      u16(length),
    );
  if (length < HEADER_LENGTH || length > maxSize) return bad();
  if (type < MSG_OPEN || type > MSG_ROUTE_REFRESH)
    return resetError('header', ERR_HEADER, ERR_HEADER_BAD_TYPE, `unknown message type ${type}`, Buffer.from([type]));
  if (
    (type === MSG_OPEN && length < 29) ||
    (type === MSG_UPDATE && length < 23) ||
    (type === MSG_NOTIFICATION && length < 21) ||
    (type === MSG_KEEPALIVE && length !== 19) ||
    (type === MSG_ROUTE_REFRESH && length !== 23)
  )
    return bad();
  return undefined;
}

const KIND_OF_TYPE: Readonly<Record<number, MessageKind>> = {
  [MSG_OPEN]: 'open',
  [MSG_UPDATE]: 'update',
  [MSG_NOTIFICATION]: 'notification',
  [MSG_KEEPALIVE]: 'keepalive',
  [MSG_ROUTE_REFRESH]: 'routeRefresh',
};

/** Decodes one complete message (header included). Never throws. */
export function decode(buf: Buffer, opts: CodecOptions): DecodeResult {
  if (buf.length < HEADER_LENGTH)
    return fail('header', ERR_HEADER, ERR_HEADER_BAD_LENGTH, 'shorter than a header', u16(buf.length));
  const bad = checkHeader(buf, Math.max(opts.maxMessageSize, 4096));
  if (bad) return { ok: false, error: bad };
  const length = buf.readUInt16BE(MARKER_LENGTH);
  if (length !== buf.length)
    return fail('header', ERR_HEADER, ERR_HEADER_BAD_LENGTH, 'buffer does not hold exactly one message', u16(length));
  const body = buf.subarray(HEADER_LENGTH);
  const type = buf[MARKER_LENGTH + 2];
  try {
    switch (type) {
      case MSG_OPEN:
        return decodeOpen(body);
      case MSG_UPDATE:
        return decodeUpdate(body, opts);
      case MSG_KEEPALIVE:
        return { ok: true, message: { type: 'keepalive' } };
      case MSG_NOTIFICATION:
        return {
          ok: true,
          message: { type: 'notification', code: body[0]!, subcode: body[1]!, data: Buffer.from(body.subarray(2)) },
        };
      default:
        return { ok: true, message: { type: 'routeRefresh', afi: body.readUInt16BE(0), safi: body[3]! } };
    }
  } catch (err) {
    // A bug here must not take the process down, and must not be mistaken for the peer's
    // fault: the session still resets (Cease, no subcode: nothing the peer sent is blamed),
    // and the error says `internal` so logs, metrics and the fuzz tests see a defect.
    const cause = new HeraldError('Internal', `BGP decoder: ${errorMessage(err)}`, { cause: err });
    return {
      ok: false,
      error: {
        ...resetError(KIND_OF_TYPE[type!] ?? 'header', ERR_CEASE, 0, `internal decoder error: ${errorMessage(err)}`),
        kind: 'internal',
        cause,
      },
    };
  }
}
