/**
 * The decision to answer (pure): a received ARP request or Neighbor Solicitation, the
 * interface it arrived on, and what this node owns -> a reply frame, or a reason not to.
 */
import { formatIP, type IP } from '../../src/net/ip.js';
import { ARP_REQUEST, arpReply, isGratuitous, type ArpPacket } from './arp.js';
import { ALL_NODES, ALL_NODES_MAC, neighborAdvertisement, type NeighborSolicitation } from './ndp.js';
import type { FrameDropReason, Layer2Packet, ParsedFrame } from './frames.js';

export type NoAnswer =
  /** The frame failed parsing; `detail` carries the parser's reason. */
  | 'malformed'
  /** An ARP reply (or another op): nothing is being asked. */
  | 'notARequest'
  /** Another host announcing its own address (sender IP = target IP): not a question. */
  | 'gratuitous'
  /** A frame we sent ourselves, seen again on the socket. */
  | 'ownFrame'
  | 'notOwned'
  /** Owned, but announced on other interfaces only. */
  | 'wrongInterface'
  /**
   * The asker's MAC (ARP sender hardware address, NS source link-layer option or frame
   * source) is broadcast or multicast: no host has it, and a reply would flood the segment.
   */
  | 'multicastSender';

export type AnswerKind =
  /** RFC 826 reply to a who-has. */
  | 'arpReply'
  /** RFC 5227 §2.1.1: a probe (sender 0.0.0.0) for an owned address is answered so the prober sees the conflict. */
  | 'probeReply'
  /** RFC 4861 §7.2.4: Solicited + Override NA, unicast to the asker. */
  | 'solicitedAdvertisement'
  /** RFC 4861 §7.2.4: a DAD probe (source ::) gets an NA to all-nodes with S clear. */
  | 'dadProbe';

export type Answer =
  | { readonly answer: true; readonly kind: AnswerKind; readonly frame: Buffer; readonly ip: IP }
  | { readonly answer: false; readonly reason: NoAnswer; readonly detail?: FrameDropReason };

/** Canonical IP text -> the interfaces the IP is announced on. */
export type OwnedAddresses = ReadonlyMap<string, ReadonlySet<string>>;

export interface Ownership {
  readonly owned: OwnedAddresses;
}

/** Builds the owned map from {ip, interfaces} entries, keyed by canonical IP text. */
export function ownership(entries: Iterable<{ readonly ip: IP; readonly interfaces: Iterable<string> }>): Ownership {
  const owned = new Map<string, Set<string>>();
  for (const e of entries) {
    const key = formatIP(e.ip);
    const set = owned.get(key) ?? new Set<string>();
    for (const i of e.interfaces) set.add(i);
    owned.set(key, set);
  }
  return { owned };
}

export interface Inquiry {
  /** A parse result (failures answer 'malformed') or an already parsed packet. */
  readonly received: ParsedFrame | Layer2Packet;
  /** The interface the frame arrived on. */
  readonly ifname: string;
  /** That interface's MAC: the address we answer with. */
  readonly mac: Buffer;
  readonly owned: OwnedAddresses;
}

function isParseResult(r: ParsedFrame | Layer2Packet): r is ParsedFrame {
  return 'ok' in r;
}

export function decide(q: Inquiry): Answer {
  let packet: Layer2Packet;
  if (isParseResult(q.received)) {
    if (!q.received.ok) return { answer: false, reason: 'malformed', detail: q.received.reason };
    packet = q.received.packet;
  } else packet = q.received;
  return packet.kind === 'arp' ? decideArp(packet, q) : decideNs(packet, q);
}

function ownedHere(target: IP, q: Inquiry): NoAnswer | undefined {
  const ifaces = q.owned.get(formatIP(target));
  if (!ifaces) return 'notOwned';
  if (!ifaces.has(q.ifname)) return 'wrongInterface';
  return undefined;
}

/** IEEE 802: the I/G bit (least significant bit of the first octet) marks group addresses, broadcast included. */
export function isGroupMac(mac: Uint8Array): boolean {
  return mac.length !== 6 || (mac[0]! & 0x01) !== 0;
}

function decideArp(p: ArpPacket, q: Inquiry): Answer {
  if (p.op !== ARP_REQUEST) return { answer: false, reason: 'notARequest' };
  if (p.senderMac.equals(q.mac)) return { answer: false, reason: 'ownFrame' };
  if (isGroupMac(p.senderMac)) return { answer: false, reason: 'multicastSender' };
  if (isGratuitous(p)) return { answer: false, reason: 'gratuitous' };
  const no = ownedHere(p.targetIP, q);
  if (no) return { answer: false, reason: no };
  const kind: AnswerKind = p.senderIP.value === 0n ? 'probeReply' : 'arpReply';
  return { answer: true, kind, frame: arpReply(p, q.mac), ip: p.targetIP };
}

function decideNs(p: NeighborSolicitation, q: Inquiry): Answer {
  if (p.srcMac.equals(q.mac)) return { answer: false, reason: 'ownFrame' };
  if (isGroupMac(p.srcMac) || (p.sourceLinkAddress !== undefined && isGroupMac(p.sourceLinkAddress)))
    return { answer: false, reason: 'multicastSender' };
  const no = ownedHere(p.target, q);
  if (no) return { answer: false, reason: no };
  if (p.srcIP.value === 0n) {
    const frame = neighborAdvertisement({
      target: p.target,
      mac: q.mac,
      dstIP: ALL_NODES,
      dstMac: ALL_NODES_MAC,
      solicited: false,
    });
    return { answer: true, kind: 'dadProbe', frame, ip: p.target };
  }
  // §7.2.4: to the source link-layer address when given; the frame's source otherwise.
  const dstMac = p.sourceLinkAddress ?? p.srcMac;
  const frame = neighborAdvertisement({ target: p.target, mac: q.mac, dstIP: p.srcIP, dstMac, solicited: true });
  return { answer: true, kind: 'solicitedAdvertisement', frame, ip: p.target };
}

/** Positional form of `decide` for a parsed packet (kept for existing callers). */
export function respond(p: Layer2Packet, ifname: string, mac: Buffer, own: Ownership): Answer {
  return decide({ received: p, ifname, mac, owned: own.owned });
}
