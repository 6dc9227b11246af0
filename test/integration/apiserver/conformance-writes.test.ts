/**
 * Writing through the embedded API server with Herald's KubeClient over HTTPS: object
 * metadata and error Statuses, the status subresource and generation, the three patch types,
 * finalizers and deletion, custom resources against their CRD schema, and Service
 * defaulting and allocation.
 */
import { expect } from 'chai';
import { apiError, type TestCluster, withHeraldCluster } from '../../support/apiserver.js';
import { pool, POOLS, svc } from '../../support/conformance.js';
import { heraldResource, SERVICES, NAMESPACES, CONFIGMAPS } from '../../../src/k8s/index.js';

describe('embedded API server: conformance through client-node', function () {
  let c: TestCluster;
  withHeraldCluster(this, (started) => (c = started));

  describe('object metadata and errors', () => {
    it('assigns uid, creationTimestamp, generation and a resourceVersion that only grows', async () => {
      const a = await c.client.create(CONFIGMAPS, {
        metadata: { name: 'rv-a', namespace: 'default' },
        data: { x: '1' },
      });
      const b = await c.client.create(CONFIGMAPS, {
        metadata: { name: 'rv-b', namespace: 'default' },
        data: { x: '1' },
      });
      expect(a.metadata.uid).to.match(/^[0-9a-f-]{36}$/);
      expect(a.metadata.uid).to.not.equal(b.metadata.uid);
      expect(a.metadata.creationTimestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Number(b.metadata.resourceVersion)).to.be.greaterThan(Number(a.metadata.resourceVersion));
      const list = await c.client.list(CONFIGMAPS, { namespace: 'default' });
      expect(Number(list.resourceVersion)).to.be.at.least(Number(b.metadata.resourceVersion));
    });

    it('409 AlreadyExists, 409 Conflict on a stale resourceVersion, 404 as a Status', async () => {
      const first = await c.client.create(CONFIGMAPS, {
        metadata: { name: 'dup', namespace: 'default' },
        data: { a: '1' },
      });
      const dup = await apiError(c.client.create(CONFIGMAPS, { metadata: { name: 'dup', namespace: 'default' } }));
      expect([dup.statusCode, dup.reason]).to.deep.equal([409, 'AlreadyExists']);
      await c.client.replace(CONFIGMAPS, { ...first, data: { a: '2' } });
      const stale = await apiError(c.client.replace(CONFIGMAPS, { ...first, data: { a: '3' } }));
      expect([stale.statusCode, stale.reason]).to.deep.equal([409, 'Conflict']);
      expect(stale.message).to.include('the object has been modified');
      const missing = await apiError(c.client.get(CONFIGMAPS, 'default', 'nope'));
      expect([missing.statusCode, missing.reason]).to.deep.equal([404, 'NotFound']);
      expect(missing.status?.['kind']).to.equal('Status');
      expect(missing.message).to.equal('configmaps "nope" not found');
    });

    it('refuses objects in a namespace that does not exist, and bad names', async () => {
      const e = await apiError(c.client.create(CONFIGMAPS, { metadata: { name: 'x', namespace: 'absent' } }));
      expect(e.statusCode).to.equal(404);
      expect(e.message).to.equal('namespaces "absent" not found');
      const bad = await apiError(c.client.create(CONFIGMAPS, { metadata: { name: 'Bad_Name', namespace: 'default' } }));
      expect([bad.statusCode, bad.reason]).to.deep.equal([422, 'Invalid']);
    });

    it('generateName gives a unique name', async () => {
      const a = await c.client.create(CONFIGMAPS, {
        metadata: { name: '', generateName: 'gen-', namespace: 'default' },
      });
      expect(a.metadata.name).to.match(/^gen-[a-z0-9]{5}$/);
    });
  });

  describe('status subresource and generation', () => {
    it('a /status write changes only status; a main write never changes status; generation follows spec', async () => {
      const p = await c.client.create(POOLS, pool('gen', ['192.0.2.0/28']));
      expect(p.metadata.generation).to.equal(1);
      const withStatus = await c.client.replaceStatus(POOLS, {
        ...p,
        spec: { addresses: ['192.0.2.64/28'] },
        status: { assignedIPv4: '3' },
      });
      expect(withStatus['status']).to.deep.equal({ assignedIPv4: '3' });
      expect((withStatus['spec'] as { addresses: string[] }).addresses).to.deep.equal(['192.0.2.0/28']);
      expect(withStatus.metadata.generation).to.equal(1);
      const main = await c.client.replace(POOLS, {
        ...withStatus,
        spec: { addresses: ['192.0.2.32/28'] },
        status: { assignedIPv4: '99' },
      });
      expect(main['status']).to.deep.equal({ assignedIPv4: '3' });
      expect(main.metadata.generation).to.equal(2);
      const labelled = await c.client.patch(POOLS, 'default', 'gen', { metadata: { labels: { a: 'b' } } });
      expect(labelled.metadata.generation).to.equal(2);
      const created = await c.client.create(POOLS, {
        ...pool('gen2', ['192.0.2.128/28']),
        status: { assignedIPv4: '5' },
      });
      expect(created['status']).to.equal(undefined);
    });

    it('an update that changes nothing keeps the resourceVersion', async () => {
      const a = await c.client.create(CONFIGMAPS, {
        metadata: { name: 'noop', namespace: 'default' },
        data: { k: 'v' },
      });
      const b = await c.client.replace(CONFIGMAPS, a);
      expect(b.metadata.resourceVersion).to.equal(a.metadata.resourceVersion);
    });
  });

  describe('patch', () => {
    it('merge patch (RFC 7386) sets and removes fields', async () => {
      await c.client.create(CONFIGMAPS, { metadata: { name: 'mp', namespace: 'default' }, data: { a: '1', b: '2' } });
      const out = await c.client.patch(CONFIGMAPS, 'default', 'mp', { data: { a: null, c: '3' } });
      expect(out['data']).to.deep.equal({ b: '2', c: '3' });
    });

    it('JSON patch (RFC 6902) with test, add, remove', async () => {
      await c.client.create(CONFIGMAPS, { metadata: { name: 'jp', namespace: 'default' }, data: { a: '1' } });
      const out = await c.client.patch(
        CONFIGMAPS,
        'default',
        'jp',
        [
          { op: 'test', path: '/data/a', value: '1' },
          { op: 'add', path: '/data/b', value: '2' },
          { op: 'remove', path: '/data/a' },
        ],
        { kind: 'json' },
      );
      expect(out['data']).to.deep.equal({ b: '2' });
      const failed = await apiError(
        c.client.patch(CONFIGMAPS, 'default', 'jp', [{ op: 'test', path: '/data/b', value: 'x' }], { kind: 'json' }),
      );
      expect(failed.statusCode).to.equal(422);
    });

    it('strategic merge patch merges Service ports by port and finalizers as a set', async () => {
      await c.client.create(
        SERVICES,
        svc(
          'smp',
          {
            ports: [
              { name: 'http', port: 80 },
              { name: 'https', port: 443 },
            ],
          },
          { finalizers: ['a.example/x'] },
        ),
      );
      const out = await c.client.patch(
        SERVICES,
        'default',
        'smp',
        { metadata: { finalizers: ['b.example/y'] }, spec: { ports: [{ port: 443, targetPort: 8443 }] } },
        { kind: 'strategic' },
      );
      const ports = (out['spec'] as { ports: { port: number; targetPort: number; name: string }[] }).ports;
      expect(ports.map((p) => [p.name, p.port, p.targetPort])).to.deep.equal([
        ['http', 80, 80],
        ['https', 443, 8443],
      ]);
      expect(out.metadata.finalizers).to.deep.equal(['a.example/x', 'b.example/y']);
      await c.client.patch(SERVICES, 'default', 'smp', { metadata: { finalizers: null } }, { kind: 'merge' });
      await c.client.delete(SERVICES, 'default', 'smp');
    });

    it('strategic merge patch is refused for custom resources (415), as kube does', async () => {
      await c.client.create(POOLS, pool('smp-pool', ['192.0.2.0/30']));
      const e = await apiError(
        c.client.patch(POOLS, 'default', 'smp-pool', { spec: { autoAssign: false } }, { kind: 'strategic' }),
      );
      expect(e.statusCode).to.equal(415);
    });

    it('a resourceVersion inside a patch is a precondition', async () => {
      const a = await c.client.create(CONFIGMAPS, {
        metadata: { name: 'prc', namespace: 'default' },
        data: { a: '1' },
      });
      await c.client.patch(CONFIGMAPS, 'default', 'prc', { data: { a: '2' } });
      const e = await apiError(
        c.client.patch(CONFIGMAPS, 'default', 'prc', {
          metadata: { resourceVersion: a.metadata.resourceVersion },
          data: { a: '3' },
        }),
      );
      expect(e.statusCode).to.equal(409);
    });

    it('metadata through /status: kept for a Service (its status strategy resets only the spec), ignored for a custom resource', async () => {
      await c.client.create(SERVICES, svc('stm'));
      const out = await c.client.patch(
        SERVICES,
        'default',
        'stm',
        {
          metadata: { annotations: { 'herald.dev/ip-allocated-from-pool': 'p' } },
          status: { loadBalancer: { ingress: [{ ip: '192.0.2.9', ipMode: 'VIP' }] } },
        },
        { kind: 'strategic', status: true },
      );
      expect(out.metadata.annotations).to.deep.equal({ 'herald.dev/ip-allocated-from-pool': 'p' });
      await c.client.create(POOLS, pool('stm', ['192.0.2.16/28']));
      const cr = await c.client.patch(
        POOLS,
        'default',
        'stm',
        { metadata: { annotations: { a: 'b' } }, status: { assignedIPv4: '1' } },
        { status: true },
      );
      expect(cr.metadata.annotations ?? {}).to.deep.equal({});
      expect(cr['status']).to.deep.equal({ assignedIPv4: '1' });
    });

    it('status patch touches only status', async () => {
      await c.client.create(SERVICES, svc('stp'));
      const out = await c.client.patch(
        SERVICES,
        'default',
        'stp',
        { spec: { type: 'ClusterIP' }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.7', ipMode: 'VIP' }] } } },
        { status: true },
      );
      expect((out['spec'] as { type: string }).type).to.equal('LoadBalancer');
      expect(out['status']).to.deep.equal({ loadBalancer: { ingress: [{ ip: '192.0.2.7', ipMode: 'VIP' }] } });
      const bad = await apiError(
        c.client.patch(
          SERVICES,
          'default',
          'stp',
          { status: { loadBalancer: { ingress: [{ ip: 'not-an-ip' }] } } },
          { status: true },
        ),
      );
      expect(bad.statusCode).to.equal(422);
      expect(bad.message).to.include('status.loadBalancer.ingress[0].ip');
    });
  });

  describe('finalizers and deletion', () => {
    it('delete with finalizers sets deletionTimestamp; removing the last finalizer deletes', async () => {
      await c.client.create(CONFIGMAPS, {
        metadata: { name: 'fin', namespace: 'default', finalizers: ['herald.dev/test'] },
      });
      await c.client.delete(CONFIGMAPS, 'default', 'fin');
      const marked = await c.client.get(CONFIGMAPS, 'default', 'fin');
      expect(marked.metadata.deletionTimestamp).to.be.a('string');
      const added = await apiError(
        c.client.patch(CONFIGMAPS, 'default', 'fin', { metadata: { finalizers: ['herald.dev/test', 'other/x'] } }),
      );
      expect(added.statusCode).to.equal(422);
      await c.client.patch(CONFIGMAPS, 'default', 'fin', { metadata: { finalizers: [] } });
      expect(await c.client.tryGet(CONFIGMAPS, 'default', 'fin')).to.equal(undefined);
    });

    it('delete preconditions on uid and resourceVersion', async () => {
      const o = await c.client.create(CONFIGMAPS, { metadata: { name: 'pre', namespace: 'default' } });
      const e = await apiError(c.client.delete(CONFIGMAPS, 'default', 'pre', { preconditions: { uid: 'wrong' } }));
      expect(e.statusCode).to.equal(409);
      await c.client.delete(CONFIGMAPS, 'default', 'pre', {
        preconditions: { uid: o.metadata.uid!, resourceVersion: o.metadata.resourceVersion! },
      });
    });

    it('deleting a namespace removes what it holds', async () => {
      await c.client.create(NAMESPACES, { metadata: { name: 'doomed' } });
      await c.client.create(CONFIGMAPS, { metadata: { name: 'a', namespace: 'doomed' } });
      await c.client.create(SERVICES, { ...svc('s'), metadata: { name: 's', namespace: 'doomed' } });
      await c.client.delete(NAMESPACES, undefined, 'doomed');
      expect(await c.client.tryGet(NAMESPACES, undefined, 'doomed')).to.equal(undefined);
      expect((await c.client.list(SERVICES, { namespace: 'doomed' })).items).to.deep.equal([]);
    });
  });

  describe('custom resources', () => {
    it('validates against the CRD schema with a 422 naming the field', async () => {
      const e = await apiError(c.client.create(POOLS, pool('bad-type', ['192.0.2.0/28'], { autoAssign: 'yes' })));
      expect([e.statusCode, e.reason]).to.deep.equal([422, 'Invalid']);
      expect(e.message).to.include('spec.autoAssign');
      const causes = (e.status?.['details'] as { causes: { field: string }[] }).causes;
      expect(causes.map((x) => x.field)).to.include('spec.autoAssign');
    });

    it('runs x-kubernetes-validations CEL rules', async () => {
      const PEERS = heraldResource('BGPPeer');
      const e = await apiError(
        c.client.create(PEERS, {
          metadata: { name: 'both', namespace: 'default' },
          spec: { myASN: 64512, peerASN: 64513, dynamicASN: 'external', peerAddress: '192.0.2.1' },
        }),
      );
      expect(e.statusCode).to.equal(422);
      expect(e.message).to.include('set exactly one of peerASN and dynamicASN');
    });

    it('prunes unknown fields and applies schema defaults', async () => {
      const created = await c.client.create(POOLS, pool('pruned', ['192.0.2.200/29'], { bogus: 1 }));
      const spec = created['spec'] as Record<string, unknown>;
      expect(spec).to.not.have.property('bogus');
      expect(spec['autoAssign']).to.equal(true);
      expect(spec['avoidBuggyIPs']).to.equal(false);
    });

    it('serves a CRD created at run time, and removes its objects when it is deleted', async () => {
      const CRDS_T = {
        group: 'apiextensions.k8s.io',
        version: 'v1',
        plural: 'customresourcedefinitions',
        kind: 'CustomResourceDefinition',
        namespaced: false,
      };
      await c.client.create(CRDS_T, {
        metadata: { name: 'widgets.example.test' },
        spec: {
          group: 'example.test',
          scope: 'Cluster',
          names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
          versions: [
            {
              name: 'v1',
              served: true,
              storage: true,
              schema: {
                openAPIV3Schema: {
                  type: 'object',
                  properties: {
                    spec: { type: 'object', properties: { size: { type: 'integer', minimum: 1, default: 3 } } },
                  },
                },
              },
            },
          ],
        },
      });
      const W = { group: 'example.test', version: 'v1', plural: 'widgets', kind: 'Widget', namespaced: false };
      const w = await c.client.create(W, { metadata: { name: 'w' }, spec: {} });
      expect(w['spec']).to.deep.equal({ size: 3 });
      const e = await apiError(c.client.create(W, { metadata: { name: 'w0' }, spec: { size: 0 } }));
      expect(e.message).to.include('spec.size');
      await c.client.delete(CRDS_T, undefined, 'widgets.example.test');
      const gone = await apiError(c.client.list(W));
      expect(gone.statusCode).to.equal(404);
    });
  });

  describe('Service defaulting and allocation', () => {
    it('gives a LoadBalancer Service a clusterIP, families, nodePorts and policy defaults', async () => {
      const s = await c.client.create(SERVICES, svc('def'));
      const spec = s['spec'] as Record<string, unknown>;
      expect(spec['clusterIPs']).to.have.length(1);
      expect(spec['ipFamilies']).to.deep.equal(['IPv4']);
      expect(spec['ipFamilyPolicy']).to.equal('SingleStack');
      expect(spec['allocateLoadBalancerNodePorts']).to.equal(true);
      expect(spec['externalTrafficPolicy']).to.equal('Cluster');
      const ports = spec['ports'] as { nodePort: number; protocol: string; targetPort: number }[];
      expect(ports[0]!.nodePort).to.be.within(30000, 32767);
      expect(ports[0]!.protocol).to.equal('TCP');
      expect(s['status']).to.deep.equal({ loadBalancer: {} });
    });

    it('dual-stack: RequireDualStack gets one clusterIP per family in ipFamilies order', async () => {
      const s = await c.client.create(
        SERVICES,
        svc('dual', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: ['IPv6', 'IPv4'] }),
      );
      const spec = s['spec'] as { clusterIPs: string[]; ipFamilies: string[] };
      expect(spec.ipFamilies).to.deep.equal(['IPv6', 'IPv4']);
      expect(spec.clusterIPs[0]).to.include(':');
      expect(spec.clusterIPs[1]).to.match(/^\d+\.\d+\.\d+\.\d+$/);
    });

    it('allocateLoadBalancerNodePorts=false gives no nodePorts; Local gets a healthCheckNodePort', async () => {
      const s = await c.client.create(
        SERVICES,
        svc('nonp', { allocateLoadBalancerNodePorts: false, externalTrafficPolicy: 'Local' }),
      );
      const spec = s['spec'] as { ports: { nodePort?: number }[]; healthCheckNodePort?: number };
      expect(spec.ports[0]!.nodePort).to.equal(undefined);
      expect(spec.healthCheckNodePort).to.be.within(30000, 32767);
    });

    it('keeps allocated values on an update that omits them, and loadBalancerClass is immutable', async () => {
      const s = await c.client.create(SERVICES, svc('cls', { loadBalancerClass: 'herald.dev/lb' }));
      const spec = s['spec'] as { clusterIP: string; ports: { nodePort: number }[] };
      const replaced = await c.client.replace(SERVICES, {
        ...s,
        spec: { type: 'LoadBalancer', loadBalancerClass: 'herald.dev/lb', ports: [{ name: 'http', port: 80 }] },
      });
      const rs = replaced['spec'] as unknown as { clusterIP: string; ports: { nodePort: number }[] };
      expect(rs.clusterIP).to.equal(spec.clusterIP);
      expect(rs.ports[0]!.nodePort).to.equal(spec.ports[0]!.nodePort);
      const e = await apiError(c.client.patch(SERVICES, 'default', 'cls', { spec: { loadBalancerClass: 'other/lb' } }));
      expect(e.statusCode).to.equal(422);
      expect(e.message).to.include('spec.loadBalancerClass');
    });

    it('refuses a clusterIP already in use, and frees addresses when a Service is deleted', async () => {
      const a = await c.client.create(SERVICES, svc('ipa', { type: 'ClusterIP' }));
      const ip = (a['spec'] as { clusterIP: string }).clusterIP;
      const e = await apiError(c.client.create(SERVICES, svc('ipb', { type: 'ClusterIP', clusterIP: ip })));
      expect(e.statusCode).to.equal(422);
      await c.client.delete(SERVICES, 'default', 'ipa');
      const b = await c.client.create(SERVICES, svc('ipb', { type: 'ClusterIP', clusterIP: ip }));
      expect((b['spec'] as { clusterIP: string }).clusterIP).to.equal(ip);
    });

    it('headless Services keep clusterIP None', async () => {
      const s = await c.client.create(SERVICES, svc('headless', { type: 'ClusterIP', clusterIP: 'None' }));
      expect((s['spec'] as { clusterIPs: string[] }).clusterIPs).to.deep.equal(['None']);
    });
  });
});
