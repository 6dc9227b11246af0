/**
 * bench/bgp-failover (issue 17): how long a router keeps sending traffic to a node that is
 * gone. Three nodes (test/support/speaker-cluster.ts: the embedded API server, the controller,
 * a `herald speaker` process per node namespace, BIRD as the router) announce one Service's
 * address; then, trial after trial, the last node
 *   - loses its own link (`ip -n NODE link set eth0 down`: a cable pull or a NIC reset), or
 *   - has its speaker SIGKILLed (the kernel closes its sockets; no Cease is sent),
 * and the bench times how long BIRD's RIB still holds that node's next hop (BIRD's control
 * socket polled every 2 ms). After each trial the node comes back (link up, speaker started
 * again) and the next trial waits until BIRD has the route from all three nodes again.
 *
 * Same-run reference: the speaker stopped with SIGTERM, which closes its session with a Cease
 * NOTIFICATION, the fastest a withdrawal can reach BIRD; every figure is also given as a
 * ratio to it. The hold time is 3 s (BGPPeer holdTime, negotiated down from BIRD's 9 s and
 * checked in BIRD's protocol state), so a link cut is bounded by it.
 *
 * BFD: `--bfd-ms 100 --bfd-multiplier 3` runs a second variant in the same run: a BFDProfile
 * with those intervals named by the BGPPeer's `bfdProfile`, and BIRD running `protocol bfd`
 * with `bfd on` for the speakers. (Until the speaker runs BFD itself, that variant measures
 * the hold timer again: BIRD only acts on a BFD session that was Up.)
 *
 * Addresses: the LAN 192.0.2.0/24, the Service from 203.0.113.0/28 (documentation ranges).
 *
 *   sudo npm run bench:bgp-failover -- [--trials 20] [--hold 3] [--bfd-ms 100 --bfd-multiplier 3]
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { ENDPOINT_SLICES, SERVICES, heraldResource, type KubeObject } from '../src/k8s/index.js';
import { SpeakerCluster } from '../test/support/speaker-cluster.js';
import { BirdCtl } from './support/bird-ctl.js';
import { arg, pct, until } from './support/common.js';
import { HERALD_NAMESPACE, SERVICE_NAME_LABEL } from '../src/api/names.js';

const NS = HERALD_NAMESPACE;
const NODE_IPS: Record<string, string> = { 'node-a': '192.0.2.1', 'node-b': '192.0.2.2', 'node-c': '192.0.2.3' };
const VICTIM = 'node-c';
const RECOVER_MS = 90_000;

/** The BFD settings of a variant: a BFDProfile with these intervals, named by the BGPPeer. */
export interface BfdOption {
  readonly intervalMs: number;
  readonly multiplier: number;
}

interface Variant {
  readonly name: string;
  readonly holdSeconds: number;
  readonly bfd?: BfdOption;
}

type EventName = 'link cut' | 'SIGKILL' | 'SIGTERM (reference)';

interface Row {
  readonly variant: string;
  readonly event: EventName;
  readonly ms: number[];
}

/** The node addresses BIRD's RIB has a route to `prefix` through. */
async function nextHops(ctl: BirdCtl, prefix: string): Promise<Set<string>> {
  const lines = await ctl.command(`show route ${prefix} all`);
  const out = new Set<string>();
  for (const l of lines) for (const m of l.matchAll(/via (\d+\.\d+\.\d+\.\d+)/g)) out.add(m[1]!);
  return out;
}

async function exited(p: ChildProcess): Promise<void> {
  await until(() => p.exitCode !== null || p.signalCode !== null, 'the speaker to exit', 20_000, 5);
}

async function runVariant(v: Variant, trials: number, say: (s: string) => void): Promise<Row[]> {
  // BIRD waits 60 s to 300 s after a session error before it takes the peer back (error wait
  // time): 1-2 s here, so trials follow each other quickly. Detection is not affected.
  const recovery = 'error wait time 1,2; error forget time 10;';
  const bird = v.bfd
    ? {
        bfd: `interface "eth0" { min rx interval ${v.bfd.intervalMs} ms; min tx interval ${v.bfd.intervalMs} ms; multiplier ${v.bfd.multiplier}; };`,
        neighbor: { extra: recovery, bfd: true },
      }
    : { neighbor: { extra: recovery } };
  const e = new SpeakerCluster(NS, NODE_IPS, { bird });
  let ctl: BirdCtl | undefined;
  try {
    await e.start();
    const c = e.c!.client;
    if (v.bfd) {
      await c.create(heraldResource('BFDProfile'), {
        metadata: { name: 'failover', namespace: NS },
        spec: {
          receiveInterval: v.bfd.intervalMs,
          transmitInterval: v.bfd.intervalMs,
          detectMultiplier: v.bfd.multiplier,
        },
      } as KubeObject);
    }
    await c.patch(heraldResource('BGPPeer'), NS, 'router', {
      spec: { holdTime: `${v.holdSeconds}s`, ...(v.bfd ? { bfdProfile: 'failover' } : {}) },
    });
    await c.create(SERVICES, {
      metadata: { name: 'web', namespace: 'default', annotations: { 'herald.dev/address-pool': 'routed' } },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    await c.create(ENDPOINT_SLICES, {
      metadata: { name: 'web-1', namespace: 'default', labels: { [SERVICE_NAME_LABEL]: 'web' } },
      addressType: 'IPv4',
      endpoints: Object.entries(NODE_IPS).map(([node, ip]) => ({
        addresses: [ip],
        nodeName: node,
        conditions: { ready: true },
      })),
      ports: [{ port: 80 }],
    } as KubeObject);
    let ip: string | undefined;
    await until(
      async () => {
        ip = ((await c.get(SERVICES, 'default', 'web'))['status'] as { loadBalancer?: { ingress?: { ip: string }[] } })
          .loadBalancer?.ingress?.[0]?.ip;
        return ip !== undefined;
      },
      'the Service address',
      30_000,
      50,
    );
    const prefix = `${ip!}/32`;
    ctl = await BirdCtl.connect(e.bird!.ctl);
    const all = async (): Promise<boolean> => (await nextHops(ctl!, prefix)).size === Object.keys(NODE_IPS).length;
    await until(all, 'the route from every node at BIRD', RECOVER_MS, 50);
    const proto = VICTIM.replace('-', '_');
    const hold = /Hold timer:\s+[\d.]+\/(\d+)/.exec((await ctl.command(`show protocols all ${proto}`)).join('\n'))?.[1];
    if (Number(hold) !== v.holdSeconds)
      throw new Error(`BIRD's hold time with ${VICTIM} is ${hold ?? '?'} s, not ${v.holdSeconds} s`);
    say(
      `${v.name}: ${prefix} routed via ${[...(await nextHops(ctl, prefix))].sort().join(', ')}; hold time ${hold} s at BIRD`,
    );

    const victimIp = NODE_IPS[VICTIM]!;
    const nodeNs = e.nodeNs(VICTIM);
    const events: { name: EventName; cut: () => void; heal: () => Promise<void> }[] = [
      {
        name: 'link cut',
        cut: () => void spawnSync('ip', ['-n', nodeNs, 'link', 'set', 'eth0', 'down']),
        heal: () => Promise.resolve(void spawnSync('ip', ['-n', nodeNs, 'link', 'set', 'eth0', 'up'])),
      },
      { name: 'SIGKILL', cut: () => e.speakers[VICTIM]!.kill('SIGKILL'), heal: () => restart() },
      { name: 'SIGTERM (reference)', cut: () => e.speakers[VICTIM]!.kill('SIGTERM'), heal: () => restart() },
    ];
    async function restart(): Promise<void> {
      await exited(e.speakers[VICTIM]!);
      e.spawnSpeaker(VICTIM);
    }
    const rows: Row[] = [];
    for (const ev of events) {
      const ms: number[] = [];
      for (let i = 0; i < trials; i++) {
        await until(all, `the route from every node at BIRD before ${ev.name} trial ${i + 1}`, RECOVER_MS, 50);
        const t0 = performance.now();
        ev.cut();
        await until(
          async () => !(await nextHops(ctl!, prefix)).has(victimIp),
          `BIRD to drop ${VICTIM}'s next hop after ${ev.name}`,
          60_000,
          2,
        );
        ms.push(performance.now() - t0);
        await ev.heal();
      }
      say(`${v.name}: ${ev.name}: p50 ${pct(ms, 50).toFixed(0)} ms, p99 ${pct(ms, 99).toFixed(0)} ms`);
      rows.push({ variant: v.name, event: ev.name, ms });
    }
    return rows;
  } finally {
    ctl?.close();
    await e.stop();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/bgp-failover needs root (network namespaces)');
  const trials = arg('trials', 20);
  const holdSeconds = arg('hold', 3);
  const bfdMs = arg('bfd-ms', 0);
  const variants: Variant[] = [{ name: 'no BFD', holdSeconds }];
  if (bfdMs > 0)
    variants.push({
      name: `BFD ${bfdMs} ms x ${arg('bfd-multiplier', 3)}`,
      holdSeconds,
      bfd: { intervalMs: bfdMs, multiplier: arg('bfd-multiplier', 3) },
    });
  const say = (s: string): void => void process.stderr.write(`${s}\n`);
  const rows: Row[] = [];
  for (const v of variants) rows.push(...(await runVariant(v, trials, say)));
  console.log(
    `bench/bgp-failover: 3 nodes announce one /32 to BIRD; ${VICTIM} fails; time until BIRD's RIB no longer has its next hop (${trials} trials each, hold time ${holdSeconds} s)`,
  );
  console.log('variant          event                  p50 ms   p99 ms   min ms   max ms   p50 / reference');
  for (const r of rows) {
    const ref = rows.find((x) => x.variant === r.variant && x.event === 'SIGTERM (reference)');
    const ratio = ref ? pct(r.ms, 50) / pct(ref.ms, 50) : NaN;
    console.log(
      `${r.variant.padEnd(16)} ${r.event.padEnd(22)} ${pct(r.ms, 50).toFixed(0).padStart(6)} ${pct(r.ms, 99).toFixed(0).padStart(8)} ${Math.min(
        ...r.ms,
      )
        .toFixed(0)
        .padStart(8)} ${Math.max(...r.ms)
        .toFixed(0)
        .padStart(8)}   ${ratio.toFixed(2)}x`,
    );
  }
  console.log(
    `reference: SIGTERM closes the session with a Cease NOTIFICATION; a link cut is bounded by the hold time (${holdSeconds * 1000} ms)`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
