/**
 * A set of bigints stored as sorted, disjoint, non-adjacent closed intervals.
 * Lookups are binary searches; memory grows with the number of intervals, never with
 * the number of members, so a /64 costs what a /30 costs.
 */

export interface Interval {
  readonly lo: bigint;
  readonly hi: bigint;
}

export class IntervalSet {
  private items: Interval[] = [];
  private total = 0n;

  constructor(intervals: Iterable<Interval> = []) {
    for (const iv of intervals) this.add(iv.lo, iv.hi);
  }

  static of(...intervals: Array<readonly [bigint, bigint]>): IntervalSet {
    return new IntervalSet(intervals.map(([lo, hi]) => ({ lo, hi })));
  }

  clone(): IntervalSet {
    const s = new IntervalSet();
    s.items = this.items.slice();
    s.total = this.total;
    return s;
  }

  /** Number of members. */
  size(): bigint {
    return this.total;
  }

  /** Number of stored intervals. */
  intervalCount(): number {
    return this.items.length;
  }

  isEmpty(): boolean {
    return this.items.length === 0;
  }

  intervals(): readonly Interval[] {
    return this.items;
  }

  /** Index of the first interval whose hi >= x (items.length when none). */
  private lowerBound(x: bigint): number {
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.hi < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  has(x: bigint): boolean {
    const iv = this.items[this.lowerBound(x)];
    return iv !== undefined && iv.lo <= x;
  }

  /** True when any member lies in [lo, hi]. */
  overlaps(lo: bigint, hi: bigint): boolean {
    const iv = this.items[this.lowerBound(lo)];
    return iv !== undefined && iv.lo <= hi;
  }

  /** True when every member of [lo, hi] is in the set. */
  covers(lo: bigint, hi: bigint): boolean {
    const iv = this.items[this.lowerBound(lo)];
    return iv !== undefined && iv.lo <= lo && iv.hi >= hi;
  }

  add(lo: bigint, hi: bigint): void {
    if (lo > hi) throw new RangeError(`interval ${lo}..${hi} is empty`);
    // first interval that touches or follows lo-1
    const i = this.lowerBound(lo - 1n);
    let newLo = lo;
    let newHi = hi;
    let j = i;
    while (j < this.items.length && this.items[j]!.lo <= hi + 1n) {
      const iv = this.items[j]!;
      if (iv.lo < newLo) newLo = iv.lo;
      if (iv.hi > newHi) newHi = iv.hi;
      this.total -= iv.hi - iv.lo + 1n;
      j++;
    }
    this.items.splice(i, j - i, { lo: newLo, hi: newHi });
    this.total += newHi - newLo + 1n;
  }

  delete(lo: bigint, hi: bigint): void {
    if (lo > hi) throw new RangeError(`interval ${lo}..${hi} is empty`);
    const i = this.lowerBound(lo);
    let j = i;
    const keep: Interval[] = [];
    while (j < this.items.length && this.items[j]!.lo <= hi) {
      const iv = this.items[j]!;
      this.total -= iv.hi - iv.lo + 1n;
      if (iv.lo < lo) keep.push({ lo: iv.lo, hi: lo - 1n });
      if (iv.hi > hi) keep.push({ lo: hi + 1n, hi: iv.hi });
      j++;
    }
    for (const k of keep) this.total += k.hi - k.lo + 1n;
    this.items.splice(i, j - i, ...keep);
  }

  /** Lowest member in [lo, hi], if any. */
  firstIn(lo: bigint, hi: bigint): bigint | undefined {
    const iv = this.items[this.lowerBound(lo)];
    if (iv === undefined || iv.lo > hi) return undefined;
    return iv.lo > lo ? iv.lo : lo;
  }

  /** Lowest value in [lo, hi] that is NOT a member, if any. */
  firstGap(lo: bigint, hi: bigint): bigint | undefined {
    if (lo > hi) return undefined;
    const iv = this.items[this.lowerBound(lo)];
    if (iv === undefined || iv.lo > lo) return lo;
    return iv.hi < hi ? iv.hi + 1n : undefined;
  }

  /** Number of members within [lo, hi]. */
  countIn(lo: bigint, hi: bigint): bigint {
    let n = 0n;
    for (let i = this.lowerBound(lo); i < this.items.length; i++) {
      const iv = this.items[i]!;
      if (iv.lo > hi) break;
      const a = iv.lo > lo ? iv.lo : lo;
      const b = iv.hi < hi ? iv.hi : hi;
      n += b - a + 1n;
    }
    return n;
  }

  union(other: IntervalSet): IntervalSet {
    const out = this.clone();
    for (const iv of other.items) out.add(iv.lo, iv.hi);
    return out;
  }

  subtract(other: IntervalSet): IntervalSet {
    const out = this.clone();
    for (const iv of other.items) out.delete(iv.lo, iv.hi);
    return out;
  }

  intersect(other: IntervalSet): IntervalSet {
    const out = new IntervalSet();
    let i = 0;
    let j = 0;
    while (i < this.items.length && j < other.items.length) {
      const a = this.items[i]!;
      const b = other.items[j]!;
      const lo = a.lo > b.lo ? a.lo : b.lo;
      const hi = a.hi < b.hi ? a.hi : b.hi;
      if (lo <= hi) out.add(lo, hi);
      if (a.hi < b.hi) i++;
      else j++;
    }
    return out;
  }

  equals(other: IntervalSet): boolean {
    if (this.items.length !== other.items.length) return false;
    return this.items.every((iv, k) => iv.lo === other.items[k]!.lo && iv.hi === other.items[k]!.hi);
  }
}
