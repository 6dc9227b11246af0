/**
 * Ethernet II frames (IEEE 802.3 §3.2, "Ethernet II" type field >= 0x0600): destination,
 * source, EtherType, payload. Pure functions over Buffer; parsing returns a reason instead of
 * throwing. 802.1Q (and 802.1ad outer) VLAN tags are skipped on receive; we build untagged
 * frames and let the kernel tag them.
 */

/** EtherTypes (IEEE registry). */
export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
/** IEEE 802.1Q customer VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** IEEE 802.1ad service VLAN tag (the outer tag of Q-in-Q). */
export const ETHERTYPE_QINQ = 0x88a8;

/** dst(6) + src(6) + type(2). */
export const ETHERNET_HEADER_LENGTH = 14;
/** TPID(2) + TCI(2). */
export const VLAN_TAG_LENGTH = 4;
/** Values below this are an 802.3 length field, not an EtherType. */
const MIN_ETHERTYPE = 0x0600;
/** A frame carrying more tags than this is not something we answer. */
const MAX_VLAN_TAGS = 2;

export const MAC_LENGTH = 6;

export interface EthernetFrame {
  readonly dst: Buffer;
  readonly src: Buffer;
  /** The EtherType after any VLAN tags. */
  readonly ethertype: number;
  /** VLAN IDs of the tags that were skipped, outermost first ([] when untagged). */
  readonly vlans: readonly number[];
  /** Everything after the header, including any trailing padding. */
  readonly payload: Buffer;
}

export type EthernetDropReason = 'runtFrame' | 'truncatedVlanTag' | 'tooManyVlanTags' | 'notEthernetII';

export type EthernetParse =
  | { readonly ok: true; readonly frame: EthernetFrame }
  | { readonly ok: false; readonly reason: EthernetDropReason; readonly detail: string };

function isVlanTpid(type: number): boolean {
  return type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ;
}

/** Splits a received frame into header fields and payload, skipping VLAN tags. */
export function parseEthernet(frame: Buffer): EthernetParse {
  if (frame.length < ETHERNET_HEADER_LENGTH) {
    return { ok: false, reason: 'runtFrame', detail: `${frame.length} bytes is shorter than an Ethernet header` };
  }
  let typeAt = 2 * MAC_LENGTH;
  let type = frame.readUInt16BE(typeAt);
  const vlans: number[] = [];
  while (isVlanTpid(type)) {
    if (vlans.length === MAX_VLAN_TAGS)
      return { ok: false, reason: 'tooManyVlanTags', detail: `more than ${MAX_VLAN_TAGS} VLAN tags` };
    if (frame.length < typeAt + 2 + VLAN_TAG_LENGTH)
      return { ok: false, reason: 'truncatedVlanTag', detail: 'frame ends inside a VLAN tag' };
    vlans.push(frame.readUInt16BE(typeAt + 2) & 0x0fff);
    typeAt += VLAN_TAG_LENGTH;
    type = frame.readUInt16BE(typeAt);
  }
  if (type < MIN_ETHERTYPE)
    return {
      ok: false,
      reason: 'notEthernetII',
      detail: `0x${type.toString(16)} is an 802.3 length, not an EtherType`,
    };
  return {
    ok: true,
    frame: {
      dst: frame.subarray(0, MAC_LENGTH),
      src: frame.subarray(MAC_LENGTH, 2 * MAC_LENGTH),
      ethertype: type,
      vlans,
      payload: frame.subarray(typeAt + 2),
    },
  };
}

export interface EthernetBuild {
  readonly dst: Uint8Array;
  readonly src: Uint8Array;
  readonly ethertype: number;
  readonly payload: Uint8Array;
}

/** An untagged Ethernet II frame. Short frames are padded by the NIC, not here. */
export function buildEthernet(f: EthernetBuild): Buffer {
  if (f.dst.length !== MAC_LENGTH || f.src.length !== MAC_LENGTH)
    throw new RangeError('Ethernet addresses have 6 bytes');
  const out = Buffer.alloc(ETHERNET_HEADER_LENGTH + f.payload.length);
  out.set(f.dst, 0);
  out.set(f.src, MAC_LENGTH);
  out.writeUInt16BE(f.ethertype, 2 * MAC_LENGTH);
  out.set(f.payload, ETHERNET_HEADER_LENGTH);
  return out;
}
