/**
 * Configuration written to hurt: a pool of 1,024 identical entries (the CRD's maxItems),
 * ranges no Service can use, many overlapping pools. Parsing stays fast, every error list
 * stays bounded, and the refusals say what is wrong.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { parseConfig } from '../../../src/config/parse.js';
import { overlappingEntries, type PoolEntry } from '../../../src/config/pools.js';
import { capList, ErrorSink, MAX_ERRORS_PER_OBJECT } from '../../../src/config/reader.js';
import { rangesOverlap } from '../../../src/net/cidr.js';
import { Allocator } from '../../../controller/allocator/index.js';
import { errorEntries, MAX_STATE_ERRORS } from '../../../src/config/report.js';

const H = 'herald.dev/v1beta1';
const pool = (name: string, addresses: unknown[], annotations: Record<string, string> = {}, created?: string) => ({
  apiVersion: H,
  kind: 'IPAddressPool',
  metadata: { name, annotations, ...(created ? { creationTimestamp: created } : {}) },
  spec: { addresses },
});

describe('config against hostile input', () => {
  it('1,024 identical entries: refused quickly with a capped error list', () => {
    const t0 = performance.now();
    const r = parseConfig([pool('poison', Array(1024).fill('198.51.100.0/24')), pool('good', ['192.0.2.0/28'])]);
    const ms = performance.now() - t0;
    const mine = r.errors.filter((e) => e.object.name === 'poison');
    expect(mine.length).to.equal(MAX_ERRORS_PER_OBJECT + 1);
    expect(mine.at(-1)!.reason).to.match(/^1003 more error\(s\) not listed \(1023 in all/);
    expect(mine.at(-1)!.transient).to.equal(false);
    expect(mine[0]!.reason).to.equal('"198.51.100.0/24" overlaps "198.51.100.0/24" (addresses[0]) in the same pool');
    expect(r.config.pools.has('poison')).to.equal(false);
    expect(r.config.pools.has('good')).to.equal(true);
    expect(r.invalidPools.get('poison')).to.match(/^spec\.addresses\[1\]: .* overlaps/);
    // A generous bound for a busy 2-core machine; it took ~10 ms here.
    expect(ms).to.be.below(2000);
    console.log(`      1,024 identical entries parsed in ${ms.toFixed(1)} ms`);
  });

  it('1,024 pools that all overlap the first: one error each, the first pool keeps serving', () => {
    const objs = Array.from({ length: 1024 }, (_, i) =>
      pool(`p${String(i).padStart(4, '0')}`, ['198.51.100.0/24', `2001:db8:${i.toString(16)}::/64`]),
    );
    const r = parseConfig(objs);
    expect(r.config.pools.size).to.equal(1);
    expect(r.config.pools.has('p0000')).to.equal(true);
    expect(r.errors.length).to.equal(1023);
    expect(r.errors[0]!.reason).to.equal(
      '"198.51.100.0/24" overlaps 198.51.100.0/24 of IPAddressPool p0000; pools must not overlap',
    );
  });

  it('the sweep finds an overlap for exactly the entries brute force does', () => {
    const v4 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 40 })).map(([a, n]): PoolEntry => {
      const first = 0xc6336400n + BigInt(a);
      return { text: '', range: { family: 'IPv4', first, last: first + BigInt(n) }, cidrs: [] };
    });
    const v6 = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 40 })).map(([a, n]): PoolEntry => {
      const first = (0x20010db8n << 96n) | BigInt(a);
      return { text: '', range: { family: 'IPv6', first, last: first + BigInt(n) }, cidrs: [] };
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(v4, v6), { maxLength: 40 }), (entries) => {
        const flagged = new Set(overlappingEntries(entries).map(([later]) => later));
        const pairs = overlappingEntries(entries);
        for (const [i, j] of pairs) {
          expect(i).to.be.greaterThan(j);
          expect(rangesOverlap(entries[i]!.range, entries[j]!.range)).to.equal(true);
        }
        // Every entry that overlaps anything is in at least one reported pair.
        const inPairs = new Set(pairs.flat());
        entries.forEach((e, i) => {
          const any = entries.some((o, j) => j !== i && rangesOverlap(o.range, e.range));
          expect(inPairs.has(i), `entry ${i}`).to.equal(any);
        });
        expect(flagged.size).to.be.at.most(Math.max(0, entries.length - 1));
      }),
      { numRuns: 2000 },
    );
  });

  const refused: Array<[string, string]> = [
    ['0.0.0.0/0', 'is the whole IPv4 address space'],
    ['::/0', 'is the whole IPv6 address space'],
    ['0.0.0.0', 'includes 0.0.0.0/8'],
    ['::', 'includes ::/128, the unspecified address'],
    ['127.0.0.0/8', 'includes 127.0.0.0/8, loopback'],
    ['::1', 'includes ::1/128, loopback'],
    ['224.0.0.0/24', 'includes 224.0.0.0/4, multicast'],
    ['ff02::/120', 'includes ff00::/8, multicast'],
    ['169.254.0.0/16', 'includes 169.254.0.0/16, link-local'],
    ['fe80::/64', 'includes fe80::/10, link-local'],
    ['255.255.255.255', 'includes 255.255.255.255/32, the limited broadcast address'],
    ['::ffff:192.0.2.0/120', 'includes ::ffff:0:0/96, IPv4-mapped IPv6'],
    ['223.255.255.0-224.0.0.3', 'includes 224.0.0.0/4, multicast'],
    ['240.0.0.0/28', 'includes 240.0.0.0/4, reserved for future use'],
  ];
  for (const [text, why] of refused) {
    it(`refuses "${text}" (${why})`, () => {
      const r = parseConfig([pool('p', ['192.0.2.0/28', text])]);
      expect(r.config.pools.has('p')).to.equal(false);
      const e = r.errors.find((x) => x.field === 'spec.addresses[1]');
      expect(e?.reason, r.errors.map((x) => x.message).join('\n')).to.include(why);
      expect(r.invalidPools.has('p')).to.equal(true);
    });
  }

  it('the reserved 240.0.0.0/4 block is allowed with the opt-in annotation; broadcast and loopback are not', () => {
    const ok = parseConfig([pool('p', ['240.0.0.0/28'], { 'herald.dev/allow-reserved-ranges': 'true' })]);
    expect(ok.errors.map((e) => e.message)).to.deep.equal([]);
    const hint = parseConfig([pool('p', ['240.0.0.0/28'])]);
    expect(hint.errors[0]!.reason).to.include('herald.dev/allow-reserved-ranges');
    const still = parseConfig([
      pool('p', ['255.255.255.255', '127.0.0.1'], { 'herald.dev/allow-reserved-ranges': 'true' }),
    ]);
    expect(still.errors.map((e) => e.field)).to.deep.equal(['spec.addresses[0]', 'spec.addresses[1]']);
  });

  it("errors name the entry's position in spec.addresses, even after entries that did not parse", () => {
    const r = parseConfig([pool('p', [42, 'nonsense', '192.0.2.0/28', '127.0.0.1', '192.0.2.1'])]);
    expect(r.errors.map((e) => `${e.field}: ${e.reason.slice(0, 24)}`)).to.have.members([
      'spec.addresses[0]: must be a string (a CIDR',
      'spec.addresses[1]: "nonsense" is not an IP ',
      'spec.addresses[3]: "127.0.0.1" includes 127',
      'spec.addresses[4]: "192.0.2.1" overlaps "19',
    ]);
    expect(r.errors.find((e) => e.field === 'spec.addresses[4]')!.reason).to.include('(addresses[2])');
  });

  it('ConfigurationState entries: at most 100 plus one that counts the rest (transient only when all the rest are)', () => {
    const objs = Array.from({ length: 150 }, (_, i) => pool(`p${i}`, ['127.0.0.1']));
    const r = parseConfig(objs);
    expect(r.errors.length).to.equal(150);
    const entries = errorEntries(r.errors, 'controller');
    expect(entries.length).to.equal(MAX_STATE_ERRORS + 1);
    expect(entries.at(-1)).to.deep.equal({
      kind: 'ConfigurationState',
      name: 'controller',
      field: 'errors',
      reason: '50 more error(s) not listed (150 in all)',
    });
    expect(entries[0]).to.deep.equal({
      kind: 'IPAddressPool',
      name: 'p0',
      field: 'spec.addresses[0]',
      reason: r.errors[0]!.reason,
    });
    const transient = errorEntries(
      Array.from({ length: 3 }, () => ({
        object: { kind: 'L2Advertisement', name: 'a' },
        field: 'x',
        reason: 'r',
        transient: true,
      })),
      's',
      2,
    );
    expect(transient.at(-1)).to.deep.include({ transient: true, reason: '1 more error(s) not listed (3 in all)' });
  });

  it('documentation and private ranges stay valid', () => {
    const r = parseConfig([
      pool('p', [
        '192.0.2.0/24',
        '198.51.100.0/24',
        '203.0.113.0/24',
        '2001:db8::/64',
        '10.0.0.0/8',
        '100.64.0.0/10',
        'fd00::/64',
      ]),
    ]);
    expect(r.errors.map((e) => e.message)).to.deep.equal([]);
  });

  it('the sink keeps the first errors per object and counts the rest; counts stay exact', () => {
    const sink = new ErrorSink();
    const a = { kind: 'IPAddressPool', name: 'a' };
    const b = { kind: 'IPAddressPool', name: 'b' };
    for (let i = 0; i < 100; i++) sink.add(a, `f${i}`, 'bad', i % 2 === 0);
    sink.add(b, 'x', 'bad');
    expect(sink.countFor(a)).to.equal(100);
    expect(sink.hardCountFor(a)).to.equal(50);
    expect(sink.errors.length).to.equal(MAX_ERRORS_PER_OBJECT + 2);
    expect(
      sink.errors
        .filter((e) => e.object === a)
        .map((e) => e.field)
        .slice(0, 3),
    ).to.deep.equal(['f0', 'f1', 'f2']);
    expect(capList([1, 2, 3], 2)).to.deep.equal({ shown: [1, 2], omitted: 1 });
    expect(capList([1], 2)).to.deep.equal({ shown: [1], omitted: 0 });
  });

  it('a Service naming a pool that exists but is invalid is told the pool is invalid, not missing', () => {
    const r = parseConfig([pool('broken', ['0.0.0.0/0']), pool('good', ['192.0.2.0/28'])]);
    const a = new Allocator();
    a.setPools(r.config.pools.values(), r.invalidPools);
    const ask = (requestedPool: string) =>
      a.assign({
        key: 'ns/s',
        namespace: 'ns',
        labels: {},
        namespaceLabels: {},
        families: ['IPv4'],
        familyPolicy: 'SingleStack',
        requestedIPs: [],
        requestedPool,
        ports: [{ protocol: 'TCP', port: 80 }],
        trafficPolicy: 'Cluster',
        selector: {},
      });
    const bad = ask('broken');
    expect(bad).to.deep.include({ ok: false, reason: 'PoolInvalid' });
    expect(bad.ok ? '' : bad.message).to.equal(
      'pool "broken" is invalid: spec.addresses[0]: "0.0.0.0/0" is the whole IPv4 address space; a pool lists the addresses set aside for Services',
    );
    expect(ask('nope')).to.deep.include({ ok: false, reason: 'PoolNotFound' });
    expect(ask('good')).to.deep.include({ ok: true, pool: 'good' });
  });
});
