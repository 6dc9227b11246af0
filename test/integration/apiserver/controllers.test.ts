/**
 * The embedded server's controllers through the API, as a client sees them: a Deployment
 * becomes a ReplicaSet and scheduled Pods, a Ready Pod becomes an endpoint of the Service that
 * selects it, and deleting an owner removes what it owned.
 */
import { expect } from 'chai';
import { eventually, startTestCluster, type TestCluster } from '../../support/apiserver.js';
import { ENDPOINT_SLICES, NODES, PODS, SERVICES, type KubeObject, type ResourceType } from '../../../src/k8s/index.js';

const DEPLOYMENTS: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};
const REPLICASETS: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'replicasets',
  kind: 'ReplicaSet',
  namespaced: true,
};

describe('embedded API server: controllers (scheduler, Deployment, ReplicaSet, EndpointSlice, owners)', () => {
  let c: TestCluster;
  before(async () => {
    c = await startTestCluster({ controllers: true });
  });
  after(async () => {
    await c?.server.stop();
  });

  it('Deployment -> ReplicaSet -> Pods spread over Ready nodes -> EndpointSlice; deletes cascade', async () => {
    for (const [name, ready] of [
      ['node-a', 'True'],
      ['node-b', 'True'],
      ['node-c', 'False'],
    ] as const) {
      await c.client.create(NODES, {
        metadata: { name, labels: { 'kubernetes.io/hostname': name } },
        status: { conditions: [{ type: 'Ready', status: ready }] },
      } as KubeObject);
    }
    const labels = { app: 'web' };
    await c.client.create(DEPLOYMENTS, {
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'web', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
        },
      },
    } as KubeObject);
    await c.client.create(SERVICES, {
      metadata: { name: 'web', namespace: 'default' },
      spec: { type: 'LoadBalancer', selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    const pods = await eventually(async () => {
      const items = (await c.client.list(PODS, { namespace: 'default' })).items.filter(
        (p) => (p['spec'] as { nodeName?: string }).nodeName,
      );
      return items.length === 2 ? items : undefined;
    }, 'two scheduled Pods');
    expect(pods.map((p) => (p['spec'] as { nodeName: string }).nodeName).sort()).to.deep.equal(['node-a', 'node-b']);
    expect((await c.client.list(REPLICASETS, { namespace: 'default' })).items).to.have.length(1);
    // A kubelet would do this.
    const [p] = pods;
    await c.client.patch(
      PODS,
      'default',
      p!.metadata.name,
      {
        status: {
          phase: 'Running',
          podIP: '198.51.100.1',
          podIPs: [{ ip: '198.51.100.1' }],
          conditions: [{ type: 'Ready', status: 'True' }],
        },
      },
      { status: true },
    );
    const slice = await eventually(async () => {
      const s = (
        await c.client.list(ENDPOINT_SLICES, { namespace: 'default', labelSelector: 'kubernetes.io/service-name=web' })
      ).items[0];
      return (s?.['endpoints'] as unknown[] | undefined)?.length === 1 ? s : undefined;
    }, "the Service's slice with the Ready Pod");
    expect(slice!['ports']).to.deep.equal([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect((slice!['endpoints'] as { addresses: string[]; nodeName: string }[])[0]).to.deep.include({
      addresses: ['198.51.100.1'],
      nodeName: (p!['spec'] as { nodeName: string }).nodeName,
    });
    // Scaled down through the Deployment: one Pod left, and the ReplicaSet's status says so.
    await c.client.patch(DEPLOYMENTS, 'default', 'web', { spec: { replicas: 1 } });
    await eventually(async () => {
      const rs = (await c.client.list(REPLICASETS, { namespace: 'default' })).items[0];
      return (
        (await c.client.list(PODS, { namespace: 'default' })).items.length === 1 &&
        (rs?.['status'] as { replicas?: number } | undefined)?.replicas === 1
      );
    }, 'one Pod and a ReplicaSet status that counts it');
    await c.client.delete(DEPLOYMENTS, 'default', 'web');
    await eventually(
      async () =>
        (await c.client.list(PODS, { namespace: 'default' })).items.length === 0 &&
        (await c.client.list(REPLICASETS, { namespace: 'default' })).items.length === 0,
      'the ReplicaSet and Pods to go',
    );
    await c.client.delete(SERVICES, 'default', 'web');
    await eventually(
      async () => (await c.client.list(ENDPOINT_SLICES, { namespace: 'default' })).items.length === 0,
      'the slice to go',
    );
  });
});
