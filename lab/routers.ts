/**
 * The lab's upstream router, one of three real BGP daemons (`--router bird|frr|gobgp`),
 * passive towards every node, installing what it learns into its namespace's kernel table
 * with ECMP so the client's traffic follows: BIRD through its kernel protocol, FRR through its
 * zebra, GoBGP through the lab (syncGobgpFib). Which next hops the router uses is read from that kernel table, the
 * same for all three.
 */
import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Netns } from './netns.js';

export type RouterKind = 'bird' | 'frr' | 'gobgp';
export const ROUTERS: readonly RouterKind[] = ['bird', 'frr', 'gobgp'];

export interface RouterOptions {
  readonly net: Netns;
  readonly ns: string;
  readonly dir: string;
  readonly address: string;
  readonly asn: number;
  readonly neighbors: readonly { readonly name: string; readonly address: string; readonly asn: number }[];
  readonly logTo: (name: string, proc: ChildProcess) => ChildProcess;
}

/** The command each router needs (for the lab's preflight). */
export const ROUTER_TOOLS: Record<RouterKind, { readonly tools: readonly string[]; readonly apt: string }> = {
  bird: { tools: ['bird', 'birdc'], apt: 'bird2' },
  frr: { tools: ['/usr/lib/frr/zebra', '/usr/lib/frr/bgpd', 'vtysh'], apt: 'frr' },
  gobgp: { tools: ['gobgpd', 'gobgp'], apt: 'gobgpd' },
};

function frrUser(dir: string): void {
  // FRR's daemons drop to the frr user: their directory must be theirs, and the directories
  // above it (a state directory made by mkdtemp is 0700) must let it through.
  for (const up of [dirname(dirname(dir)), dirname(dir)]) chmodSync(up, statSync(up).mode | 0o001);
  try {
    const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  } catch {
    // no frr user: the daemons say so in their log
  }
}

function zebra(o: RouterOptions, dir: string): ChildProcess {
  writeFileSync(join(dir, 'zebra.conf'), 'hostname lab-router\nlog stdout informational\n');
  return o.logTo(
    'zebra',
    o.net.spawn(o.ns, '/usr/lib/frr/zebra', [
      '-f',
      join(dir, 'zebra.conf'),
      '-i',
      join(dir, 'zebra.pid'),
      '-z',
      join(dir, 'zserv.api'),
      '--vty_socket',
      dir,
      '-P',
      '0',
    ]),
  );
}

export async function startRouter(kind: RouterKind, o: RouterOptions): Promise<ChildProcess[]> {
  const dir = join(o.dir, kind);
  mkdirSync(dir, { recursive: true });
  if (kind === 'bird') {
    writeFileSync(
      join(dir, 'bird.conf'),
      `router id ${o.address};
protocol device {}
protocol kernel { ipv4 { export all; }; merge paths on; }
template bgp speakers { local ${o.address} as ${o.asn}; passive on; hold time 9; ipv4 { import all; export none; }; }
${o.neighbors.map((n) => `protocol bgp ${n.name.replace(/-/g, '_')} from speakers { neighbor ${n.address} as ${n.asn}; }`).join('\n')}
`,
    );
    return [
      o.logTo(
        'bird',
        o.net.spawn(o.ns, 'bird', [
          '-f',
          '-c',
          join(dir, 'bird.conf'),
          '-s',
          join(dir, 'bird.ctl'),
          '-P',
          join(dir, 'bird.pid'),
        ]),
      ),
    ];
  }
  if (kind === 'frr') {
    frrUser(dir);
    writeFileSync(
      join(dir, 'bgpd.conf'),
      `hostname lab-router
log stdout informational
router bgp ${o.asn}
 bgp router-id ${o.address}
 no bgp ebgp-requires-policy
${o.neighbors.map((n) => ` neighbor ${n.address} remote-as ${n.asn}\n neighbor ${n.address} passive\n neighbor ${n.address} timers 3 9`).join('\n')}
 address-family ipv4 unicast
  maximum-paths 16
${o.neighbors.map((n) => `  neighbor ${n.address} route-map none-out out`).join('\n')}
 exit-address-family
route-map none-out deny 10
`,
    );
    return [
      zebra(o, dir),
      o.logTo(
        'bgpd',
        o.net.spawn(o.ns, '/usr/lib/frr/bgpd', [
          '-f',
          join(dir, 'bgpd.conf'),
          '-i',
          join(dir, 'bgpd.pid'),
          '-z',
          join(dir, 'zserv.api'),
          '--vty_socket',
          dir,
          '-P',
          '0',
        ]),
      ),
    ];
  }
  writeFileSync(
    join(dir, 'gobgpd.toml'),
    `[global.config]
  as = ${o.asn}
  router-id = "${o.address}"
[global.use-multiple-paths.config]
  enabled = true
${o.neighbors
  .map(
    (n) => `[[neighbors]]
  [neighbors.config]
    neighbor-address = "${n.address}"
    peer-as = ${n.asn}
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
  [neighbors.transport.config]
    passive-mode = true`,
  )
  .join('\n')}
`,
  );
  return [
    o.logTo(
      'gobgpd',
      o.net.spawn(o.ns, 'gobgpd', [
        '-f',
        join(dir, 'gobgpd.toml'),
        '-p',
        '--pprof-disable',
        '--api-hosts',
        `unix://${join(dir, 'api.sock')}`,
        '-l',
        'info',
      ]),
    ),
  ];
}

/**
 * GoBGP 3.10's zebra client cannot talk to FRR 8.4's zebra (it panics on the interface
 * messages), so for `--router gobgp` the lab installs GoBGP's best paths into the router's
 * kernel table itself, as zebra would: one multipath route per prefix, removed when withdrawn.
 */
export function syncGobgpFib(ns: string, dir: string, onError: (msg: string) => void): { stop(): void } {
  const api = `unix://${join(dir, 'gobgp', 'api.sock')}`;
  const installed = new Map<string, string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const run = (cmd: string, args: readonly string[]): Promise<string> =>
    new Promise((resolve) =>
      execFile(cmd, args, { encoding: 'utf8', timeout: 5000 }, (err, out) => resolve(err ? '' : out)),
    );
  const tick = async (): Promise<void> => {
    const want = new Map<string, string>();
    for (const family of ['ipv4', 'ipv6']) {
      const out = await run('gobgp', ['--target', api, 'global', 'rib', '-a', family, '-j']);
      if (out.trim() === '') continue;
      try {
        const rib = JSON.parse(out) as Record<
          string,
          { attrs?: { nexthop?: string; mp_reach?: { nexthop?: string; nexthops?: string[] } }[] }[]
        >;
        for (const [prefix, paths] of Object.entries(rib)) {
          const hops = [
            ...new Set(
              paths.flatMap((p) =>
                (p.attrs ?? [])
                  .flatMap((a) => [a.nexthop, ...(a.mp_reach?.nexthops ?? [])])
                  .filter((h): h is string => typeof h === 'string' && h !== ''),
              ),
            ),
          ].sort();
          if (hops.length > 0) want.set(prefix, hops.join(' '));
        }
      } catch (err) {
        onError(`gobgp rib: ${(err as Error).message}`);
      }
    }
    for (const [prefix, hops] of want) {
      if (installed.get(prefix) === hops) continue;
      const v6 = prefix.includes(':') ? ['-6'] : [];
      await run('ip', [
        'netns',
        'exec',
        ns,
        'ip',
        ...v6,
        'route',
        'replace',
        prefix,
        'proto',
        'bgp',
        ...hops.split(' ').flatMap((h) => ['nexthop', 'via', h]),
      ]);
      installed.set(prefix, hops);
    }
    for (const prefix of [...installed.keys()]) {
      if (want.has(prefix)) continue;
      await run('ip', [
        'netns',
        'exec',
        ns,
        'ip',
        ...(prefix.includes(':') ? ['-6'] : []),
        'route',
        'del',
        prefix,
        'proto',
        'bgp',
      ]);
      installed.delete(prefix);
    }
  };
  const loop = (): void => {
    if (stopped) return;
    void tick().finally(() => {
      if (!stopped) timer = setTimeout(loop, 100);
    });
  };
  loop();
  return {
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** The next hops the router's kernel uses for `ip` (host route), sorted. */
export function routerNextHops(ns: string, ip: string): string[] {
  try {
    const out = execFileSync(
      'ip',
      [
        'netns',
        'exec',
        ns,
        'ip',
        ...(ip.includes(':') ? ['-6'] : []),
        'route',
        'show',
        'exact',
        `${ip}/${ip.includes(':') ? 128 : 32}`,
      ],
      { encoding: 'utf8' },
    );
    return [...out.matchAll(/via (\S+)/g)].map((m) => m[1]!).sort();
  } catch {
    return [];
  }
}
