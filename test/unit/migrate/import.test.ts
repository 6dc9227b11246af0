import { expect } from 'chai';
import { stringify } from 'yaml';
import { importMetalLB, type MigrateResult } from '../../../src/migrate/index.js';

const NS = 'herald-system';
const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: 'metallb-system', ...extra });
const cr = (
  apiVersion: string,
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  metaExtra: Record<string, unknown> = {},
) => ({ apiVersion, kind, metadata: meta(name, metaExtra), spec });
const legacy = (config: unknown) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: meta('config'),
  data: { config: stringify(config) },
});
const run = (...inputs: unknown[]): MigrateResult => importMetalLB(inputs, { namespace: NS });
const find = (r: MigrateResult, kind: string, name: string) =>
  r.objects.find((o) => o.kind === kind && o.metadata.name === name);
const unsupported = (r: MigrateResult) =>
  r.issues.filter((i) => i.severity === 'unsupported').map((i) => `${i.object} ${i.field}`);

describe('migrate: MetalLB custom resources', () => {
  const copies: { kind: string; apiVersion: string; spec: Record<string, unknown> }[] = [
    {
      kind: 'IPAddressPool',
      apiVersion: 'metallb.io/v1beta1',
      spec: {
        addresses: ['192.0.2.0/28', '198.51.100.1-198.51.100.9'],
        autoAssign: false,
        avoidBuggyIPs: true,
        serviceAllocation: {
          priority: 5,
          namespaces: ['a'],
          namespaceSelectors: [{ matchLabels: { x: 'y' } }],
          serviceSelectors: [{ matchExpressions: [{ key: 'k', operator: 'Exists' }] }],
        },
      },
    },
    {
      kind: 'L2Advertisement',
      apiVersion: 'metallb.io/v1beta1',
      spec: {
        ipAddressPools: ['p'],
        ipAddressPoolSelectors: [{ matchLabels: { a: 'b' } }],
        nodeSelectors: [{ matchLabels: { n: '1' } }],
        interfaces: ['eth0'],
      },
    },
    {
      kind: 'BGPAdvertisement',
      apiVersion: 'metallb.io/v1beta1',
      spec: {
        aggregationLength: 32,
        aggregationLengthV6: 128,
        localPref: 50,
        communities: ['64500:1', 'alias'],
        ipAddressPools: ['p'],
        ipAddressPoolSelectors: [],
        nodeSelectors: [],
        peers: ['r'],
      },
    },
    {
      kind: 'BGPPeer',
      apiVersion: 'metallb.io/v1beta2',
      spec: {
        myASN: 64500,
        peerASN: 64501,
        peerAddress: '192.0.2.1',
        sourceAddress: '192.0.2.2',
        peerPort: 1179,
        holdTime: '9s',
        keepaliveTime: '3s',
        connectTime: '5s',
        routerID: '192.0.2.9',
        nodeSelectors: [{ matchLabels: { r: '1' } }],
        password: 'pw',
        bfdProfile: 'b',
        enableGracefulRestart: true,
        ebgpMultiHop: true,
        disableMP: true,
        dualStackAddressFamily: true,
      },
    },
    {
      kind: 'BGPPeer',
      apiVersion: 'metallb.io/v1beta1',
      spec: { myASN: 64500, dynamicASN: 'external', peerAddress: '2001:db8::1' },
    },
    {
      kind: 'BFDProfile',
      apiVersion: 'metallb.io/v1beta1',
      spec: {
        receiveInterval: 100,
        transmitInterval: 200,
        detectMultiplier: 4,
        echoInterval: 60,
        echoMode: false,
        passiveMode: true,
        minimumTtl: 250,
      },
    },
    {
      kind: 'Community',
      apiVersion: 'metallb.io/v1beta1',
      spec: { communities: [{ name: 'alias', value: 'large:1:2:3' }] },
    },
  ];
  for (const tc of copies) {
    it(`${tc.apiVersion} ${tc.kind}: every field copied, namespace and apiVersion changed`, () => {
      const r = run(
        cr(tc.apiVersion, tc.kind, 'x', tc.spec, { labels: { team: 'a' }, resourceVersion: '7', uid: 'u' }),
      );
      expect(r.issues).to.deep.equal([]);
      expect(r.objects).to.deep.equal([
        {
          apiVersion: 'herald.dev/v1beta1',
          kind: tc.kind,
          metadata: { name: 'x', namespace: NS, labels: { team: 'a' } },
          spec: tc.spec,
        },
      ]);
    });
  }

  const refusals: { name: string; input: unknown; field: string; reason: RegExp; imported: boolean }[] = [
    {
      name: 'vrf drops the peer',
      input: cr('metallb.io/v1beta2', 'BGPPeer', 'p', { myASN: 1, peerASN: 2, peerAddress: '192.0.2.1', vrf: 'red' }),
      field: 'spec.vrf',
      reason: /VRF are not supported.*not imported/,
      imported: false,
    },
    {
      name: 'interface (unnumbered) drops the peer',
      input: cr('metallb.io/v1beta2', 'BGPPeer', 'p', { myASN: 1, peerASN: 2, interface: 'eth1' }),
      field: 'spec.interface',
      reason: /unnumbered BGP/,
      imported: false,
    },
    {
      name: 'localASN other than myASN drops the peer',
      input: cr('metallb.io/v1beta2', 'BGPPeer', 'p', { myASN: 1, localASN: 3, peerASN: 2, peerAddress: '192.0.2.1' }),
      field: 'spec.localASN',
      reason: /per-session local AS/,
      imported: false,
    },
    {
      name: 'echoMode true is left out, the profile kept',
      input: cr('metallb.io/v1beta1', 'BFDProfile', 'b', { echoMode: true }),
      field: 'spec.echoMode',
      reason: /echo mode is not supported/,
      imported: true,
    },
    {
      name: 'an unknown field is named',
      input: cr('metallb.io/v1beta1', 'L2Advertisement', 'l', { interfaces: ['eth0'], newThing: 1 }),
      field: 'spec.newThing',
      reason: /unknown L2Advertisement field "newThing"/,
      imported: true,
    },
    {
      name: 'a MetalLB kind with no counterpart',
      input: cr('metallb.io/v1beta1', 'FRRConfiguration', 'f', {}),
      field: 'kind',
      reason: /no Herald counterpart/,
      imported: false,
    },
    {
      name: 'an unknown legacy section',
      input: legacy({ 'address-pools': [], 'bgp-extras': {} }),
      field: 'data.config.bgp-extras',
      reason: /unknown section/,
      imported: false,
    },
    {
      name: 'an unknown legacy pool protocol',
      input: legacy({ 'address-pools': [{ name: 'p', protocol: 'arp', addresses: ['192.0.2.0/28'] }] }),
      field: 'data.config.address-pools[0].protocol',
      reason: /not layer2 or bgp/,
      imported: true,
    },
    {
      name: 'an unknown legacy peer key',
      input: legacy({ peers: [{ 'peer-address': '192.0.2.1', 'peer-asn': 2, 'my-asn': 1, 'fancy-knob': true }] }),
      field: 'data.config.peers[0].fancy-knob',
      reason: /unknown key "fancy-knob"/,
      imported: true,
    },
  ];
  for (const tc of refusals) {
    it(`names what it cannot carry: ${tc.name}`, () => {
      const r = run(tc.input);
      const hit = r.issues.find((i) => i.severity === 'unsupported' && i.field === tc.field);
      expect(hit, JSON.stringify(r.issues)).to.not.equal(undefined);
      expect(hit!.reason).to.match(tc.reason);
      expect(hit!.input).to.equal(0);
      expect(r.objects.length > 0).to.equal(tc.imported);
      for (const o of r.objects) expect(Object.keys(o.spec ?? {})).to.not.include(tc.field.split('.').pop());
    });
  }

  it('keeps an empty vrf and a localASN equal to myASN out, as notes', () => {
    const r = run(
      cr('metallb.io/v1beta2', 'BGPPeer', 'p', {
        myASN: 1,
        localASN: 1,
        peerASN: 2,
        peerAddress: '192.0.2.1',
        vrf: '',
      }),
    );
    expect(unsupported(r)).to.deep.equal([]);
    expect(r.issues.map((i) => i.field)).to.deep.equal(['spec.localASN']);
    expect(find(r, 'BGPPeer', 'p')!.spec).to.deep.equal({ myASN: 1, peerASN: 2, peerAddress: '192.0.2.1' });
  });

  it("moves a passwordSecret and the Secret it names into Herald's namespace; other Secrets stay", () => {
    const secret = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(name),
      type: 'kubernetes.io/basic-auth',
      data: { password: 'cHc=' },
    });
    const r = run(
      cr('metallb.io/v1beta2', 'BGPPeer', 'p', {
        myASN: 1,
        peerASN: 2,
        peerAddress: '192.0.2.1',
        passwordSecret: { name: 'pw', namespace: 'metallb-system' },
      }),
      secret('pw'),
      secret('other'),
    );
    expect(find(r, 'BGPPeer', 'p')!.spec!['passwordSecret']).to.deep.equal({ name: 'pw' });
    expect(find(r, 'Secret', 'pw')).to.deep.include({
      apiVersion: 'v1',
      metadata: { name: 'pw', namespace: NS },
      type: 'kubernetes.io/basic-auth',
      data: { password: 'cHc=' },
    });
    expect(find(r, 'Secret', 'other')).to.equal(undefined);
    expect(r.ignored).to.equal(1);
    expect(r.issues.filter((i) => i.severity === 'note').map((i) => i.object)).to.deep.equal([
      'BGPPeer metallb-system/p',
      'Secret metallb-system/pw',
    ]);
  });

  it('status kinds and other objects are left alone; status kinds with a note', () => {
    const r = run(
      cr('metallb.io/v1beta1', 'ServiceL2Status', 's', {}),
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' }, data: { x: 'y' } },
    );
    expect(r.objects).to.deep.equal([]);
    expect(r.ignored).to.equal(2);
    expect(r.issues.map((i) => `${i.severity} ${i.object}`)).to.deep.equal(['note ServiceL2Status metallb-system/s']);
  });

  it('the same name from two namespaces is written once and reported', () => {
    const a = cr('metallb.io/v1beta1', 'IPAddressPool', 'p', { addresses: ['192.0.2.0/28'] });
    const b = { ...a, metadata: { name: 'p', namespace: 'other' } };
    const r = run(a, b);
    expect(r.objects.length).to.equal(1);
    expect(unsupported(r)).to.deep.equal(['IPAddressPool herald-system/p metadata.name']);
  });
});

describe('migrate: legacy configuration', () => {
  it('maps the ConfigMap: pools with their protocol, peers, communities, BFD profiles', () => {
    const r = run(
      legacy({
        peers: [
          {
            'peer-address': '192.0.2.1',
            'peer-asn': 64501,
            'my-asn': 64500,
            'peer-port': 1179,
            'source-address': '192.0.2.5',
            'hold-time': '120s',
            'keepalive-time': '40s',
            'router-id': '192.0.2.9',
            password: 'x',
            'bfd-profile': 'f',
            'ebgp-multihop': true,
            'node-selectors': [
              { 'match-labels': { a: 'b' }, 'match-expressions': [{ key: 'k', operator: 'In', values: ['v'] }] },
            ],
          },
        ],
        'bfd-profiles': [
          {
            name: 'f',
            'receive-interval': 100,
            'transmit-interval': 110,
            'detect-multiplier': 4,
            'echo-interval': 60,
            'echo-mode': false,
            'passive-mode': true,
            'minimum-ttl': 200,
          },
        ],
        'bgp-communities': { edge: '64500:1' },
        'address-pools': [
          { name: 'lan', protocol: 'layer2', addresses: ['192.0.2.64/27'], 'auto-assign': false },
          {
            name: 'wan',
            protocol: 'bgp',
            addresses: ['203.0.113.0/26'],
            'avoid-buggy-ips': true,
            'bgp-advertisements': [
              { 'aggregation-length': 32, 'aggregation-length-v6': 128, localpref: 10, communities: ['edge'] },
            ],
          },
          { name: 'plain', protocol: 'bgp', addresses: ['203.0.113.64/26'] },
        ],
      }),
    );
    expect(unsupported(r)).to.deep.equal([]);
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}/${o.metadata.namespace}`)).to.deep.equal([
      'Community/communities/herald-system',
      'BFDProfile/f/herald-system',
      'IPAddressPool/lan/herald-system',
      'IPAddressPool/plain/herald-system',
      'IPAddressPool/wan/herald-system',
      'BGPPeer/peer-1/herald-system',
      'L2Advertisement/lan-l2/herald-system',
      'BGPAdvertisement/plain-bgp/herald-system',
      'BGPAdvertisement/wan-bgp/herald-system',
    ]);
    expect(find(r, 'BGPPeer', 'peer-1')!.spec).to.deep.equal({
      peerAddress: '192.0.2.1',
      peerASN: 64501,
      myASN: 64500,
      peerPort: 1179,
      sourceAddress: '192.0.2.5',
      holdTime: '120s',
      keepaliveTime: '40s',
      routerID: '192.0.2.9',
      password: 'x',
      bfdProfile: 'f',
      ebgpMultiHop: true,
      nodeSelectors: [{ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'k', operator: 'In', values: ['v'] }] }],
    });
    expect(find(r, 'BFDProfile', 'f')!.spec).to.deep.equal({
      receiveInterval: 100,
      transmitInterval: 110,
      detectMultiplier: 4,
      echoInterval: 60,
      echoMode: false,
      passiveMode: true,
      minimumTtl: 200,
    });
    expect(find(r, 'Community', 'communities')!.spec).to.deep.equal({
      communities: [{ name: 'edge', value: '64500:1' }],
    });
    expect(find(r, 'IPAddressPool', 'lan')!.spec).to.deep.equal({ addresses: ['192.0.2.64/27'], autoAssign: false });
    expect(find(r, 'IPAddressPool', 'wan')!.spec).to.deep.equal({ addresses: ['203.0.113.0/26'], avoidBuggyIPs: true });
    expect(find(r, 'L2Advertisement', 'lan-l2')!.spec).to.deep.equal({ ipAddressPools: ['lan'] });
    expect(find(r, 'BGPAdvertisement', 'wan-bgp')!.spec).to.deep.equal({
      aggregationLength: 32,
      aggregationLengthV6: 128,
      localPref: 10,
      communities: ['edge'],
      ipAddressPools: ['wan'],
    });
    expect(find(r, 'BGPAdvertisement', 'plain-bgp')!.spec).to.deep.equal({ ipAddressPools: ['plain'] });
  });

  it('maps the AddressPool kind like a legacy pool', () => {
    const r = run(
      cr('metallb.io/v1beta1', 'AddressPool', 'old', {
        protocol: 'bgp',
        addresses: ['203.0.113.0/28'],
        autoAssign: false,
        bgpAdvertisements: [{ aggregationLength: 32 }, { localPref: 5 }],
      }),
    );
    expect(unsupported(r)).to.deep.equal([]);
    expect(r.objects.map((o) => [o.kind, o.metadata.name, o.spec])).to.deep.equal([
      ['IPAddressPool', 'old', { addresses: ['203.0.113.0/28'], autoAssign: false }],
      ['BGPAdvertisement', 'old-bgp-1', { aggregationLength: 32, ipAddressPools: ['old'] }],
      ['BGPAdvertisement', 'old-bgp-2', { localPref: 5, ipAddressPools: ['old'] }],
    ]);
  });

  it('a ConfigMap whose config is not YAML is named', () => {
    const r = run({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta('config'), data: { config: 'peers: [' } });
    expect(unsupported(r)).to.deep.equal(['ConfigMap metallb-system/config data.config']);
  });
});
