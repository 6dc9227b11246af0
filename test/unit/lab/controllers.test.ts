/** The embedded server's controllers, as decisions: EndpointSlices, Deployments, ReplicaSets, the scheduler. */
import { expect } from 'chai';
import { desiredSlices, sliceName } from '../../../lab/apiserver/controllers/endpointslices.js';
import {
  planDeployment,
  planReplicaSet,
  schedule,
  templateHash,
} from '../../../lab/apiserver/controllers/workloads.js';
import type { Obj } from '../../../lab/apiserver/store.js';

const obj = (o: Record<string, unknown>): Obj => o as Obj;
const svc = (spec: Record<string, unknown>): Obj =>
  obj({
    metadata: { name: 'web', namespace: 'shop', uid: 'svc-uid' },
    spec: {
      selector: { app: 'web' },
      ipFamilies: ['IPv4'],
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }],
      ...spec,
    },
  });
const pod = (
  name: string,
  o: {
    labels?: Record<string, string>;
    ips?: string[];
    ready?: boolean;
    node?: string;
    ns?: string;
    deleting?: boolean;
    owner?: string;
    ports?: unknown[];
  } = {},
): Obj =>
  obj({
    metadata: {
      name,
      namespace: o.ns ?? 'shop',
      uid: `${name}-uid`,
      labels: o.labels ?? { app: 'web' },
      ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
      ...(o.owner ? { ownerReferences: [{ kind: 'ReplicaSet', name: 'rs', uid: o.owner, controller: true }] } : {}),
    },
    spec: { ...(o.node ? { nodeName: o.node } : {}), containers: [{ name: 'c', ports: o.ports ?? [] }] },
    status: {
      podIPs: (o.ips ?? []).map((ip) => ({ ip })),
      conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    },
  });

describe('lab apiserver: EndpointSlice controller', () => {
  it('one slice per family with ready, serving and terminating endpoints, nodeName, targetRef and resolved ports', () => {
    const slices = desiredSlices(svc({ ipFamilies: ['IPv4', 'IPv6'] }), [
      pod('a', { ips: ['198.51.100.1', '2001:db8:1:1::1'], node: 'node-a' }),
      pod('b', { ips: ['198.51.100.17'], node: 'node-b', ready: false }),
      pod('c', { ips: ['198.51.100.18'], node: 'node-b', deleting: true }),
      pod('other', { ips: ['198.51.100.2'], labels: { app: 'db' } }),
      pod('elsewhere', { ips: ['198.51.100.3'], ns: 'default' }),
      pod('no-ip'),
    ]);
    expect(slices.map((s) => [s.metadata.name, s['addressType']])).to.deep.equal([
      [sliceName('web', 'IPv4'), 'IPv4'],
      [sliceName('web', 'IPv6'), 'IPv6'],
    ]);
    expect(slices[0]!['endpoints']).to.deep.equal([
      {
        addresses: ['198.51.100.1'],
        conditions: { ready: true, serving: true, terminating: false },
        nodeName: 'node-a',
        targetRef: { kind: 'Pod', namespace: 'shop', name: 'a', uid: 'a-uid' },
      },
      {
        addresses: ['198.51.100.17'],
        conditions: { ready: false, serving: false, terminating: false },
        nodeName: 'node-b',
        targetRef: { kind: 'Pod', namespace: 'shop', name: 'b', uid: 'b-uid' },
      },
      {
        addresses: ['198.51.100.18'],
        conditions: { ready: false, serving: true, terminating: true },
        nodeName: 'node-b',
        targetRef: { kind: 'Pod', namespace: 'shop', name: 'c', uid: 'c-uid' },
      },
    ]);
    expect(slices[0]!['ports']).to.deep.equal([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    expect((slices[1]!['endpoints'] as unknown[]).length).to.equal(1);
    expect(slices[0]!.metadata.labels).to.deep.equal({
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
    });
  });

  it("a named targetPort is looked up in the Pod's container ports; publishNotReadyAddresses makes every endpoint ready", () => {
    const [s] = desiredSlices(
      svc({ ports: [{ name: 'http', port: 80, targetPort: 'web' }], publishNotReadyAddresses: true }),
      [pod('a', { ips: ['198.51.100.1'], ready: false, ports: [{ name: 'web', containerPort: 9090 }] })],
    );
    expect(s!['ports']).to.deep.equal([{ name: 'http', port: 9090, protocol: 'TCP' }]);
    expect((s!['endpoints'] as { conditions: unknown }[])[0]!.conditions).to.deep.equal({
      ready: true,
      serving: false,
      terminating: false,
    });
  });

  it('a Service without a selector keeps its hand-written slices (none are computed)', () => {
    expect(desiredSlices(svc({ selector: {} }), [pod('a', { ips: ['198.51.100.1'] })])).to.deep.equal([]);
  });
});

describe('lab apiserver: Deployment, ReplicaSet and scheduler decisions', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };
  const deploy = obj({
    metadata: { name: 'web', namespace: 'shop', uid: 'd-uid', generation: 1 },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template },
  });

  it('a Deployment gets one ReplicaSet named by its template hash, owned by it, selecting by the hash', () => {
    const plan = planDeployment(deploy, [], []);
    const rs = plan.create!;
    expect(rs.metadata.name).to.equal(`web-${templateHash(template)}`);
    expect(rs['spec']).to.deep.include({
      replicas: 2,
      selector: { matchLabels: { app: 'web', 'pod-template-hash': templateHash(template) } },
    });
    expect((rs.metadata as Record<string, unknown>)['ownerReferences']).to.deep.equal([
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: 'web',
        uid: 'd-uid',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('a changed template scales the old ReplicaSet to zero, then removes it once its Pods are gone', () => {
    const old = obj({
      metadata: {
        name: 'web-old',
        namespace: 'shop',
        uid: 'rs-old',
        ownerReferences: [{ uid: 'd-uid', controller: true }],
      },
      spec: { replicas: 2 },
    });
    expect(planDeployment(deploy, [old], []).scale).to.deep.equal([{ name: 'web-old', replicas: 0 }]);
    const emptied = obj({ ...old, spec: { replicas: 0 } });
    expect(planDeployment(deploy, [emptied], [pod('p', { owner: 'rs-old' })]).remove).to.deep.equal([]);
    expect(planDeployment(deploy, [emptied], []).remove).to.deep.equal(['web-old']);
  });

  it('a ReplicaSet creates the missing Pods and removes not-ready ones first when scaled down', () => {
    const rs = obj({
      metadata: { name: 'web-h', namespace: 'shop', uid: 'rs', generation: 1 },
      spec: { replicas: 3, template },
    });
    let n = 0;
    const up = planReplicaSet(rs, [pod('web-h-aaaaa', { owner: 'rs' })], () => String(++n).padStart(5, '0'));
    expect(up.create.map((p) => p.metadata.name)).to.deep.equal(['web-h-00001', 'web-h-00002']);
    expect(up.create[0]!.metadata.labels).to.deep.equal({ app: 'web' });
    const down = planReplicaSet(
      obj({ ...rs, spec: { replicas: 1, template } }),
      [pod('web-h-a', { owner: 'rs' }), pod('web-h-b', { owner: 'rs', ready: false }), pod('web-h-c', { owner: 'rs' })],
      () => 'x',
    );
    expect(down.remove).to.deep.equal(['web-h-b', 'web-h-c']);
    expect(down.status).to.deep.include({ replicas: 3, readyReplicas: 2 });
  });

  it("the scheduler spreads a ReplicaSet's Pods, honours nodeSelector and Ready, and says why it cannot place a Pod", () => {
    const node = (name: string, ready = true): Obj =>
      obj({
        metadata: { name, labels: { 'kubernetes.io/hostname': name } },
        status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
      });
    const nodes = [node('node-a'), node('node-b'), node('node-c', false)];
    const busy = [
      pod('x1', { node: 'node-a', owner: 'other' }),
      pod('x2', { node: 'node-a', owner: 'other' }),
      pod('w1', { node: 'node-b', owner: 'rs' }),
    ];
    expect(schedule(pod('w2', { owner: 'rs' }), nodes, busy)).to.deep.equal({ node: 'node-a' });
    expect(schedule(pod('y', { owner: 'new' }), nodes, busy)).to.deep.equal({ node: 'node-b' });
    const pinned = obj({ ...pod('z'), spec: { nodeSelector: { 'kubernetes.io/hostname': 'node-c' } } });
    expect(schedule(pinned, nodes, busy).node).to.equal(undefined);
    expect((schedule(pinned, nodes, busy) as { reason: string }).reason).to.match(/^0\/3 nodes are available/);
  });
});
