/**
 * Address blocks a LoadBalancer pool must not hand out: nothing outside this host (or this
 * link) can reach a Service there, and some (0.0.0.0, ::) mean "any address" to every
 * socket API. A pool entry overlapping one of them is refused; `optIn` blocks are allowed
 * when the pool says so (see docs/validation.md).
 */
import { cidrToRange, parseCIDR, rangesOverlap, type IPRange } from './cidr.js';

export interface SpecialBlock {
  readonly cidr: string;
  readonly range: IPRange;
  /** What the block is, with the RFC that says so. */
  readonly what: string;
  /** True when a pool may use it after an explicit opt-in. */
  readonly optIn: boolean;
}

function block(cidr: string, what: string, optIn = false): SpecialBlock {
  return { cidr, range: cidrToRange(parseCIDR(cidr)), what, optIn };
}

/** Checked in this order: the first hit names the problem. */
const BLOCKS: readonly SpecialBlock[] = [
  block('0.0.0.0/8', '"this network", including the unspecified address 0.0.0.0 (RFC 1122 §3.2.1.3)'),
  block('127.0.0.0/8', 'loopback (RFC 1122 §3.2.1.3)'),
  block('169.254.0.0/16', 'link-local (RFC 3927)'),
  block('224.0.0.0/4', 'multicast (RFC 5771)'),
  block('255.255.255.255/32', 'the limited broadcast address (RFC 919)'),
  block('240.0.0.0/4', 'reserved for future use, "class E" (RFC 1112 §4)', true),
  block('::/128', 'the unspecified address (RFC 4291 §2.5.2)'),
  block('::1/128', 'loopback (RFC 4291 §2.5.3)'),
  block('::ffff:0:0/96', 'IPv4-mapped IPv6 (RFC 4291 §2.5.5.2); write the IPv4 range itself'),
  block('fe80::/10', 'link-local (RFC 4291 §2.5.6)'),
  block('ff00::/8', 'multicast (RFC 4291 §2.7)'),
];

/**
 * The special blocks a range overlaps that are not allowed, first hit first. With
 * `allowOptIn`, blocks marked optIn are not reported.
 */
export function specialBlocksIn(r: IPRange, allowOptIn: boolean): SpecialBlock[] {
  return BLOCKS.filter((b) => rangesOverlap(b.range, r) && !(allowOptIn && b.optIn));
}

/** A range covering the whole family (0.0.0.0/0, ::/0). */
export function isWholeFamily(r: IPRange): boolean {
  return r.first === 0n && r.last === (r.family === 'IPv4' ? (1n << 32n) - 1n : (1n << 128n) - 1n);
}
