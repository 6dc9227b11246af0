/** The speaker's desired state: every reason, v4/v6/dual-stack, both traffic policies, sharing, selectors. */
import { heraldObject, nodeObject } from '../../support/config-objects.js';
import { expect } from 'chai';
import { desiredState, type DesiredInputs, type EndpointInfo, type ServiceInfo } from '../../../speaker/desired.js';
import { electOwner } from '../../../speaker/election.js';
import { parseConfig } from '../../../src/config/parse.js';
import { formatCIDR } from '../../../src/net/cidr.js';
import { formatIP, parseIP } from '../../../src/net/ip.js';

const H = heraldObject;
const node = nodeObject;

const base = [
  H('IPAddressPool', 'l2v4', { addresses: ['192.0.2.0/28'] }, { mode: 'l2' }),
  H('IPAddressPool', 'l2v6', { addresses: ['2001:db8:1::/124'] }, { mode: 'l2' }),
  H('IPAddressPool', 'bgp', { addresses: ['203.0.113.0/28', '2001:db8:2::/124'] }),
  H('IPAddressPool', 'none', { addresses: ['198.51.100.0/28'] }),
  H('L2Advertisement', 'l2', {
    ipAddressPoolSelectors: [{ matchLabels: { mode: 'l2' } }],
    nodeSelectors: [{ matchLabels: { l2: 'yes' } }],
    interfaces: ['eth0'],
  }),
  H('BGPAdvertisement', 'bgp', {
    ipAddressPools: ['bgp'],
    communities: ['65000:100', 'large:65000:1:2'],
    localPref: 200,
    aggregationLength: 32,
  }),
  H('BGPAdvertisement', 'agg', {
    ipAddressPools: ['bgp'],
    aggregationLength: 28,
    aggregationLengthV6: 124,
    peers: ['edge'],
  }),
  H('BGPPeer', 'edge', { myASN: 65000, peerASN: 65001, peerAddress: '192.0.2.254' }),
  H('BGPPeer', 'rack-a', {
    myASN: 65000,
    peerASN: 65002,
    peerAddress: '192.0.2.253',
    nodeSelectors: [{ matchLabels: { rack: 'a' } }],
  }),
  node('node-a', { l2: 'yes', rack: 'a' }),
  node('node-b', { l2: 'yes' }),
  node('node-c'),
  node('node-x', { l2: 'yes', 'node.kubernetes.io/exclude-from-external-load-balancers': '' }),
  node('node-n', { l2: 'yes' }, true),
];
const parsed = parseConfig(base);
if (parsed.errors.length > 0) throw new Error(parsed.errors.map((e) => e.message).join('; '));
const config = parsed.config;

const svc = (
  key: string,
  ips: string[],
  pool: string,
  trafficPolicy: 'Cluster' | 'Local' = 'Cluster',
): ServiceInfo => ({ key, labels: {}, ips: ips.map(parseIP), pool, trafficPolicy });
const allReady = (...nodes: string[]): EndpointInfo[] => nodes.map((n) => ({ node: n, ready: true }));

function run(
  nodeName: string,
  services: ServiceInfo[],
  endpoints: Record<string, EndpointInfo[]>,
  live = ['node-a', 'node-b', 'node-c', 'node-x', 'node-n'],
): ReturnType<typeof desiredState> {
  const inp: DesiredInputs = {
    node: nodeName,
    config,
    services,
    endpoints: new Map(Object.entries(endpoints)),
    liveSpeakers: new Set(live),
  };
  return desiredState(inp);
}

describe('speaker desired state: Layer 2', () => {
  const ip = '192.0.2.5';
  const owner = electOwner(ip, [
    { node: 'node-a', weight: 0 },
    { node: 'node-b', weight: 0 },
  ]).owner!;
  const other = owner === 'node-a' ? 'node-b' : 'node-a';

  const cases: { name: string; node: string; s: ServiceInfo; eps: EndpointInfo[]; live?: string[]; want: string }[] = [
    {
      name: 'the elected owner announces',
      node: owner,
      s: svc('ns/web', [ip], 'l2v4'),
      eps: allReady('node-c'),
      want: 'announce',
    },
    {
      name: 'a candidate that lost the election does not',
      node: other,
      s: svc('ns/web', [ip], 'l2v4'),
      eps: allReady('node-c'),
      want: 'notOwner',
    },
    {
      name: 'a node outside the nodeSelectors',
      node: 'node-c',
      s: svc('ns/web', [ip], 'l2v4'),
      eps: allReady('node-c'),
      want: 'nodeNotSelected',
    },
    {
      name: 'an excluded node (label)',
      node: 'node-x',
      s: svc('ns/web', [ip], 'l2v4'),
      eps: allReady('node-c'),
      want: 'nodeExcluded',
    },
    {
      name: 'an excluded node (NetworkUnavailable)',
      node: 'node-n',
      s: svc('ns/web', [ip], 'l2v4'),
      eps: allReady('node-c'),
      want: 'nodeExcluded',
    },
    {
      name: 'a node whose Node object is gone',
      node: 'node-gone',
      s: svc('ns/web', [ip], 'l2v4'),
      eps: allReady('node-c'),
      want: 'nodeNotFound',
    },
    {
      name: 'no ready endpoint anywhere',
      node: owner,
      s: svc('ns/web', [ip], 'l2v4'),
      eps: [{ node: 'node-a', ready: false }],
      want: 'noHealthyEndpoints',
    },
    {
      name: 'Local without a local endpoint',
      node: 'node-b',
      s: svc('ns/loc', [ip], 'l2v4', 'Local'),
      eps: allReady('node-a'),
      want: 'noLocalEndpoints',
    },
    {
      name: 'Local: the only node with an endpoint owns it',
      node: 'node-a',
      s: svc('ns/loc', [ip], 'l2v4', 'Local'),
      eps: allReady('node-a'),
      want: 'announce',
    },
    {
      name: 'a pool no L2Advertisement covers',
      node: owner,
      s: svc('ns/web', ['198.51.100.1'], 'none'),
      eps: allReady('node-a'),
      want: 'noMatchingAdvertisement',
    },
    {
      name: 'an address in no pool',
      node: owner,
      s: svc('ns/web', ['192.0.2.200'], 'gone'),
      eps: allReady('node-a'),
      want: 'poolNotFound',
    },
    {
      name: 'the owner dead: the other candidate takes over',
      node: other,
      s: svc('ns/web', [ip], 'l2v4'),
      eps: allReady('node-c'),
      live: [other, 'node-c'],
      want: 'announce',
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const d = run(tc.node, [tc.s], { [tc.s.key]: tc.eps }, tc.live);
      const dec = d.decisions[0]!.l2;
      expect(dec.announce ? 'announce' : dec.reason).to.equal(tc.want);
      expect(d.l2.has(formatIP(d.decisions[0]!.ip))).to.equal(tc.want === 'announce');
    });
  }

  it('answers on the advertisement interfaces; v6 and dual-stack IPs each get their own owner', () => {
    const s = svc('ns/dual', ['192.0.2.6', '2001:db8:1::6'], 'l2v4');
    const owners = ['192.0.2.6', '2001:db8:1::6'].map(
      (x) =>
        electOwner(x, [
          { node: 'node-a', weight: 0 },
          { node: 'node-b', weight: 0 },
        ]).owner,
    );
    for (const n of ['node-a', 'node-b']) {
      const d = run(n, [{ ...s, pool: undefined as unknown as string }], { 'ns/dual': allReady('node-a') });
      const mine = [...d.l2.keys()].sort();
      const expected = ['192.0.2.6', '2001:db8:1::6'].filter((_, i) => owners[i] === n).sort();
      expect(mine, n).to.deep.equal(expected);
      for (const v of d.l2.values()) expect(v.interfaces).to.deep.equal(['eth0']);
    }
  });

  it('a shared IP is one announcement listing every Service', () => {
    const a = svc('ns/a', ['192.0.2.7'], 'l2v4');
    const b = svc('ns/b', ['192.0.2.7'], 'l2v4');
    const ownerOf = electOwner('192.0.2.7', [
      { node: 'node-a', weight: 0 },
      { node: 'node-b', weight: 0 },
    ]).owner!;
    const d = run(ownerOf, [a, b], { 'ns/a': allReady('node-a'), 'ns/b': allReady('node-b') });
    expect(d.l2.get('192.0.2.7')!.services).to.deep.equal(['ns/a', 'ns/b']);
  });
});

describe('speaker desired state: BGP', () => {
  const routesFor = (d: ReturnType<typeof desiredState>, peer: string): string[] =>
    (d.bgp.get(peer) ?? [])
      .map(
        (r) =>
          `${formatCIDR(r.prefix)}${r.communities ? ` c=${r.communities.join(',')}` : ''}${r.largeCommunities ? ` l=${r.largeCommunities.map((x) => x.join(':')).join(',')}` : ''}${r.localPref !== undefined ? ` lp=${r.localPref}` : ''}`,
      )
      .sort();

  it('Cluster: every eligible node announces to every peer that selects it, with the advertisement attributes and aggregation', () => {
    const s = svc('ns/web', ['203.0.113.5', '2001:db8:2::5'], 'bgp');
    const a = run('node-a', [s], { 'ns/web': allReady('node-c') });
    expect(routesFor(a, 'edge')).to.deep.equal([
      '2001:db8:2::/124',
      '2001:db8:2::5/128 c=4259840100 l=65000:1:2 lp=200',
      '203.0.113.0/28',
      '203.0.113.5/32 c=4259840100 l=65000:1:2 lp=200',
    ]);
    expect(routesFor(a, 'rack-a')).to.deep.equal([
      '2001:db8:2::5/128 c=4259840100 l=65000:1:2 lp=200',
      '203.0.113.5/32 c=4259840100 l=65000:1:2 lp=200',
    ]);
    const c = run('node-c', [s], { 'ns/web': allReady('node-c') });
    expect(c.bgp.has('rack-a')).to.equal(false);
    expect(routesFor(c, 'edge')).to.have.length(4);
  });

  it('each decision names the peers that get a route for its IP, without matching prefixes again', () => {
    const s = svc('ns/web', ['203.0.113.5', '2001:db8:2::5'], 'bgp');
    const peersOf = (d: ReturnType<typeof desiredState>): Record<string, readonly string[]> =>
      Object.fromEntries(d.decisions.map((x) => [formatIP(x.ip), x.peers]));
    expect(peersOf(run('node-a', [s], { 'ns/web': allReady('node-c') }))).to.deep.equal({
      '203.0.113.5': ['edge', 'rack-a'],
      '2001:db8:2::5': ['edge', 'rack-a'],
    });
    expect(peersOf(run('node-c', [s], { 'ns/web': allReady('node-c') }))).to.deep.equal({
      '203.0.113.5': ['edge'],
      '2001:db8:2::5': ['edge'],
    });
    // Not announced: no peers, whatever the configuration.
    expect(peersOf(run('node-x', [s], { 'ns/web': allReady('node-c') }))).to.deep.equal({
      '203.0.113.5': [],
      '2001:db8:2::5': [],
    });
  });

  const cases: { name: string; node: string; s: ServiceInfo; eps: EndpointInfo[]; want: string }[] = [
    {
      name: 'Local with a local endpoint',
      node: 'node-a',
      s: svc('ns/l', ['203.0.113.6'], 'bgp', 'Local'),
      eps: allReady('node-a'),
      want: 'announce',
    },
    {
      name: 'Local without one',
      node: 'node-b',
      s: svc('ns/l', ['203.0.113.6'], 'bgp', 'Local'),
      eps: allReady('node-a'),
      want: 'noLocalEndpoints',
    },
    {
      name: 'no ready endpoints at all',
      node: 'node-a',
      s: svc('ns/l', ['203.0.113.6'], 'bgp'),
      eps: [],
      want: 'noHealthyEndpoints',
    },
    {
      name: 'excluded node',
      node: 'node-x',
      s: svc('ns/l', ['203.0.113.6'], 'bgp'),
      eps: allReady('node-a'),
      want: 'nodeExcluded',
    },
    {
      name: 'a node whose Node object is gone',
      node: 'node-gone',
      s: svc('ns/l', ['203.0.113.6'], 'bgp'),
      eps: allReady('node-a'),
      want: 'nodeNotFound',
    },
    {
      name: 'pool without a BGPAdvertisement',
      node: 'node-a',
      s: svc('ns/l', ['192.0.2.9'], 'l2v4'),
      eps: allReady('node-a'),
      want: 'noMatchingAdvertisement',
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const d = run(tc.node, [tc.s], { [tc.s.key]: tc.eps });
      const dec = d.decisions[0]!.bgp;
      expect(dec.announce ? 'announce' : dec.reason).to.equal(tc.want);
    });
  }

  it('a shared IP is one route while any sharing Service wants it', () => {
    const a = svc('ns/a', ['203.0.113.8'], 'bgp', 'Local');
    const b = svc('ns/b', ['203.0.113.8'], 'bgp', 'Local');
    const both = run('node-a', [a, b], { 'ns/a': allReady('node-a'), 'ns/b': allReady('node-a') });
    expect(routesFor(both, 'rack-a')).to.deep.equal(['203.0.113.8/32 c=4259840100 l=65000:1:2 lp=200']);
    const one = run('node-a', [a, b], { 'ns/a': [], 'ns/b': allReady('node-a') });
    expect(routesFor(one, 'rack-a')).to.deep.equal(['203.0.113.8/32 c=4259840100 l=65000:1:2 lp=200']);
  });
});
