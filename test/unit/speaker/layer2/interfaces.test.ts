/** Which interfaces a node answers on for a service IP. */
import { expect } from 'chai';
import { selectInterfaces } from '../../../../speaker/layer2/engine.js';
import { parseIP } from '../../../../src/net/ip.js';

const mac = Buffer.alloc(6);
const ifaces = [
  { name: 'eth0', mac, addrs: [{ ip: parseIP('192.0.2.1'), prefix: 24 }, { ip: parseIP('2001:db8::1'), prefix: 64 }] },
  { name: 'eth1', mac, addrs: [{ ip: parseIP('198.51.100.1'), prefix: 24 }] },
  { name: 'veth12ab', mac, addrs: [] },
  { name: 'cni0', mac, addrs: [{ ip: parseIP('203.0.113.1'), prefix: 28 }] },
  { name: 'bond0', mac, addrs: [] },
];

describe('layer2: interface selection', () => {
  const cases: { name: string; ip: string; wanted: string[]; want: string[] }[] = [
    { name: "the advertisement's interfaces win", ip: '192.0.2.50', wanted: ['eth1'], want: ['eth1'] },
    { name: 'unknown wanted interfaces are ignored', ip: '192.0.2.50', wanted: ['eth9'], want: [] },
    { name: 'otherwise the interface whose subnet holds the IP (v4)', ip: '198.51.100.77', wanted: [], want: ['eth1'] },
    { name: 'otherwise the interface whose subnet holds the IP (v6)', ip: '2001:db8::50', wanted: [], want: ['eth0'] },
    { name: 'otherwise every non-virtual interface (never veth/cni)', ip: '203.0.113.200', wanted: [], want: ['eth0', 'eth1', 'bond0'] },
  ];
  for (const tc of cases) it(tc.name, () => expect(selectInterfaces(parseIP(tc.ip), tc.wanted, ifaces)).to.deep.equal(tc.want));
});
