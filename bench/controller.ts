/**
 * Controller throughput on the embedded API server, run as its own process (as a real API
 * server would be, so the controller and the server do not share one CPU), or with
 * `--kubernetes real` on etcd + kube-apiserver from scripts/kube-up.sh: N Services of
 * type LoadBalancer exist,
 * the controller starts, and we time until every one has an address; beside it, the same
 * run times a plain loop of N status patches through the same client (the floor for "one
 * status write per Service"). Then a controller restart: time to ready, time to idle, and
 * how many addresses changed (must be 0).
 *
 *   npx tsx bench/controller.ts [--n 10000] [--workers 16] [--kubernetes embedded|real]
 */
import { Controller } from '../controller/controller.js';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { systemClock } from '../src/core/clock.js';
import { RecordingLogger } from '../src/core/logger.js';
import { CRDS, KubeClient, NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../src/k8s/index.js';
import { createMetricsRegistry } from '../src/metrics.js';
import { CRD_DIR, REPO_ROOT } from '../test/support/crds.js';
import { join } from 'node:path';
import { arg, pool, until } from './support/common.js';
import { kubernetesArg, startRealBenchKube, type RealBenchKube } from './support/kube-server.js';

/** The embedded API server in its own process (`herald apiserver`), with the CRDs applied. */
async function startEmbedded(dir: string): Promise<{ client: KubeClient; stop(): void }> {
  const kubeconfig = join(dir, 'kubeconfig');
  // HERALD_BENCH_PROFILE=DIR writes a CPU profile of the API server process there.
  const profile = process.env['HERALD_BENCH_PROFILE']
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env['HERALD_BENCH_PROFILE']}`]
    : [];
  const server = spawn(
    process.execPath,
    [
      ...profile,
      join(REPO_ROOT, 'bin', 'herald.js'),
      'apiserver',
      '--port',
      '0',
      '--kubeconfig-out',
      kubeconfig,
      '--apply',
      CRD_DIR,
      '--service-cidr',
      '2001:db8:fff::/108',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  server.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await until(() => out.includes('listening on'), 'the API server', 30_000, 100);
  return { client: KubeClient.fromString(readFileSync(kubeconfig, 'utf8')), stop: () => server.kill('SIGTERM') };
}

async function main(): Promise<void> {
  const n = arg('n', 10_000);
  const workers = arg('workers', 16);
  const kubernetes = kubernetesArg();
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-'));
  // The real server: 2n IPv6 Services need more than kube-up.sh's default /112.
  let real: RealBenchKube | undefined;
  const embedded = kubernetes === 'real' ? undefined : await startEmbedded(dir);
  if (kubernetes === 'real') real = await startRealBenchKube('198.51.100.128/25,2001:db8:fff::/108');
  // Interrupted: the servers are processes of their own; stop them (the control plane by PID).
  const onSignal = (): void => {
    embedded?.stop();
    void (real?.stop() ?? Promise.resolve()).finally(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const client = real?.client ?? embedded!.client;
  void CRDS;
  await client.create(NAMESPACES, { metadata: { name: 'bench' } });
  await client.create(NAMESPACES, { metadata: { name: 'plain' } });
  await client.create(heraldResource('IPAddressPool'), {
    metadata: { name: 'bench', namespace: 'herald-system' },
    spec: { addresses: ['2001:db8:1::/112'] },
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
  const createSecs = await pool(n, 16, (i) => client.create(SERVICES, svc('bench', i)));
  await pool(n, 16, (i) => client.create(SERVICES, svc('plain', i)));

  // References: N status writes through the same client, as a plain loop (one at a time) and
  // with the controller's concurrency (what the server can take when pushed).
  const patchOne = (i: number, base: string): Promise<unknown> =>
    client.patch(
      SERVICES,
      'plain',
      `s-${i}`,
      { status: { loadBalancer: { ingress: [{ ip: `${base}${(i + 1).toString(16)}`, ipMode: 'VIP' }] } } },
      { status: true },
    );
  const plainSecs = await pool(n, 1, (i) => patchOne(i, '2001:db8:2::'));
  const plainParSecs = await pool(n, workers, (i) => patchOne(i, '2001:db8:3::'));

  // Counted from a watch, so polling costs nothing that grows with n.
  const withAddress = new Map<string, string>();
  const start = await client.list(SERVICES, { namespace: 'bench', limit: 1 });
  const watch = await client.watch(
    SERVICES,
    { namespace: 'bench', resourceVersion: start.resourceVersion },
    (type, o) => {
      const lb = JSON.stringify((o['status'] as { loadBalancer?: unknown } | undefined)?.loadBalancer ?? {});
      if (type !== 'DELETED' && lb.includes('ingress')) withAddress.set(o.metadata.name, lb);
      else withAddress.delete(o.metadata.name);
    },
    () => undefined,
  );
  const assigned = (): number => withAddress.size;
  const mk = (): Controller =>
    new Controller({
      client,
      clock: systemClock(),
      logger: new RecordingLogger(),
      registry: createMetricsRegistry({ defaultMetrics: false }),
      namespace: 'herald-system',
      workers,
    });
  let t = performance.now();
  const ctl = mk();
  await ctl.start();
  await until(() => assigned() === n, 'every Service assigned', 600_000, 100);
  const controllerSecs = (performance.now() - t) / 1000;
  await until(() => ctl.isIdle(), 'the controller idle', 600_000, 100);
  const snapshot = new Map(withAddress);
  await ctl.stop();

  t = performance.now();
  const again = mk();
  await again.start();
  const readySecs = (performance.now() - t) / 1000;
  await until(() => again.isIdle(), 'the restarted controller idle', 600_000, 100);
  const idleSecs = (performance.now() - t) / 1000;
  let changed = 0;
  for (const o of (await client.listAll(SERVICES, { namespace: 'bench', limit: 1000 })).items) {
    if (
      snapshot.get(o.metadata.name) !== JSON.stringify((o['status'] as { loadBalancer?: unknown }).loadBalancer ?? {})
    )
      changed++;
  }
  await again.stop();
  watch.stop();

  const lines = [
    `herald bench controller: n=${n} workers=${workers}, ${real ? `${real.version} with etcd (scripts/kube-up.sh)` : 'the embedded API server'} in its own process (node ${process.version})`,
    `  create ${n} Services (setup)                 ${(n / createSecs).toFixed(0).padStart(7)} /s`,
    `  reference: plain loop of ${n} status patches  ${plainSecs.toFixed(2).padStart(7)} s   ${(n / plainSecs).toFixed(0).padStart(6)} /s`,
    `  reference: the same, ${workers} at a time          ${plainParSecs.toFixed(2).padStart(7)} s   ${(n / plainParSecs).toFixed(0).padStart(6)} /s`,
    `  controller: all ${n} Services assigned        ${controllerSecs.toFixed(2).padStart(7)} s   ${(n / controllerSecs).toFixed(0).padStart(6)} /s   ${(controllerSecs / plainSecs).toFixed(2)}x the plain loop, ${(controllerSecs / plainParSecs).toFixed(2)}x the concurrent one`,
    `    (each Service costs two API writes: status with the pool annotation, and an IPAllocated Event)`,
    `  restart: ready (synced + replayed)           ${readySecs.toFixed(2).padStart(7)} s`,
    `  restart: idle (every Service re-checked)     ${idleSecs.toFixed(2).padStart(7)} s   changed addresses: ${changed}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  client.close();
  embedded?.stop();
  await real?.stop();
  rmSync(dir, { recursive: true, force: true });
}

await main();
