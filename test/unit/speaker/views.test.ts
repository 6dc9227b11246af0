/** What the speaker keeps of Services and EndpointSlices (its informer transforms). */
import { expect } from 'chai';
import { endpointSliceView, ownStatusView, serviceView, sortedJson } from '../../../speaker/views.js';

describe('speaker: cached views of Services and EndpointSlices', () => {
  it('a Service keeps its uid (for Events), labels, the pool annotation, type, class, traffic policy and ingress IPs', () => {
    const v = serviceView({
      metadata: {
        name: 'web',
        namespace: 'shop',
        resourceVersion: '7',
        uid: 'u1',
        labels: { app: 'web' },
        annotations: {
          'herald.dev/ip-allocated-from-pool': 'lan',
          'kubectl.kubernetes.io/last-applied-configuration': '{...}',
        },
      },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: 'herald.dev/lb',
        externalTrafficPolicy: 'Local',
        ports: [{ port: 80 }],
        selector: { app: 'web' },
        clusterIP: '198.51.100.10',
      },
      status: {
        loadBalancer: {
          ingress: [
            { ip: '192.0.2.10', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] },
            { hostname: 'x.example' },
          ],
        },
      },
    });
    expect(v).to.deep.equal({
      metadata: {
        name: 'web',
        namespace: 'shop',
        resourceVersion: '7',
        uid: 'u1',
        labels: { app: 'web' },
        annotations: { 'herald.dev/ip-allocated-from-pool': 'lan' },
      },
      spec: { type: 'LoadBalancer', loadBalancerClass: 'herald.dev/lb', externalTrafficPolicy: 'Local' },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
    });
  });

  it('a Service without status, labels or annotations stays well formed', () => {
    expect(
      serviceView({
        metadata: { name: 'a', namespace: 'b', resourceVersion: '1' },
        spec: { type: 'ClusterIP', loadBalancerClass: null },
      }),
    ).to.deep.equal({
      metadata: { name: 'a', namespace: 'b', resourceVersion: '1' },
      spec: { type: 'ClusterIP' },
      status: { loadBalancer: { ingress: [] } },
    });
  });

  it('an EndpointSlice keeps its Service label and each endpoint node and readiness', () => {
    const v = endpointSliceView({
      metadata: {
        name: 'web-x1',
        namespace: 'shop',
        resourceVersion: '9',
        labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'x' },
      },
      addressType: 'IPv4',
      endpoints: [
        { addresses: ['192.0.2.21'], nodeName: 'n1', conditions: { ready: true, serving: true } },
        { addresses: ['192.0.2.22'], conditions: { ready: false } },
        { addresses: ['192.0.2.23'] },
      ],
      ports: [{ port: 80 }],
    });
    expect(v).to.deep.equal({
      metadata: {
        name: 'web-x1',
        namespace: 'shop',
        resourceVersion: '9',
        labels: { 'kubernetes.io/service-name': 'web' },
      },
      endpoints: [{ nodeName: 'n1', conditions: { ready: true } }, { conditions: { ready: false } }, {}],
    });
  });

  it("the speaker's own status object keeps its status as JSON text", () => {
    expect(
      ownStatusView({
        metadata: {
          name: 'bgp-shop-web-n1',
          namespace: 'herald-system',
          resourceVersion: '4',
          labels: { 'herald.dev/node': 'n1' },
        },
        spec: {},
        status: { node: 'n1', peers: ['r1'] },
      }),
    ).to.deep.equal({
      metadata: { name: 'bgp-shop-web-n1', namespace: 'herald-system', resourceVersion: '4' },
      statusText: '{"node":"n1","peers":["r1"]}',
    });
    expect(ownStatusView({ metadata: { name: 'x', namespace: 'y' } })['statusText']).to.equal('{}');
  });

  it('a status the server hands back with its keys sorted (as kube-apiserver does) matches the one the speaker wrote', () => {
    const wanted = sortedJson({
      node: 'n1',
      serviceName: 'web',
      serviceNamespace: 'shop',
      interfaces: [{ name: 'eth0' }],
    });
    const stored = { interfaces: [{ name: 'eth0' }], node: 'n1', serviceName: 'web', serviceNamespace: 'shop' };
    expect(
      ownStatusView({ metadata: { name: 'l2-shop-web-n1', namespace: 'herald-system' }, status: stored })['statusText'],
    ).to.equal(wanted);
    expect(wanted).to.equal(
      '{"interfaces":[{"name":"eth0"}],"node":"n1","serviceName":"web","serviceNamespace":"shop"}',
    );
    // Nested objects too; arrays keep their order.
    expect(sortedJson({ b: [{ d: 1, c: 2 }, 3], a: null })).to.equal('{"a":null,"b":[{"c":2,"d":1},3]}');
  });
});
