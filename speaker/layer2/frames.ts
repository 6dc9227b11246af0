/**
 * Ethernet, ARP (RFC 826) and NDP (RFC 4861) frames: pure parse and build over Buffer.
 * Parsing returns a reason instead of throwing.
 */
import { BROADCAST_MAC } from '../../src/net/mac.js';
import { formatIP, ipFromBytes, ipToBytes, type IP } from '../../src/net/ip.js';

export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
/** RFC 826: hardware type Ethernet, protocol IPv4, opcodes. */
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_PTYPE_IPV4 = 0x0800;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
/** RFC 4861 §4.3, §4.4. */
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
export const NDP_OPT_SOURCE_LINK_ADDRESS = 1;
export const NDP_OPT_TARGET_LINK_ADDRESS = 2;
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;
export const NEXT_HEADER_ICMPV6 = 58;
export const ALL_NODES = 'ff02::1';
export const ALL_NODES_MAC = Buffer.from([0x33, 0x33, 0, 0, 0, 1]);

export interface ArpPacket {
  readonly kind: 'arp';
  readonly op: number;
  readonly senderMac: Buffer;
  readonly senderIP: IP;
  readonly targetMac: Buffer;
  readonly targetIP: IP;
}

export interface NeighborSolicitation {
  readonly kind: 'ns';
  readonly srcMac: Buffer;
  readonly srcIP: IP;
  readonly dstIP: IP;
  readonly target: IP;
  readonly hopLimit: number;
  /** The source link-layer address option, when present. */
  readonly sourceLinkAddress?: Buffer;
}

export type ParsedFrame = { ok: true; packet: ArpPacket | NeighborSolicitation } | { ok: false; reason: string };

function ethernetPayload(frame: Buffer): { type: number; payload: Buffer; src: Buffer } | undefined {
  if (frame.length < 14) return undefined;
  let type = frame.readUInt16BE(12);
  let off = 14;
  if (type === ETHERTYPE_VLAN) {
    if (frame.length < 18) return undefined;
    type = frame.readUInt16BE(16);
    off = 18;
  }
  return { type, payload: frame.subarray(off), src: frame.subarray(6, 12) };
}

/** The ones' complement sum of RFC 1071 over the IPv6 pseudo-header and the ICMPv6 message. */
export function icmpv6Checksum(src: IP, dst: IP, icmp: Buffer): number {
  const pseudo = Buffer.alloc(40);
  ipToBytes(src).copy(pseudo, 0);
  ipToBytes(dst).copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = NEXT_HEADER_ICMPV6;
  let sum = 0;
  const add = (b: Buffer): void => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i]! << 8) + (i + 1 < b.length ? b[i + 1]! : 0);
  };
  add(pseudo);
  add(icmp);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function parseFrame(frame: Buffer): ParsedFrame {
  const eth = ethernetPayload(frame);
  if (!eth) return { ok: false, reason: 'runt frame' };
  if (eth.type === ETHERTYPE_ARP) {
    const p = eth.payload;
    if (p.length < 28) return { ok: false, reason: 'short ARP packet' };
    if (p.readUInt16BE(0) !== ARP_HTYPE_ETHERNET || p.readUInt16BE(2) !== ARP_PTYPE_IPV4 || p[4] !== 6 || p[5] !== 4) return { ok: false, reason: 'ARP for something other than Ethernet/IPv4' };
    return {
      ok: true,
      packet: { kind: 'arp', op: p.readUInt16BE(6), senderMac: Buffer.from(p.subarray(8, 14)), senderIP: ipFromBytes(p.subarray(14, 18)), targetMac: Buffer.from(p.subarray(18, 24)), targetIP: ipFromBytes(p.subarray(24, 28)) },
    };
  }
  if (eth.type === ETHERTYPE_IPV6) {
    const p = eth.payload;
    if (p.length < 40 + 24) return { ok: false, reason: 'short IPv6 packet' };
    if (p[6] !== NEXT_HEADER_ICMPV6) return { ok: false, reason: 'not ICMPv6' };
    const payloadLen = p.readUInt16BE(4);
    if (40 + payloadLen > p.length) return { ok: false, reason: 'IPv6 payload length overruns the frame' };
    const icmp = p.subarray(40, 40 + payloadLen);
    if (icmp[0] !== ICMPV6_NEIGHBOR_SOLICITATION) return { ok: false, reason: `ICMPv6 type ${icmp[0]} is not a Neighbor Solicitation` };
    const srcIP = ipFromBytes(p.subarray(8, 24));
    const dstIP = ipFromBytes(p.subarray(24, 40));
    const hopLimit = p[7]!;
    // RFC 4861 §7.1.1: hop limit 255, code 0, valid checksum, target not multicast.
    if (hopLimit !== 255) return { ok: false, reason: `hop limit ${hopLimit} is not 255` };
    if (icmp[1] !== 0) return { ok: false, reason: 'ICMPv6 code is not 0' };
    if (icmpv6Checksum(srcIP, dstIP, icmp) !== 0) return { ok: false, reason: 'bad ICMPv6 checksum' };
    const target = ipFromBytes(icmp.subarray(8, 24));
    if ((target.value >> 120n) === 0xffn) return { ok: false, reason: 'target is a multicast address' };
    let sourceLinkAddress: Buffer | undefined;
    for (let at = 24; at + 2 <= icmp.length; ) {
      const type = icmp[at]!;
      const len = icmp[at + 1]! * 8;
      if (len === 0 || at + len > icmp.length) return { ok: false, reason: 'malformed NDP option' };
      if (type === NDP_OPT_SOURCE_LINK_ADDRESS && len >= 8) sourceLinkAddress = Buffer.from(icmp.subarray(at + 2, at + 8));
      at += len;
    }
    // §7.1.1: a solicitation from the unspecified address (DAD) carries no source link address.
    if (srcIP.value === 0n && sourceLinkAddress) return { ok: false, reason: 'DAD solicitation with a source link-layer option' };
    return { ok: true, packet: { kind: 'ns', srcMac: Buffer.from(eth.src), srcIP, dstIP, target, hopLimit, ...(sourceLinkAddress ? { sourceLinkAddress } : {}) } };
  }
  return { ok: false, reason: `ethertype 0x${eth.type.toString(16)}` };
}

function ethernet(dst: Buffer, src: Buffer, type: number, payload: Buffer): Buffer {
  const f = Buffer.alloc(14 + payload.length);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(type, 12);
  payload.copy(f, 14);
  return f;
}

export function buildArp(op: number, dstMac: Buffer, senderMac: Buffer, senderIP: IP, targetMac: Buffer, targetIP: IP): Buffer {
  const p = Buffer.alloc(28);
  p.writeUInt16BE(ARP_HTYPE_ETHERNET, 0);
  p.writeUInt16BE(ARP_PTYPE_IPV4, 2);
  p[4] = 6;
  p[5] = 4;
  p.writeUInt16BE(op, 6);
  senderMac.copy(p, 8);
  ipToBytes(senderIP).copy(p, 14);
  targetMac.copy(p, 18);
  ipToBytes(targetIP).copy(p, 24);
  return ethernet(dstMac, senderMac, ETHERTYPE_ARP, p);
}

/** An ARP reply to a request for `ip`, from `mac`. */
export function arpReply(req: ArpPacket, mac: Buffer): Buffer {
  return buildArp(ARP_REPLY, req.senderMac, mac, req.targetIP, req.senderMac, req.senderIP);
}

/** Gratuitous ARP (RFC 5227 §3 announcement): request form, broadcast, sender = target = ip. */
export function gratuitousArpRequest(ip: IP, mac: Buffer): Buffer {
  return buildArp(ARP_REQUEST, BROADCAST_MAC, mac, ip, Buffer.alloc(6), ip);
}

/** Gratuitous ARP in reply form, broadcast (accepted by hosts that ignore the request form). */
export function gratuitousArpReply(ip: IP, mac: Buffer): Buffer {
  return buildArp(ARP_REPLY, BROADCAST_MAC, mac, ip, BROADCAST_MAC, ip);
}

/** Solicited-node multicast address ff02::1:ffXX:XXXX of an IPv6 address (RFC 4291 §2.7.1). */
export function solicitedNode(ip: IP): IP {
  return { family: 'IPv6', value: (0xff020000000000000000000000000000n | 0x1ff000000n) | (ip.value & 0xffffffn) };
}

/** The Ethernet multicast MAC 33:33:xx:xx:xx:xx of an IPv6 multicast address (RFC 2464 §7). */
export function multicastMac(ip: IP): Buffer {
  const b = ipToBytes(ip);
  return Buffer.from([0x33, 0x33, b[12]!, b[13]!, b[14]!, b[15]!]);
}

/**
 * A Neighbor Advertisement for `target` from `mac` (RFC 4861 §4.4): hop limit 255, Override,
 * Solicited when answering a unicast-sourced solicitation, the target link-layer option.
 */
export function neighborAdvertisement(opts: { target: IP; mac: Buffer; dstIP: IP; dstMac: Buffer; solicited: boolean; router?: boolean }): Buffer {
  const icmp = Buffer.alloc(32);
  icmp[0] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  icmp[4] = NA_FLAG_OVERRIDE | (opts.solicited ? NA_FLAG_SOLICITED : 0) | (opts.router ? NA_FLAG_ROUTER : 0);
  ipToBytes(opts.target).copy(icmp, 8);
  icmp[24] = NDP_OPT_TARGET_LINK_ADDRESS;
  icmp[25] = 1;
  opts.mac.copy(icmp, 26);
  icmp.writeUInt16BE(icmpv6Checksum(opts.target, opts.dstIP, icmp), 2);
  const ip6 = Buffer.alloc(40);
  ip6[0] = 0x60;
  ip6.writeUInt16BE(icmp.length, 4);
  ip6[6] = NEXT_HEADER_ICMPV6;
  ip6[7] = 255;
  // §7.2.4: the source is the target address itself (ndisc6 insists).
  ipToBytes(opts.target).copy(ip6, 8);
  ipToBytes(opts.dstIP).copy(ip6, 24);
  return ethernet(opts.dstMac, opts.mac, ETHERTYPE_IPV6, Buffer.concat([ip6, icmp]));
}

/** Unsolicited NA to all nodes, announcing a takeover (RFC 4861 §7.2.6). */
export function unsolicitedAdvertisement(target: IP, mac: Buffer): Buffer {
  return neighborAdvertisement({ target, mac, dstIP: { family: 'IPv6', value: 0xff020000000000000000000000000001n }, dstMac: ALL_NODES_MAC, solicited: false });
}

export function describe(p: ArpPacket | NeighborSolicitation): string {
  return p.kind === 'arp' ? `ARP ${p.op === ARP_REQUEST ? 'who-has' : 'is-at'} ${formatIP(p.targetIP)} from ${formatIP(p.senderIP)}` : `NS for ${formatIP(p.target)} from ${formatIP(p.srcIP)}`;
}
