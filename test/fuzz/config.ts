/**
 * Config parser target: valid manifests with one field replaced by arbitrary JSON, and pools
 * with arbitrary address lists. Properties: parsing never throws; every error names an
 * object and a reason; no object has more than the capped number of errors; the accepted
 * pools never overlap and never hold an unusable range; nothing in the model is invalid.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/parse.js';
import { MAX_ERRORS_PER_OBJECT } from '../../src/config/reader.js';
import { rangesOverlap, type IPRange } from '../../src/net/cidr.js';
import { isWholeFamily, specialBlocksIn } from '../../src/net/special.js';
import { junk, must, target, type FuzzTarget } from './harness.js';

const H = 'herald.dev/v1beta1';
/** Outcome labels name these kinds; a mutated kind counts as `otherKind` (the labels stay few). */
const LABELLED_KINDS: ReadonlySet<string> = new Set([
  'object',
  'IPAddressPool',
  'L2Advertisement',
  'BGPAdvertisement',
  'BGPPeer',
  'BFDProfile',
  'Community',
  'Secret',
  'Node',
  'Namespace',
  'Service',
]);
const BASE: readonly unknown[] = parseAllDocuments(readFileSync('test/fixtures/valid/config.yaml', 'utf8')).map(
  (d) => d.toJS() as unknown,
);

const docPrefix = fc
  .tuple(fc.constantFrom('192.0.2.', '198.51.100.', '203.0.113.'), fc.nat(255), fc.integer({ min: 24, max: 32 }))
  .map(([p, n, len]) => {
    const host = len === 32 ? n : n & ~((1 << (32 - len)) - 1) & 255;
    return `${p}${host}/${len}`;
  });
const address = fc.oneof(
  { arbitrary: docPrefix, weight: 6 },
  {
    arbitrary: fc
      .tuple(fc.nat(0xffff), fc.integer({ min: 112, max: 128 }))
      .map(([n, len]) => `2001:db8::${n.toString(16)}/${len}`),
    weight: 2,
  },
  {
    arbitrary: fc.constantFrom(
      '0.0.0.0/0',
      '::/0',
      '127.0.0.1',
      '224.0.0.0/24',
      '255.255.255.255',
      '::ffff:192.0.2.0/120',
      'fe80::/64',
      '240.0.0.0/28',
      '192.0.2.10-192.0.2.1',
      '192.0.2.1 - 192.0.2.9',
      '2001:db8::1-192.0.2.1',
      '',
      '192.0.2.5/24',
    ),
    weight: 2,
  },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 1 },
  { arbitrary: junk, weight: 1 },
);
const pool = fc
  .record({
    name: fc.constantFrom('p1', 'p2', 'p3', 'p4'),
    addresses: fc.array(address, { maxLength: 8 }),
    reserved: fc.boolean(),
    created: fc.constantFrom('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z'),
  })
  .map((p) => ({
    apiVersion: H,
    kind: 'IPAddressPool',
    metadata: {
      name: p.name,
      creationTimestamp: p.created,
      ...(p.reserved ? { annotations: { 'herald.dev/allow-reserved-ranges': 'true' } } : {}),
    },
    spec: { addresses: p.addresses },
  }));

/** Sets `value` at a random path of a deep copy of `obj` (walking by the given choices). */
function replaceAt(obj: unknown, choices: readonly number[], value: unknown): unknown {
  const root = structuredClone(obj) as Record<string, unknown>;
  let cur: Record<string, unknown> | unknown[] = root;
  for (const c of choices) {
    const keys = Array.isArray(cur) ? cur.map((_, i) => i) : Object.keys(cur);
    if (keys.length === 0) break;
    const k = keys[c % keys.length]!;
    const next = (cur as Record<string | number, unknown>)[k];
    if (next === null || typeof next !== 'object' || c % 3 === 0) {
      (cur as Record<string | number, unknown>)[k] = value;
      return root;
    }
    cur = next as Record<string, unknown> | unknown[];
  }
  return root;
}

/** A few of the valid objects (references may dangle: transient errors) with one or two fields replaced. */
const mutatedBase = fc
  .tuple(
    fc.subarray(
      BASE.map((_, i) => i),
      { minLength: 1, maxLength: 4 },
    ),
    fc.array(fc.tuple(fc.nat(), fc.array(fc.nat(), { minLength: 1, maxLength: 5 }), junk), {
      minLength: 0,
      maxLength: 2,
    }),
  )
  .map(([picked, edits]) => {
    const objs = picked.map((i) => BASE[i]);
    for (const [i, path, v] of edits) objs[i % objs.length] = replaceAt(objs[i % objs.length], path, v);
    return objs;
  });

export const configTarget: FuzzTarget = target<unknown[]>({
  name: 'config',
  input: fc.oneof(mutatedBase, fc.array(pool, { minLength: 1, maxLength: 4 })),
  check: (objects) => {
    const r = parseConfig(objects);
    const perObject = new Map<unknown, number>();
    for (const e of r.errors) {
      must(
        typeof e.object.kind === 'string' &&
          e.object.kind !== '' &&
          typeof e.object.name === 'string' &&
          e.object.name !== '',
        `an error without an object: ${e.message}`,
      );
      must(e.reason.length > 0, `an error without a reason: ${e.message}`);
      perObject.set(e.object, (perObject.get(e.object) ?? 0) + 1);
    }
    for (const n of perObject.values()) must(n <= MAX_ERRORS_PER_OBJECT + 1, `${n} errors for one object`);
    const ranges: Array<{ pool: string; range: IPRange }> = [];
    for (const p of r.config.pools.values()) {
      must(!r.invalidPools.has(p.name), `pool ${p.name} is both valid and invalid`);
      const reserved = p.meta.annotations['herald.dev/allow-reserved-ranges'] === 'true';
      for (const range of p.ranges) {
        must(
          !isWholeFamily(range) && specialBlocksIn(range, reserved).length === 0,
          `pool ${p.name} holds an unusable range`,
        );
        for (const o of ranges) must(!rangesOverlap(o.range, range), `pools ${o.pool} and ${p.name} overlap`);
        ranges.push({ pool: p.name, range });
      }
    }
    for (const [kind, map] of [
      ['IPAddressPool', r.config.pools],
      ['BGPPeer', r.config.peers],
      ['L2Advertisement', r.config.l2Advertisements],
      ['BGPAdvertisement', r.config.bgpAdvertisements],
    ] as const) {
      for (const name of map.keys()) {
        must(
          !r.errors.some((e) => e.object.kind === kind && e.object.name === name && !e.transient),
          `${kind} ${name} is in the model with an error`,
        );
      }
    }
    if (r.errors.length === 0) return 'valid';
    const hard = r.errors.filter((e) => !e.transient);
    if (hard.length === 0) return 'transientOnly';
    const kind = hard[0]!.object.kind;
    return `invalid:${LABELLED_KINDS.has(kind) ? kind : 'otherKind'}`;
  },
});
