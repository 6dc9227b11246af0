/**
 * bench/soak (issue 18 items 4 and 6): flaps and outages, and what they leave behind.
 *
 * 1. engine: Herald's BGP session (test/support/bgp-driver.ts under --expose-gc) against BIRD
 *    over IPv6, flapped N times (BIRD protocol disable/enable, a clean BIRD restart, kill -9 of
 *    BIRD, in turn); every route counted back at BIRD each time. Growth of RSS, JS heap and
 *    external memory after a forced GC, active handles by type and open fds, from the state
 *    after the 5th flap (warm) to the end. Then BIRD is killed mid-UPDATE (30,000 /128s on
 *    the wire) and restarted: every route must arrive.
 * 2. speaker, BGP: three `herald speaker` processes (test/support/speaker-cluster.ts) announce
 *    a Service's /32 to BIRD; node-c's protocol is flapped N times at BIRD (disable/enable and
 *    `birdc restart`, in turn); node-c's route back each time. RSS (after 2 s of settle, no
 *    forced GC: the speaker runs as shipped) and /proc/PID/fd of node-c's speaker.
 * 3. speaker, SWIM: with the memberlist Secret, node-c's speaker is stopped (SIGTERM) and
 *    started again N times; each time node-a must see it leave and come back (its membership
 *    log) and BIRD must get node-c's route back. RSS and fds of node-a's speaker.
 * 4. the API server unreachable for --outage seconds (test/support/api-outage.ts).
 * 5. SWIM member flaps by link cut (test/support/swim-link-flaps.ts): the owner of a Layer 2
 *    address has its own eth0 set down and up --swim-link-flaps times; detection, take-over,
 *    rejoin and answer-again times, and the other speakers' fds by kind and RSS from after
 *    flap 5 to the end (3 s settle, no forced GC).
 *
 * Addresses: 192.0.2.0/24 LAN, 203.0.113.0/28 Service pool, 2001:db8:100::/48 engine routes.
 *
 *   sudo npm run bench:soak -- [--flaps 100] [--swim-flaps 100] [--outage 60] [--swim-link-flaps 100] [--parts 12345]
 */
import { readdirSync } from 'node:fs';
import { membershipLog, nextHops, runApiOutage } from '../test/support/api-outage.js';
import { BgpFlapRig, type FlapKind, type Health } from '../test/support/bgp-flap-rig.js';
import { Netns } from '../test/support/netns.js';
import { SpeakerCluster } from '../test/support/speaker-cluster.js';
import { runSwimLinkFlaps, type ProcessHealth } from '../test/support/swim-link-flaps.js';
import { ENDPOINT_SLICES, SECRETS, SERVICES, type KubeObject } from '../src/k8s/index.js';
import { arg, pct, sleep, until } from './support/common.js';
import { rssBytes } from './support/proc-stats.js';
import { HERALD_NAMESPACE, MEMBERLIST_SECRET, MEMBERLIST_SECRET_KEY, SERVICE_NAME_LABEL } from '../src/api/names.js';

const NS = HERALD_NAMESPACE;
const NODE_IPS: Record<string, string> = { 'node-a': '192.0.2.1', 'node-b': '192.0.2.2', 'node-c': '192.0.2.3' };
const MB = 1024 * 1024;
const say = (s: string): void => void process.stderr.write(`${s}\n`);
const mb = (b: number): string => `${b >= 0 ? '+' : ''}${(b / MB).toFixed(2)} MB`;
const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

function handleDiff(a: Health, b: Health): string {
  const types = new Set([...Object.keys(a.resources), ...Object.keys(b.resources)]);
  return [...types]
    .sort()
    .map((t) => `${t} ${a.resources[t] ?? 0}->${b.resources[t] ?? 0}`)
    .join(', ');
}

async function engine(flaps: number): Promise<string[]> {
  const net = new Netns();
  const rig = new BgpFlapRig(net, 1000);
  const kinds: FlapKind[] = ['disable', 'restart', 'kill'];
  try {
    await rig.start();
    const ms: number[] = [];
    let warm: Health | undefined;
    for (let i = 0; i < flaps; i++) {
      await rig.flap(kinds[i % kinds.length]!);
      ms.push(await rig.allRoutes());
      if (i === 4) warm = await rig.health();
      if ((i + 1) % 20 === 0) say(`engine: ${i + 1} flaps`);
    }
    await sleep(2000);
    const end = await rig.health();
    const mid = await rig.killMidUpdate(30_000);
    const midMs = await rig.allRoutes(120_000);
    return [
      `engine: ${flaps} flaps (disable/enable, restart, kill -9) of a 1,000-route session: every route back each time (p50 ${pct(ms, 50).toFixed(0)} ms, p99 ${pct(ms, 99).toFixed(0)} ms)`,
      `engine: after flap 5 -> after flap ${flaps}, forced GC: RSS ${mb(end.rss - warm!.rss)} (${(end.rss / MB).toFixed(1)} MB), heap ${mb(end.heapUsed - warm!.heapUsed)}, external ${mb(end.external - warm!.external)}; fds ${warm!.fds}->${end.fds}; handles ${handleDiff(warm!, end)}`,
      `engine: BIRD killed mid-UPDATE with ${mid.seenBeforeKill - 1000} of 30,000 new routes in: all 31,000 at BIRD ${(midMs / 1000).toFixed(1)} s after its restart`,
    ];
  } finally {
    await net.teardown();
    rig.cleanup();
  }
}

async function cluster(): Promise<{ e: SpeakerCluster; prefix: string }> {
  const e = new SpeakerCluster(NS, NODE_IPS, {
    bird: { neighbor: { extra: 'error wait time 1,2; error forget time 10;' } },
  });
  try {
    return { e, prefix: await announce(e) };
  } catch (err) {
    await e.stop();
    throw err;
  }
}

/** Starts the cluster and a BGP Service announced by every node; returns its /32. */
async function announce(e: SpeakerCluster): Promise<string> {
  await e.start();
  const c = e.c!.client;
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
  let ip = '';
  await until(
    async () => {
      ip =
        ((await c.get(SERVICES, 'default', 'web'))['status'] as { loadBalancer?: { ingress?: { ip: string }[] } })
          .loadBalancer?.ingress?.[0]?.ip ?? '';
      return ip !== '';
    },
    'the Service address',
    30_000,
    50,
  );
  const prefix = `${ip}/32`;
  await until(() => nextHops(e, prefix).size === 3, 'the route from every node', 90_000, 100);
  return prefix;
}

async function speakerBgp(flaps: number): Promise<string[]> {
  const { e, prefix } = await cluster();
  try {
    const pid = e.speakers['node-c']!.pid!;
    const ms: number[] = [];
    let warm = { rss: 0, fds: 0 };
    for (let i = 0; i < flaps; i++) {
      if (i % 2 === 0) {
        e.bird!.birdc('disable', 'node_c');
        await until(() => !nextHops(e, prefix).has('192.0.2.3'), 'node-c withdrawn', 30_000, 20);
        e.bird!.birdc('enable', 'node_c');
      } else e.bird!.birdc('restart', 'node_c');
      const t0 = performance.now();
      await until(() => nextHops(e, prefix).size === 3, `node-c's route back after flap ${i + 1}`, 90_000, 50);
      ms.push(performance.now() - t0);
      if (i === 4) {
        await sleep(2000);
        warm = { rss: rssBytes(pid), fds: fdCount(pid) };
      }
      if ((i + 1) % 20 === 0) say(`speaker BGP: ${i + 1} flaps`);
    }
    await sleep(2000);
    const end = { rss: rssBytes(pid), fds: fdCount(pid) };
    return [
      `speaker BGP: ${flaps} flaps of node-c's session at BIRD (disable/enable, birdc restart): route back each time (p50 ${pct(ms, 50).toFixed(0)} ms, p99 ${pct(ms, 99).toFixed(0)} ms)`,
      `speaker BGP: node-c's speaker after flap 5 -> after flap ${flaps} (2 s settle, no forced GC): RSS ${mb(end.rss - warm.rss)} (${(end.rss / MB).toFixed(1)} MB), fds ${warm.fds}->${end.fds}`,
    ];
  } finally {
    await e.stop();
  }
}

async function speakerSwim(flaps: number): Promise<string[]> {
  const { e, prefix } = await cluster();
  try {
    // The fixture may already hold the memberlist Secret; the UDP failure detector runs once it exists.
    if (!(await e.c!.client.tryGet(SECRETS, NS, MEMBERLIST_SECRET)))
      await e.c!.client.create(SECRETS, {
        metadata: { name: MEMBERLIST_SECRET, namespace: NS },
        data: { [MEMBERLIST_SECRET_KEY]: Buffer.from('soak-memberlist-key-0123456789abcdef').toString('base64') },
      } as KubeObject);
    await until(
      () => (e.logs['node-a'] ?? '').includes('SWIM failure detector running'),
      'SWIM on node-a',
      30_000,
      100,
    );
    const pid = e.speakers['node-a']!.pid!;
    const ms: number[] = [];
    let warm = { rss: 0, fds: 0 };
    const membership = (from: number): string[] => membershipLog(e.logs['node-a'] ?? '', from);
    for (let i = 0; i < flaps; i++) {
      const from = (e.logs['node-a'] ?? '').length;
      const victim = e.speakers['node-c']!;
      victim.kill('SIGTERM');
      await until(() => victim.exitCode !== null || victim.signalCode !== null, 'node-c to stop', 30_000, 20);
      await until(() => membership(from).some((a) => !a.includes('node-c')), 'node-a to see node-c leave', 30_000, 20);
      const t0 = performance.now();
      e.spawnSpeaker('node-c');
      await until(
        () =>
          membership(from).some(
            (a, j, all) => a.includes('node-c') && all.slice(0, j).some((x) => !x.includes('node-c')),
          ),
        'node-a to see node-c back',
        60_000,
        20,
      );
      await until(() => nextHops(e, prefix).size === 3, `node-c's route back after SWIM flap ${i + 1}`, 90_000, 50);
      ms.push(performance.now() - t0);
      if (i === 4) {
        await sleep(2000);
        warm = { rss: rssBytes(pid), fds: fdCount(pid) };
      }
      if ((i + 1) % 10 === 0) say(`speaker SWIM: ${i + 1} flaps`);
    }
    await sleep(2000);
    const end = { rss: rssBytes(pid), fds: fdCount(pid) };
    return [
      `speaker SWIM: ${flaps} member flaps (node-c's speaker stopped and started): node-a saw each leave and return, node-c's route back each time (start to route: p50 ${pct(ms, 50).toFixed(0)} ms, p99 ${pct(ms, 99).toFixed(0)} ms)`,
      `speaker SWIM: node-a's speaker after flap 5 -> after flap ${flaps} (2 s settle, no forced GC): RSS ${mb(end.rss - warm.rss)} (${(end.rss / MB).toFixed(1)} MB), fds ${warm.fds}->${end.fds}`,
    ];
  } finally {
    await e.stop();
  }
}

async function outage(seconds: number): Promise<string[]> {
  const e = new SpeakerCluster(NS, NODE_IPS);
  try {
    await e.start();
    const f = await runApiOutage(e, NODE_IPS, seconds * 1000);
    return [
      `API outage ${seconds} s: BIRD polled ${f.birdChecks}x, ${f.birdMisses} missing a node's route; arping ${f.arpChecks}x, ${f.arpMisses} unanswered, at most ${f.maxAnswering} MAC(s) per round; ${f.serviceChanges} Service changes in the store, ${f.addressLosses.length} address changes/losses${f.addressLosses.length ? ` (${f.addressLosses.join('; ')})` : ''}`,
      `API outage ${seconds} s: API back -> a new Service assigned and its /32 at BIRD from every node in ${(f.recoveryMs / 1000).toFixed(1)} s, no process restarted`,
    ];
  } finally {
    await e.stop();
  }
}

const kinds = (a: ProcessHealth, b: ProcessHealth): string =>
  [...new Set([...Object.keys(a.byKind), ...Object.keys(b.byKind)])]
    .sort()
    .map((k) => `${k} ${a.byKind[k] ?? 0}->${b.byKind[k] ?? 0}`)
    .join(', ');

async function swimLinkFlaps(flaps: number): Promise<string[]> {
  const e = new SpeakerCluster(NS, NODE_IPS);
  try {
    await e.start();
    const f = await runSwimLinkFlaps(e, NODE_IPS, flaps, {
      warmAfter: 5,
      settleMs: 3000,
      onFlap: (i) => (i % 10 === 0 ? say(`SWIM link flaps: ${i}`) : undefined),
    });
    const p = (xs: readonly number[]): string =>
      `p50 ${pct([...xs], 50).toFixed(0)} ms, p99 ${pct([...xs], 99).toFixed(0)} ms`;
    return [
      `SWIM link flaps: ${flaps} cuts of ${f.victim}'s own eth0 (it owned the L2 address): gone at the others ${p(f.detectMs)}; another node answering ARP ${p(f.takeoverMs)}; after the link is back, member back ${p(f.rejoinMs)}, answering again ${p(f.backMs)}; speakers exited: ${f.exited.length}`,
      ...Object.keys(f.end).map(
        (n) =>
          `SWIM link flaps: ${n}'s speaker after flap 5 -> after flap ${flaps} (3 s settle, no forced GC): RSS ${mb((f.end[n]!.rssKb - f.warm[n]!.rssKb) * 1024)} (${(f.end[n]!.rssKb / 1024).toFixed(1)} MB), fds ${f.warm[n]!.fds}->${f.end[n]!.fds} (${kinds(f.warm[n]!, f.end[n]!)})`,
      ),
    ];
  } finally {
    await e.stop();
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/soak needs root (network namespaces)');
  const flaps = arg('flaps', 100);
  const swimFlaps = arg('swim-flaps', 100);
  const outageSeconds = arg('outage', 60);
  const linkFlaps = arg('swim-link-flaps', 100);
  const parts = String(arg('parts', 12345));
  console.log('bench/soak: flaps and outages (issue 18)');
  const print = (lines: string[]): void => lines.forEach((l) => console.log(l));
  if (parts.includes('1')) print(await engine(flaps));
  if (parts.includes('2')) print(await speakerBgp(flaps));
  if (parts.includes('3')) print(await speakerSwim(swimFlaps));
  if (parts.includes('4')) print(await outage(outageSeconds));
  if (parts.includes('5')) print(await swimLinkFlaps(linkFlaps));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
