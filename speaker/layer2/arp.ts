/**
 * ARP (RFC 826) for Ethernet and IPv4, with the gratuitous forms of RFC 5227 §3 and
 * RFC 2002 §4.6. Pure functions over Buffer; parsing returns a reason instead of throwing.
 *
 * Packet layout (RFC 826, "Packet format"), 28 bytes for Ethernet/IPv4:
 *   hrd(2) pro(2) hln(1) pln(1) op(2) sha(6) spa(4) tha(6) tpa(4)
 */
import { BROADCAST_MAC } from '../../src/net/mac.js';
import { ipFromBytes, ipToBytes, type IP } from '../../src/net/ip.js';
import { buildEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV4, MAC_LENGTH } from './ethernet.js';

/** ar$hrd: Ethernet (IANA ARP hardware types). */
export const ARP_HTYPE_ETHERNET = 1;
/** ar$pro: the EtherType of the protocol, IPv4. */
export const ARP_PTYPE_IPV4 = ETHERTYPE_IPV4;
export const ARP_HLEN_ETHERNET = MAC_LENGTH;
export const ARP_PLEN_IPV4 = 4;
/** ar$op (RFC 826): ares_op$REQUEST and ares_op$REPLY. */
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ARP_PACKET_LENGTH = 28;

const OFF = { hrd: 0, pro: 2, hln: 4, pln: 5, op: 6, sha: 8, spa: 14, tha: 18, tpa: 24 } as const;

const ZERO_MAC: Buffer = Buffer.alloc(MAC_LENGTH);

export interface ArpPacket {
  readonly kind: 'arp';
  /** ar$op; anything but 1 or 2 is kept as is and left to the caller. */
  readonly op: number;
  readonly senderMac: Buffer;
  readonly senderIP: IP;
  readonly targetMac: Buffer;
  readonly targetIP: IP;
}

export type ArpDropReason = 'shortArp' | 'notEthernetIPv4';

export type ArpParse =
  | { readonly ok: true; readonly packet: ArpPacket }
  | { readonly ok: false; readonly reason: ArpDropReason; readonly detail: string };

/** Parses the payload of an Ethernet frame of type 0x0806. Trailing padding is ignored. */
export function parseArp(payload: Buffer): ArpParse {
  if (payload.length < ARP_PACKET_LENGTH) {
    return {
      ok: false,
      reason: 'shortArp',
      detail: `${payload.length} bytes is shorter than an Ethernet/IPv4 ARP packet`,
    };
  }
  const hrd = payload.readUInt16BE(OFF.hrd);
  const pro = payload.readUInt16BE(OFF.pro);
  const hln = payload[OFF.hln];
  const pln = payload[OFF.pln];
  if (hrd !== ARP_HTYPE_ETHERNET || pro !== ARP_PTYPE_IPV4 || hln !== ARP_HLEN_ETHERNET || pln !== ARP_PLEN_IPV4) {
    return {
      ok: false,
      reason: 'notEthernetIPv4',
      detail: `ARP hrd ${hrd} pro 0x${pro.toString(16)} hln ${hln} pln ${pln} is not Ethernet/IPv4`,
    };
  }
  return {
    ok: true,
    packet: {
      kind: 'arp',
      op: payload.readUInt16BE(OFF.op),
      senderMac: Buffer.from(payload.subarray(OFF.sha, OFF.sha + MAC_LENGTH)),
      senderIP: ipFromBytes(payload.subarray(OFF.spa, OFF.spa + ARP_PLEN_IPV4)),
      targetMac: Buffer.from(payload.subarray(OFF.tha, OFF.tha + MAC_LENGTH)),
      targetIP: ipFromBytes(payload.subarray(OFF.tpa, OFF.tpa + ARP_PLEN_IPV4)),
    },
  };
}

export interface ArpBuild {
  readonly op: number;
  /** Ethernet destination: broadcast for requests and announcements, the asker for replies. */
  readonly ethDst: Uint8Array;
  readonly senderMac: Uint8Array;
  readonly senderIP: IP;
  readonly targetMac: Uint8Array;
  readonly targetIP: IP;
}

function ipv4Bytes(ip: IP): Buffer {
  if (ip.family !== 'IPv4') throw new RangeError('ARP carries IPv4 addresses only');
  return ipToBytes(ip);
}

/** A whole Ethernet frame carrying one ARP packet; the Ethernet source is the sender MAC. */
export function buildArp(a: ArpBuild): Buffer {
  if (a.senderMac.length !== MAC_LENGTH || a.targetMac.length !== MAC_LENGTH)
    throw new RangeError('ARP hardware addresses have 6 bytes');
  const p = Buffer.alloc(ARP_PACKET_LENGTH);
  p.writeUInt16BE(ARP_HTYPE_ETHERNET, OFF.hrd);
  p.writeUInt16BE(ARP_PTYPE_IPV4, OFF.pro);
  p[OFF.hln] = ARP_HLEN_ETHERNET;
  p[OFF.pln] = ARP_PLEN_IPV4;
  p.writeUInt16BE(a.op, OFF.op);
  p.set(a.senderMac, OFF.sha);
  p.set(ipv4Bytes(a.senderIP), OFF.spa);
  p.set(a.targetMac, OFF.tha);
  p.set(ipv4Bytes(a.targetIP), OFF.tpa);
  return buildEthernet({ dst: a.ethDst, src: a.senderMac, ethertype: ETHERTYPE_ARP, payload: p });
}

/**
 * The reply to a request, from `mac` (RFC 826 "swap the hardware and protocol fields"):
 * unicast to the asker; sender = (mac, the address asked for), target = the asker. An RFC 5227
 * probe (sender 0.0.0.0) gets the same shape, target IP 0.0.0.0, which is what the prober
 * looks for.
 */
export function arpReply(req: ArpPacket, mac: Uint8Array): Buffer {
  return buildArp({
    op: ARP_REPLY,
    ethDst: req.senderMac,
    senderMac: mac,
    senderIP: req.targetIP,
    targetMac: req.senderMac,
    targetIP: req.senderIP,
  });
}

/**
 * Gratuitous ARP, request form (RFC 5227 §2.3 "ARP Announcement"): broadcast, sender IP =
 * target IP = the address, target hardware address zero.
 */
export function gratuitousArpRequest(ip: IP, mac: Uint8Array): Buffer {
  return buildArp({
    op: ARP_REQUEST,
    ethDst: BROADCAST_MAC,
    senderMac: mac,
    senderIP: ip,
    targetMac: ZERO_MAC,
    targetIP: ip,
  });
}

/**
 * Gratuitous ARP, reply form (RFC 2002 §4.6): broadcast, sender IP = target IP = the address,
 * and "the Target Hardware Address is also set to the link-layer address to which this cache
 * entry should be updated", i.e. our MAC.
 */
export function gratuitousArpReply(ip: IP, mac: Uint8Array): Buffer {
  return buildArp({ op: ARP_REPLY, ethDst: BROADCAST_MAC, senderMac: mac, senderIP: ip, targetMac: mac, targetIP: ip });
}

/** An RFC 5227 §2.1.1 probe: sender IP 0.0.0.0, target hardware address zero, broadcast. */
export function arpProbe(ip: IP, mac: Uint8Array): Buffer {
  return buildArp({
    op: ARP_REQUEST,
    ethDst: BROADCAST_MAC,
    senderMac: mac,
    senderIP: { family: 'IPv4', value: 0n },
    targetMac: ZERO_MAC,
    targetIP: ip,
  });
}

/** True for an announcement by the sender of its own address (sender IP = target IP, not 0.0.0.0). */
export function isGratuitous(p: ArpPacket): boolean {
  return p.senderIP.value !== 0n && p.senderIP.value === p.targetIP.value;
}

/** True for an RFC 5227 probe: a request with sender IP 0.0.0.0. */
export function isProbe(p: ArpPacket): boolean {
  return p.op === ARP_REQUEST && p.senderIP.value === 0n;
}
