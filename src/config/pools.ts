/** IPAddressPool: addresses, autoAssign, avoidBuggyIPs, serviceAllocation. */
import { HeraldError } from '../core/errors.js';
import { parseRange, rangeToCIDRs, formatRange, type CIDR, type IPRange } from '../net/cidr.js';
import { isWholeFamily, specialBlocksIn } from '../net/special.js';
import type { Envelope } from './envelope.js';
import { nameProblem } from './envelope.js';
import { readLabelSelector } from './label-selector.js';
import type { Pool, ServiceAllocation } from './model.js';
import type { FieldReader } from './reader.js';

/** Pool annotation that allows the reserved 240.0.0.0/4 block (see docs/validation.md). */
export const ALLOW_RESERVED_ANNOTATION = 'herald.dev/allow-reserved-ranges';

/** An address entry as written, with the CIDRs MetalLB would derive from it. */
export interface PoolEntry {
  readonly text: string;
  readonly range: IPRange;
  readonly cidrs: readonly CIDR[];
}

function readServiceAllocation(r: FieldReader): ServiceAllocation {
  r.only(['priority', 'namespaces', 'namespaceSelectors', 'serviceSelectors']);
  const priority = r.int('priority', -2147483648, 2147483647);
  const namespaces = r.stringList('namespaces');
  namespaces.forEach((ns, i) => {
    const p = nameProblem(ns);
    if (p || ns.length > 63) r.error(`namespaces[${i}]`, p ?? `"${ns}" is longer than 63 characters`);
  });
  return {
    ...(priority !== undefined ? { priority } : {}),
    namespaces,
    namespaceSelectors: r.objectList('namespaceSelectors').map(readLabelSelector),
    serviceSelectors: r.objectList('serviceSelectors').map(readLabelSelector),
  };
}

export function readPool(env: Envelope): { pool: Pool; entries: PoolEntry[] } | undefined {
  const spec = env.root.object('spec');
  if (!spec) {
    env.root.error('spec', 'required');
    return undefined;
  }
  spec.only(['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation']);
  const entries: PoolEntry[] = [];
  /** Position in spec.addresses of each entry (entries skip what did not parse). */
  const at: number[] = [];
  const addresses = spec.list('addresses');
  if (addresses.length === 0) spec.error('addresses', 'at least one CIDR or range is required');
  for (const [n, { path, value }] of addresses.entries()) {
    if (typeof value !== 'string') {
      env.root.sink.add(env.ref, path, 'must be a string (a CIDR or start-end range)');
      continue;
    }
    try {
      const range = parseRange(value);
      const cidrs = value.includes('/')
        ? [{ family: range.family, base: range.first, prefixLength: prefixOf(value) }]
        : rangeToCIDRs(range);
      entries.push({ text: value, range, cidrs });
      at.push(n);
    } catch (err) {
      env.root.sink.add(env.ref, path, err instanceof HeraldError ? err.message : String(err));
    }
  }
  const allowReserved = env.meta.annotations[ALLOW_RESERVED_ANNOTATION] === 'true';
  entries.forEach((e, i) => {
    const problem = specialRangeProblem(e, allowReserved);
    if (problem) spec.error(`addresses[${at[i]!}]`, problem);
  });
  for (const [i, j] of overlappingEntries(entries)) {
    spec.error(
      `addresses[${at[i]!}]`,
      `"${entries[i]!.text}" overlaps "${entries[j]!.text}" (addresses[${at[j]!}]) in the same pool`,
    );
  }
  const autoAssign = spec.bool('autoAssign') ?? true;
  const avoidBuggyIPs = spec.bool('avoidBuggyIPs') ?? false;
  const sa = spec.object('serviceAllocation');
  const serviceAllocation = sa ? readServiceAllocation(sa) : undefined;
  // Any error on the object (a bad label included) refuses it, as for every other kind.
  if (env.root.sink.hardCountFor(env.ref) > 0) return undefined;
  const pool: Pool = {
    meta: env.meta,
    name: env.meta.name,
    ranges: entries.map((e) => e.range),
    cidrs: entries.flatMap((e) => e.cidrs),
    autoAssign,
    avoidBuggyIPs,
    ...(serviceAllocation ? { serviceAllocation } : {}),
  };
  return { pool, entries };
}

function prefixOf(cidrText: string): number {
  return Number(cidrText.trim().slice(cidrText.trim().indexOf('/') + 1));
}

/**
 * Pools that overlap an earlier pool are refused; earlier means older creationTimestamp,
 * then name, so the pool that was working keeps working. The accepted ranges of each family
 * are kept sorted and disjoint, so each entry costs one binary search.
 */
export function rejectOverlappingPools(
  candidates: ReadonlyArray<{ env: Envelope; pool: Pool; entries: PoolEntry[] }>,
): Array<{ env: Envelope; pool: Pool; entries: PoolEntry[] }> {
  const ordered = [...candidates].sort((a, b) => {
    const ta = a.pool.meta.creationTimestamp ?? '';
    const tb = b.pool.meta.creationTimestamp ?? '';
    return ta !== tb ? (ta < tb ? -1 : 1) : a.pool.name < b.pool.name ? -1 : a.pool.name > b.pool.name ? 1 : 0;
  });
  const accepted: Array<{ env: Envelope; pool: Pool; entries: PoolEntry[] }> = [];
  const taken = { IPv4: [] as Taken[], IPv6: [] as Taken[] };
  for (const c of ordered) {
    let clash = false;
    c.entries.forEach((e, i) => {
      const hit = findOverlap(taken[e.range.family], e.range);
      if (hit) {
        c.env.root.sink.add(
          c.env.ref,
          `spec.addresses[${i}]`,
          `"${e.text}" overlaps ${formatRange(hit.range)} of IPAddressPool ${hit.pool}; pools must not overlap`,
        );
        clash = true;
      }
    });
    if (clash) continue;
    accepted.push(c);
    // A pool's own entries never overlap (readPool refuses that), so the lists stay disjoint.
    for (const e of c.entries) insertTaken(taken[e.range.family], { range: e.range, pool: c.pool.name });
  }
  return accepted;
}

interface Taken {
  readonly range: IPRange;
  readonly pool: string;
}

/** Index of the first item whose range ends at or after `x` (items sorted and disjoint). */
function firstEndingAtOrAfter(items: readonly Taken[], x: bigint): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.range.last < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function findOverlap(items: readonly Taken[], r: IPRange): Taken | undefined {
  const t = items[firstEndingAtOrAfter(items, r.first)];
  return t && t.range.first <= r.last ? t : undefined;
}

function insertTaken(items: Taken[], t: Taken): void {
  items.splice(firstEndingAtOrAfter(items, t.range.first), 0, t);
}

/**
 * Pairs [later, earlier] of entries that overlap, by one sort and one sweep: each entry is
 * compared with the widest-reaching entry before it, so n entries cost O(n log n) and give at
 * most n - 1 pairs (1,024 identical entries give 1,023, not 523,776).
 */
export function overlappingEntries(entries: readonly PoolEntry[]): Array<[number, number]> {
  const order = entries
    .map((_, i) => i)
    .sort((a, b) => {
      const ra = entries[a]!.range;
      const rb = entries[b]!.range;
      if (ra.family !== rb.family) return ra.family < rb.family ? -1 : 1;
      return ra.first < rb.first ? -1 : ra.first > rb.first ? 1 : a - b;
    });
  const pairs: Array<[number, number]> = [];
  let reach: number | undefined;
  for (const i of order) {
    const r = entries[i]!.range;
    const prev = reach === undefined ? undefined : entries[reach]!.range;
    if (prev && prev.family === r.family && r.first <= prev.last) {
      pairs.push([Math.max(i, reach!), Math.min(i, reach!)]);
      if (r.last > prev.last) reach = i;
    } else reach = i;
  }
  return pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** Why an entry is not an address range a Service can use, if it is not. */
function specialRangeProblem(e: PoolEntry, allowReserved: boolean): string | undefined {
  if (isWholeFamily(e.range)) {
    return `"${e.text}" is the whole ${e.range.family} address space; a pool lists the addresses set aside for Services`;
  }
  const hits = specialBlocksIn(e.range, allowReserved);
  if (hits.length === 0) return undefined;
  const first = hits[0]!;
  const hint = first.optIn
    ? `; set the annotation ${ALLOW_RESERVED_ANNOTATION}: "true" on the pool if your network routes it`
    : '';
  return `"${e.text}" includes ${first.cidr}, ${first.what}: no Service can be reached there${hint}`;
}
