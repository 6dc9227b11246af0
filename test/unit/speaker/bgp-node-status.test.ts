/**
 * BGPNodeStatus shards (decision 015 step 1): FNV-1a against published vectors, the shard
 * count with its hysteresis, and the objects: each Service in exactly one shard, peers named
 * once per shard and indexed, a change to one Service touching one shard.
 */
import { expect } from 'chai';
import {
  bgpNodeStatusObjects,
  fnv32a,
  SHARD_SIZE,
  shardCount,
  shardOf,
  shardsWritten,
} from '../../../speaker/bgp-node-status.js';

interface Shard {
  node: string;
  shard: number;
  shards: number;
  serviceCount: number;
  peers: string[];
  services: { namespace: string; name: string; peers: number[] }[];
}
const parsed = (m: Map<string, string>): Map<string, Shard> =>
  new Map([...m].map(([k, v]) => [k, JSON.parse(v) as Shard]));
const svcs = (n: number, peers = ['router']): { service: string; peers: string[] }[] =>
  Array.from({ length: n }, (_, i) => ({ service: `ns-${i % 7}/svc-${i}`, peers }));

describe('BGPNodeStatus shards', () => {
  // FNV-1a 32-bit test vectors (Fowler/Noll/Vo reference: "" -> 0x811c9dc5, "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968).
  for (const [input, want] of [
    ['', 0x811c9dc5],
    ['a', 0xe40c292c],
    ['foobar', 0xbf9cf968],
  ] as const) {
    it(`fnv32a(${JSON.stringify(input)}) = 0x${want.toString(16)}`, () => expect(fnv32a(input)).to.equal(want));
  }

  const counts: { name: string; announced: number; current: number; want: number }[] = [
    { name: 'nothing announced: one shard', announced: 0, current: 1, want: 1 },
    { name: 'exactly one shard full', announced: SHARD_SIZE, current: 1, want: 1 },
    { name: 'one over: grows at once', announced: SHARD_SIZE + 1, current: 1, want: 2 },
    { name: '100k Services: 50 shards', announced: 100_000, current: 1, want: 50 },
    { name: 'just below the boundary again: stays (hysteresis)', announced: SHARD_SIZE - 1, current: 2, want: 2 },
    { name: 'down to 75 % of the smaller count: shrinks', announced: 1500, current: 2, want: 1 },
    { name: 'a large drop shrinks to what 75 % fill needs', announced: 3000, current: 50, want: 2 },
    { name: 'growth from a larger current: the needed count', announced: 120_000, current: 50, want: 60 },
  ];
  for (const tc of counts)
    it(`shard count: ${tc.name}`, () => expect(shardCount(tc.announced, tc.current)).to.equal(tc.want));

  it('a restart keeps the shard count an earlier run left (the largest `shards` seen), else 1', () => {
    const earlier = [...bgpNodeStatusObjects('node-a', svcs(3000), 3).values()];
    expect(shardsWritten(earlier)).to.equal(3);
    // 3,500 Services after the restart: S stays 3; a fresh start at 1 would make it 2 and move most Services.
    expect(shardCount(3500, shardsWritten(earlier))).to.equal(3);
    expect(shardCount(3500, 1)).to.equal(2);
    expect(shardsWritten([])).to.equal(1);
    expect(shardsWritten(['{}', 'not json', '{"shards":"2"}'])).to.equal(1);
  });

  it('every Service is in exactly one shard, the one shardOf names, sorted; counts add up', () => {
    const list = svcs(5000);
    const objs = parsed(bgpNodeStatusObjects('node-a', list, 3));
    expect([...objs.keys()].sort()).to.deep.equal(['node-a-0', 'node-a-1', 'node-a-2']);
    const seen = new Set<string>();
    for (const [name, st] of objs) {
      expect(name).to.equal(`node-a-${st.shard}`);
      expect(st).to.include({ node: 'node-a', shards: 3, serviceCount: st.services.length });
      const keys = st.services.map((s) => `${s.namespace}/${s.name}`);
      expect(keys).to.deep.equal([...keys].sort());
      for (const k of keys) {
        expect(shardOf(k, 3)).to.equal(st.shard);
        seen.add(k);
      }
    }
    expect(seen.size).to.equal(5000);
    // FNV spreads them: no shard is far from a third.
    for (const st of objs.values()) expect(st.serviceCount).to.be.within(1500, 1850);
  });

  it('peers are named once per shard and each Service indexes the ones that get its routes; two IPs of one Service merge', () => {
    const objs = parsed(
      bgpNodeStatusObjects(
        'node-a',
        [
          { service: 'default/web', peers: ['tor-b'] },
          { service: 'default/web', peers: ['tor-a'] },
          { service: 'default/db', peers: ['tor-b'] },
        ],
        1,
      ),
    );
    expect(objs.get('node-a-0')).to.deep.equal({
      node: 'node-a',
      shard: 0,
      shards: 1,
      serviceCount: 2,
      peers: ['tor-a', 'tor-b'],
      services: [
        { namespace: 'default', name: 'db', peers: [1] },
        { namespace: 'default', name: 'web', peers: [0, 1] },
      ],
    });
  });

  it('a change to one Service rewrites one shard; no Services, no objects', () => {
    const before = bgpNodeStatusObjects('node-a', svcs(3000), 2);
    const after = bgpNodeStatusObjects('node-a', [...svcs(3000), { service: 'extra/one', peers: ['router'] }], 2);
    const changed = [...after].filter(([k, v]) => before.get(k) !== v).map(([k]) => k);
    expect(changed).to.deep.equal([`node-a-${shardOf('extra/one', 2)}`]);
    expect(bgpNodeStatusObjects('node-a', [], 1).size).to.equal(0);
  });

  it("a 2,000-Service shard stays far below etcd's 1.5 MB object limit", () => {
    const text = [...bgpNodeStatusObjects('node-a', svcs(SHARD_SIZE, ['router-one', 'router-two']), 1).values()][0]!;
    expect(text.length).to.be.below(200_000);
  });
});
