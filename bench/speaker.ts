/**
 * One speaker with N announced BGP Services (issue #7): its RSS and idle CPU once BIRD holds
 * every route, and the time from a Service's IP assignment (the status patch the controller
 * would make) to the route at BIRD.
 *
 * The embedded API server runs as its own process (or, with `--kubernetes real`, etcd +
 * kube-apiserver from scripts/kube-up.sh, reached from the node namespace through a Unix
 * socket forwarder); the speaker (`bin/herald.js speaker`) runs
 * as its own process in a node namespace and reaches the API through lab/ns-forwarder.ts; BIRD
 * runs in a router namespace over a veth. References printed beside the figures, all from the
 * same run: the same speaker before any Service exists (RSS and idle CPU), BIRD holding the
 * same routes (RSS and CPU over the same window), the issue's targets, and for the latency the
 * time until the bench's own watch sees the patched Service (the API's delivery floor), and a
 * plain loop of N Service status patches through the same client (the server's write floor).
 *
 * Addresses: the pool is 198.18.0.0/15, the RFC 2544 benchmark block: allowed in benches only
 * (10k addresses do not fit the RFC 5737 documentation ranges), never in tests; up to 130,000
 * Services, the trials' addresses are 198.19.255.x. The Services are single-stack IPv6 so their
 * cluster IPs come from 2001:db8:fff::/108 (a /16 of IPv4 cluster IPs ran out before 100k; the
 * speaker announces the load-balancer address, whatever the cluster IP's family). The links
 * use 192.0.2.0/24.
 *
 *   sudo npx tsx bench/speaker.ts [--n 10000] [--trials 50] [--window 20] [--tsx] [--kubernetes embedded|real]
 *     [--service-status per-node|per-service]   (the speaker's flag; per-node, its default, writes BGPNodeStatus shards)
 *   HERALD_BENCH_SPEAKER_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' profiles the speaker.
 *   HERALD_BENCH_SPEAKER_LOG=FILE keeps the speaker's whole log there (each trial is logged too).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseAllDocuments } from 'yaml';
import { IP_ALLOCATED_FROM_POOL } from '../src/api/annotations.js';
import {
  ENDPOINT_SLICES,
  heraldResource,
  KubeClient,
  NAMESPACES,
  NODES,
  SECRETS,
  SERVICES,
  type KubeObject,
  type WatchStream,
} from '../src/k8s/index.js';
import { Netns } from '../lab/netns.js';
import { SERVICE_STATUS_MODES, type ServiceStatusMode } from '../speaker/status-sets.js';
import { birdConf } from '../test/support/bird-conf.js';
import { REPO_ROOT } from '../test/support/crds.js';
import { ApiWrites } from './support/api-writes.js';
import { BirdCtl } from './support/bird-ctl.js';
import { heraldCommand } from './support/herald-command.js';
import { childPids, clockTicks, cpuPercent, peakRssBytes, rssBytes } from './support/proc-stats.js';
import { arg, pct, pool, sleep, until } from './support/common.js';
import { kubernetesArg, startRealBenchKube, type BenchKubernetes, type RealBenchKube } from './support/kube-server.js';

const NS = 'herald-system';
const APP_NS = 'bench';
const PLAIN_NS = 'plain';
const NODE = 'node-a';
const POOL = 'bench';
const TARGET_RSS_MB = 120;
const TARGET_IDLE_CPU = 1;

/**
 * Waits (at most 180 s) until the process's RSS moved by less than 1 MB over 20 s, sampled
 * each second: after a burst V8's memory reducer returns the garbage in rounds, some seconds
 * apart, and that work is not idleness. Returns the seconds waited.
 */
async function settle(pid: number): Promise<number> {
  const t = performance.now();
  const samples: number[] = [];
  while (performance.now() - t < 180_000) {
    samples.push(rssBytes(pid));
    const last = samples.slice(-21);
    if (last.length === 21 && Math.max(...last) - Math.min(...last) < 1024 * 1024) break;
    await sleep(1000);
  }
  return (performance.now() - t) / 1000;
}

/** Services this bench can address: 198.18.0.1 upwards, below the trials' 198.19.255.x. */
const MAX_N = 130_000;

/** The i-th benchmark address, 198.18.0.1 upwards through 198.19.x.x. */
function benchIP(i: number): string {
  const v = i + 1;
  return `198.${18 + (v >> 16)}.${(v >> 8) & 255}.${v & 255}`;
}

const mb = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);

interface Run {
  dir: string;
  net: Netns;
  api?: ChildProcess;
  real?: RealBenchKube;
  client?: KubeClient;
  bird?: BirdCtl;
  watches: WatchStream[];
  speaker?: ChildProcess;
  speakerLog: string[];
}

async function cleanup(run: Run): Promise<void> {
  for (const w of run.watches) w.stop();
  run.bird?.close();
  run.client?.close();
  // A graceful stop lets --cpu-prof write its profile.
  const sp = run.speaker;
  if (sp && sp.exitCode === null && sp.signalCode === null) {
    sp.kill('SIGTERM');
    await Promise.race([new Promise((r) => sp.once('exit', r)), sleep(10_000)]);
  }
  await run.net.teardown();
  if (run.api && run.api.exitCode === null) {
    run.api.kill('SIGTERM');
    await Promise.race([new Promise((r) => run.api!.once('exit', r)), sleep(5_000)]);
    if (run.api.exitCode === null) run.api.kill('SIGKILL');
  }
  await run.real?.stop();
  rmSync(run.dir, { recursive: true, force: true });
}

/** NODE_OPTIONS from the speaker container's env in manifests/speaker.yaml, as arguments. */
function manifestNodeOptions(): string[] {
  for (const doc of parseAllDocuments(readFileSync(join(REPO_ROOT, 'manifests', 'speaker.yaml'), 'utf8'))) {
    const o = doc.toJS() as {
      kind?: string;
      spec?: { template?: { spec?: { containers?: { name: string; env?: { name: string; value?: string }[] }[] } } };
    } | null;
    if (o?.kind !== 'DaemonSet') continue;
    const env = o.spec?.template?.spec?.containers?.find((c) => c.name === 'speaker')?.env ?? [];
    return (env.find((e) => e.name === 'NODE_OPTIONS')?.value ?? '').split(' ').filter((a) => a !== '');
  }
  return [];
}

/** The embedded API server as its own process, serving `sock` too. */
async function startEmbedded(run: Run, sock: string, kubeconfig: string): Promise<ChildProcess> {
  const api = (run.api = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'bench', 'support', 'apiserver-process.ts'),
      sock,
      kubeconfig,
      '2001:db8:fff::/108',
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  ));
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: api.stdout! }).on('line', (l) => (l.startsWith('ready') ? resolve() : undefined));
    api.once('exit', (code) => reject(new Error(`the API server exited (${code})`)));
  });
  return api;
}

/**
 * The Services this node's BGP status objects list, from a watch of either kind: one
 * ServiceBGPStatus per Service (per-service), or the services[] of BGPNodeStatus shards (per-node).
 */
class StatusSeen {
  private readonly byObject = new Map<string, readonly string[]>();
  private readonly count = new Map<string, number>();

  constructor(readonly mode: ServiceStatusMode) {}

  get kind(): string {
    return this.mode === 'per-node' ? 'BGPNodeStatus' : 'ServiceBGPStatus';
  }

  get size(): number {
    return this.count.size;
  }

  has(service: string): boolean {
    return this.count.has(service);
  }

  /** A watch event for object `name`. */
  event(type: string, name: string, status: unknown): void {
    const st = (status ?? {}) as { serviceName?: string; services?: { name?: string }[] };
    const now =
      type === 'DELETED'
        ? []
        : this.mode === 'per-node'
          ? (st.services ?? []).map((x) => x.name ?? '')
          : st.serviceName
            ? [st.serviceName]
            : [];
    for (const svc of this.byObject.get(name) ?? []) {
      const c = (this.count.get(svc) ?? 1) - 1;
      if (c > 0) this.count.set(svc, c);
      else this.count.delete(svc);
    }
    this.byObject.set(name, now);
    for (const svc of now) this.count.set(svc, (this.count.get(svc) ?? 0) + 1);
  }
}

async function bench(
  run: Run,
  opts: {
    n: number;
    trials: number;
    windowSecs: number;
    tsx: boolean;
    kubernetes: BenchKubernetes;
    serviceStatus: ServiceStatusMode;
  },
): Promise<string[]> {
  const { n, trials, windowSecs } = opts;
  const { dir, net } = run;
  const hz = clockTicks();
  const speakerCmd = heraldCommand(dir, opts.tsx);
  // The API server, in its own process.
  const sock = join(dir, 'api.sock');
  const kubeconfig = join(dir, 'kubeconfig');
  let apiPid: number;
  if (opts.kubernetes === 'real') {
    // Cluster IPs for N Services: wider than kube-up.sh's default ranges.
    const real = (run.real = await startRealBenchKube('203.0.113.0/24,2001:db8:fff::/108'));
    await real.forward(sock);
    writeFileSync(kubeconfig, real.kubeconfig);
    apiPid = real.apiPid;
  } else apiPid = (await startEmbedded(run, sock, kubeconfig)).pid!;
  const apiName = run.real ? `${run.real.version} (with etcd; scripts/kube-up.sh)` : 'the embedded API server';
  const client = (run.client = KubeClient.fromString(readFileSync(kubeconfig, 'utf8')));
  // Write counts come from the embedded server's own process (SIGUSR2); a real kube-apiserver has no such count.
  const apiWrites = run.api ? new ApiWrites(run.api) : undefined;

  // The router and the node, one veth between them.
  const rtr = net.add('rtr');
  const node = net.add('node');
  net.link(rtr, ['192.0.2.254/24'], node, ['192.0.2.1/24']);
  const ctl = join(dir, 'bird.ctl');
  writeFileSync(
    join(dir, 'bird.conf'),
    birdConf({
      routerId: '192.0.2.254',
      as: 65001,
      neighbors: [{ name: 'node_a', address: '192.0.2.1', as: 65000, local: '192.0.2.254' }],
    }),
  );
  net.spawn(rtr, 'bird', ['-f', '-c', join(dir, 'bird.conf'), '-s', ctl, '-P', join(dir, 'bird.pid')]);
  await until(() => existsSync(ctl), 'BIRD to start', 10_000);
  const bird = (run.bird = await BirdCtl.connect(ctl));
  await until(() => existsSync(join(dir, 'bird.pid')), 'BIRD pid file', 10_000);
  const birdPid = Number(readFileSync(join(dir, 'bird.pid'), 'utf8').trim());

  // Cluster objects: one Node, a BGP pool, its advertisement and the peer.
  if (!(await client.tryGet(NAMESPACES, undefined, NS))) await client.create(NAMESPACES, { metadata: { name: NS } });
  await client.create(NAMESPACES, { metadata: { name: APP_NS } });
  await client.create(NAMESPACES, { metadata: { name: PLAIN_NS } });
  // The status again through /status: a real server may drop a status sent on create.
  const nodeStatus = {
    conditions: [{ type: 'Ready', status: 'True' }],
    addresses: [{ type: 'InternalIP', address: '192.0.2.1' }],
  };
  await client.create(NODES, {
    metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } },
    status: nodeStatus,
  });
  await client.patch(NODES, undefined, NODE, { status: nodeStatus }, { status: true });
  await client.create(heraldResource('IPAddressPool'), {
    metadata: { name: POOL, namespace: NS },
    spec: { addresses: ['198.18.0.0/15'] },
  } as KubeObject);
  await client.create(heraldResource('BGPAdvertisement'), {
    metadata: { name: POOL, namespace: NS },
    spec: { ipAddressPools: [POOL] },
  } as KubeObject);
  // The memberlist Secret the controller makes: with it the speaker runs its UDP failure
  // detector, as in a cluster (Leases are then only the fallback, renewed every 10 s).
  await client.create(SECRETS, {
    metadata: { name: 'herald-memberlist', namespace: NS },
    type: 'Opaque',
    data: { secretkey: Buffer.from('bench-memberlist-key-0123456789ab').toString('base64') },
  });
  await client.create(heraldResource('BGPPeer'), {
    metadata: { name: 'router', namespace: NS },
    spec: { myASN: 65000, peerASN: 65001, peerAddress: '192.0.2.254', holdTime: '9s' },
  } as KubeObject);

  // Watches: Services with an address (latency reference) and this node's BGP status objects.
  const seenAt = new Map<string, number>();
  const svcList = await client.list(SERVICES, { namespace: APP_NS, limit: 1 });
  run.watches.push(
    await client.watch(
      SERVICES,
      { namespace: APP_NS, resourceVersion: svcList.resourceVersion },
      (type, o) => {
        const ingress =
          (o['status'] as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress ?? [];
        if (type !== 'DELETED' && ingress.length > 0 && !seenAt.has(o.metadata.name))
          seenAt.set(o.metadata.name, performance.now());
      },
      () => undefined,
    ),
  );
  const statuses = new StatusSeen(opts.serviceStatus);
  const stList = await client.list(heraldResource(statuses.kind), { namespace: NS, limit: 1 });
  run.watches.push(
    await client.watch(
      heraldResource(statuses.kind),
      { namespace: NS, resourceVersion: stList.resourceVersion },
      (type, o) => statuses.event(type, o.metadata.name, o['status']),
      () => undefined,
    ),
  );

  // Reference: a plain loop of N status patches through the same client, before the speaker
  // runs (the Services are removed again, so the speaker never sees them).
  const plain = (i: number): KubeObject => ({
    metadata: { name: `p-${i}`, namespace: PLAIN_NS },
    spec: {
      type: 'LoadBalancer',
      ipFamilies: ['IPv6'],
      allocateLoadBalancerNodePorts: false,
      loadBalancerClass: 'example.com/reference',
      ports: [{ port: 80 }],
    },
  });
  await pool(n, 16, (i) => client.create(SERVICES, plain(i)));
  const plainSecs = await pool(n, 1, (i) =>
    client.patch(
      SERVICES,
      PLAIN_NS,
      `p-${i}`,
      { status: { loadBalancer: { ingress: [{ ip: benchIP(i), ipMode: 'VIP' }] } } },
      { status: true },
    ),
  );
  await pool(n, 16, (i) => client.delete(SERVICES, PLAIN_NS, `p-${i}`));

  // The speaker, in the node namespace, reaching the API through a forwarder on its loopback.
  net
    .spawn(node, process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'lab', 'ns-forwarder.ts'), '6443', sock], {
      cwd: REPO_ROOT,
    })
    .stdout!.resume();
  const speakerKc = join(dir, 'speaker.kubeconfig');
  writeFileSync(speakerKc, readFileSync(kubeconfig, 'utf8').replace(/127\.0\.0\.1:\d+/, '127.0.0.1:6443'));
  const nodeArgs = (process.env['HERALD_BENCH_SPEAKER_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
  // The speaker runs with the NODE_OPTIONS its DaemonSet sets (manifests/speaker.yaml).
  const nodeOptions = manifestNodeOptions();
  const speaker = (run.speaker = net.spawn(
    node,
    process.execPath,
    [
      ...nodeOptions,
      ...nodeArgs,
      ...speakerCmd,
      'speaker',
      '--kubeconfig',
      speakerKc,
      '--node',
      NODE,
      '--member-port',
      '7946',
      '--metrics-port',
      '0',
      '--metrics-host',
      '127.0.0.1',
      '--log-level',
      'info',
      '--service-status',
      opts.serviceStatus,
    ],
    { cwd: REPO_ROOT },
  ));
  speaker.stdout!.resume();
  const keepLog = process.env['HERALD_BENCH_SPEAKER_LOG'];
  if (keepLog) writeFileSync(keepLog, '');
  createInterface({ input: speaker.stderr! }).on('line', (l) => {
    if (keepLog) appendFileSync(keepLog, `${l}\n`);
    run.speakerLog.push(l);
    if (run.speakerLog.length > 200) run.speakerLog.shift();
  });
  const pid = speaker.pid!;
  // `ip netns exec` execs the program: the pid is the speaker's own.
  await until(() => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'node', "the speaker's exec", 10_000, 5);
  const alive = (): void => {
    if (speaker.exitCode !== null || speaker.signalCode !== null)
      throw new Error(`the speaker exited:\n${run.speakerLog.join('\n')}`);
  };
  await until(
    async () => (alive(), (await bird.protocolInfo('node_a')).includes('Established')),
    'the BGP session',
    60_000,
    100,
  );
  // Idle means: nothing is announced yet and the start-up writes are done.
  await until(
    async () => (await client.tryGet(heraldResource('ConfigurationState'), NS, `speaker-${NODE}`)) !== undefined,
    'the speaker ConfigurationState',
    30_000,
  );
  await until(
    () => run.speakerLog.some((l) => l.includes('SWIM failure detector running')),
    "the speaker's failure detector",
    30_000,
  );
  await settle(pid);
  const emptyRss = rssBytes(pid);
  const [emptyCpu] = await cpuPercent([pid], windowSecs * 500, hz);

  // N Services with endpoints on the node, then each given an address as the controller would.
  const tCreate = performance.now();
  const service = (name: string): KubeObject => ({
    metadata: { name, namespace: APP_NS },
    spec: {
      type: 'LoadBalancer',
      ipFamilies: ['IPv6'],
      allocateLoadBalancerNodePorts: false,
      selector: { app: name },
      ports: [{ port: 80 }],
    },
  });
  const slice = (name: string): KubeObject =>
    ({
      metadata: { name: `${name}-1`, namespace: APP_NS, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['192.0.2.1'], nodeName: NODE, conditions: { ready: true } }],
      ports: [{ port: 80 }],
    }) as KubeObject;
  const assign = (name: string, ip: string): Promise<unknown> =>
    client.patch(
      SERVICES,
      APP_NS,
      name,
      {
        metadata: { annotations: { [IP_ALLOCATED_FROM_POOL]: POOL } },
        status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } },
      },
      { status: true },
    );
  await pool(n, 16, async (i) => {
    await client.create(SERVICES, service(`s-${i}`));
    await client.create(ENDPOINT_SLICES, slice(`s-${i}`));
    await assign(`s-${i}`, benchIP(i));
  });
  const assignedSecs = (performance.now() - tCreate) / 1000;
  const progress = (what: string): boolean => process.stderr.write(`bench/speaker: ${what}\n`);
  progress(`${n} Services created and assigned in ${assignedSecs.toFixed(1)} s; speaker RSS ${mb(rssBytes(pid))} MB`);
  // The trial Services exist with endpoints from the start; they get addresses one at a time later.
  await pool(trials, 4, async (i) => {
    await client.create(SERVICES, service(`t-${i}`));
    await client.create(ENDPOINT_SLICES, slice(`t-${i}`));
  });
  const tAssigned = performance.now();
  await until(async () => (alive(), (await bird.routeCount()) >= n), `${n} routes at BIRD`, 600_000, 100);
  const allRoutesSecs = (performance.now() - tAssigned) / 1000;
  progress(
    `all ${n} routes at BIRD ${allRoutesSecs.toFixed(1)} s after the last assignment; speaker RSS ${mb(rssBytes(pid))} MB`,
  );
  await until(() => (alive(), statuses.size >= n), `${n} Services in ${statuses.kind}`, 600_000, 100);
  const statusSecs = (performance.now() - tAssigned) / 1000;
  progress(`all ${n} Services in ${statuses.kind} ${statusSecs.toFixed(1)} s after the last assignment`);

  // Steady state: RSS and CPU over the window, beside BIRD and the API server in the same window.
  // The burst leaves garbage that V8 returns over the next seconds: settled means RSS steady.
  const peakRss = peakRssBytes(pid);
  const settledSecs = await settle(pid);
  const rss = rssBytes(pid);
  const kids = childPids(pid);
  const kidsRss = kids.reduce((s, k) => s + rssBytes(k), 0);
  const birdRss = rssBytes(birdPid);
  const [cpu, birdCpu, apiCpu] = await cpuPercent([pid, birdPid, apiPid], windowSecs * 1000, hz);
  const rssAfterWindow = rssBytes(pid);
  const writes = apiWrites ? await apiWrites.by('herald-speaker') : undefined;
  progress(
    `RSS settled ${mb(rss)} MB after ${settledSecs.toFixed(0)} s, peak ${mb(peakRss)} MB; idle CPU ${cpu!.toFixed(2)} %; trials next`,
  );

  // Latency trials: patch one Service's status, poll BIRD's control socket until the route is there.
  const routeMs: number[] = [];
  const watchMs: number[] = [];
  for (let t = 0; t < trials; t++) {
    const name = `t-${t}`;
    const ip = `198.19.255.${t + 1}`;
    const t0 = performance.now();
    if (keepLog)
      appendFileSync(
        keepLog,
        `${JSON.stringify({ time: new Date().toISOString(), bench: 'trial', service: name, ip })}\n`,
      );
    await assign(name, ip);
    await until(() => (alive(), bird.hasRoute(`${ip}/32`)), `the route for ${ip}`, 60_000, 2);
    routeMs.push(performance.now() - t0);
    await until(() => seenAt.has(name), `the watch to see ${name}`, 30_000, 2);
    watchMs.push(seenAt.get(name)! - t0);
    // The speaker's status write for it closes its sync: the next trial starts from idle.
    await until(() => statuses.has(name), `the ${statuses.kind} listing ${name}`, 60_000, 5);
  }
  const finalRoutes = await bird.routeCount();

  const ok = (v: number, target: number): string => (v < target ? 'meets' : 'MISSES');
  const lat = (xs: number[]): string =>
    `p50 ${pct(xs, 50).toFixed(1).padStart(7)} ms   p99 ${pct(xs, 99).toFixed(1).padStart(7)} ms   max ${Math.max(...xs)
      .toFixed(1)
      .padStart(7)} ms`;
  return [
    `herald bench speaker: ${n} BGP Services on one node, BIRD ${finalRoutes} routes at the end (node ${process.version}, ${trials} trials, ${windowSecs} s window), on ${apiName}`,
    `  the speaker runs ${opts.tsx ? 'bin/herald.js through tsx (a checkout)' : "npm run build's output (as in the image)"}${nodeOptions.length > 0 ? ` with the manifest's NODE_OPTIONS ${nodeOptions.join(' ')}` : ''}`,
    `  setup: ${n} Services + EndpointSlices created and assigned in ${assignedSecs.toFixed(1)} s; all ${n} routes at BIRD ${allRoutesSecs.toFixed(1)} s after the last assignment, all ${n} Services' status (${statuses.kind}, --service-status=${opts.serviceStatus}) written after ${statusSecs.toFixed(1)} s`,
    writes
      ? `  speaker API writes ${writes.total} for ${n} Services (${(writes.total / n).toFixed(2)} per Service): ${[...writes.byKind].map(([k, v]) => `${k} ${v}`).join(', ')}`
      : '  speaker API writes: not counted (the real kube-apiserver has no per-client write count here)',
    `  speaker RSS (VmRSS)        ${mb(rss).padStart(7)} MB settled (${settledSecs.toFixed(0)} s after the last status write; ${mb(rssAfterWindow)} MB after the window)   target < ${TARGET_RSS_MB} MB: ${ok(rss / 1024 / 1024, TARGET_RSS_MB)}`,
    `    peak during the burst of ${n} Services (VmHWM) ${mb(peakRss)} MB`,
    `    reference: same speaker, no Services   ${mb(emptyRss).padStart(7)} MB`,
    `    reference: BIRD holding the same routes ${mb(birdRss).padStart(6)} MB`,
    ...(kids.length > 0
      ? [
          `    not counted: the speaker's ${kids.length} child process(es) (tsx's esbuild in a checkout) ${mb(kidsRss)} MB`,
        ]
      : []),
    `  speaker idle CPU           ${cpu!.toFixed(2).padStart(7)} % of one core   target < ${TARGET_IDLE_CPU} %: ${ok(cpu!, TARGET_IDLE_CPU)}`,
    `    reference: same speaker, no Services   ${emptyCpu!.toFixed(2).padStart(7)} % (over ${windowSecs / 2} s)`,
    `    reference: BIRD, same window            ${birdCpu!.toFixed(2).padStart(6)} %;  API server process ${apiCpu!.toFixed(2)} %`,
    `  IP assignment (status patch) -> route at BIRD   ${lat(routeMs)}`,
    `    reference: patch -> the bench's own watch event ${lat(watchMs)}`,
    `  reference: plain loop of ${n} Service status patches through the same client ${plainSecs.toFixed(2)} s, ${(n / plainSecs).toFixed(0)} /s (setup above: 3 writes per Service, 16 at a time)`,
    '  (2-core machine shared with other work: figures are indicative only)',
  ];
}

async function main(): Promise<void> {
  const n = arg('n', 10_000);
  if (n > MAX_N) throw new Error(`--n ${n}: at most ${MAX_N} Services fit 198.18.0.0/15 beside the trials' addresses`);
  const trials = arg('trials', 50);
  const windowSecs = arg('window', 20);
  if (process.getuid?.() !== 0) throw new Error('bench/speaker needs root (network namespaces)');
  for (const tool of ['bird', 'birdc', 'ip']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`bench/speaker needs ${tool}`);
  }
  const run: Run = {
    dir: mkdtempSync(join(tmpdir(), 'herald-bsp-')),
    net: new Netns(`bsp${process.pid % 10000}`),
    watches: [],
    speakerLog: [],
  };
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    void cleanup(run).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const si = process.argv.indexOf('--service-status');
    const serviceStatus = si >= 0 ? process.argv[si + 1] : 'per-node';
    if (!SERVICE_STATUS_MODES.includes(serviceStatus as ServiceStatusMode))
      throw new Error(`--service-status: ${String(serviceStatus)} is not one of ${SERVICE_STATUS_MODES.join(', ')}`);
    const lines = await bench(run, {
      n,
      trials,
      windowSecs,
      tsx: process.argv.includes('--tsx'),
      kubernetes: kubernetesArg(),
      serviceStatus: serviceStatus as ServiceStatusMode,
    });
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    if (!interrupted) await cleanup(run);
  }
}

await main();
