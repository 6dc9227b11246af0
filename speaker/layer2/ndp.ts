/**
 * IPv6 Neighbor Discovery (RFC 4861) on Ethernet: parse Neighbor Solicitations with the §7.1.1
 * validity checks, build Neighbor Advertisements (§4.4) with the ICMPv6 checksum (RFC 4443
 * §2.3 over the RFC 8200 §8.1 pseudo-header). Pure functions over Buffer; parsing returns a
 * reason instead of throwing.
 *
 *   IPv6 header (RFC 8200 §3): ver/class/flow(4) payload length(2) next header(1) hop limit(1)
 *                              source(16) destination(16)
 *   NS (§4.3): type 135, code 0, checksum(2), reserved(4), target(16), options
 *   NA (§4.4): type 136, code 0, checksum(2), R|S|O + reserved(4), target(16), options
 *   option (§4.6): type(1) length in units of 8 bytes(1) value
 */
import { ipFromBytes, ipToBytes, type IP } from '../../src/net/ip.js';
import { buildEthernet, ETHERTYPE_IPV6, MAC_LENGTH } from './ethernet.js';

export const IPV6_HEADER_LENGTH = 40;
export const IPV6_VERSION = 6;
/** IANA protocol number of ICMPv6. */
export const NEXT_HEADER_ICMPV6 = 58;
/** §7.1.1, §7.1.2: ND messages are sent with, and only accepted with, hop limit 255. */
export const NDP_HOP_LIMIT = 255;
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/** Fixed part of an NS or NA: type, code, checksum, reserved/flags, target. */
export const NDP_FIXED_LENGTH = 24;
/** §4.6.1 option types. */
export const NDP_OPT_SOURCE_LINK_ADDRESS = 1;
export const NDP_OPT_TARGET_LINK_ADDRESS = 2;
/** One option unit (§4.6): lengths count 8-byte units. */
const OPTION_UNIT = 8;
/** §4.4 flags in the first byte after the checksum. */
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;

/** ff02::1, the link-local all-nodes group (RFC 4291 §2.7.1). */
export const ALL_NODES: IP = { family: 'IPv6', value: 0xff02_0000_0000_0000_0000_0000_0000_0001n };
/** 33:33:00:00:00:01, the Ethernet group of ff02::1 (RFC 2464 §7). */
export const ALL_NODES_MAC: Buffer = Buffer.from([0x33, 0x33, 0x00, 0x00, 0x00, 0x01]);
/** ff02::1:ff00:0/104, the solicited-node prefix (RFC 4291 §2.7.1). */
const SOLICITED_NODE_PREFIX = 0xff02_0000_0000_0000_0000_0001_ff00_0000n;
const LOW_24_BITS = 0xff_ffffn;

export interface NeighborSolicitation {
  readonly kind: 'ns';
  /** The Ethernet source of the frame. */
  readonly srcMac: Buffer;
  readonly srcIP: IP;
  readonly dstIP: IP;
  readonly target: IP;
  readonly hopLimit: number;
  /** The source link-layer address option, when present. */
  readonly sourceLinkAddress?: Buffer;
}

export type NdpDropReason =
  | 'shortIPv6'
  | 'notIPv6'
  | 'notICMPv6'
  | 'badPayloadLength'
  | 'notNeighborSolicitation'
  | 'shortNeighborSolicitation'
  | 'badHopLimit'
  | 'badCode'
  | 'badChecksum'
  | 'multicastSource'
  | 'multicastTarget'
  | 'badOption'
  | 'dadWithSourceLinkAddress'
  | 'dadNotToSolicitedNode';

export type NdpParse =
  | { readonly ok: true; readonly packet: NeighborSolicitation }
  | { readonly ok: false; readonly reason: NdpDropReason; readonly detail: string };

function drop(reason: NdpDropReason, detail: string): NdpParse {
  return { ok: false, reason, detail };
}

/** ff00::/8 (RFC 4291 §2.7). */
export function isMulticastIPv6(ip: IP): boolean {
  return ip.family === 'IPv6' && ip.value >> 120n === 0xffn;
}

/** True for ff02::1:ffXX:XXXX. */
export function isSolicitedNode(ip: IP): boolean {
  return ip.family === 'IPv6' && (ip.value & ~LOW_24_BITS) === SOLICITED_NODE_PREFIX;
}

/** The solicited-node group ff02::1:ffXX:XXXX of an address: its low 24 bits under the prefix. */
export function solicitedNode(ip: IP): IP {
  if (ip.family !== 'IPv6') throw new RangeError('solicited-node groups are IPv6');
  return { family: 'IPv6', value: SOLICITED_NODE_PREFIX | (ip.value & LOW_24_BITS) };
}

/** The Ethernet group 33:33 + low 32 bits of an IPv6 multicast address (RFC 2464 §7). */
export function multicastMac(ip: IP): Buffer {
  if (!isMulticastIPv6(ip)) throw new RangeError('only IPv6 multicast addresses map to 33:33:xx:xx:xx:xx');
  const b = ipToBytes(ip);
  return Buffer.from([0x33, 0x33, b[12]!, b[13]!, b[14]!, b[15]!]);
}

/** The Ethernet group to join to hear solicitations for `ip`: 33:33:ff:XX:XX:XX. */
export function solicitedNodeMac(ip: IP): Buffer {
  return multicastMac(solicitedNode(ip));
}

/**
 * The ICMPv6 checksum (RFC 4443 §2.3): the ones' complement of the ones' complement sum
 * (RFC 1071) of the pseudo-header (source, destination, upper-layer length, next header 58)
 * and the message. Over a message that carries its checksum the result is 0.
 */
export function icmpv6Checksum(src: IP, dst: IP, icmp: Uint8Array): number {
  const pseudo = Buffer.alloc(IPV6_HEADER_LENGTH);
  pseudo.set(ipToBytes(src), 0);
  pseudo.set(ipToBytes(dst), 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = NEXT_HEADER_ICMPV6;
  let sum = 0;
  for (const part of [pseudo, icmp]) {
    for (let i = 0; i < part.length; i += 2) sum += (part[i]! << 8) | (part[i + 1] ?? 0);
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * Parses the payload of an Ethernet frame of type 0x86dd as a Neighbor Solicitation and
 * applies RFC 4861 §7.1.1. Padding after the IPv6 payload is ignored.
 */
export function parseNeighborSolicitation(payload: Buffer, ethSrc: Uint8Array): NdpParse {
  if (payload.length < IPV6_HEADER_LENGTH)
    return drop('shortIPv6', `${payload.length} bytes is shorter than an IPv6 header`);
  const version = payload[0]! >> 4;
  if (version !== IPV6_VERSION) return drop('notIPv6', `IP version ${version}`);
  const nextHeader = payload[6]!;
  if (nextHeader !== NEXT_HEADER_ICMPV6) return drop('notICMPv6', `next header ${nextHeader}`);
  const payloadLength = payload.readUInt16BE(4);
  if (IPV6_HEADER_LENGTH + payloadLength > payload.length) {
    return drop(
      'badPayloadLength',
      `payload length ${payloadLength} overruns the ${payload.length - IPV6_HEADER_LENGTH} bytes present`,
    );
  }
  const icmp = payload.subarray(IPV6_HEADER_LENGTH, IPV6_HEADER_LENGTH + payloadLength);
  if (icmp.length === 0 || icmp[0] !== ICMPV6_NEIGHBOR_SOLICITATION)
    return drop('notNeighborSolicitation', `ICMPv6 type ${icmp[0] ?? 'none'}`);
  if (icmp.length < NDP_FIXED_LENGTH)
    return drop('shortNeighborSolicitation', `ICMPv6 length ${icmp.length} is under ${NDP_FIXED_LENGTH}`);
  const hopLimit = payload[7]!;
  if (hopLimit !== NDP_HOP_LIMIT) return drop('badHopLimit', `hop limit ${hopLimit} is not ${NDP_HOP_LIMIT}`);
  if (icmp[1] !== 0) return drop('badCode', `ICMPv6 code ${icmp[1]} is not 0`);
  const srcIP = ipFromBytes(payload.subarray(8, 24));
  const dstIP = ipFromBytes(payload.subarray(24, 40));
  if (icmpv6Checksum(srcIP, dstIP, icmp) !== 0)
    return drop('badChecksum', `bad ICMPv6 checksum 0x${icmp.readUInt16BE(2).toString(16)}`);
  if (isMulticastIPv6(srcIP)) return drop('multicastSource', 'the source is a multicast address (RFC 4291 §2.7)');
  const target = ipFromBytes(icmp.subarray(8, NDP_FIXED_LENGTH));
  if (isMulticastIPv6(target)) return drop('multicastTarget', 'the target is a multicast address');
  let sourceLinkAddress: Buffer | undefined;
  let at = NDP_FIXED_LENGTH;
  while (at < icmp.length) {
    if (at + 2 > icmp.length) return drop('badOption', 'a partial option header at the end');
    const type = icmp[at]!;
    const length = icmp[at + 1]! * OPTION_UNIT;
    if (length === 0) return drop('badOption', `option ${type} has length 0`);
    if (at + length > icmp.length) return drop('badOption', `option ${type} overruns the message`);
    if (type === NDP_OPT_SOURCE_LINK_ADDRESS)
      sourceLinkAddress = Buffer.from(icmp.subarray(at + 2, at + 2 + MAC_LENGTH));
    at += length;
  }
  if (srcIP.value === 0n) {
    if (!isSolicitedNode(dstIP))
      return drop('dadNotToSolicitedNode', 'a solicitation from :: must go to a solicited-node group');
    if (sourceLinkAddress)
      return drop('dadWithSourceLinkAddress', 'a solicitation from :: must not carry a source link-layer option');
  }
  return {
    ok: true,
    packet: {
      kind: 'ns',
      srcMac: Buffer.from(ethSrc),
      srcIP,
      dstIP,
      target,
      hopLimit,
      ...(sourceLinkAddress ? { sourceLinkAddress } : {}),
    },
  };
}

export interface AdvertisementBuild {
  /** The address advertised; also the IPv6 source. */
  readonly target: IP;
  /** Our MAC: the Ethernet source and the target link-layer address option. */
  readonly mac: Uint8Array;
  readonly dstIP: IP;
  readonly dstMac: Uint8Array;
  readonly solicited: boolean;
  readonly router?: boolean;
  /** Default true: the answer replaces whatever the asker has cached (§7.2.4). */
  readonly override?: boolean;
}

/**
 * A Neighbor Advertisement frame (§4.4, §7.2.4): hop limit 255, the R/S/O flags, a target
 * link-layer address option with `mac`, and the checksum. The IPv6 source is the target
 * itself, an address of the sending interface as §7.2.4 asks (ndisc6 also insists on it).
 */
export function neighborAdvertisement(a: AdvertisementBuild): Buffer {
  if (a.target.family !== 'IPv6' || a.dstIP.family !== 'IPv6')
    throw new RangeError('Neighbor Advertisements carry IPv6 addresses');
  if (a.mac.length !== MAC_LENGTH) throw new RangeError('a MAC has 6 bytes');
  const icmp = Buffer.alloc(NDP_FIXED_LENGTH + OPTION_UNIT);
  icmp[0] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
  icmp[4] =
    (a.router ? NA_FLAG_ROUTER : 0) |
    (a.solicited ? NA_FLAG_SOLICITED : 0) |
    (a.override === false ? 0 : NA_FLAG_OVERRIDE);
  icmp.set(ipToBytes(a.target), 8);
  icmp[NDP_FIXED_LENGTH] = NDP_OPT_TARGET_LINK_ADDRESS;
  icmp[NDP_FIXED_LENGTH + 1] = 1;
  icmp.set(a.mac, NDP_FIXED_LENGTH + 2);
  icmp.writeUInt16BE(icmpv6Checksum(a.target, a.dstIP, icmp), 2);
  const ip6 = Buffer.alloc(IPV6_HEADER_LENGTH);
  ip6[0] = IPV6_VERSION << 4;
  ip6.writeUInt16BE(icmp.length, 4);
  ip6[6] = NEXT_HEADER_ICMPV6;
  ip6[7] = NDP_HOP_LIMIT;
  ip6.set(ipToBytes(a.target), 8);
  ip6.set(ipToBytes(a.dstIP), 24);
  return buildEthernet({ dst: a.dstMac, src: a.mac, ethertype: ETHERTYPE_IPV6, payload: Buffer.concat([ip6, icmp]) });
}

/** An unsolicited NA to all nodes announcing a takeover (§7.2.6): S clear, O set. */
export function unsolicitedAdvertisement(target: IP, mac: Uint8Array): Buffer {
  return neighborAdvertisement({ target, mac, dstIP: ALL_NODES, dstMac: ALL_NODES_MAC, solicited: false });
}
