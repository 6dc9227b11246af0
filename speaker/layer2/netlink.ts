/**
 * rtnetlink messages the Layer 2 engine needs (pure): link and address notifications and
 * the dump requests that list them (RFC 3549; Linux include/uapi/linux/rtnetlink.h,
 * if_link.h, if_addr.h). Netlink uses the host's byte order: every function takes it.
 */
import { ipFromBytes, type IP } from '../../src/net/ip.js';

export type ByteOrder = 'LE' | 'BE';

// netlink.h: message types and flags.
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_DUMP = 0x300;
const NLMSG_HDRLEN = 16;

// rtnetlink.h: the link and address message types.
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;

// if.h: interface flags.
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;

// if_link.h: link attributes; if_addr.h: address attributes.
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;

const AF_INET = 2;
const AF_INET6 = 10;

export interface LinkMessage {
  readonly type: 'link';
  readonly deleted: boolean;
  readonly index: number;
  readonly name: string;
  readonly flags: number;
  readonly mtu?: number;
  readonly mac?: Buffer;
}

export interface AddressMessage {
  readonly type: 'address';
  readonly deleted: boolean;
  readonly index: number;
  readonly ip: IP;
  readonly prefix: number;
}

export type NetlinkMessage =
  | LinkMessage
  | AddressMessage
  | { readonly type: 'done'; readonly seq: number }
  | { readonly type: 'error'; readonly seq: number; readonly errno: number }
  | { readonly type: 'other'; readonly nlType: number };

export type ParseResult =
  { ok: true; messages: NetlinkMessage[] } | { ok: false; reason: string; messages: NetlinkMessage[] };

const align4 = (n: number): number => (n + 3) & ~3;

function u16(b: Buffer, at: number, order: ByteOrder): number {
  return order === 'LE' ? b.readUInt16LE(at) : b.readUInt16BE(at);
}
function u32(b: Buffer, at: number, order: ByteOrder): number {
  return order === 'LE' ? b.readUInt32LE(at) : b.readUInt32BE(at);
}
function i32(b: Buffer, at: number, order: ByteOrder): number {
  return order === 'LE' ? b.readInt32LE(at) : b.readInt32BE(at);
}

/** The rtattr list in `b` from `start` to `end`: attribute type -> payload (the first of each type). */
function attributes(b: Buffer, start: number, end: number, order: ByteOrder): Map<number, Buffer> | undefined {
  const out = new Map<number, Buffer>();
  let at = start;
  while (at + 4 <= end) {
    const len = u16(b, at, order);
    const type = u16(b, at + 2, order) & 0x3fff; // without NLA_F_NESTED / NLA_F_NET_BYTEORDER
    if (len < 4 || at + len > end) return undefined;
    if (!out.has(type)) out.set(type, b.subarray(at + 4, at + len));
    at += align4(len);
  }
  return out;
}

function ipFrom(family: number, raw: Buffer): IP | undefined {
  if ((family === AF_INET && raw.length === 4) || (family === AF_INET6 && raw.length === 16)) return ipFromBytes(raw);
  return undefined;
}

function parseLink(b: Buffer, body: number, end: number, type: number, order: ByteOrder): LinkMessage | string {
  if (end - body < 16) return 'ifinfomsg too short';
  const index = i32(b, body + 4, order);
  const flags = u32(b, body + 8, order);
  const attrs = attributes(b, body + 16, end, order);
  if (!attrs) return 'bad link attribute';
  const nameRaw = attrs.get(IFLA_IFNAME);
  if (!nameRaw) return `link ${index} without a name`;
  const nul = nameRaw.indexOf(0);
  const name = nameRaw.subarray(0, nul < 0 ? nameRaw.length : nul).toString('utf8');
  const mtuRaw = attrs.get(IFLA_MTU);
  const mac = attrs.get(IFLA_ADDRESS);
  return {
    type: 'link',
    deleted: type === RTM_DELLINK,
    index,
    name,
    flags,
    ...(mtuRaw && mtuRaw.length >= 4 ? { mtu: u32(mtuRaw, 0, order) } : {}),
    ...(mac && mac.length === 6 ? { mac: Buffer.from(mac) } : {}),
  };
}

function parseAddress(
  b: Buffer,
  body: number,
  end: number,
  type: number,
  order: ByteOrder,
): AddressMessage | string | undefined {
  if (end - body < 8) return 'ifaddrmsg too short';
  const family = b.readUInt8(body);
  const prefix = b.readUInt8(body + 1);
  const index = u32(b, body + 4, order);
  const attrs = attributes(b, body + 8, end, order);
  if (!attrs) return 'bad address attribute';
  // IFA_LOCAL is the interface's own address (IFA_ADDRESS is the peer's on point-to-point links).
  const raw = attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS);
  if (!raw) return undefined;
  const ip = ipFrom(family, raw);
  if (!ip) return undefined;
  return { type: 'address', deleted: type === RTM_DELADDR, index, ip, prefix };
}

/** Splits a datagram into messages; a malformed one ends the parse with the reason (what came before is kept). */
export function parseNetlink(datagram: Buffer, order: ByteOrder): ParseResult {
  const messages: NetlinkMessage[] = [];
  let at = 0;
  while (at + NLMSG_HDRLEN <= datagram.length) {
    const len = u32(datagram, at, order);
    const type = u16(datagram, at + 4, order);
    const seq = u32(datagram, at + 8, order);
    if (len < NLMSG_HDRLEN || at + len > datagram.length)
      return {
        ok: false,
        reason: `message length ${len} at offset ${at} overruns the datagram (${datagram.length} bytes)`,
        messages,
      };
    const body = at + NLMSG_HDRLEN;
    const end = at + len;
    if (type === RTM_NEWLINK || type === RTM_DELLINK) {
      const m = parseLink(datagram, body, end, type, order);
      if (typeof m === 'string') return { ok: false, reason: m, messages };
      messages.push(m);
    } else if (type === RTM_NEWADDR || type === RTM_DELADDR) {
      const m = parseAddress(datagram, body, end, type, order);
      if (typeof m === 'string') return { ok: false, reason: m, messages };
      if (m) messages.push(m);
    } else if (type === NLMSG_DONE) messages.push({ type: 'done', seq });
    else if (type === NLMSG_ERROR)
      messages.push({ type: 'error', seq, errno: end - body >= 4 ? -i32(datagram, body, order) : 0 });
    else messages.push({ type: 'other', nlType: type });
    at += align4(len);
  }
  return { ok: true, messages };
}

/** An RTM_GETLINK or RTM_GETADDR dump request for every family. */
export function dumpRequest(what: 'links' | 'addresses', seq: number, order: ByteOrder): Buffer {
  const bodyLen = what === 'links' ? 16 : 8; // ifinfomsg / ifaddrmsg, all zero (AF_UNSPEC)
  const b = Buffer.alloc(NLMSG_HDRLEN + bodyLen);
  const w32 = (v: number, at: number): void => void (order === 'LE' ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at));
  const w16 = (v: number, at: number): void => void (order === 'LE' ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at));
  w32(b.length, 0);
  w16(what === 'links' ? RTM_GETLINK : RTM_GETADDR, 4);
  w16(NLM_F_REQUEST | NLM_F_DUMP, 6);
  w32(seq >>> 0, 8);
  w32(0, 12);
  return b;
}
