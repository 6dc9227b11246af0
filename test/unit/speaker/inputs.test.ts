/** From the speaker's cached objects to its decisions' inputs (speaker/inputs.ts). */
import { expect } from 'chai';
import { endpointsByService, internalIP, nodeAddresses, servicesToAnnounce } from '../../../speaker/inputs.js';
import type { ServiceObject } from '../../../src/api/service.js';
import { formatIP } from '../../../src/net/ip.js';

const service = (
  name: string,
  spec: NonNullable<ServiceObject['spec']>,
  ips: string[],
  pool?: string,
): ServiceObject => ({
  metadata: {
    name,
    namespace: 'shop',
    labels: { app: name },
    ...(pool ? { annotations: { 'herald.dev/ip-allocated-from-pool': pool } } : {}),
  },
  spec,
  status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } },
});

describe('speaker inputs', () => {
  const list = [
    service('web', { type: 'LoadBalancer', externalTrafficPolicy: 'Local' }, ['192.0.2.10', '2001:db8::10'], 'lan'),
    service('pending', { type: 'LoadBalancer' }, []),
    service('classy', { type: 'LoadBalancer', loadBalancerClass: 'herald.dev/lb' }, ['192.0.2.11']),
    service('internal', { type: 'ClusterIP' }, ['192.0.2.12']),
    service('bad', { type: 'LoadBalancer' }, ['not-an-ip']),
  ];
  const cases: { name: string; lbClass?: string; want: string[] }[] = [
    {
      name: 'the default instance: LoadBalancer Services without a class that hold an address',
      want: ['shop/web Local lan 192.0.2.10,2001:db8::10'],
    },
    {
      name: 'an instance with a class: only that class',
      lbClass: 'herald.dev/lb',
      want: ['shop/classy Cluster - 192.0.2.11'],
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const got = servicesToAnnounce(list, tc.lbClass).map(
        (s) => `${s.key} ${s.trafficPolicy} ${s.pool ?? '-'} ${s.ips.map(formatIP).join(',')}`,
      );
      expect(got).to.deep.equal(tc.want);
    });
  }

  it('endpoints per Service from every slice; an endpoint without conditions is ready', () => {
    const slice = (name: string, svc: string | undefined, endpoints: unknown[]) => ({
      metadata: { name, namespace: 'shop', ...(svc ? { labels: { 'kubernetes.io/service-name': svc } } : {}) },
      endpoints,
    });
    const got = endpointsByService([
      slice('web-1', 'web', [
        { nodeName: 'n1', conditions: { ready: true } },
        { nodeName: 'n2', conditions: { ready: false } },
      ]),
      slice('web-2', 'web', [{ nodeName: 'n3' }, {}]),
      slice('orphan', undefined, [{ nodeName: 'n1' }]),
    ]);
    expect(Object.fromEntries(got)).to.deep.equal({
      'shop/web': [
        { node: 'n1', ready: true },
        { node: 'n2', ready: false },
        { node: 'n3', ready: true },
        { node: '', ready: true },
      ],
    });
  });

  it("a node's addresses: its InternalIPs first, then the host's non-internal, non-link-local ones", () => {
    const node = {
      metadata: { name: 'n1' },
      status: {
        addresses: [
          { type: 'Hostname', address: 'n1' },
          { type: 'InternalIP', address: '192.0.2.21' },
        ],
      },
    };
    const host = {
      lo: [{ address: '127.0.0.1', internal: true }],
      eth0: [
        { address: '198.51.100.9', internal: false },
        { address: 'fe80::1', internal: false },
        { address: '2001:db8::21', internal: false },
      ],
    };
    const a = nodeAddresses(node, host);
    expect([a.v4 && formatIP(a.v4), a.v6 && formatIP(a.v6)]).to.deep.equal(['192.0.2.21', '2001:db8::21']);
    const b = nodeAddresses(undefined, host);
    expect(b.v4 && formatIP(b.v4)).to.equal('198.51.100.9');
    expect(internalIP(node)).to.equal('192.0.2.21');
    expect(internalIP(undefined)).to.equal(undefined);
  });
});
