/**
 * manifests/ renders offline with kubectl kustomize, applies cleanly to the embedded API
 * server, and the controller works with exactly the RBAC it grants (RBAC enforced).
 */
import { expect } from 'chai';
import {
  ENDPOINT_SLICES,
  NODES,
  SECRETS,
  SERVICES,
  heraldResource,
  type KubeClient,
  type KubeObject,
} from '../../../src/k8s/index.js';
import { applyWithClient, type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';
import { controllerWorksUnderItsRbac } from '../../support/rbac-checks.js';
import { requireTool } from '../../support/tools.js';
import { kustomize, MANIFESTS_DIR } from '../../support/helm.js';
import { KINDS } from '../../../src/api/group.js';

const NS = 'herald-system';

describe('manifests/ (kustomize base)', function () {
  let c: KubeCluster;
  let objects: Record<string, unknown>[];

  before(async function () {
    requireTool(this, 'kubectl');
    objects = await kustomize(MANIFESTS_DIR);
    c = await startKubeCluster({ enforceRbac: true });
  });
  after(async () => {
    await c?.stop();
  });

  it('renders every object Herald needs, least privilege and hardened', () => {
    const kinds = objects.map((o) => `${String(o['kind'])}/${String((o['metadata'] as { name: string }).name)}`);
    expect(kinds).to.include.members([
      'Namespace/herald-system',
      'ServiceAccount/herald-controller',
      'ServiceAccount/herald-speaker',
      'Deployment/herald-controller',
      'DaemonSet/herald-speaker',
      'PodDisruptionBudget/herald-controller',
      'Service/herald-controller-metrics',
      'Service/herald-speaker-metrics',
    ]);
    expect(objects.filter((o) => o['kind'] === 'CustomResourceDefinition')).to.have.length(KINDS.length);
    const deploy = objects.find((o) => o['kind'] === 'Deployment') as {
      spec: {
        replicas: number;
        template: {
          spec: {
            securityContext: { runAsNonRoot: boolean };
            containers: { args: string[]; securityContext: { readOnlyRootFilesystem: boolean } }[];
          };
        };
      };
    };
    expect(deploy.spec.replicas).to.equal(2);
    expect(deploy.spec.template.spec.securityContext.runAsNonRoot).to.equal(true);
    expect(deploy.spec.template.spec.containers[0]!.args).to.include('--leader-elect');
    expect(deploy.spec.template.spec.containers[0]!.securityContext.readOnlyRootFilesystem).to.equal(true);
    const ds = objects.find((o) => o['kind'] === 'DaemonSet') as {
      spec: {
        template: {
          spec: {
            hostNetwork: boolean;
            containers: { securityContext: { capabilities: { add: string[]; drop: string[] } } }[];
          };
        };
      };
    };
    expect(ds.spec.template.spec.hostNetwork).to.equal(true);
    expect(ds.spec.template.spec.containers[0]!.securityContext.capabilities).to.deep.equal({
      drop: ['ALL'],
      add: ['NET_RAW', 'NET_BIND_SERVICE'],
    });
    for (const o of objects) {
      const rules = (o['rules'] as { verbs: string[]; resources: string[] }[] | undefined) ?? [];
      for (const r of rules) expect(r.verbs, `${String(o['kind'])} ${JSON.stringify(r)}`).to.not.include('*');
    }
  });

  it(`applies cleanly to the ${kubeLane()} API server`, async () => {
    const results = await applyWithClient(c.client, objects);
    expect(results.filter((r) => !r.ok)).to.deep.equal([]);
    expect(results).to.have.length(objects.length);
  });

  it('the controller assigns, writes pool status, ConfigurationState, its Lease and the memberlist Secret with only its RBAC', async () => {
    await controllerWorksUnderItsRbac(c, NS, { pool: '192.0.2.0/28', firstIp: '192.0.2.0', identity: 'test' });
  });

  it("the speaker's RBAC covers what it reads and writes", async () => {
    const sa: KubeClient = await c.clientAs(NS, 'herald-speaker');
    for (const t of [SERVICES, NODES, ENDPOINT_SLICES]) await sa.list(t);
    for (const k of ['IPAddressPool', 'L2Advertisement', 'BGPAdvertisement', 'BGPPeer', 'BFDProfile', 'Community'])
      await sa.list(heraldResource(k), { namespace: NS });
    await sa.list(SECRETS, { namespace: NS });
    const status = await sa.create(heraldResource('ServiceL2Status'), {
      metadata: { name: 'l2-web-node-a', namespace: NS },
      spec: {},
    } as KubeObject);
    await sa.replaceStatus(heraldResource('ServiceL2Status'), {
      ...status,
      status: { node: 'node-a', serviceName: 'web', serviceNamespace: 'default' },
    });
    await sa.delete(heraldResource('ServiceL2Status'), NS, 'l2-web-node-a');
    // Both BGP status kinds (--service-status per-node or per-service): watched, written, deleted.
    for (const [kind, name, st] of [
      [
        'BGPNodeStatus',
        'node-a-0',
        {
          node: 'node-a',
          shard: 0,
          shards: 1,
          serviceCount: 1,
          peers: ['router'],
          services: [{ namespace: 'default', name: 'web', peers: [0] }],
        },
      ],
      [
        'ServiceBGPStatus',
        'bgp-default-web-node-a',
        { node: 'node-a', serviceName: 'web', serviceNamespace: 'default', peers: ['router'] },
      ],
    ] as const) {
      await sa.list(heraldResource(kind), { namespace: NS, labelSelector: 'herald.dev/node=node-a' });
      const obj = await sa.create(heraldResource(kind), { metadata: { name, namespace: NS }, spec: {} } as KubeObject);
      await sa.replaceStatus(heraldResource(kind), { ...obj, status: st });
      await sa.delete(heraldResource(kind), NS, name);
    }
    const denied = await sa.list(SECRETS, { namespace: 'default' }).then(
      () => 'allowed',
      (e: { statusCode: number }) => e.statusCode,
    );
    expect(denied).to.equal(403);
  });
});
