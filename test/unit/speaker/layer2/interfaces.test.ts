/** Which interfaces a node answers on for a service IP, and the exclusion globs. */
import { expect } from 'chai';
import { selectInterfaces } from '../../../../speaker/layer2/engine.js';
import {
  DEFAULT_EXCLUDED_INTERFACES,
  interfaceMatcher,
  parseInterfaceExclusions,
} from '../../../../speaker/layer2/interface-filter.js';
import { parseIP } from '../../../../src/net/ip.js';

const mac = Buffer.alloc(6);
const ifaces = [
  {
    name: 'eth0',
    mac,
    addrs: [
      { ip: parseIP('192.0.2.1'), prefix: 24 },
      { ip: parseIP('2001:db8::1'), prefix: 64 },
    ],
  },
  { name: 'eth1', mac, addrs: [{ ip: parseIP('198.51.100.1'), prefix: 24 }] },
  { name: 'veth12ab', mac, addrs: [] },
  { name: 'cni0', mac, addrs: [{ ip: parseIP('203.0.113.1'), prefix: 28 }] },
  { name: 'bond0', mac, addrs: [] },
  { name: 'lxc9f3e', mac, addrs: [] },
  // kube-proxy in IPVS mode puts every Service IP on kube-ipvs0 as a /32.
  {
    name: 'kube-ipvs0',
    mac,
    addrs: [
      { ip: parseIP('198.51.100.77'), prefix: 32 },
      { ip: parseIP('203.0.113.200'), prefix: 32 },
    ],
  },
];

describe('layer2: interface selection', () => {
  const cases: { name: string; ip: string; wanted: string[]; exclude?: string[]; want: string[] }[] = [
    { name: "the advertisement's interfaces win", ip: '192.0.2.50', wanted: ['eth1'], want: ['eth1'] },
    { name: 'a named interface wins even when excluded', ip: '192.0.2.50', wanted: ['lxc9f3e'], want: ['lxc9f3e'] },
    { name: 'unknown wanted interfaces are ignored', ip: '192.0.2.50', wanted: ['eth9'], want: [] },
    {
      name: 'otherwise the interface whose subnet holds the IP (v4), never kube-ipvs0',
      ip: '198.51.100.77',
      wanted: [],
      want: ['eth1'],
    },
    { name: 'otherwise the interface whose subnet holds the IP (v6)', ip: '2001:db8::50', wanted: [], want: ['eth0'] },
    {
      name: 'otherwise every interface not excluded (never veth/cni/lxc/kube-ipvs0)',
      ip: '203.0.113.200',
      wanted: [],
      want: ['eth0', 'eth1', 'bond0'],
    },
    {
      name: 'an excluded interface holding the subnet is passed over',
      ip: '203.0.113.5',
      wanted: [],
      want: ['eth0', 'eth1', 'bond0'],
    },
    {
      name: 'a custom list replaces the defaults',
      ip: '203.0.113.200',
      wanted: [],
      exclude: ['eth*', 'kube-ipvs0'],
      want: ['veth12ab', 'cni0', 'bond0', 'lxc9f3e'],
    },
    {
      name: 'a custom list may exclude an interface holding the subnet',
      ip: '192.0.2.50',
      wanted: [],
      exclude: ['eth0'],
      want: ['eth1', 'veth12ab', 'cni0', 'bond0', 'lxc9f3e', 'kube-ipvs0'],
    },
    { name: 'an empty list excludes nothing', ip: '203.0.113.5', wanted: [], exclude: [], want: ['cni0'] },
  ];
  for (const tc of cases) {
    it(tc.name, () =>
      expect(
        selectInterfaces(parseIP(tc.ip), tc.wanted, ifaces, ...(tc.exclude ? [interfaceMatcher(tc.exclude)] : [])),
      ).to.deep.equal(tc.want),
    );
  }
});

describe('layer2: interface exclusion globs', () => {
  const matches: { glob: string; yes: string[]; no: string[] }[] = [
    { glob: 'lxc*', yes: ['lxc', 'lxc9f3e', 'lxc_health'], no: ['xlxc', 'eth0'] },
    { glob: 'lo', yes: ['lo'], no: ['lo0', 'bond0'] },
    { glob: 'eth?', yes: ['eth0', 'eth9'], no: ['eth', 'eth10'] },
    { glob: 'cilium_*', yes: ['cilium_host', 'cilium_vxlan'], no: ['ciliumhost'] },
    { glob: 'br-*', yes: ['br-1a2b3c'], no: ['br0'] },
    { glob: 'br-????????????', yes: ['br-5f2e9a0c4d1b'], no: ['br-lan', 'br-ex', 'br0'] },
    { glob: 'vlan.10', yes: ['vlan.10'], no: ['vlanX10'] },
  ];
  for (const m of matches) {
    it(`${m.glob} matches ${m.yes.join(', ')} and not ${m.no.join(', ')}`, () => {
      const match = interfaceMatcher([m.glob]);
      expect(m.yes.filter((n) => !match(n))).to.deep.equal([]);
      expect(m.no.filter((n) => match(n))).to.deep.equal([]);
    });
  }

  it("the defaults cover Cilium's lxc*, kube-ipvs0 and the earlier prefixes", () => {
    const match = interfaceMatcher(DEFAULT_EXCLUDED_INTERFACES);
    for (const n of [
      'lo',
      'lxc12ab',
      'lxc_health',
      'cilium_host',
      'kube-ipvs0',
      'veth9',
      'cni0',
      'docker0',
      'flannel.1',
      'cali123',
      'vxlan.calico',
      'tunl0',
      'virbr0',
      'br-5f2e9a0c4d1b',
      'nodelocaldns',
      'cbr0',
      'dummy0',
    ])
      expect(match(n), n).to.equal(true);
    for (const n of ['eth0', 'ens3', 'enp1s0f0', 'bond0', 'eno1', 'wlan0', 'br0', 'br-lan', 'br-ex', 'vlan10'])
      expect(match(n), n).to.equal(false);
  });

  const parses: { name: string; text: string; want: string[] }[] = [
    { name: '"default" is the default list', text: 'default', want: [...DEFAULT_EXCLUDED_INTERFACES] },
    { name: '"default,eth9*" extends it', text: 'default,eth9*', want: [...DEFAULT_EXCLUDED_INTERFACES, 'eth9*'] },
    { name: 'commas or spaces separate, duplicates drop', text: ' lxc*, eth9  lxc* ', want: ['lxc*', 'eth9'] },
    { name: 'an empty list excludes nothing', text: '', want: [] },
  ];
  for (const tc of parses) it(tc.name, () => expect(parseInterfaceExclusions(tc.text)).to.deep.equal(tc.want));

  const bad: { text: string; error: RegExp }[] = [
    { text: 'eth0/1', error: /--l2-exclude-interfaces: "eth0\/1" is not an interface name glob/ },
    { text: 'lxc[0-9]', error: /"lxc\[0-9\]" is not an interface name glob/ },
    { text: 'averyveryverylongname*', error: /can match no interface \(names are at most 15 characters\)/ },
  ];
  for (const tc of bad)
    it(`refuses ${JSON.stringify(tc.text)} with a clear error`, () =>
      expect(() => parseInterfaceExclusions(tc.text)).to.throw(tc.error));
});
