/**
 * Herald's BGP engine against FRR's bgpd and GoBGP in network namespaces: the session comes
 * up, the router's RIB holds exactly Herald's prefixes with next hop, AS path and
 * communities, and a withdrawal disappears there; extended messages with FRR.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { gobgpdConfig, HeraldDriver } from '../../support/bgp-peers.js';
import { useNetns } from '../../support/netns.js';

describe('BGP engine against FRR and GoBGP (netns)', function () {
  this.timeout(90_000);
  let dir: string;

  const netns = useNetns(this, ['gobgpd', 'vtysh']);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-peer-'));
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  const topology = (): { h: string; r: string } => {
    const h = netns().add('h');
    const r = netns().add('r');
    netns().link(h, ['192.0.2.1/24'], r, ['192.0.2.2/24']);
    return { h, r };
  };

  /** FRR bgpd in `r` (AS 65001, passive towards 192.0.2.1, hold 9 s, IPv4 unicast), started; returns a vtysh for it. */
  async function startFrr(r: string): Promise<(cmd: string) => string> {
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
    return vtysh;
  }

  it('FRR bgpd: eBGP routes with next hop, AS path and communities; withdrawal', async () => {
    const { h, r } = topology();
    const vtysh = await startFrr(r);
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
    });
    await herald.waitState('Established', 30_000);
    herald.send({
      cmd: 'set',
      routes: [{ prefix: '203.0.113.20/32', communities: [65000 * 65536 + 7] }, { prefix: '203.0.113.21/32' }],
    });
    const rib = await eventually(
      () => {
        const j = JSON.parse(vtysh('show bgp ipv4 unicast json')) as { routes?: Record<string, unknown[]> };
        return j.routes && j.routes['203.0.113.20/32'] && j.routes['203.0.113.21/32'] ? j.routes : undefined;
      },
      'routes at FRR',
      20_000,
    );
    expect(Object.keys(rib).sort()).to.deep.equal(['203.0.113.20/32', '203.0.113.21/32']);
    const detail = JSON.parse(vtysh('show bgp ipv4 unicast 203.0.113.20/32 json')) as {
      paths: { aspath: { string: string }; community?: { string: string }; nexthops: { ip: string }[] }[];
    };
    expect(detail.paths[0]!.aspath.string).to.equal('65000');
    expect(detail.paths[0]!.community?.string).to.equal('65000:7');
    expect(detail.paths[0]!.nexthops[0]!.ip).to.equal('192.0.2.1');
    herald.send({ cmd: 'set', routes: [{ prefix: '203.0.113.20/32', communities: [65000 * 65536 + 7] }] });
    await eventually(
      () => {
        const j = JSON.parse(vtysh('show bgp ipv4 unicast json')) as { routes?: Record<string, unknown[]> };
        return j.routes && !j.routes['203.0.113.21/32'] ? true : undefined;
      },
      'withdrawal at FRR',
      20_000,
    );
  });

  it('FRR bgpd: extended messages (RFC 8654) negotiated, 1533 prefixes in one UPDATE; large communities', async () => {
    const { h, r } = topology();
    const vtysh = await startFrr(r);
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
      extendedMessage: true,
    });
    await herald.waitState('Established', 30_000);
    const caps = JSON.parse(vtysh('show bgp neighbors 192.0.2.1 json')) as Record<
      string,
      { neighborCapabilities?: Record<string, unknown> }
    >;
    expect(caps['192.0.2.1']?.neighborCapabilities?.['extendedMessage']).to.equal('advertisedAndReceived');
    // Every prefix of length 24 to 32 inside the three documentation /24s: 3 x 511, about
    // 7.6 kB of NLRI: two UPDATEs at 4096 bytes, one at 65535.
    const prefixes: string[] = [];
    for (const base of ['192.0.2', '198.51.100', '203.0.113']) {
      for (let len = 24; len <= 32; len++)
        for (let i = 0; i < 256; i += 2 ** (32 - len)) prefixes.push(`${base}.${i}/${len}`);
    }
    const lastStats = (): number | undefined =>
      (herald.events.filter((e) => e.event === 'stats').pop() as { stats?: { updatesSent: number } } | undefined)?.stats
        ?.updatesSent;
    herald.send({ cmd: 'stats' });
    const sentBefore = await eventually(lastStats, 'stats');
    herald.send({ cmd: 'set', routes: prefixes.map((prefix) => ({ prefix, largeCommunities: [[65000, 1, 2]] })) });
    await eventually(
      () => {
        const j = JSON.parse(vtysh('show bgp ipv4 unicast summary json')) as {
          peers?: Record<string, { pfxRcd?: number }>;
        };
        return j.peers?.['192.0.2.1']?.pfxRcd === prefixes.length || undefined;
      },
      `${prefixes.length} prefixes at FRR`,
      20_000,
      100,
    );
    herald.send({ cmd: 'stats' });
    const sentAfter = await eventually(() => {
      const n = lastStats();
      return n !== undefined && n !== sentBefore ? n : undefined;
    }, 'stats after the announcement');
    expect(sentAfter - sentBefore).to.equal(1);
    const detail = JSON.parse(vtysh('show bgp ipv4 unicast 198.51.100.77/32 json')) as {
      paths: { largeCommunity?: { string: string } }[];
    };
    expect(detail.paths[0]!.largeCommunity?.string).to.equal('65000:1:2');
  });

  it('GoBGP: eBGP routes with next hop, AS path, large communities; withdrawal', async () => {
    const { h, r } = topology();
    writeFileSync(
      join(dir, 'gobgpd.toml'),
      gobgpdConfig({
        as: 65001,
        routerId: '192.0.2.2',
        local: '192.0.2.2',
        neighbor: '192.0.2.1',
        peerAs: 65000,
        families: ['ipv4'],
      }),
    );
    const sock = join(dir, 'api.sock');
    netns().spawn(r, 'gobgpd', [
      '-f',
      join(dir, 'gobgpd.toml'),
      '-p',
      '--pprof-disable',
      '--api-hosts',
      `unix://${sock}`,
    ]);
    const gobgp = (...args: string[]): string => netns().exec(r, ['gobgp', '--target', `unix://${sock}`, ...args]);
    const herald = new HeraldDriver(netns(), h);
    await eventually(
      () => {
        try {
          return gobgp('neighbor') !== undefined || undefined;
        } catch {
          return undefined;
        }
      },
      'GoBGP to start',
      15_000,
      100,
    );
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
    });
    await herald.waitState('Established', 30_000);
    herald.send({
      cmd: 'set',
      routes: [{ prefix: '198.51.100.30/32', largeCommunities: [[65000, 10, 20]] }, { prefix: '198.51.100.31/32' }],
    });
    const rib = await eventually(
      () => {
        const j = JSON.parse(gobgp('global', 'rib', '-j')) as Record<
          string,
          { nexthop?: string; attrs: { type: number; as_paths?: { asns: number[] }[]; value?: unknown[] }[] }[]
        >;
        return j['198.51.100.30/32'] && j['198.51.100.31/32'] ? j : undefined;
      },
      'routes at GoBGP',
      20_000,
    );
    const path = rib['198.51.100.30/32']![0]!;
    expect(JSON.stringify(path.attrs)).to.include('65000');
    const nh = path.attrs.find((a) => a.type === 3) as { nexthop?: string } | undefined;
    expect(nh?.nexthop).to.equal('192.0.2.1');
    const large = path.attrs.find((a) => a.type === 32) as
      { value?: { ASN: number; LocalData1: number; LocalData2: number }[] } | undefined;
    expect(large?.value).to.deep.equal([{ ASN: 65000, LocalData1: 10, LocalData2: 20 }]);
    herald.send({ cmd: 'set', routes: [] });
    await eventually(
      () => {
        const j = JSON.parse(gobgp('global', 'rib', '-j')) as Record<string, unknown>;
        return Object.keys(j).length === 0 ? true : undefined;
      },
      'withdrawals at GoBGP',
      20_000,
    );
  });
});
