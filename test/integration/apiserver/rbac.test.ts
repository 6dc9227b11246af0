/** RBAC enforcement for ServiceAccount tokens, through client-node. */
import { expect } from 'chai';
import { apiError, eventually } from '../../support/apiserver.js';
import { type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';
import { CONFIGMAPS, SERVICES, type KubeClient, type ResourceType } from '../../../src/k8s/index.js';

const rbac = (plural: string, kind: string, namespaced: boolean): ResourceType => ({
  group: 'rbac.authorization.k8s.io',
  version: 'v1',
  plural,
  kind,
  namespaced,
});
const ROLES = rbac('roles', 'Role', true);
const ROLE_BINDINGS = rbac('rolebindings', 'RoleBinding', true);
const CLUSTER_ROLES = rbac('clusterroles', 'ClusterRole', false);
const CLUSTER_ROLE_BINDINGS = rbac('clusterrolebindings', 'ClusterRoleBinding', false);

describe(`${kubeLane()} API server: RBAC for ServiceAccounts`, function () {
  this.timeout(120_000);
  let c: KubeCluster;
  let sa: KubeClient;
  before(async () => {
    c = await startKubeCluster({ enforceRbac: true });
    await c.client.create(
      { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false },
      { metadata: { name: 'herald-system' } },
    );
    sa = await c.clientAs('herald-system', 'speaker');
  });
  after(async () => {
    await c?.stop();
  });

  it('denies everything without a binding, with kube-style messages', async () => {
    const e = await apiError(sa.list(SERVICES, { namespace: 'default' }));
    expect([e.statusCode, e.reason]).to.deep.equal([403, 'Forbidden']);
    expect(e.message).to.equal(
      'services is forbidden: User "system:serviceaccount:herald-system:speaker" cannot list resource "services" in API group "" in the namespace "default"',
    );
  });

  it('discovery stays readable for any authenticated user', async () => {
    const out = (await sa.request('GET' as never, '/api/v1')) as { resources: unknown[] };
    expect(out.resources.length).to.be.greaterThan(0);
  });

  it('a ClusterRoleBinding grants cluster-wide; status needs its own rule', async () => {
    await c.client.create(CLUSTER_ROLES, {
      metadata: { name: 'svc-reader' },
      rules: [{ apiGroups: [''], resources: ['services'], verbs: ['get', 'list', 'watch'] }],
    });
    await c.client.create(CLUSTER_ROLE_BINDINGS, {
      metadata: { name: 'speaker-svc-reader' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'svc-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'speaker', namespace: 'herald-system' }],
    });
    await c.client.create(SERVICES, {
      metadata: { name: 'web', namespace: 'default' },
      spec: { ports: [{ port: 80 }] },
    });
    // A real server also has default/kubernetes; its authorizer sees a new binding a moment later.
    const names = await eventually(
      async () => (await sa.list(SERVICES, { namespace: 'default' })).items.map((o) => o.metadata.name),
      'the binding to take effect',
    );
    expect(names).to.include('web');
    const e = await apiError(sa.patch(SERVICES, 'default', 'web', { status: { loadBalancer: {} } }, { status: true }));
    expect(e.message).to.include('cannot patch resource "services/status"');
    const w = await apiError(sa.delete(SERVICES, 'default', 'web'));
    expect(w.statusCode).to.equal(403);
  });

  it('a RoleBinding grants only inside its namespace, honouring resourceNames', async () => {
    await c.client.create(ROLES, {
      metadata: { name: 'cm', namespace: 'herald-system' },
      rules: [
        { apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'update'], resourceNames: ['speaker-state'] },
        { apiGroups: [''], resources: ['configmaps'], verbs: ['create'] },
      ],
    });
    await c.client.create(ROLE_BINDINGS, {
      metadata: { name: 'cm', namespace: 'herald-system' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cm' },
      subjects: [{ kind: 'ServiceAccount', name: 'speaker' }],
    });
    await eventually(
      () => sa.create(CONFIGMAPS, { metadata: { name: 'speaker-state', namespace: 'herald-system' } }),
      'the RoleBinding to take effect',
    );
    await sa.get(CONFIGMAPS, 'herald-system', 'speaker-state');
    await c.client.create(CONFIGMAPS, { metadata: { name: 'other', namespace: 'herald-system' } });
    expect((await apiError(sa.get(CONFIGMAPS, 'herald-system', 'other'))).statusCode).to.equal(403);
    expect(
      (await apiError(sa.create(CONFIGMAPS, { metadata: { name: 'x', namespace: 'default' } }))).statusCode,
    ).to.equal(403);
  });

  it('group subjects match the ServiceAccount groups', async () => {
    await c.client.create(CLUSTER_ROLES, {
      metadata: { name: 'cm-list' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list'] }],
    });
    await c.client.create(CLUSTER_ROLE_BINDINGS, {
      metadata: { name: 'all-sa-cm-list' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cm-list' },
      subjects: [{ kind: 'Group', name: 'system:serviceaccounts:herald-system' }],
    });
    await eventually(() => sa.list(CONFIGMAPS, { namespace: 'default' }), 'the group binding to take effect');
    const other = await c.clientAs('default', 'nobody');
    expect((await apiError(other.list(CONFIGMAPS, { namespace: 'default' }))).statusCode).to.equal(403);
  });
});
