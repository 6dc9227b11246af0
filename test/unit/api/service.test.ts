/** The Service rules the controller and the speaker share (src/api/service.ts). */
import { expect } from 'chai';
import {
  ingressIPs,
  responsibility,
  serviceKey,
  trafficPolicy,
  type ServiceSpecRules,
  type ServiceStatusRules,
} from '../../../src/api/service.js';
import { formatIP } from '../../../src/net/ip.js';

describe('api: Service rules', () => {
  describe('responsibility (type and loadBalancerClass)', () => {
    const cases: { name: string; spec: ServiceSpecRules | undefined; lbClass?: string; want: string }[] = [
      { name: 'LoadBalancer without a class, default instance', spec: { type: 'LoadBalancer' }, want: 'yes' },
      {
        name: 'a class of null (as JSON sends it) is no class',
        spec: { type: 'LoadBalancer', loadBalancerClass: null },
        want: 'yes',
      },
      {
        name: 'LoadBalancer with our class',
        spec: { type: 'LoadBalancer', loadBalancerClass: 'herald.dev/lb' },
        lbClass: 'herald.dev/lb',
        want: 'yes',
      },
      {
        name: 'LoadBalancer with another class',
        spec: { type: 'LoadBalancer', loadBalancerClass: 'other.example/lb' },
        lbClass: 'herald.dev/lb',
        want: 'otherLoadBalancerClass',
      },
      {
        name: 'a class set, default instance',
        spec: { type: 'LoadBalancer', loadBalancerClass: 'herald.dev/lb' },
        want: 'otherLoadBalancerClass',
      },
      {
        name: 'no class, instance with a class',
        spec: { type: 'LoadBalancer' },
        lbClass: 'herald.dev/lb',
        want: 'otherLoadBalancerClass',
      },
      { name: 'ClusterIP', spec: { type: 'ClusterIP' }, want: 'notLoadBalancer' },
      {
        name: 'NodePort with our class still is not ours',
        spec: { type: 'NodePort', loadBalancerClass: 'herald.dev/lb' },
        lbClass: 'herald.dev/lb',
        want: 'notLoadBalancer',
      },
      { name: 'type in the wrong case', spec: { type: 'loadbalancer' }, want: 'notLoadBalancer' },
      { name: 'no type (ClusterIP by default)', spec: {}, want: 'notLoadBalancer' },
      { name: 'no spec', spec: undefined, want: 'notLoadBalancer' },
    ];
    for (const tc of cases) {
      it(tc.name, () => {
        const r = responsibility(tc.spec, tc.lbClass);
        expect(r.yes ? 'yes' : r.reason).to.equal(tc.want);
      });
    }
  });

  describe('ingressIPs', () => {
    const cases: { name: string; status: ServiceStatusRules | undefined; want: string[] }[] = [
      { name: 'no status', status: undefined, want: [] },
      { name: 'no ingress', status: { loadBalancer: {} }, want: [] },
      {
        name: 'both families, in order',
        status: { loadBalancer: { ingress: [{ ip: '2001:db8::5' }, { ip: '192.0.2.10', ipMode: 'VIP' }] } },
        want: ['2001:db8::5', '192.0.2.10'],
      },
      {
        name: 'hostnames and empty entries left out',
        status: { loadBalancer: { ingress: [{ hostname: 'lb.example' }, {}, { ip: '' }, { ip: '198.51.100.7' }] } },
        want: ['198.51.100.7'],
      },
      {
        name: 'unparsable text left out',
        status: { loadBalancer: { ingress: [{ ip: '192.0.2.300' }, { ip: 'not-an-ip' }, { ip: '203.0.113.1' }] } },
        want: ['203.0.113.1'],
      },
      {
        name: 'an IPv6 address in any spelling comes back canonical',
        status: { loadBalancer: { ingress: [{ ip: '2001:DB8:0:0::0:7' }] } },
        want: ['2001:db8::7'],
      },
    ];
    for (const tc of cases) {
      it(tc.name, () => {
        expect(ingressIPs(tc.status).map(formatIP)).to.deep.equal(tc.want);
      });
    }
  });

  describe('trafficPolicy', () => {
    const cases: { name: string; spec: ServiceSpecRules | undefined; want: 'Cluster' | 'Local' }[] = [
      { name: 'Local', spec: { externalTrafficPolicy: 'Local' }, want: 'Local' },
      { name: 'Cluster', spec: { externalTrafficPolicy: 'Cluster' }, want: 'Cluster' },
      { name: 'a misspelt "local"', spec: { externalTrafficPolicy: 'local' }, want: 'Cluster' },
      { name: 'no policy', spec: {}, want: 'Cluster' },
      { name: 'no spec', spec: undefined, want: 'Cluster' },
    ];
    for (const tc of cases) {
      it(`${tc.name} is ${tc.want}`, () => {
        expect(trafficPolicy(tc.spec)).to.equal(tc.want);
      });
    }
  });

  it('serviceKey is namespace/name, default namespace when none is given', () => {
    expect(serviceKey({ metadata: { name: 'web', namespace: 'shop' } })).to.equal('shop/web');
    expect(serviceKey({ metadata: { name: 'web' } })).to.equal('default/web');
  });
});
