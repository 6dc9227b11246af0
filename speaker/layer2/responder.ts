/**
 * The decision to answer (pure): a parsed ARP request or Neighbor Solicitation, the
 * interface it arrived on, and what this node owns -> a reply frame, or a reason not to.
 */
import { formatIP, type IP } from '../../src/net/ip.js';
import { ALL_NODES_MAC, ARP_REQUEST, arpReply, neighborAdvertisement, type ArpPacket, type NeighborSolicitation } from './frames.js';

export type NoAnswer = 'notARequest' | 'notOwned' | 'wrongInterface' | 'gratuitous';

export interface Ownership {
  /** IP text -> interfaces it is announced on. */
  readonly owned: ReadonlyMap<string, ReadonlySet<string>>;
}

export type Answer = { readonly answer: true; readonly frame: Buffer; readonly ip: IP } | { readonly answer: false; readonly reason: NoAnswer };

export function respond(p: ArpPacket | NeighborSolicitation, ifname: string, mac: Buffer, own: Ownership): Answer {
  const target = p.kind === 'arp' ? p.targetIP : p.target;
  const key = formatIP(target);
  if (p.kind === 'arp') {
    if (p.op !== ARP_REQUEST) return { answer: false, reason: 'notARequest' };
    // Another host announcing the address itself (sender = target) is not a question.
    if (p.senderIP.value === p.targetIP.value && p.senderIP.value !== 0n) return { answer: false, reason: 'gratuitous' };
  }
  const ifaces = own.owned.get(key);
  if (!ifaces) return { answer: false, reason: 'notOwned' };
  if (!ifaces.has(ifname)) return { answer: false, reason: 'wrongInterface' };
  if (p.kind === 'arp') {
    // RFC 5227: a probe (sender 0.0.0.0) for an owned address is answered so the prober sees the conflict.
    return { answer: true, frame: arpReply(p, mac), ip: target };
  }
  // RFC 4861 §7.2.4: a DAD probe (source ::) is answered to all-nodes with S clear.
  const dad = p.srcIP.value === 0n;
  return {
    answer: true,
    ip: target,
    frame: neighborAdvertisement({
      target,
      mac,
      dstIP: dad ? { family: 'IPv6', value: 0xff020000000000000000000000000001n } : p.srcIP,
      dstMac: dad ? ALL_NODES_MAC : (p.sourceLinkAddress ?? p.srcMac),
      solicited: !dad,
    }),
  };
}
