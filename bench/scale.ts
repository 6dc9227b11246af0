/**
 * Growth with the number of Services (issue #22): for each N, the controller and the speaker
 * at N LoadBalancer Services, one table row each, and a PNG plot of the curves.
 *
 * Controller: the embedded API server in its own process (bench/support/apiserver-process.ts),
 * N Services, then `herald controller` (npm run build's output) started as its own process:
 * time until every Service has an address (counted from a watch), Services/s, its CPU seconds
 * and peak RSS over that, RSS settled and idle CPU afterwards, and its API writes per Service
 * (counted by the API server by User-Agent). Reference in the same run: N status patches of
 * other Services by a plain loop, 16 at a time (what "one status write per Service" costs).
 * Then a controller restart: time until its /readyz answers 200 (caches synced, start-up
 * replay done) and until every Service has been re-checked (the reconcile count reaches N,
 * nothing queued), its peak RSS and the most heap in use its /metrics showed meanwhile (the
 * restart lists every Service and the Events it wrote), its API writes, and how many
 * addresses changed (must be 0). The figures after "all assigned" wait until the controller
 * has stopped writing (its Events trail: N created and 10 s quiet, or 30 s quiet).
 *
 * Speaker: bench/speaker.ts (BGP mode, one speaker against BIRD in network namespaces) at the
 * same N, run as a child and its figures read from its output: time until every route is at
 * BIRD, RSS settled and peak, idle CPU, the Services in its BGP status objects (BGPNodeStatus,
 * or ServiceBGPStatus with `--service-status per-service`) and API writes.
 *
 * `--controller-heap-mb M` runs the controller with `--max-old-space-size=M` (V8's heap
 * limit; in a container Node.js derives it from the memory limit): what it needs when V8 may
 * not grow its heap lazily up to the default limit of a large machine.
 *
 *   sudo npm run bench:scale -- [--n 1000,10000] [--png FILE] [--skip-speaker] [--service-status per-node|per-service] [--controller-heap-mb M]
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  KubeClient,
  NAMESPACES,
  SERVICES,
  heraldResource,
  type KubeObject,
  type WatchStream,
} from '../src/k8s/index.js';
import { REPO_ROOT } from '../test/support/crds.js';
import { ApiWrites } from './support/api-writes.js';
import { pool, sleep, until } from './support/common.js';
import { heraldCommand } from './support/herald-command.js';
import { plotPanels, type Rgb } from './support/png-plot.js';
import { clockTicks, cpuPercent, cpuTicks, peakRssBytes, rssBytes } from './support/proc-stats.js';

interface ControllerRow {
  n: number;
  secs: number;
  cpuSecs: number;
  peakMb: number;
  settledMb: number;
  idleCpu: number;
  writesPerService: number;
  writeKinds: string;
  refSecs: number;
  setupSecs: number;
  /** From its start until its last API write (the Events included), to 2 s. */
  writesDoneSecs: number;
  restartReadySecs: number;
  restartIdleSecs: number;
  restartWrites: number;
  /** The restarted controller's peak RSS (VmHWM) once it has re-checked every Service. */
  restartPeakMb: number;
  /** The most heap in use its /metrics showed meanwhile (sampled every 0.25 s). */
  restartHeapMb: number;
  moved: number;
  load: number;
}

interface SpeakerRow {
  n: number;
  routesSecs: number;
  settledMb: number;
  peakMb: number;
  idleCpu: number;
  statusObjects: number;
  statusKind: string;
  writesPerService: number;
  load: number;
  error?: string;
}

const mb = (b: number): number => b / 1024 / 1024;

function list(name: string, dflt: number[]): number[] {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? '').split(',').map(Number) : dflt;
}

/** Waits (at most 120 s) until RSS moved by less than 1 MB over 10 s, sampled each second. */
async function settle(pid: number): Promise<void> {
  const t = performance.now();
  const samples: number[] = [];
  while (performance.now() - t < 120_000) {
    samples.push(rssBytes(pid));
    const last = samples.slice(-11);
    if (last.length === 11 && Math.max(...last) - Math.min(...last) < 1024 * 1024) return;
    await sleep(1000);
  }
}

async function stopProcess(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  p.kill('SIGTERM');
  await Promise.race([new Promise((r) => p.once('exit', r)), sleep(10_000)]);
  if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
}

/** A TCP port that was free on 127.0.0.1 a moment ago (for the controller's ops ports). */
async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * GET from a controller's ops port: plain HTTP (the health port), or HTTPS with a bearer
 * token (/metrics, secured by default; its certificate is self-signed). Undefined while
 * nothing answers.
 */
function opsGet(port: number, path: string, token?: string): Promise<{ status: number; body: string } | undefined> {
  return new Promise((resolve) => {
    const opts = { host: '127.0.0.1', port, path, timeout: 5000 };
    const req =
      token === undefined
        ? httpGet(opts, (res) => collect(res))
        : httpsGet({ ...opts, rejectUnauthorized: false, headers: { authorization: `Bearer ${token}` } }, (res) =>
            collect(res),
          );
    function collect(res: IncomingMessage): void {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve(undefined));
    }
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** A metric from Prometheus text, summed over its label sets. */
function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{'))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

const ingressOf = (o: KubeObject): string =>
  JSON.stringify((o['status'] as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress ?? []);

async function controllerRun(
  n: number,
  cmd: string[],
  dir: string,
  heapMb: number | undefined,
): Promise<ControllerRow> {
  const sock = join(dir, `api-${n}.sock`);
  const kubeconfig = join(dir, `kubeconfig-${n}`);
  const api = spawn(
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
  );
  let controller: ChildProcess | undefined;
  let watch: WatchStream | undefined;
  let client: KubeClient | undefined;
  const startController = (ports: { metrics: number; health: number }): ChildProcess =>
    spawn(
      process.execPath,
      [
        ...(heapMb !== undefined ? [`--max-old-space-size=${heapMb}`] : []),
        ...cmd,
        'controller',
        '--kubeconfig',
        kubeconfig,
        '--metrics-port',
        String(ports.metrics),
        '--health-port',
        String(ports.health),
        '--metrics-host',
        '127.0.0.1',
        '--log-level',
        'warn',
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
    );
  const running = (p: ChildProcess): void => {
    if (p.exitCode !== null || p.signalCode !== null)
      throw new Error(`the controller exited (${p.exitCode ?? p.signalCode})`);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      createInterface({ input: api.stdout! }).on('line', (l) => (l.startsWith('ready') ? resolve() : undefined));
      api.once('exit', (code) => reject(new Error(`the API server exited (${code})`)));
    });
    const writes = new ApiWrites(api);
    client = KubeClient.fromString(readFileSync(kubeconfig, 'utf8'));
    for (const ns of ['herald-system', 'bench', 'plain']) await client.create(NAMESPACES, { metadata: { name: ns } });
    await client.create(heraldResource('IPAddressPool'), {
      metadata: { name: 'bench', namespace: 'herald-system' },
      spec: { addresses: ['2001:db8:1::/104'] },
    } as KubeObject);
    // The reference Services carry another loadBalancerClass, so the controller leaves them alone.
    const svc = (ns: string, i: number): KubeObject => ({
      metadata: { name: `s-${i}`, namespace: ns },
      spec: {
        type: 'LoadBalancer',
        ipFamilies: ['IPv6'],
        allocateLoadBalancerNodePorts: false,
        ports: [{ port: 80 }],
        ...(ns === 'plain' ? { loadBalancerClass: 'example.com/reference' } : {}),
      },
    });
    let setupSecs = await pool(n, 16, (i) => client!.create(SERVICES, svc('bench', i)));
    setupSecs += await pool(n, 16, (i) => client!.create(SERVICES, svc('plain', i)));
    console.log(`  setup N=${n}: ${2 * n} Services created in ${f(setupSecs, 1)} s (${f((2 * n) / setupSecs, 0)}/s)`);
    const c = client;
    const refSecs = await pool(n, 16, (i) =>
      c.patch(
        SERVICES,
        'plain',
        `s-${i}`,
        {
          status: {
            loadBalancer: {
              ingress: [
                { ip: `2001:db8:2::${((i + 1) >> 16).toString(16)}:${((i + 1) & 0xffff).toString(16)}`, ipMode: 'VIP' },
              ],
            },
          },
        },
        { status: true },
      ),
    );

    // Each Service's addresses as the watch last saw them (for "all assigned" and "moved").
    const addresses = new Map<string, string>();
    const start = await client.list(SERVICES, { namespace: 'bench', limit: 1 });
    watch = await client.watch(
      SERVICES,
      { namespace: 'bench', resourceVersion: start.resourceVersion },
      (type, o) => {
        const ingress = ingressOf(o);
        if (type !== 'DELETED' && ingress !== '[]') addresses.set(o.metadata.name, ingress);
        else addresses.delete(o.metadata.name);
      },
      () => undefined,
    );
    const hz = clockTicks();
    const t0 = performance.now();
    controller = startController({ metrics: 0, health: 0 });
    const pid = controller.pid!;
    const ctl = controller;
    await until(
      () => {
        running(ctl);
        return addresses.size >= n;
      },
      `${n} Services assigned`,
      1_800_000,
      100,
    );
    const secs = (performance.now() - t0) / 1000;
    const cpuSecs = cpuTicks(pid) / hz;
    // Its Events trail the status writes (one at a time): everything below waits until the
    // controller has stopped writing, so the counts are whole and the restart starts from a
    // controller that had finished: N Events created and 10 s without a write, or 30 s
    // without one (longer than an Event write's 10 s timeout and its retry).
    let total = (await writes.by('herald-controller')).total;
    let lastWrite = performance.now();
    for (;;) {
      if (performance.now() - t0 > 1_800_000) throw new Error('the controller still writing after 30 minutes');
      await sleep(2000);
      running(ctl);
      const now = await writes.by('herald-controller');
      if (now.total !== total) {
        total = now.total;
        lastWrite = performance.now();
      }
      const quiet = performance.now() - lastWrite;
      if (quiet >= 30_000 || (quiet >= 10_000 && (now.byKind.get('create events') ?? 0) >= n)) break;
    }
    const writesDoneSecs = (lastWrite - t0) / 1000;
    await settle(pid);
    const settled = rssBytes(pid);
    const [idle] = await cpuPercent([pid], 10_000, hz);
    // The peak over the whole run (the assignment burst and the garbage collected after it).
    const peak = peakRssBytes(pid);
    const w = await writes.by('herald-controller');
    // Printed now as well: a restart that fails (out of heap) still leaves these.
    console.error(
      `  controller N=${n} first process: all assigned ${f(secs, 2)} s; CPU ${f(cpuSecs)} s; RSS peak ${f(mb(peak))} MB, settled ${f(mb(settled))} MB; API writes ${f(w.total / n, 2)}/Service; load ${f(loadavg()[0]!)}`,
    );

    // Restart: the same program again, against the Services the first one assigned.
    const before = new Map(addresses);
    await stopProcess(controller);
    const ports = { metrics: await freePort(), health: await freePort() };
    while (ports.health === ports.metrics) ports.health = await freePort();
    // /metrics is HTTPS for tokens the API server knows: the bench's own (the server's admin).
    const token = /^\s*token:\s*(\S+)/m.exec(readFileSync(kubeconfig, 'utf8'))?.[1];
    const t1 = performance.now();
    controller = startController(ports);
    const again = controller;
    await until(
      async () => {
        running(again);
        return (await opsGet(ports.health, '/readyz'))?.status === 200;
      },
      'the restarted controller ready',
      1_800_000,
      100,
    );
    const restartReadySecs = (performance.now() - t1) / 1000;
    let restartHeap = 0;
    await until(
      async () => {
        running(again);
        const r = await opsGet(ports.metrics, '/metrics', token);
        if (r && r.status !== 200)
          throw new Error(`the restarted controller's /metrics answered ${r.status}: ${r.body.slice(0, 200)}`);
        const m = r?.body ?? '';
        restartHeap = Math.max(restartHeap, metricSum(m, 'herald_nodejs_heap_size_used_bytes'));
        return (
          metricSum(m, 'herald_controller_reconcile_duration_seconds_count') >= n &&
          metricSum(m, 'herald_controller_queue_depth') === 0
        );
      },
      'the restarted controller idle',
      1_800_000,
      250,
    );
    const restartIdleSecs = (performance.now() - t1) / 1000;
    const restartPeak = peakRssBytes(again.pid!);
    let moved = 0;
    for (const o of (await client.listAll(SERVICES, { namespace: 'bench', limit: 1000 })).items)
      if (before.get(o.metadata.name) !== ingressOf(o)) moved++;
    const restartWrites = (await writes.by('herald-controller')).total - w.total;
    return {
      n,
      secs,
      cpuSecs,
      peakMb: mb(peak),
      settledMb: mb(settled),
      idleCpu: idle!,
      writesPerService: w.total / n,
      writeKinds: [...w.byKind].map(([k, v]) => `${k} ${v}`).join(', '),
      refSecs,
      setupSecs,
      writesDoneSecs,
      restartReadySecs,
      restartIdleSecs,
      restartWrites,
      restartPeakMb: mb(restartPeak),
      restartHeapMb: mb(restartHeap),
      moved,
      load: loadavg()[0]!,
    };
  } finally {
    watch?.stop();
    client?.close();
    await stopProcess(controller);
    await stopProcess(api);
  }
}

/** bench/speaker.ts at N, its figures read from its report. */
async function speakerRun(n: number, serviceStatus: string): Promise<SpeakerRow> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'bench', 'speaker.ts'),
      '--n',
      String(n),
      '--trials',
      '5',
      '--window',
      '10',
      '--service-status',
      serviceStatus,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const num = (re: RegExp): number => Number(re.exec(out)?.[1] ?? NaN);
  const row: SpeakerRow = {
    n,
    routesSecs: num(/all \d+ routes at BIRD ([\d.]+) s after the last assignment/),
    settledMb: num(/speaker RSS \(VmRSS\)\s+([\d.]+) MB settled/),
    peakMb: num(/\(VmHWM\) ([\d.]+) MB/),
    idleCpu: num(/speaker idle CPU\s+([\d.]+) %/),
    statusObjects: num(/all (\d+) Services' status \(\w+, --service-status=[\w-]+\) written/),
    statusKind: /all \d+ Services' status \((\w+),/.exec(out)?.[1] ?? 'status',
    writesPerService: num(/speaker API writes \d+ for \d+ Services \(([\d.]+) per Service\)/),
    load: loadavg()[0]!,
  };
  process.stdout.write(out.replace(/^/gm, '    | '));
  if (code !== 0)
    row.error = `bench/speaker exited ${code}: ${err
      .split('\n')
      .filter((l) => l.trim())
      .slice(-3)
      .join(' / ')}`;
  return row;
}

const f = (v: number, d = 1): string => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

async function main(): Promise<void> {
  const ns = list('n', [1000, 10_000]);
  const skipSpeaker = process.argv.includes('--skip-speaker');
  const hi = process.argv.indexOf('--controller-heap-mb');
  const heapMb = hi >= 0 ? Number(process.argv[hi + 1]) : undefined;
  if (heapMb !== undefined && !(Number.isInteger(heapMb) && heapMb > 0))
    throw new Error(`--controller-heap-mb ${process.argv[hi + 1] ?? ''}: not a whole number of MB`);
  const si = process.argv.indexOf('--service-status');
  const serviceStatus = si >= 0 ? process.argv[si + 1]! : 'per-node';
  const pi = process.argv.indexOf('--png');
  const dir = mkdtempSync(join(tmpdir(), 'herald-scale-'));
  const png = pi >= 0 ? process.argv[pi + 1]! : join(tmpdir(), `herald-scale-${process.pid}.png`);
  if (!skipSpeaker && process.getuid?.() !== 0)
    throw new Error(
      'bench/scale needs root for the speaker part (network namespaces); --skip-speaker runs the controller only',
    );
  const cores = Number(spawnSync('nproc', { encoding: 'utf8' }).stdout.trim());
  console.log(
    `herald bench scale: N = ${ns.join(', ')} Services; node ${process.version}, ${cores} cores, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} at the start`,
  );
  const ctl: ControllerRow[] = [];
  const spk: SpeakerRow[] = [];
  try {
    const cmd = heraldCommand(dir, false);
    for (const n of ns) {
      const c = await controllerRun(n, cmd, dir, heapMb);
      ctl.push(c);
      console.log(
        `  controller N=${n}${heapMb !== undefined ? ` (--max-old-space-size=${heapMb})` : ''}: all assigned ${f(c.secs, 2)} s from its start (${f(n / c.secs, 0)}/s); last API write (Events included) ${f(c.writesDoneSecs, 0)} s; plain status-patch loop, 16 at a time ${f(c.refSecs, 2)} s (${f(n / c.refSecs, 0)}/s); CPU ${f(c.cpuSecs)} s; RSS peak ${f(c.peakMb)} MB, settled ${f(c.settledMb)} MB; idle CPU ${f(c.idleCpu, 2)} %; API writes ${f(c.writesPerService, 2)}/Service (${c.writeKinds}); load ${f(c.load)}`,
      );
      console.log(
        `  controller N=${n} restart: ready ${f(c.restartReadySecs, 2)} s from its start, every Service re-checked ${f(c.restartIdleSecs, 2)} s; RSS peak ${f(c.restartPeakMb)} MB, heap in use at most ${f(c.restartHeapMb)} MB (its /metrics); API writes ${c.restartWrites}; moved addresses ${c.moved}`,
      );
      if (skipSpeaker) continue;
      const s = await speakerRun(n, serviceStatus);
      spk.push(s);
      console.log(
        `  speaker N=${n}: ${s.error ?? `routes at BIRD ${f(s.routesSecs)} s; RSS settled ${f(s.settledMb)} MB, peak ${f(s.peakMb)} MB; idle CPU ${f(s.idleCpu, 2)} %; ${f(s.statusObjects, 0)} Services in ${s.statusKind}; API writes ${f(s.writesPerService, 2)}/Service`}; load ${f(s.load)}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(
    '\n       N | ctl s  | ctl Svc/s | ref s  | ctl CPU s | ctl RSS peak/settled MB | ctl writes/Svc | restart ready/idle s | moved | spk routes s | spk RSS settled/peak MB | spk idle CPU % | spk statuses | spk writes/Svc | load',
  );
  for (const c of ctl) {
    const s = spk.find((x) => x.n === c.n);
    console.log(
      [
        String(c.n).padStart(8),
        f(c.secs, 2).padStart(6),
        f(c.n / c.secs, 0).padStart(9),
        f(c.refSecs, 2).padStart(6),
        f(c.cpuSecs).padStart(9),
        `${f(c.peakMb)} / ${f(c.settledMb)}`.padStart(23),
        f(c.writesPerService, 2).padStart(14),
        `${f(c.restartReadySecs, 2)} / ${f(c.restartIdleSecs, 2)}`.padStart(20),
        String(c.moved).padStart(5),
        (s ? f(s.routesSecs) : '-').padStart(12),
        (s ? `${f(s.settledMb)} / ${f(s.peakMb)}` : '-').padStart(23),
        (s ? f(s.idleCpu, 2) : '-').padStart(14),
        (s ? f(s.statusObjects, 0) : '-').padStart(12),
        (s ? f(s.writesPerService, 2) : '-').padStart(14),
        `${f(c.load)}/${s ? f(s.load) : '-'}`,
      ].join(' | '),
    );
  }
  const red: Rgb = [200, 30, 30];
  const blue: Rgb = [30, 60, 200];
  const grey: Rgb = [150, 150, 150];
  const xs = ctl.map((c) => c.n);
  writeFileSync(
    png,
    plotPanels(
      [
        {
          series: [
            { color: red, points: ctl.map((c) => [c.n, c.secs]) },
            { color: grey, points: ctl.map((c) => [c.n, c.refSecs]) },
            { color: blue, points: spk.map((s) => [s.n, s.routesSecs]) },
          ],
        },
        {
          series: [
            { color: red, points: ctl.map((c) => [c.n, c.peakMb]) },
            { color: blue, points: spk.map((s) => [s.n, s.peakMb]) },
          ],
        },
        {
          series: [
            { color: red, points: ctl.map((c) => [c.n, c.writesPerService]) },
            { color: blue, points: spk.map((s) => [s.n, s.writesPerService]) },
          ],
        },
      ],
      xs,
    ),
  );
  console.log(
    `\nplot: ${png}  (x: Services, log scale; panels: seconds to all assigned / all routes at BIRD, peak RSS MB, API writes per Service; red controller, blue speaker, grey the plain status-patch loop)`,
  );
  console.log(
    '(2-core machine shared with other work: the load column is the 1-minute load average when each row finished)',
  );
}

await main();
