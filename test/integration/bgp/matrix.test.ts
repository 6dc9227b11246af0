/**
 * The interop matrix: Herald's engine against BIRD 2, FRR bgpd and GoBGP, each with eBGP and
 * iBGP, over IPv4 and over IPv6 transport. Each router's RIB, read with its own tool
 * (birdc, vtysh, gobgp), must show exactly Herald's prefix with the right next hop, AS path,
 * community, the large community and (iBGP) local-pref; the withdrawal must disappear there.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { Bird, gobgpdConfig, HeraldDriver } from '../../support/bgp-peers.js';
import { birdConf } from '../../support/bird-conf.js';
import { useNetns, type Netns } from '../../support/netns.js';

interface Seen {
  readonly nextHop: string;
  /** Space-separated ASNs; '' for iBGP. */
  readonly asPath: string;
  readonly localPref?: number;
  readonly communities: readonly string[];
  /** "global:local1:local2" each. */
  readonly largeCommunities: readonly string[];
}

interface Router {
  /** Every prefix in the router's RIB of the family. */
  prefixes(): string[];
  /** The attributes of one prefix, if present. */
  route(prefix: string): Seen | undefined;
}

interface Case {
  readonly v6: boolean;
  readonly ibgp: boolean;
}

const HERALD = { v4: '192.0.2.1', v6: '2001:db8::1' };
const ROUTER = { v4: '192.0.2.2', v6: '2001:db8::2' };

function startBird(net: Netns, ns: string, c: Case, ctx: { cleanups: (() => void)[] }): Router {
  const fam = c.v6 ? 'ipv6' : 'ipv4';
  const bird = new Bird(
    net,
    ns,
    birdConf({
      routerId: '192.0.2.2',
      as: c.ibgp ? 65000 : 65001,
      direct: [fam],
      neighbors: [
        {
          address: c.v6 ? HERALD.v6 : HERALD.v4,
          as: 65000,
          local: c.v6 ? ROUTER.v6 : ROUTER.v4,
          ...(c.ibgp ? { extra: 'direct;' } : {}),
          channels: { [fam]: {} },
        },
      ],
    }),
  );
  ctx.cleanups.push(() => bird.cleanup());
  const table = c.v6 ? 'master6' : 'master4';
  const entries = (): Map<string, string> => {
    const out = new Map<string, string>();
    let cur = '';
    for (const line of bird.routes(table).split('\n')) {
      const m = /^(\S+\/\d+)\s/.exec(line);
      if (m) {
        cur = m[1]!;
        out.set(cur, '');
      }
      if (cur) out.set(cur, `${out.get(cur)!}${line}\n`);
    }
    return out;
  };
  return {
    prefixes: () => [...entries().keys()].filter((p) => p.startsWith(c.v6 ? '2001:db8:7' : '203.0.113.')),
    route: (prefix) => {
      const e = entries().get(prefix);
      if (!e) return undefined;
      const lp = /BGP\.local_pref: (\d+)/.exec(e);
      return {
        nextHop: /BGP\.next_hop: (\S+)/.exec(e)?.[1] ?? '',
        asPath: (/BGP\.as_path:(.*)/.exec(e)?.[1] ?? '').trim(),
        ...(c.ibgp && lp ? { localPref: Number(lp[1]) } : {}),
        communities: [...(/BGP\.community: (.*)/.exec(e)?.[1] ?? '').matchAll(/\((\d+),(\d+)\)/g)].map(
          (x) => `${x[1]}:${x[2]}`,
        ),
        largeCommunities: [
          ...(/BGP\.large_community: (.*)/.exec(e)?.[1] ?? '').matchAll(/\((\d+), (\d+), (\d+)\)/g),
        ].map((x) => `${x[1]}:${x[2]}:${x[3]}`),
      };
    },
  };
}

function startFrr(net: Netns, ns: string, c: Case, { dir }: { dir: string }): Router {
  const fam = c.v6 ? 'ipv6' : 'ipv4';
  const neighbor = c.v6 ? HERALD.v6 : HERALD.v4;
  writeFileSync(
    join(dir, 'frr.conf'),
    `hostname r
router bgp ${c.ibgp ? 65000 : 65001}
 bgp router-id 192.0.2.2
 no bgp ebgp-requires-policy
 no bgp default ipv4-unicast
 neighbor ${neighbor} remote-as 65000
 neighbor ${neighbor} passive
 neighbor ${neighbor} timers 3 9
 address-family ${fam} unicast
  neighbor ${neighbor} activate
 exit-address-family
`,
  );
  net.spawn(ns, '/usr/lib/frr/bgpd', [
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
    c.v6 ? ROUTER.v6 : ROUTER.v4,
    '-n',
  ]);
  const vtysh = (cmd: string): string => net.exec(ns, ['vtysh', '--vty_socket', dir, '-c', cmd]);
  return {
    prefixes: () => {
      try {
        return Object.keys(
          (JSON.parse(vtysh(`show bgp ${fam} unicast json`)) as { routes?: Record<string, unknown> }).routes ?? {},
        );
      } catch {
        return [];
      }
    },
    route: (prefix) => {
      const d = JSON.parse(vtysh(`show bgp ${fam} unicast ${prefix} json`)) as {
        paths?: {
          aspath: { string: string };
          locPrf?: number;
          localpref?: number;
          community?: { string: string };
          largeCommunity?: { string: string };
          nexthops: { ip: string; scope?: string }[];
        }[];
      };
      const p = d.paths?.[0];
      if (!p) return undefined;
      return {
        nextHop: (p.nexthops.find((n) => n.scope !== 'link-local') ?? p.nexthops[0]!).ip,
        // FRR prints an empty AS path as "Local".
        asPath: p.aspath.string === 'Local' ? '' : p.aspath.string,
        ...(c.ibgp && (p.locPrf ?? p.localpref) !== undefined ? { localPref: p.locPrf ?? p.localpref } : {}),
        communities: p.community?.string.split(' ') ?? [],
        largeCommunities: p.largeCommunity?.string.split(' ') ?? [],
      };
    },
  };
}

function startGobgp(net: Netns, ns: string, c: Case, { dir }: { dir: string }): Router {
  const sock = join(dir, 'api.sock');
  writeFileSync(
    join(dir, 'gobgpd.toml'),
    gobgpdConfig({
      as: c.ibgp ? 65000 : 65001,
      routerId: '192.0.2.2',
      local: c.v6 ? ROUTER.v6 : ROUTER.v4,
      neighbor: c.v6 ? HERALD.v6 : HERALD.v4,
      peerAs: 65000,
      families: [c.v6 ? 'ipv6' : 'ipv4'],
    }),
  );
  net.spawn(ns, 'gobgpd', ['-f', join(dir, 'gobgpd.toml'), '-p', '--pprof-disable', '--api-hosts', `unix://${sock}`]);
  type Attr = {
    type: number;
    as_paths?: { asns: number[] }[];
    nexthop?: string;
    value?: unknown;
    communities?: number[];
  };
  type Large = { ASN: number; LocalData1: number; LocalData2: number };
  const rib = (): Record<string, { nexthop?: string; attrs: Attr[] }[]> => {
    try {
      return JSON.parse(
        net.exec(ns, ['gobgp', '--target', `unix://${sock}`, 'global', 'rib', '-a', c.v6 ? 'ipv6' : 'ipv4', '-j']),
      ) as Record<string, { nexthop?: string; attrs: Attr[] }[]>;
    } catch {
      return {};
    }
  };
  return {
    prefixes: () => Object.keys(rib()),
    route: (prefix) => {
      const p = rib()[prefix]?.[0];
      if (!p) return undefined;
      const nh =
        p.attrs.find((a) => a.type === 3)?.nexthop ?? p.attrs.find((a) => a.type === 14)?.nexthop ?? p.nexthop ?? '';
      const lp = p.attrs.find((a) => a.type === 5)?.value;
      return {
        nextHop: nh,
        asPath: (p.attrs.find((a) => a.type === 2)?.as_paths ?? []).flatMap((s) => s.asns).join(' '),
        ...(c.ibgp && typeof lp === 'number' ? { localPref: lp } : {}),
        communities: (p.attrs.find((a) => a.type === 8)?.communities ?? []).map(
          (x) => `${Math.floor(x / 65536)}:${x % 65536}`,
        ),
        largeCommunities: ((p.attrs.find((a) => a.type === 32)?.value as Large[] | undefined) ?? []).map(
          (l) => `${l.ASN}:${l.LocalData1}:${l.LocalData2}`,
        ),
      };
    },
  };
}

describe('BGP interop matrix: BIRD, FRR, GoBGP × eBGP, iBGP × IPv4, IPv6 transport (netns)', function () {
  this.timeout(90_000);
  const netns = useNetns(this, ['bird', 'gobgpd', 'vtysh']);
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const f of cleanups.splice(0)) f();
  });

  const routers = { BIRD: startBird, FRR: startFrr, GoBGP: startGobgp } as const;
  for (const [name, start] of Object.entries(routers)) {
    for (const ibgp of [false, true]) {
      for (const v6 of [false, true]) {
        it(`${name}: ${ibgp ? 'iBGP' : 'eBGP'} over IPv${v6 ? 6 : 4}`, async () => {
          const net = netns();
          const h = net.add('h');
          const r = net.add('r');
          net.link(h, [`${HERALD.v4}/24`, `${HERALD.v6}/64`], r, [`${ROUTER.v4}/24`, `${ROUTER.v6}/64`]);
          const dir = mkdtempSync(join(tmpdir(), 'herald-matrix-'));
          cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
          const router = start(net, r, { v6, ibgp }, { dir, cleanups });
          const herald = new HeraldDriver(net, h);
          herald.send({
            cmd: 'start',
            peerAddress: v6 ? ROUTER.v6 : ROUTER.v4,
            myAsn: 65000,
            peerAsn: ibgp ? 65000 : 65001,
            routerId: HERALD.v4,
            holdTime: 9,
            families: [v6 ? 'IPv6' : 'IPv4'],
          });
          await herald.waitState('Established', 40_000);
          const [kept, gone] = v6
            ? ['2001:db8:7::10/128', '2001:db8:7::11/128']
            : ['203.0.113.40/32', '203.0.113.41/32'];
          herald.send({
            cmd: 'set',
            routes: [
              { prefix: kept, communities: [65000 * 65536 + 7], largeCommunities: [[65000, 7, 8]], localPref: 250 },
              { prefix: gone },
            ],
          });
          await eventually(
            () => (router.prefixes().includes(kept) && router.prefixes().includes(gone)) || undefined,
            `both prefixes at ${name}`,
            30_000,
            100,
          );
          expect(router.prefixes().sort()).to.deep.equal([kept, gone].sort());
          const seen = router.route(kept)!;
          expect(seen.nextHop).to.equal(v6 ? HERALD.v6 : HERALD.v4);
          expect(seen.asPath).to.equal(ibgp ? '' : '65000');
          expect(seen.communities).to.deep.equal(['65000:7']);
          expect(seen.largeCommunities).to.deep.equal(['65000:7:8']);
          if (ibgp) expect(seen.localPref).to.equal(250);
          herald.send({
            cmd: 'set',
            routes: [
              { prefix: kept, communities: [65000 * 65536 + 7], largeCommunities: [[65000, 7, 8]], localPref: 250 },
            ],
          });
          await eventually(
            () => !router.prefixes().includes(gone) || undefined,
            `the withdrawal at ${name}`,
            30_000,
            100,
          );
          expect(router.prefixes()).to.deep.equal([kept]);
        });
      }
    }
  }
});
