/**
 * The controller on embedded API servers emulating older Kubernetes releases. 1.28 (no
 * status.loadBalancer.ingress[].ipMode, dropped like any unknown field): Herald compares
 * what the server kept, so an unchanged Service is never patched again — not on a resync,
 * not after a restart; PATCHes are counted by the server. 1.20 (no spec.loadBalancerClass,
 * no discovery.k8s.io/v1): `--lb-class` is refused with a clear error, and an informer on
 * the missing API says which API is missing and what follows.
 */
import { expect } from 'chai';
import { Controller } from '../../../controller/controller.js';
import { systemClock } from '../../../src/core/clock.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ENDPOINT_SLICES,
  Informer,
  NAMESPACES,
  SERVICES,
  heraldResource,
  type KubeObject,
} from '../../../src/k8s/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { spawnController } from '../../support/controller-process.js';
import { controllerSettled } from '../../support/settle.js';

const NS = 'herald-system';
const N = 20;

describe('controller on a server without ipMode (Kubernetes 1.28)', function () {
  this.timeout(60_000);
  let c: TestCluster;
  let ctl: Controller | undefined;

  const start = async (resyncMs = 0): Promise<Controller> => {
    const x = new Controller({
      client: c.client,
      clock: systemClock(),
      logger: new RecordingLogger(),
      registry: createMetricsRegistry({ defaultMetrics: false }),
      namespace: NS,
      workers: 4,
      poolStatusDelayMs: 10,
      resyncMs,
    });
    await x.start();
    return x;
  };
  const patches = (): number => c.server.requestCounts.get('patch services/status') ?? 0;
  const settle = (x: Controller): Promise<void> =>
    controllerSettled(x, () => c.server.core.store.currentRv(), { polls: 10, everyMs: 20 });

  before(async () => {
    c = await startTestCluster({ herald: true, kubernetesMinor: 28 });
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(heraldResource('IPAddressPool'), {
      metadata: { name: 'main', namespace: NS },
      spec: { addresses: ['192.0.2.0/24'] },
    } as KubeObject);
  });
  afterEach(async () => {
    await ctl?.stop();
    ctl = undefined;
  });
  after(async () => {
    await c.server.stop();
  });

  it('writes each Service once, and not again after a restart or on resyncs', async () => {
    ctl = await start();
    for (let i = 0; i < N; i++)
      await c.client.create(SERVICES, {
        metadata: { name: `s${i}`, namespace: 'default' },
        spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
      });
    await eventually(
      async () =>
        (await c.client.list(SERVICES, { namespace: 'default' })).items.filter(
          (s) => ((s['status'] as { loadBalancer?: { ingress?: unknown[] } }).loadBalancer?.ingress ?? []).length > 0,
        ).length === N,
      'every Service assigned',
    );
    await settle(ctl);
    const s0 = await c.client.get(SERVICES, 'default', 's0');
    expect(
      (s0['status'] as { loadBalancer: { ingress: Record<string, unknown>[] } }).loadBalancer.ingress[0],
    ).to.deep.equal({ ip: '192.0.2.0' });
    const first = patches();
    // One write per Service, plus at most one per Service before the server's answer was seen.
    expect(first).to.be.within(N, 2 * N);
    await ctl.stop();
    const x = (ctl = await start(100));
    // Resyncs every 100 ms: several passes over every Service, none of them a write.
    await eventually(() => x.counts.reconciles >= 4 * N, 'four passes over every Service');
    await settle(x);
    expect(patches() - first, 'PATCHes after the restart and resyncs').to.equal(0);
  });
});

describe('controller on a server without spec.loadBalancerClass (Kubernetes 1.20)', function () {
  this.timeout(60_000);
  let c: TestCluster;
  let dir: string;

  before(async () => {
    c = await startTestCluster({ herald: true, kubernetesMinor: 20 });
    dir = mkdtempSync(join(tmpdir(), 'herald-old-'));
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await c.server.stop();
  });

  it('herald controller --lb-class exits 1 and says the server has no spec.loadBalancerClass', async () => {
    const kubeconfig = join(dir, 'kubeconfig');
    c.server.writeKubeconfig(kubeconfig);
    const p = spawnController(kubeconfig, ['--lb-class', 'example.com/lb']);
    const t0 = Date.now();
    expect(await p.exited).to.equal(1);
    expect(Date.now() - t0).to.be.below(20_000);
    expect(p.log()).to.include(
      '--lb-class example.com/lb: the API server (v1.20.0-herald) has no spec.loadBalancerClass',
    );
  });

  it('an informer on an API the server does not serve names it and what follows', async () => {
    const logger = new RecordingLogger();
    const inf = new Informer({
      client: c.client,
      clock: systemClock(),
      logger,
      type: ENDPOINT_SLICES,
      backoff: { baseMs: 20, maxMs: 50 },
      purpose: 'Services with externalTrafficPolicy Local are not announced',
    });
    inf.start();
    try {
      const line = await eventually(() => logger.records.find((r) => r.level === 'error'), 'an error line');
      expect(line.fields).to.deep.include({ component: 'informer', event: 'resourceNotServed' });
      expect(line.message).to.equal(
        'the API server does not serve discovery.k8s.io/v1 endpointslices (EndpointSlice); Services with externalTrafficPolicy Local are not announced until it does; retrying',
      );
    } finally {
      inf.stop();
    }
  });
});
