/**
 * A pool that passes the CRD schema but is built to hurt (issue 18): 1,024 identical
 * entries. The controller must stay responsive (an unrelated Service still gets its address),
 * and every report of the pool's errors stays bounded.
 */
import { expect } from 'chai';
import { Controller } from '../../../controller/controller.js';
import { systemClock } from '../../../src/core/clock.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';

const POOLS = heraldResource('IPAddressPool');
const CONFIG_STATES = heraldResource('ConfigurationState');
const NS = 'herald-system';

interface Cond {
  type: string;
  status: string;
  reason: string;
  message: string;
}

const conds = (o: KubeObject): Cond[] => (o['status'] as { conditions?: Cond[] } | undefined)?.conditions ?? [];

describe('controller with a poisoned pool (1,024 identical entries)', function () {
  this.timeout(120_000);
  let c: TestCluster;
  let controller: Controller;
  const logger = new RecordingLogger();

  before(async () => {
    c = await startTestCluster({ herald: true });
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(POOLS, { metadata: { name: 'good', namespace: NS }, spec: { addresses: ['192.0.2.0/28'] } });
    controller = new Controller({
      client: c.client,
      clock: systemClock(),
      logger,
      registry: createMetricsRegistry({ defaultMetrics: false }),
      namespace: NS,
      workers: 4,
      poolStatusDelayMs: 10,
    });
    await controller.start();
  });
  after(async () => {
    await controller?.stop();
    await c?.server.stop();
  });

  it('an unrelated Service still gets its address; the pool is refused with a bounded report', async () => {
    const svc = (name: string, annotations: Record<string, string> = {}): KubeObject => ({
      metadata: { name, namespace: 'default', annotations },
      spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] },
    });
    await c.client.create(POOLS, {
      metadata: { name: 'poison', namespace: NS },
      spec: { addresses: Array(1024).fill('198.51.100.0/24') },
    });
    const t0 = performance.now();
    await c.client.create(SERVICES, svc('unrelated'));
    // A generous deadline to wait on; the figure is printed, not asserted.
    const assigned = await eventually(
      async () => {
        const o = await c.client.get(SERVICES, 'default', 'unrelated');
        const ips = (o['status'] as { loadBalancer?: { ingress?: { ip: string }[] } }).loadBalancer?.ingress ?? [];
        return ips.length > 0 ? ips.map((i) => i.ip) : undefined;
      },
      'the unrelated Service to get an address',
      60_000,
    );
    const ms = performance.now() - t0;
    expect(assigned).to.deep.equal(['192.0.2.0']);
    console.log(
      `      unrelated Service assigned ${ms.toFixed(0)} ms after the poisoned pool was applied (issue 18 saw 19 s)`,
    );

    const pool = await eventually(
      async () => {
        const o = await c.client.get(POOLS, NS, 'poison');
        return conds(o).find((x) => x.type === 'Valid' && x.status === 'False') ? o : undefined;
      },
      'the poisoned pool marked invalid',
      60_000,
    );
    const valid = conds(pool).find((x) => x.type === 'Valid')!;
    expect(valid.message).to.include('1003 more error(s) not listed (1023 in all');
    expect(valid.message.split('; ').length).to.equal(21);
    expect(Buffer.byteLength(JSON.stringify(pool['status']))).to.be.below(8_192);

    const state = await eventually(
      async () => {
        const o = await c.client.tryGet(CONFIG_STATES, NS, 'controller');
        return (o?.['status'] as { result?: string } | undefined)?.result === 'Invalid' ? o : undefined;
      },
      'ConfigurationState Invalid',
      60_000,
    );
    const errors = (state['status'] as { errors: unknown[] }).errors;
    expect(errors.length).to.equal(21);
    expect(Buffer.byteLength(JSON.stringify(state))).to.be.below(16_384);

    const logged = logger.records.filter((r) => r.message === 'invalid IPAddressPool');
    expect(logged.length).to.be.greaterThan(0);
    expect(logged.length % 21).to.equal(0, 'each reload logs the 21 kept errors of the pool, no more');

    await c.client.create(SERVICES, svc('wants-poison', { 'herald.dev/address-pool': 'poison' }));
    const cond = await eventually(
      async () => {
        const o = await c.client.get(SERVICES, 'default', 'wants-poison');
        return conds(o).find((x) => x.type === 'herald.dev/AddressAssigned' && x.reason === 'PoolInvalid');
      },
      'wants-poison condition PoolInvalid',
      60_000,
    );
    expect(cond.message).to.match(/^pool "poison" is invalid: spec\.addresses\[1\]: "198\.51\.100\.0\/24" overlaps/);
  });
});
