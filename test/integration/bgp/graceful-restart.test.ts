/**
 * Graceful restart (RFC 4724) against FRR bgpd: Herald's session dies without a word (its
 * process killed), FRR keeps its routes marked stale; the restarted speaker (Restart State
 * bit set) re-announces what it still has and sends End-of-RIB, after which FRR drops the
 * stale route that was not re-announced and clears the flag on the one that was.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { HeraldDriver } from '../../support/bgp-peers.js';
import { useNetns } from '../../support/netns.js';

const HERALD = '192.0.2.1';
const ROUTER = '192.0.2.2';

interface FrrPath {
  readonly stale?: boolean;
  readonly nexthops?: { ip: string }[];
}

describe('BGP graceful restart against FRR (netns)', function () {
  this.timeout(90_000);
  const netns = useNetns(this, ['vtysh']);
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('a killed speaker: FRR keeps its routes stale; after the restart and End-of-RIB only the re-announced one stays, no longer stale', async () => {
    const net = netns();
    const h = net.add('h');
    const r = net.add('r');
    net.link(h, [`${HERALD}/24`], r, [`${ROUTER}/24`]);
    const dir = mkdtempSync(join(tmpdir(), 'herald-gr-'));
    dirs.push(dir);
    writeFileSync(
      join(dir, 'frr.conf'),
      `hostname r
router bgp 65001
 bgp router-id ${ROUTER}
 bgp graceful-restart
 bgp graceful-restart restart-time 120
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor ${HERALD} remote-as 65000
 neighbor ${HERALD} passive
 neighbor ${HERALD} timers 3 9
 address-family ipv4 unicast
  neighbor ${HERALD} activate
 exit-address-family
`,
    );
    net.spawn(r, '/usr/lib/frr/bgpd', [
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
      ROUTER,
      '-n',
    ]);
    const vtysh = (cmd: string): string => net.exec(r, ['vtysh', '--vty_socket', dir, '-c', cmd]);
    const paths = (): Map<string, FrrPath> => {
      try {
        const routes =
          (JSON.parse(vtysh('show bgp ipv4 unicast json')) as { routes?: Record<string, FrrPath[]> }).routes ?? {};
        return new Map(Object.entries(routes).map(([p, ps]) => [p, ps[0]!]));
      } catch {
        return new Map();
      }
    };
    const neighbor = (): Record<string, unknown> => {
      try {
        return (
          (JSON.parse(vtysh(`show bgp neighbors ${HERALD} json`)) as Record<string, Record<string, unknown>>)[HERALD] ??
          {}
        );
      } catch {
        return {};
      }
    };

    const start = {
      cmd: 'start',
      peerAddress: ROUTER,
      myAsn: 65000,
      peerAsn: 65001,
      routerId: HERALD,
      holdTime: 9,
      families: ['IPv4'],
      gracefulRestart: 120,
    };
    const first = new HeraldDriver(net, h);
    first.send(start);
    first.send({ cmd: 'set', routes: [{ prefix: '203.0.113.30/32' }, { prefix: '203.0.113.31/32' }] });
    await first.waitState('Established', 40_000);
    await eventually(
      () => (paths().has('203.0.113.30/32') && paths().has('203.0.113.31/32')) || undefined,
      'both routes at FRR',
      30_000,
      100,
    );
    expect(JSON.stringify(neighbor())).to.match(/gracefulRestart|graceful/i);

    // A crash: no Cease, the kernel resets the connection.
    first.kill();
    await eventually(
      () => (paths().get('203.0.113.30/32')?.stale && paths().get('203.0.113.31/32')?.stale) || undefined,
      'both routes kept, stale',
      30_000,
      100,
    );

    // The restarted speaker has only one of them now.
    const second = new HeraldDriver(net, h);
    second.send({ ...start, restarted: true });
    second.send({ cmd: 'set', routes: [{ prefix: '203.0.113.30/32' }] });
    await second.waitState('Established', 40_000);
    await eventually(
      () =>
        (!paths().has('203.0.113.31/32') &&
          paths().get('203.0.113.30/32')?.stale !== true &&
          paths().has('203.0.113.30/32')) ||
        undefined,
      'End-of-RIB: the stale route gone, the other fresh',
      30_000,
      100,
    );
    expect(paths().get('203.0.113.30/32')?.nexthops?.[0]?.ip).to.equal(HERALD);
  });
});
