/**
 * Addresses change hands only through the server: on the embedded API server, with a check
 * of every stored Service change (test/support/service-invariant.ts), an address a Service
 * gives up goes to another only after the server acknowledged the write that clears it —
 * even when that write hangs — and Services that failed (PoolExhausted, RequestedIPInUse)
 * are served when addresses are freed, the oldest waiting first, before newer Services.
 */
import { expect } from 'chai';
import { Controller } from '../../../controller/controller.js';
import { systemClock } from '../../../src/core/clock.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { ServiceInvariant } from '../../support/service-invariant.js';

const POOLS = heraldResource('IPAddressPool');
const NS = 'herald-system';

interface Cond {
  type: string;
  reason: string;
  message: string;
}

describe('controller: address handover and waiting Services', function () {
  this.timeout(60_000);
  let c: TestCluster;
  let controller: Controller;
  let invariant: ServiceInvariant;

  const ips = (o: KubeObject): string[] =>
    ((o['status'] as { loadBalancer?: { ingress?: { ip: string }[] } }).loadBalancer?.ingress ?? []).map((i) => i.ip);
  const cond = (o: KubeObject): Cond | undefined =>
    ((o['status'] as { conditions?: Cond[] }).conditions ?? []).find((x) => x.type === 'herald.dev/AddressAssigned');
  const get = (name: string) => c.client.get(SERVICES, 'default', name);
  const create = (name: string, annotations: Record<string, string> = {}) =>
    c.client.create(SERVICES, {
      metadata: { name, namespace: 'default', annotations },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
  const waitIPs = (name: string, want: string[]) =>
    eventually(
      async () => {
        const o = await get(name);
        return JSON.stringify(ips(o)) === JSON.stringify(want) ? o : undefined;
      },
      `${name} to show ${want.join(',') || 'nothing'}`,
    );
  const waitReason = (name: string, reason: string) =>
    eventually(async () => {
      const o = await get(name);
      return cond(o)?.reason === reason ? o : undefined;
    }, `${name} condition ${reason}`);
  const statusWrites = (verb: 'patch' | 'update') => c.server.requestCounts.get(`${verb} services/status`) ?? 0;

  before(async () => {
    c = await startTestCluster({ herald: true });
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(POOLS, {
      metadata: { name: 'h', namespace: NS },
      spec: { addresses: ['192.0.2.0/29'] },
    } as KubeObject);
    await c.client.create(POOLS, {
      metadata: { name: 'w', namespace: NS },
      spec: { addresses: ['198.51.100.0/30'], autoAssign: false },
    } as KubeObject);
    await c.client.create(POOLS, {
      metadata: { name: 'r', namespace: NS },
      spec: { addresses: ['203.0.113.0/30'], autoAssign: false },
    } as KubeObject);
    controller = new Controller({
      client: c.client,
      clock: systemClock(),
      logger: new RecordingLogger(),
      registry: createMetricsRegistry({ defaultMetrics: false }),
      namespace: NS,
      workers: 4,
      poolStatusDelayMs: 10,
    });
    await controller.start();
    invariant = new ServiceInvariant(c.server.core.store);
  });
  afterEach(() => {
    const r = invariant.report();
    expect(r.duplicates, 'duplicates').to.deep.equal([]);
    expect(r.moves, 'unrequested moves').to.deep.equal([]);
  });
  after(async () => {
    invariant?.stop();
    c.server.faults.clear();
    await controller?.stop();
    await c.server.stop();
  });

  it('a changed request frees the old address only once the write that clears it is acknowledged', async () => {
    for (let i = 0; i < 6; i++) {
      await create(`a${i}`);
      await waitIPs(`a${i}`, [`192.0.2.${i}`]);
    }
    const before = statusWrites('patch');
    c.server.faults.failNext({ resource: 'services', verb: 'patch', count: 1, status: 'hang' });
    const a0 = await get('a0');
    await c.client.replace(SERVICES, {
      ...a0,
      metadata: {
        ...a0.metadata,
        annotations: { ...a0.metadata.annotations, 'herald.dev/load-balancer-ips': '192.0.2.6' },
      },
    });
    await eventually(() => statusWrites('patch') > before, "a0's status write to hang");
    await create('n1');
    await waitIPs('n1', ['192.0.2.7']);
    await create('n2');
    await waitReason('n2', 'PoolExhausted');
    expect(ips(await get('a0'))).to.deep.equal(['192.0.2.0']);
    c.server.faults.clear();
    await waitIPs('a0', ['192.0.2.6']);
    await waitIPs('n2', ['192.0.2.0']);
  });

  it('a Service that stops being a LoadBalancer frees its address once its cleared status is acknowledged', async () => {
    const before = statusWrites('update');
    c.server.faults.failNext({ resource: 'services', verb: 'update', count: 1, status: 'hang' });
    await c.client.patch(SERVICES, 'default', 'a1', { spec: { type: 'ClusterIP' } });
    await eventually(() => statusWrites('update') > before, "a1's status write to hang");
    await create('n3');
    await waitReason('n3', 'PoolExhausted');
    expect(ips(await get('a1'))).to.deep.equal(['192.0.2.1']);
    c.server.faults.clear();
    await waitIPs('a1', []);
    await waitIPs('n3', ['192.0.2.1']);
  });

  it('freed addresses go to the Services waiting longest, before newer ones', async () => {
    for (let i = 0; i < 4; i++) {
      await create(`f${i}`, { 'herald.dev/address-pool': 'w' });
      await waitIPs(`f${i}`, [`198.51.100.${i}`]);
    }
    await create('w1', { 'herald.dev/address-pool': 'w' });
    await waitReason('w1', 'PoolExhausted');
    await create('w2', { 'herald.dev/address-pool': 'w' });
    await waitReason('w2', 'PoolExhausted');
    await c.client.delete(SERVICES, 'default', 'f1');
    await create('late', { 'herald.dev/address-pool': 'w' });
    await waitIPs('w1', ['198.51.100.1']);
    await waitReason('late', 'PoolExhausted');
    expect(cond(await get('w2'))!.reason).to.equal('PoolExhausted');
    await c.client.delete(SERVICES, 'default', 'f2');
    await waitIPs('w2', ['198.51.100.2']);
    expect(cond(await get('late'))!.reason).to.equal('PoolExhausted');
    await c.client.delete(SERVICES, 'default', 'f3');
    await waitIPs('late', ['198.51.100.3']);
  });

  it('a Service refused a requested address gets it when its holder goes', async () => {
    await create('q', { 'herald.dev/load-balancer-ips': '203.0.113.1' });
    await waitIPs('q', ['203.0.113.1']);
    await create('r', { 'herald.dev/load-balancer-ips': '203.0.113.1' });
    expect(cond(await waitReason('r', 'RequestedIPInUse'))!.message).to.include('in use by default/q');
    await c.client.delete(SERVICES, 'default', 'q');
    await waitIPs('r', ['203.0.113.1']);
    expect(cond(await get('r'))!.reason).to.equal('Assigned');
  });
});
