/**
 * What the install tests (manifests/ and the Helm chart) check under the RBAC they installed:
 * the controller, with only its ServiceAccount's token, assigns an address, writes pool status,
 * its ConfigurationState, its Lease and the memberlist Secret, and is never refused.
 */
import { expect } from 'chai';
import { Controller } from '../../controller/controller.js';
import { CONTROLLER_LEASE, MEMBERLIST_SECRET } from '../../src/api/names.js';
import { systemClock } from '../../src/core/clock.js';
import { RecordingLogger } from '../../src/core/logger.js';
import { LEASES, SECRETS, SERVICES, heraldResource, LeaderElector, type KubeObject } from '../../src/k8s/index.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { eventually } from './apiserver.js';
import type { KubeCluster } from './kube-cluster.js';

const POOLS = heraldResource('IPAddressPool');

/** Log records that say a request was refused (RBAC). */
export const forbidden = (logger: RecordingLogger): unknown[] =>
  logger.records.filter((r) => /forbidden/i.test(JSON.stringify(r)));

export async function controllerWorksUnderItsRbac(
  c: KubeCluster,
  ns: string,
  o: { pool: string; firstIp: string; identity: string },
): Promise<void> {
  const sa = await c.clientAs(ns, 'herald-controller');
  await c.client.create(POOLS, {
    metadata: { name: 'pool', namespace: ns },
    spec: { addresses: [o.pool] },
  } as KubeObject);
  const logger = new RecordingLogger();
  const ctl = new Controller({
    client: sa,
    clock: systemClock(),
    logger,
    registry: createMetricsRegistry({ defaultMetrics: false }),
    namespace: ns,
    poolStatusDelayMs: 10,
  });
  const elector = new LeaderElector({
    client: sa,
    clock: systemClock(),
    logger,
    namespace: ns,
    name: CONTROLLER_LEASE,
    identity: o.identity,
    onStartedLeading: () => undefined,
    onStoppedLeading: () => undefined,
  });
  elector.start();
  await ctl.start();
  try {
    await c.client.create(SERVICES, {
      metadata: { name: 'web', namespace: 'default' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
    const svc = await eventually(
      async () => {
        const s = await c.client.get(SERVICES, 'default', 'web');
        return s.metadata.annotations?.['herald.dev/ip-allocated-from-pool'] === 'pool' ? s : undefined;
      },
      'web assigned from pool',
      30_000,
    );
    expect((svc['status'] as { loadBalancer: { ingress: { ip: string }[] } }).loadBalancer.ingress[0]!.ip).to.equal(
      o.firstIp,
    );
    await eventually(
      async () =>
        ((await c.client.get(POOLS, ns, 'pool'))['status'] as { assignedIPv4?: string } | undefined)?.assignedIPv4 ===
        '1'
          ? true
          : undefined,
      'pool status',
      30_000,
    );
    await eventually(
      () => c.client.tryGet(heraldResource('ConfigurationState'), ns, 'controller'),
      'ConfigurationState',
      30_000,
    );
    await eventually(() => c.client.tryGet(SECRETS, ns, MEMBERLIST_SECRET), 'memberlist secret', 30_000);
    await eventually(() => elector.isLeader() || undefined, 'the controller to hold its Lease', 30_000);
    expect(
      ((await c.client.get(LEASES, ns, CONTROLLER_LEASE))['spec'] as { holderIdentity: string }).holderIdentity,
    ).to.equal(o.identity);
    expect(forbidden(logger), JSON.stringify(forbidden(logger))).to.deep.equal([]);
  } finally {
    await ctl.stop();
    await elector.stop();
  }
}
