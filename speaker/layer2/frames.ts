/**
 * One received frame -> an ARP packet or a Neighbor Solicitation, or a reason to drop it.
 * Dispatches on the EtherType to the pure codecs in ethernet.ts, arp.ts and ndp.ts, and
 * re-exports them so callers need one import.
 */
import { formatIP } from '../../src/net/ip.js';
import { parseArp, ARP_REPLY, ARP_REQUEST, type ArpDropReason, type ArpPacket } from './arp.js';
import { parseEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV6, type EthernetDropReason } from './ethernet.js';
import { parseNeighborSolicitation, type NdpDropReason, type NeighborSolicitation } from './ndp.js';

export * from './arp.js';
export * from './ethernet.js';
export * from './ndp.js';

export type Layer2Packet = ArpPacket | NeighborSolicitation;

export type FrameDropReason = EthernetDropReason | ArpDropReason | NdpDropReason | 'unsupportedEthertype';

export type ParsedFrame =
  | { readonly ok: true; readonly packet: Layer2Packet }
  | { readonly ok: false; readonly reason: FrameDropReason; readonly detail: string };

export function parseFrame(frame: Buffer): ParsedFrame {
  const eth = parseEthernet(frame);
  if (!eth.ok) return eth;
  switch (eth.frame.ethertype) {
    case ETHERTYPE_ARP:
      return parseArp(eth.frame.payload);
    case ETHERTYPE_IPV6:
      return parseNeighborSolicitation(eth.frame.payload, eth.frame.src);
    default:
      return {
        ok: false,
        reason: 'unsupportedEthertype',
        detail: `ethertype 0x${eth.frame.ethertype.toString(16).padStart(4, '0')}`,
      };
  }
}

/** One line for logs: `ARP who-has 192.0.2.10 from 192.0.2.2`, `NS for 2001:db8::a from ::`. */
export function describePacket(p: Layer2Packet): string {
  if (p.kind === 'ns') return `NS for ${formatIP(p.target)} from ${formatIP(p.srcIP)}`;
  const verb = p.op === ARP_REQUEST ? 'who-has' : p.op === ARP_REPLY ? 'is-at' : `op ${p.op}`;
  return `ARP ${verb} ${formatIP(p.targetIP)} from ${formatIP(p.senderIP)}`;
}
