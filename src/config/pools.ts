/** IPAddressPool: addresses, autoAssign, avoidBuggyIPs, serviceAllocation. */
import { HeraldError } from '../core/errors.js';
import { cidrToRange, parseRange, rangeToCIDRs, rangesOverlap, formatRange, type CIDR, type IPRange } from '../net/cidr.js';
import type { Envelope } from './envelope.js';
import { nameProblem } from './envelope.js';
import { readLabelSelector } from './label-selector.js';
import type { Pool, ServiceAllocation } from './model.js';
import type { FieldReader } from './reader.js';

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
  const before = env.root.sink.countFor(env.ref);
  const spec = env.root.object('spec');
  if (!spec) {
    env.root.error('spec', 'required');
    return undefined;
  }
  spec.only(['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation']);
  const entries: PoolEntry[] = [];
  const addresses = spec.list('addresses');
  if (addresses.length === 0) spec.error('addresses', 'at least one CIDR or range is required');
  for (const { path, value } of addresses) {
    if (typeof value !== 'string') {
      env.root.sink.add(env.ref, path, 'must be a string (a CIDR or start-end range)');
      continue;
    }
    try {
      const range = parseRange(value);
      const cidrs = value.includes('/') ? [{ family: range.family, base: range.first, prefixLength: prefixOf(value) }] : rangeToCIDRs(range);
      entries.push({ text: value, range, cidrs });
    } catch (err) {
      env.root.sink.add(env.ref, path, err instanceof HeraldError ? err.message : String(err));
    }
  }
  // Overlaps inside one pool.
  for (let i = 0; i < entries.length; i++) {
    for (let j = 0; j < i; j++) {
      if (rangesOverlap(entries[i]!.range, entries[j]!.range)) {
        spec.error(`addresses[${i}]`, `"${entries[i]!.text}" overlaps "${entries[j]!.text}" (addresses[${j}]) in the same pool`);
      }
    }
  }
  const autoAssign = spec.bool('autoAssign') ?? true;
  const avoidBuggyIPs = spec.bool('avoidBuggyIPs') ?? false;
  const sa = spec.object('serviceAllocation');
  const serviceAllocation = sa ? readServiceAllocation(sa) : undefined;
  if (env.root.sink.countFor(env.ref) > before) return undefined;
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
 * then name, so the pool that was working keeps working.
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
  for (const c of ordered) {
    let clash = false;
    c.entries.forEach((e, i) => {
      for (const other of accepted) {
        const hit = other.entries.find((o) => rangesOverlap(o.range, e.range));
        if (hit) {
          c.env.root.sink.add(
            c.env.ref,
            `spec.addresses[${i}]`,
            `"${e.text}" overlaps ${formatRange(hit.range)} of IPAddressPool ${other.pool.name}; pools must not overlap`,
          );
          clash = true;
        }
      }
    });
    if (!clash) accepted.push(c);
  }
  return accepted;
}

export { cidrToRange };
