/**
 * The embedded API server as clients first meet it, spoken to through @kubernetes/client-node
 * over HTTPS: discovery, the typed APIs (CoreV1Api, CustomObjectsApi, VersionApi) working
 * unchanged, token authentication, and the fault injection tests use to provoke errors.
 */
import { ApiException, CoreV1Api, CustomObjectsApi, VersionApi } from '@kubernetes/client-node';
import { expect } from 'chai';
import { apiError, type TestCluster, withHeraldCluster } from '../../support/apiserver.js';
import { pool, POOLS } from '../../support/conformance.js';
import { CONFIGMAPS, LEASES, type KubeObject } from '../../../src/k8s/index.js';

describe('embedded API server: conformance through client-node', function () {
  let c: TestCluster;
  withHeraldCluster(this, (started) => (c = started));

  describe('discovery', () => {
    it('serves /version, /api, /apis and resource lists', async () => {
      const v = await c.kc.makeApiClient(VersionApi).getCode();
      expect(v.major).to.equal('1');
      const api = (await c.client.request('GET' as never, '/api')) as { versions: string[] };
      expect(api.versions).to.deep.equal(['v1']);
      const apis = (await c.client.request('GET' as never, '/apis')) as { groups: { name: string }[] };
      const names = apis.groups.map((g) => g.name);
      for (const g of [
        'herald.dev',
        'discovery.k8s.io',
        'coordination.k8s.io',
        'rbac.authorization.k8s.io',
        'apiextensions.k8s.io',
        'events.k8s.io',
      ]) {
        expect(names).to.include(g);
      }
      const core = (await c.client.request('GET' as never, '/api/v1')) as {
        resources: { name: string; namespaced: boolean }[];
      };
      const coreNames = core.resources.map((r) => r.name);
      for (const r of [
        'namespaces',
        'services',
        'services/status',
        'nodes',
        'nodes/status',
        'pods',
        'secrets',
        'configmaps',
        'events',
      ])
        expect(coreNames).to.include(r);
      const herald = (await c.client.request('GET' as never, '/apis/herald.dev/v1beta1')) as {
        resources: { name: string; kind: string }[];
      };
      expect(herald.resources.map((r) => r.kind)).to.include.members(['IPAddressPool', 'BGPPeer', 'ServiceL2Status']);
    });
  });

  describe('typed client-node APIs work unchanged', () => {
    it('CoreV1Api creates, reads, lists and deletes a namespace and a service', async () => {
      const core = c.kc.makeApiClient(CoreV1Api);
      await core.createNamespace({ body: { metadata: { name: 'typed' } } });
      const created = await core.createNamespacedService({
        namespace: 'typed',
        body: { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
      });
      expect(created.spec?.clusterIP).to.match(/^198\.19\./);
      const list = await core.listNamespacedService({ namespace: 'typed' });
      expect(list.items.map((s) => s.metadata?.name)).to.deep.equal(['web']);
      await core.deleteNamespacedService({ namespace: 'typed', name: 'web' });
      try {
        await core.readNamespacedService({ namespace: 'typed', name: 'web' });
        expect.fail('service still exists');
      } catch (err) {
        expect((err as ApiException<unknown>).code).to.equal(404);
      }
      await core.deleteNamespace({ name: 'typed' });
    });

    it('CustomObjectsApi reads Herald custom resources', async () => {
      await c.client.create(POOLS, pool('typed-pool', ['192.0.2.0/28']));
      const api = c.kc.makeApiClient(CustomObjectsApi);
      const got = (await api.getNamespacedCustomObject({
        group: 'herald.dev',
        version: 'v1beta1',
        namespace: 'default',
        plural: 'ipaddresspools',
        name: 'typed-pool',
      })) as KubeObject;
      expect((got['spec'] as { addresses: string[] }).addresses).to.deep.equal(['192.0.2.0/28']);
      await c.client.delete(POOLS, 'default', 'typed-pool');
    });
  });

  describe('authentication, RBAC and faults', () => {
    it('refuses a request without a valid token (401)', async () => {
      const { KubeClient } = await import('../../../src/k8s/client.js');
      const anon = KubeClient.fromString(c.server.kubeconfig('not-a-token'));
      const e = await apiError(anon.list(CONFIGMAPS, { namespace: 'default' }));
      expect(e.statusCode).to.equal(401);
    });

    it('injects 500, 429 and 409 for the next N requests of a resource, then recovers', async () => {
      c.server.faults.failNext({ resource: 'leases.coordination.k8s.io', verb: 'list', count: 2, status: 500 });
      const e1 = await apiError(c.client.list(LEASES, { namespace: 'default' }));
      const e2 = await apiError(c.client.list(LEASES, { namespace: 'default' }));
      expect([e1.statusCode, e2.statusCode]).to.deep.equal([500, 500]);
      await c.client.list(LEASES, { namespace: 'default' });
      c.server.faults.failNext({ resource: 'configmaps', verb: 'create', count: 1, status: 429 });
      const e3 = await apiError(c.client.create(CONFIGMAPS, { metadata: { name: 'throttled', namespace: 'default' } }));
      expect([e3.statusCode, e3.reason]).to.deep.equal([429, 'TooManyRequests']);
    });

    it('a hung request stays unanswered until the fault is cleared', async () => {
      c.server.faults.failNext({ resource: 'configmaps', verb: 'get', count: 1, status: 'hang' });
      let settled = false;
      const p = c.client.get(CONFIGMAPS, 'default', 'noop').then(
        () => (settled = true),
        () => (settled = true),
      );
      await c.client.list(CONFIGMAPS, { namespace: 'default' });
      expect(settled).to.equal(false);
      c.server.faults.clear();
      await p;
      expect(settled).to.equal(true);
    });
  });
});
