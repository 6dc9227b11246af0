/**
 * ROUTE-REFRESH per family against FRR's bgpd (netns): on a session carrying IPv4 and IPv6,
 * `clear bgp ipv4 unicast … soft in` makes FRR send a ROUTE-REFRESH for IPv4 unicast only;
 * Herald answers with its IPv4 routes and IPv4's End-of-RIB (two UPDATEs), not both families.
 * The count is read after the refresh is handled: the answer is written in one go, so once the
 * count has moved it has moved all the way.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { HeraldDriver } from '../../support/bgp-peers.js';
import { useNetns } from '../../support/netns.js';

describe('BGP ROUTE-REFRESH per family against FRR bgpd (netns)', function () {
  this.timeout(60_000);
  let dir: string;
  const netns = useNetns(this, ['vtysh']);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-rr-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('a refresh for IPv4 unicast re-sends IPv4 and its End-of-RIB only; one for IPv6 then IPv6 only', async () => {
    const h = netns().add('h');
    const r = netns().add('r');
    netns().link(h, ['192.0.2.1/24', '2001:db8::1/64'], r, ['192.0.2.2/24', '2001:db8::2/64']);
    writeFileSync(
      join(dir, 'frr.conf'),
      `hostname r
router bgp 65001
 bgp router-id 192.0.2.2
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor 192.0.2.1 remote-as 65000
 neighbor 192.0.2.1 passive
 neighbor 192.0.2.1 timers 3 9
 address-family ipv4 unicast
  neighbor 192.0.2.1 activate
 exit-address-family
 address-family ipv6 unicast
  neighbor 192.0.2.1 activate
 exit-address-family
`,
    );
    netns().spawn(r, '/usr/lib/frr/bgpd', [
      '-Z',
      '-S',
      '-f',
      join(dir, 'frr.conf'),
      '-i',
      join(dir, 'bgpd.pid'),
      '--vty_socket',
      dir,
      '-P',
      '0',
      '-l',
      '192.0.2.2',
      '-n',
    ]);
    const vtysh = (cmd: string): string => netns().exec(r, ['vtysh', '--vty_socket', dir, '-c', cmd]);
    await eventually(
      () => {
        try {
          return vtysh('show bgp summary') !== undefined || undefined;
        } catch {
          return undefined;
        }
      },
      'FRR to start',
      15_000,
      100,
    );
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4', 'IPv6'],
      nextHopV6: '2001:db8::1',
    });
    await herald.waitState('Established');
    herald.send({ cmd: 'set', routes: [{ prefix: '203.0.113.40/32' }, { prefix: '2001:db8:40::1/128' }] });
    const received = (family: 'ipv4' | 'ipv6'): number =>
      (JSON.parse(vtysh(`show bgp ${family} unicast summary json`)) as { peers?: Record<string, { pfxRcd?: number }> })
        .peers?.['192.0.2.1']?.pfxRcd ?? 0;
    await eventually(() => (received('ipv4') === 1 && received('ipv6') === 1) || undefined, 'both routes at FRR');
    const sent = async (): Promise<number> => {
      const n = herald.events.length;
      herald.send({ cmd: 'stats' });
      const ev = await eventually(() => herald.events.slice(n).find((e) => e.event === 'stats'), 'the driver stats');
      return ev.stats!['updatesSent']!;
    };
    // One UPDATE per family, and an End-of-RIB per family after Established.
    const base = await sent();
    expect(base).to.equal(4);
    vtysh('clear bgp ipv4 unicast 192.0.2.1 soft in');
    let after = base;
    await eventually(
      async () => (after = await sent()) > base || undefined,
      'the answer to the IPv4 refresh',
      20_000,
      50,
    );
    expect(after - base).to.equal(2);
    vtysh('clear bgp ipv6 unicast 192.0.2.1 soft in');
    let after6 = after;
    await eventually(
      async () => (after6 = await sent()) > after || undefined,
      'the answer to the IPv6 refresh',
      20_000,
      50,
    );
    expect(after6 - after).to.equal(2);
    expect(herald.state()).to.equal('Established');
    expect(received('ipv4')).to.equal(1);
    expect(received('ipv6')).to.equal(1);
  });
});
