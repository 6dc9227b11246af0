/**
 * Controller throughput on the embedded API server: N Services of type LoadBalancer exist,
 * the controller starts, and we time until every one has an address; beside it, the same
 * run times a plain loop of N status patches through the same client (the floor for "one
 * status write per Service"). Then a controller restart: time to ready, time to idle, and
 * how many addresses changed (must be 0).
 *
 *   npx tsx bench/controller.ts [--n 10000] [--workers 16]
 */
import { Controller } from '../controller/controller.js';
import { startApiServer } from '../lab/apiserver/index.js';
import { systemClock } from '../src/core/clock.js';
import { RecordingLogger } from '../src/core/logger.js';
import { CRDS, KubeClient, NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../src/k8s/index.js';
import { createMetricsRegistry } from '../src/metrics.js';
import { loadYamlFile, CRD_DIR } from '../test/support/crds.js';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function pool(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) await op(next++);
  }));
  return (performance.now() - t) / 1000;
}

async function until(what: () => boolean, timeoutMs: number): Promise<number> {
  const t = performance.now();
  while (!what()) {
    if (performance.now() - t > timeoutMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 100));
  }
  return (performance.now() - t) / 1000;
}

async function main(): Promise<void> {
  const n = arg('n', 10_000);
  const workers = arg('workers', 16);
  const server = await startApiServer({ serviceCIDRs: ['2001:db8:fff::/108'], historyLimit: 200_000 });
  const client = KubeClient.fromString(server.kubeconfig());
  for (const f of readdirSync(CRD_DIR).filter((x) => x.endsWith('.yaml'))) await client.create(CRDS, loadYamlFile(join(CRD_DIR, f))[0] as KubeObject);
  await client.create(NAMESPACES, { metadata: { name: 'herald-system' } });
  await client.create(NAMESPACES, { metadata: { name: 'bench' } });
  await client.create(NAMESPACES, { metadata: { name: 'plain' } });
  await client.create(heraldResource('IPAddressPool'), { metadata: { name: 'bench', namespace: 'herald-system' }, spec: { addresses: ['2001:db8:1::/112'] } } as KubeObject);
  // The reference Services carry another loadBalancerClass, so the controller leaves them alone.
  const svc = (ns: string, i: number): KubeObject => ({
    metadata: { name: `s-${i}`, namespace: ns },
    spec: { type: 'LoadBalancer', ipFamilies: ['IPv6'], allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }], ...(ns === 'plain' ? { loadBalancerClass: 'example.com/reference' } : {}) },
  });
  const createSecs = await pool(n, 16, (i) => client.create(SERVICES, svc('bench', i)));
  await pool(n, 16, (i) => client.create(SERVICES, svc('plain', i)));

  // Reference: N status writes, the same client, the same concurrency as the controller.
  const plainSecs = await pool(n, workers, (i) => client.patch(SERVICES, 'plain', `s-${i}`, { status: { loadBalancer: { ingress: [{ ip: `2001:db8:2::${(i + 1).toString(16)}`, ipMode: 'VIP' }] } } }, { status: true }));

  const services = server.core.registry.lookup('', 'v1', 'services')!;
  // Counted from the store's change stream, so polling costs nothing that grows with n.
  const withAddress = new Set<string>();
  server.core.store.subscribe('services', server.core.store.currentRv(), (c) => {
    if (c.object.metadata.namespace !== 'bench') return;
    const has = (((c.object['status'] as { loadBalancer?: { ingress?: unknown[] } } | undefined)?.loadBalancer?.ingress ?? []).length > 0) && c.type !== 'DELETED';
    if (has) withAddress.add(c.object.metadata.name);
    else withAddress.delete(c.object.metadata.name);
  });
  const assigned = (): number => withAddress.size;
  void services;
  const mk = (): Controller => new Controller({ client, clock: systemClock(), logger: new RecordingLogger(), registry: createMetricsRegistry({ defaultMetrics: false }), namespace: 'herald-system', workers });
  let t = performance.now();
  const ctl = mk();
  await ctl.start();
  await until(() => assigned() === n, 600_000);
  const controllerSecs = (performance.now() - t) / 1000;
  await until(() => ctl.isIdle(), 600_000);
  if (process.env['BENCH_DEBUG']) process.stderr.write(`requests: ${JSON.stringify([...server.requestCounts])}\n`);
  const snapshot = new Map(server.core.store.list('services', 'bench').map((o) => [o.metadata.name, JSON.stringify((o['status'] as Record<string, unknown>)['loadBalancer'])]));
  await ctl.stop();

  t = performance.now();
  const again = mk();
  await again.start();
  const readySecs = (performance.now() - t) / 1000;
  await until(() => again.isIdle(), 600_000);
  const idleSecs = (performance.now() - t) / 1000;
  let changed = 0;
  for (const o of server.core.store.list('services', 'bench')) if (snapshot.get(o.metadata.name) !== JSON.stringify((o['status'] as Record<string, unknown>)['loadBalancer'])) changed++;
  await again.stop();

  const lines = [
    `herald bench controller: n=${n} workers=${workers} (node ${process.version})`,
    `  create ${n} Services (setup)                 ${(n / createSecs).toFixed(0).padStart(7)} /s`,
    `  reference: ${n} status patches                ${plainSecs.toFixed(2).padStart(7)} s   ${(n / plainSecs).toFixed(0).padStart(6)} /s`,
    `  controller: all ${n} Services assigned        ${controllerSecs.toFixed(2).padStart(7)} s   ${(n / controllerSecs).toFixed(0).padStart(6)} /s   ${(controllerSecs / plainSecs).toFixed(2)}x the reference`,
    `  restart: ready (synced + replayed)           ${readySecs.toFixed(2).padStart(7)} s`,
    `  restart: idle (every Service re-checked)     ${idleSecs.toFixed(2).padStart(7)} s   changed addresses: ${changed}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  client.close();
  await server.stop();
}

await main();
