/**
 * One pool's addresses and which of them are in use, per family, as interval sets: finding
 * the lowest free address, reserving and releasing are binary searches, and memory grows
 * with the number of assigned addresses and ranges, never with the pool size.
 */
import type { Pool } from '../../src/config/model.js';
import { IntervalSet } from '../../src/net/interval-set.js';
import type { IP, IPFamily } from '../../src/net/ip.js';
import type { FamilyStats } from './types.js';

/** Whether an IPv4 address ends in .0 or .255 (the "buggy" addresses some clients drop). */
export function isBuggy(ip: IP): boolean {
  if (ip.family !== 'IPv4') return false;
  const last = ip.value & 0xffn;
  return last === 0n || last === 0xffn;
}

/** How many values in [lo, hi] end in .0 or .255. */
export function buggyCount(lo: bigint, hi: bigint): bigint {
  const upTo = (x: bigint): bigint => {
    if (x < 0n) return 0n;
    // count of v in [0, x] with v % 256 === 0, plus those with v % 256 === 255
    return x / 256n + 1n + (x >= 255n ? (x - 255n) / 256n + 1n : 0n);
  };
  return upTo(hi) - upTo(lo - 1n);
}

export class PoolState {
  readonly name: string;
  readonly pool: Pool;
  private readonly ranges: Record<IPFamily, IntervalSet>;
  private readonly used: Record<IPFamily, IntervalSet> = { IPv4: new IntervalSet(), IPv6: new IntervalSet() };

  constructor(pool: Pool) {
    this.name = pool.name;
    this.pool = pool;
    this.ranges = { IPv4: new IntervalSet(), IPv6: new IntervalSet() };
    for (const r of pool.ranges) this.ranges[r.family].add(r.first, r.last);
  }

  hasFamily(f: IPFamily): boolean {
    return !this.ranges[f].isEmpty();
  }

  /** The address is one of the pool's, and usable (not .0/.255 when the pool avoids them). */
  contains(ip: IP): boolean {
    return this.ranges[ip.family].has(ip.value) && !(this.pool.avoidBuggyIPs && isBuggy(ip));
  }

  /** In the pool's ranges at all, usable or not. */
  inRanges(ip: IP): boolean {
    return this.ranges[ip.family].has(ip.value);
  }

  isUsed(ip: IP): boolean {
    return this.used[ip.family].has(ip.value);
  }

  markUsed(ip: IP): void {
    this.used[ip.family].add(ip.value, ip.value);
  }

  markFree(ip: IP): void {
    this.used[ip.family].delete(ip.value, ip.value);
  }

  /** The lowest free usable address of the family. */
  lowestFree(f: IPFamily): IP | undefined {
    const used = this.used[f];
    for (const iv of this.ranges[f].intervals()) {
      let from = iv.lo;
      while (from <= iv.hi) {
        const gap = used.firstGap(from, iv.hi);
        if (gap === undefined) break;
        const ip: IP = { family: f, value: gap };
        if (!(this.pool.avoidBuggyIPs && isBuggy(ip))) return ip;
        from = gap + 1n;
      }
    }
    return undefined;
  }

  stats(f: IPFamily): FamilyStats {
    let total = this.ranges[f].size();
    if (this.pool.avoidBuggyIPs && f === 'IPv4') {
      for (const iv of this.ranges[f].intervals()) total -= buggyCount(iv.lo, iv.hi);
    }
    const assigned = this.used[f].intersect(this.ranges[f]).size();
    const available = total - assigned;
    return { assigned, available: available < 0n ? 0n : available };
  }
}
