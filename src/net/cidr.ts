/** CIDR prefixes and inclusive address ranges. */
import { ParseError } from '../core/errors.js';
import { familyBits, formatIP, ipValueToString, parseIP, type IP, type IPFamily } from './ip.js';

export interface CIDR {
  readonly family: IPFamily;
  /** The network address (host bits zero). */
  readonly base: bigint;
  readonly prefixLength: number;
}

/** An inclusive range first..last of one family. */
export interface IPRange {
  readonly family: IPFamily;
  readonly first: bigint;
  readonly last: bigint;
}

export function hostMask(family: IPFamily, prefixLength: number): bigint {
  return (1n << BigInt(familyBits(family) - prefixLength)) - 1n;
}

/** Parses `addr/len`. Host bits must be zero: `192.0.2.5/24` is refused with a hint. */
export function parseCIDR(text: string): CIDR {
  const s = text.trim();
  const slash = s.indexOf('/');
  if (slash < 0) throw new ParseError(text, `"${text}" is not a CIDR (missing "/prefix")`);
  const addr = parseIP(s.slice(0, slash));
  const lenText = s.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText)) throw new ParseError(text, `"${text}" has an invalid prefix length "${lenText}"`);
  const prefixLength = Number(lenText);
  const bits = familyBits(addr.family);
  if (prefixLength > bits) {
    throw new ParseError(text, `"${text}": prefix length ${prefixLength} exceeds ${bits} for ${addr.family}`);
  }
  const mask = hostMask(addr.family, prefixLength);
  if ((addr.value & mask) !== 0n) {
    const base = addr.value & ~mask;
    throw new ParseError(
      text,
      `"${text}" has host bits set; did you mean ${ipValueToString(addr.family, base)}/${prefixLength}?`,
    );
  }
  return { family: addr.family, base: addr.value, prefixLength };
}

export function formatCIDR(c: CIDR): string {
  return `${ipValueToString(c.family, c.base)}/${c.prefixLength}`;
}

export function cidrToRange(c: CIDR): IPRange {
  return { family: c.family, first: c.base, last: c.base | hostMask(c.family, c.prefixLength) };
}

export function cidrContains(c: CIDR, ip: IP): boolean {
  return ip.family === c.family && (ip.value & ~hostMask(c.family, c.prefixLength)) === c.base;
}

/** The prefix of length `prefixLength` that contains `ip`. */
export function cidrOf(ip: IP, prefixLength: number): CIDR {
  return { family: ip.family, base: ip.value & ~hostMask(ip.family, prefixLength), prefixLength };
}

/**
 * Parses a pool entry the way MetalLB does: a CIDR, or `first-last` (spaces around the
 * dash allowed). Throws ParseError naming what is wrong.
 */
export function parseRange(text: string): IPRange {
  const s = text.trim();
  if (s === '') throw new ParseError(text, 'empty address range');
  if (s.includes('/')) return cidrToRange(parseCIDR(s));
  const dash = s.indexOf('-');
  if (dash < 0) {
    const ip = parseIP(s);
    return { family: ip.family, first: ip.value, last: ip.value };
  }
  const a = parseIP(s.slice(0, dash));
  const b = parseIP(s.slice(dash + 1));
  if (a.family !== b.family) throw new ParseError(text, `"${text}" mixes ${a.family} and ${b.family}`);
  if (a.value > b.value) throw new ParseError(text, `"${text}": start ${formatIP(a)} is after end ${formatIP(b)}`);
  return { family: a.family, first: a.value, last: b.value };
}

export function rangeSize(r: IPRange): bigint {
  return r.last - r.first + 1n;
}

export function rangeContains(r: IPRange, ip: IP): boolean {
  return ip.family === r.family && ip.value >= r.first && ip.value <= r.last;
}

export function rangesOverlap(a: IPRange, b: IPRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

export function formatRange(r: IPRange): string {
  if (r.first === r.last) return ipValueToString(r.family, r.first);
  const cidr = rangeAsCIDR(r);
  if (cidr) return formatCIDR(cidr);
  return `${ipValueToString(r.family, r.first)}-${ipValueToString(r.family, r.last)}`;
}

/** The CIDR that is exactly this range, if there is one. */
export function rangeAsCIDR(r: IPRange): CIDR | undefined {
  const size = rangeSize(r);
  if ((size & (size - 1n)) !== 0n) return undefined;
  const hostBits = size.toString(2).length - 1;
  if ((r.first & (size - 1n)) !== 0n) return undefined;
  return { family: r.family, base: r.first, prefixLength: familyBits(r.family) - hostBits };
}

/** The smallest list of CIDRs that covers exactly the range. */
export function rangeToCIDRs(r: IPRange): CIDR[] {
  const out: CIDR[] = [];
  const bits = familyBits(r.family);
  let cur = r.first;
  while (cur <= r.last) {
    // largest block aligned at cur that does not pass r.last
    let hostBits = 0;
    while (hostBits < bits) {
      const next = hostBits + 1;
      const size = 1n << BigInt(next);
      if ((cur & (size - 1n)) !== 0n || cur + size - 1n > r.last) break;
      hostBits = next;
    }
    out.push({ family: r.family, base: cur, prefixLength: bits - hostBits });
    cur += 1n << BigInt(hostBits);
  }
  return out;
}

/** Length of the longest prefix that contains the whole range. */
export function smallestCoveringPrefix(r: IPRange): number {
  const bits = familyBits(r.family);
  let len = bits;
  while (len > 0 && r.first >> BigInt(bits - len) !== r.last >> BigInt(bits - len)) len--;
  return len;
}
