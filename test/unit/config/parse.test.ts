import { expect } from 'chai';
import { parseConfig, type ParseResult } from '../../../src/config/parse.js';
import { formatCommunity } from '../../../src/config/community.js';
import { formatCIDR } from '../../../src/net/cidr.js';
import { formatIP } from '../../../src/net/ip.js';

const H = 'herald.dev/v1beta1';
const pool = (name: string, spec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({
  apiVersion: H,
  kind: 'IPAddressPool',
  metadata: { name, ...meta },
  spec,
});
const peer = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: H,
  kind: 'BGPPeer',
  metadata: { name },
  spec: { myASN: 64500, peerASN: 64512, peerAddress: '192.0.2.254', ...spec },
});
const bgpAd = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: H,
  kind: 'BGPAdvertisement',
  metadata: { name },
  spec,
});
const l2Ad = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: H,
  kind: 'L2Advertisement',
  metadata: { name },
  spec,
});

interface Case {
  readonly name: string;
  readonly objects: unknown[];
  /** `Kind name field` of every error, in any order; empty for a clean config. */
  readonly errors?: string[];
  readonly check?: (r: ParseResult) => void;
}

const cases: Case[] = [
  {
    name: 'pool defaults: autoAssign true, avoidBuggyIPs false',
    objects: [pool('p', { addresses: ['192.0.2.0/28'] })],
    check: (r) => {
      const p = r.config.pools.get('p')!;
      expect(p.autoAssign).to.equal(true);
      expect(p.avoidBuggyIPs).to.equal(false);
      expect(p.serviceAllocation).to.equal(undefined);
    },
  },
  {
    name: 'a start-end range becomes its covering CIDRs',
    objects: [pool('p', { addresses: ['192.0.2.1-192.0.2.10'] })],
    check: (r) => {
      expect(r.config.pools.get('p')!.cidrs.map(formatCIDR)).to.deep.equal([
        '192.0.2.1/32',
        '192.0.2.2/31',
        '192.0.2.4/30',
        '192.0.2.8/31',
        '192.0.2.10/32',
      ]);
    },
  },
  {
    name: 'a single address is a one-address pool',
    objects: [pool('p', { addresses: ['2001:db8::5'] })],
    check: (r) =>
      expect(r.config.pools.get('p')!.ranges[0]).to.deep.include({
        family: 'IPv6',
        first: r.config.pools.get('p')!.ranges[0]!.last,
      }),
  },
  {
    name: 'dual-stack pool keeps both families',
    objects: [pool('p', { addresses: ['192.0.2.0/30', '2001:db8::/126'] })],
    check: (r) => expect(r.config.pools.get('p')!.ranges.map((x) => x.family)).to.deep.equal(['IPv4', 'IPv6']),
  },
  {
    name: 'serviceAllocation is read with priority and selectors',
    objects: [
      pool('p', {
        addresses: ['192.0.2.0/30'],
        serviceAllocation: { priority: 5, namespaces: ['a'], serviceSelectors: [{ matchLabels: { app: 'x' } }] },
      }),
    ],
    check: (r) => {
      const sa = r.config.pools.get('p')!.serviceAllocation!;
      expect(sa.priority).to.equal(5);
      expect(sa.namespaces).to.deep.equal(['a']);
      expect(sa.serviceSelectors[0]!.matchLabels).to.deep.equal({ app: 'x' });
    },
  },
  {
    name: 'the older pool wins an overlap, the newer one is refused',
    objects: [
      pool('new', { addresses: ['192.0.2.0/24'] }, { creationTimestamp: '2026-01-02T00:00:00Z' }),
      pool('old', { addresses: ['192.0.2.128/25'] }, { creationTimestamp: '2026-01-01T00:00:00Z' }),
    ],
    errors: ['IPAddressPool new spec.addresses[0]'],
    check: (r) => expect([...r.config.pools.keys()]).to.deep.equal(['old']),
  },
  {
    name: 'adjacent pools do not overlap',
    objects: [pool('a', { addresses: ['192.0.2.0/25'] }), pool('b', { addresses: ['192.0.2.128-192.0.2.255'] })],
    check: (r) => expect(r.config.pools.size).to.equal(2),
  },
  {
    name: 'one bad pool never disables a good one',
    objects: [pool('bad', { addresses: ['nonsense'] }), pool('good', { addresses: ['198.51.100.0/24'] })],
    errors: ['IPAddressPool bad spec.addresses[0]'],
    check: (r) => expect([...r.config.pools.keys()]).to.deep.equal(['good']),
  },
  {
    name: 'pool without spec',
    objects: [{ apiVersion: H, kind: 'IPAddressPool', metadata: { name: 'p' } }],
    errors: ['IPAddressPool p spec'],
  },
  {
    name: 'addresses that are not strings',
    objects: [pool('p', { addresses: [42] })],
    errors: ['IPAddressPool p spec.addresses[0]'],
  },
  {
    name: 'addresses that is not a list',
    objects: [pool('p', { addresses: '192.0.2.0/24' })],
    errors: ['IPAddressPool p spec.addresses', 'IPAddressPool p spec.addresses'],
  },
  {
    name: 'priority must be an integer',
    objects: [pool('p', { addresses: ['192.0.2.0/30'], serviceAllocation: { priority: 1.5 } })],
    errors: ['IPAddressPool p spec.serviceAllocation.priority'],
  },
  {
    name: 'matchLabels with a bad key',
    objects: [
      pool('p', {
        addresses: ['192.0.2.0/30'],
        serviceAllocation: { serviceSelectors: [{ matchLabels: { '-bad': 'x' } }] },
      }),
    ],
    errors: ['IPAddressPool p spec.serviceAllocation.serviceSelectors[0].matchLabels.-bad'],
  },
  {
    name: 'Exists with values',
    objects: [
      pool('p', {
        addresses: ['192.0.2.0/30'],
        serviceAllocation: {
          serviceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }],
        },
      }),
    ],
    errors: ['IPAddressPool p spec.serviceAllocation.serviceSelectors[0].matchExpressions[0].values'],
  },
  {
    name: 'peer defaults: port 179, hold 90s, keepalive 30s, connect 10s',
    objects: [peer('r', {})],
    check: (r) => {
      const p = r.config.peers.get('r')!;
      expect([p.peerPort, p.holdTime, p.keepaliveTime, p.connectTime]).to.deep.equal([179, 90, 30, 10]);
      expect(formatIP(p.peerAddress)).to.equal('192.0.2.254');
      expect(p.password).to.deep.equal({ kind: 'none' });
    },
  },
  {
    name: 'durations in Go syntax',
    objects: [peer('r', { holdTime: '1m30s', keepaliveTime: '10s', connectTime: '2s' })],
    check: (r) => {
      const p = r.config.peers.get('r')!;
      expect([p.holdTime, p.keepaliveTime, p.connectTime]).to.deep.equal([90, 10, 2]);
    },
  },
  {
    name: 'holdTime 0 disables keepalives',
    objects: [peer('r', { holdTime: '0s' })],
    check: (r) => expect(r.config.peers.get('r')!.keepaliveTime).to.equal(0),
  },
  {
    name: 'holdTime 0 with a keepalive',
    objects: [peer('r', { holdTime: '0s', keepaliveTime: '5s' })],
    errors: ['BGPPeer r spec.keepaliveTime'],
  },
  { name: 'fractional hold time', objects: [peer('r', { holdTime: '3.5s' })], errors: ['BGPPeer r spec.holdTime'] },
  { name: 'hold time over 65535s', objects: [peer('r', { holdTime: '20h' })], errors: ['BGPPeer r spec.holdTime'] },
  {
    name: 'dynamicASN external',
    objects: [peer('r', { peerASN: undefined, dynamicASN: 'external' })],
    check: (r) => expect(r.config.peers.get('r')!.dynamicASN).to.equal('external'),
  },
  {
    name: 'dynamicASN unknown value',
    objects: [peer('r', { peerASN: undefined, dynamicASN: 'auto' })],
    errors: ['BGPPeer r spec.dynamicASN'],
  },
  {
    name: 'neither peerASN nor dynamicASN',
    objects: [peer('r', { peerASN: undefined })],
    errors: ['BGPPeer r spec.peerASN'],
  },
  { name: 'myASN missing', objects: [peer('r', { myASN: undefined })], errors: ['BGPPeer r spec.myASN'] },
  { name: 'ASN 0 is reserved', objects: [peer('r', { peerASN: 0 })], errors: ['BGPPeer r spec.peerASN'] },
  {
    name: '4-byte ASNs are accepted',
    objects: [peer('r', { myASN: 4200000000, peerASN: 4294967295 })],
    check: (r) => expect(r.config.peers.get('r')!.peerASN).to.equal(4294967295),
  },
  {
    name: 'ebgpMultiHop with dynamicASN internal',
    objects: [peer('r', { peerASN: undefined, dynamicASN: 'internal', ebgpMultiHop: true })],
    errors: ['BGPPeer r spec.ebgpMultiHop'],
  },
  {
    name: 'source and peer of different families',
    objects: [peer('r', { sourceAddress: '2001:db8::1' })],
    errors: ['BGPPeer r spec.sourceAddress'],
  },
  { name: 'router ID 0.0.0.0', objects: [peer('r', { routerID: '0.0.0.0' })], errors: ['BGPPeer r spec.routerID'] },
  {
    name: 'password and passwordSecret together',
    objects: [peer('r', { password: 'x', passwordSecret: { name: 's' } })],
    errors: ['BGPPeer r spec.passwordSecret'],
  },
  {
    name: 'password longer than a TCP-MD5 key',
    objects: [peer('r', { password: 'x'.repeat(81) })],
    errors: ['BGPPeer r spec.password'],
  },
  {
    name: 'password from a basic-auth Secret',
    objects: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's', namespace: 'ns' },
        type: 'kubernetes.io/basic-auth',
        data: { password: Buffer.from('pw').toString('base64') },
      },
      peer('r', { passwordSecret: { name: 's', namespace: 'ns' } }),
    ],
    check: (r) =>
      expect(r.config.peers.get('r')!.password).to.deep.equal({
        kind: 'secret',
        name: 's',
        namespace: 'ns',
        value: 'pw',
      }),
  },
  {
    name: 'a Secret without the password key',
    objects: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 's', namespace: 'ns' },
        type: 'kubernetes.io/basic-auth',
        stringData: { username: 'u' },
      },
      peer('r', { passwordSecret: { name: 's', namespace: 'ns' } }),
    ],
    errors: ['BGPPeer r spec.passwordSecret'],
  },
  {
    name: 'a missing Secret is transient and keeps the peer',
    objects: [peer('r', { passwordSecret: { name: 's', namespace: 'ns' } })],
    errors: ['BGPPeer r spec.passwordSecret'],
    check: (r) => {
      expect(r.errors[0]!.transient).to.equal(true);
      expect(r.config.peers.has('r')).to.equal(true);
    },
  },
  {
    name: 'advertisement defaults: aggregation 32 and 128, no communities',
    objects: [bgpAd('a', {})],
    check: (r) => {
      const a = r.config.bgpAdvertisements.get('a')!;
      expect([a.aggregationLength, a.aggregationLengthV6, a.communities.length, a.localPref]).to.deep.equal([
        32,
        128,
        0,
        undefined,
      ]);
    },
  },
  {
    name: 'communities: literals, large, aliases, de-duplicated',
    objects: [
      {
        apiVersion: H,
        kind: 'Community',
        metadata: { name: 'c' },
        spec: { communities: [{ name: 'edge', value: '64500:1' }] },
      },
      bgpAd('a', { communities: ['64500:1', 'edge', 'large:4200000000:1:2', 'LARGE:1:2:3'] }),
    ],
    check: (r) =>
      expect(r.config.bgpAdvertisements.get('a')!.communities.map(formatCommunity)).to.deep.equal([
        '64500:1',
        'large:4200000000:1:2',
        'large:1:2:3',
      ]),
  },
  {
    name: 'community with three parts',
    objects: [bgpAd('a', { communities: ['1:2:3'] })],
    errors: ['BGPAdvertisement a spec.communities[0]'],
  },
  {
    name: 'large community part over 32 bits',
    objects: [bgpAd('a', { communities: ['large:4294967296:1:1'] })],
    errors: ['BGPAdvertisement a spec.communities[0]'],
  },
  {
    name: 'Community value that is not a community',
    objects: [
      {
        apiVersion: H,
        kind: 'Community',
        metadata: { name: 'c' },
        spec: { communities: [{ name: 'x', value: 'abc' }] },
      },
    ],
    errors: ['Community c spec.communities[0].value'],
  },
  {
    name: 'Community alias name with a colon',
    objects: [
      {
        apiVersion: H,
        kind: 'Community',
        metadata: { name: 'c' },
        spec: { communities: [{ name: 'a:b', value: '1:1' }] },
      },
    ],
    errors: ['Community c spec.communities[0].name'],
  },
  {
    name: 'localPref out of range',
    objects: [bgpAd('a', { localPref: -1 })],
    errors: ['BGPAdvertisement a spec.localPref'],
  },
  {
    name: 'aggregationLength over 32',
    objects: [bgpAd('a', { aggregationLength: 33 })],
    errors: ['BGPAdvertisement a spec.aggregationLength'],
  },
  {
    name: 'aggregation equal to the pool prefix is fine',
    objects: [pool('p', { addresses: ['192.0.2.0/24'] }), bgpAd('a', { ipAddressPools: ['p'], aggregationLength: 24 })],
    check: (r) => expect(r.config.bgpAdvertisements.get('a')!.aggregationLength).to.equal(24),
  },
  {
    name: 'aggregation applies only to the selected pools',
    objects: [
      pool('wide', { addresses: ['192.0.2.0/24'] }),
      pool('narrow', { addresses: ['198.51.100.0/28'] }, { labels: { tier: 'x' } }),
      bgpAd('a', { ipAddressPools: ['wide'], aggregationLength: 24 }),
    ],
  },
  {
    name: 'aggregation checked against pools chosen by selector',
    objects: [
      pool('narrow', { addresses: ['198.51.100.0/28'] }, { labels: { tier: 'x' } }),
      bgpAd('a', { ipAddressPoolSelectors: [{ matchLabels: { tier: 'x' } }], aggregationLength: 24 }),
    ],
    errors: ['BGPAdvertisement a spec.aggregationLength'],
  },
  {
    name: 'unknown peer reference is transient',
    objects: [bgpAd('a', { peers: ['ghost'] })],
    errors: ['BGPAdvertisement a spec.peers[0]'],
    check: (r) => expect(r.config.bgpAdvertisements.has('a')).to.equal(true),
  },
  {
    name: 'L2Advertisement with no spec selects everything',
    objects: [{ apiVersion: H, kind: 'L2Advertisement', metadata: { name: 'l' } }],
    check: (r) => expect(r.config.l2Advertisements.get('l')!.ipAddressPools).to.deep.equal([]),
  },
  {
    name: 'L2 preference without a selector',
    objects: [l2Ad('l', { preferredNodeSelectors: [{ weight: 10 }] })],
    errors: ['L2Advertisement l spec.preferredNodeSelectors[0].preference'],
  },
  {
    name: 'L2 interface with a slash',
    objects: [l2Ad('l', { interfaces: ['eth0/1'] })],
    errors: ['L2Advertisement l spec.interfaces[0]'],
  },
  {
    name: 'BFD defaults',
    objects: [{ apiVersion: H, kind: 'BFDProfile', metadata: { name: 'b' } }],
    check: (r) =>
      expect(r.config.bfdProfiles.get('b')).to.deep.include({
        receiveInterval: 300,
        transmitInterval: 300,
        detectMultiplier: 3,
        echoInterval: 50,
        minimumTtl: 254,
      }),
  },
  {
    name: 'BFD minimumTtl 255',
    objects: [{ apiVersion: H, kind: 'BFDProfile', metadata: { name: 'b' }, spec: { minimumTtl: 255 } }],
    errors: ['BFDProfile b spec.minimumTtl'],
  },
  {
    name: 'nodes: NetworkUnavailable and the exclude label',
    objects: [
      {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'n1', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } },
        status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }] },
      },
    ],
    check: (r) =>
      expect(r.config.nodes.get('n1')).to.deep.include({ networkUnavailable: true, excludedFromLoadBalancers: true }),
  },
  {
    name: 'namespaces keep their labels',
    objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web', labels: { team: 'a' } } }],
    check: (r) => expect(r.config.namespaces.get('web')!.labels).to.deep.equal({ team: 'a' }),
  },
  {
    name: 'Secret data that is not base64',
    objects: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { password: '%%%' } }],
    errors: ['Secret s data.password'],
  },
  {
    name: 'other kinds are ignored, not errors',
    objects: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } }],
    check: (r) => expect(r.ignored).to.deep.equal([{ kind: 'Deployment', name: 'd' }]),
  },
  {
    name: 'a Herald object in another version',
    objects: [{ apiVersion: 'herald.dev/v1', kind: 'IPAddressPool', metadata: { name: 'p' }, spec: {} }],
    errors: ['IPAddressPool p apiVersion'],
  },
  { name: 'an object that is not a mapping', objects: ['just text'], errors: ['object #1 '] },
  { name: 'an object without kind', objects: [{ apiVersion: H, metadata: { name: 'x' } }], errors: ['object #1 kind'] },
  {
    name: 'an object without a name',
    objects: [{ apiVersion: H, kind: 'IPAddressPool', metadata: {} }],
    errors: ['IPAddressPool #1 metadata.name'],
  },
  {
    name: 'status kinds are accepted and not modelled',
    objects: [{ apiVersion: H, kind: 'ServiceL2Status', metadata: { name: 's' }, status: { node: 'n1' } }],
    check: (r) => expect(r.ignored.length).to.equal(0),
  },
];

describe('config/parseConfig', () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const r = parseConfig(tc.objects);
      const got = r.errors.map((e) => `${e.object.kind} ${e.object.name} ${e.field}`);
      expect(got, r.errors.map((e) => e.message).join('\n')).to.have.members(tc.errors ?? []);
      for (const e of r.errors) expect(e.reason).to.be.a('string').and.not.equal('');
      tc.check?.(r);
    });
  }

  it('only reads Herald objects from the given namespace', () => {
    const r = parseConfig([pool('p', { addresses: ['192.0.2.0/30'] }, { namespace: 'other' })], {
      namespace: 'herald-system',
    });
    expect(r.errors.map((e) => e.field)).to.deep.equal(['metadata.namespace']);
    expect(r.config.pools.size).to.equal(0);
  });
});
