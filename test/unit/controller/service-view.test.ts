/**
 * viewService: a Service object read at the boundary. Table tests of every reason it gives
 * (not Herald's, invalid request) and of the request it builds.
 */
import { expect } from 'chai';
import { viewService, type ServiceView } from '../../../controller/service-view.js';
import type { ServiceObject } from '../../../src/api/service.js';
import { formatIP } from '../../../src/net/ip.js';

type Meta = Partial<ServiceObject['metadata']>;
type Spec = NonNullable<ServiceObject['spec']>;

function svc(spec: Spec, meta: Meta = {}, ingress: string[] = []): ServiceObject {
  return {
    metadata: { name: 'web', namespace: 'shop', ...meta },
    spec,
    status: { loadBalancer: { ingress: ingress.map((ip) => ({ ip })) } },
  };
}

const LB: Spec = { type: 'LoadBalancer', ports: [{ protocol: 'TCP', port: 80 }] };

/** The view in one line: managed or why not; the request or why it is invalid. */
function summary(v: ServiceView): string {
  const managed = v.managed.yes ? 'managed' : v.managed.reason;
  if ('invalid' in v.request) return `${managed}; invalid: ${v.request.invalid}`;
  const r = v.request;
  return `${managed}; ${r.families.join('+')} ${r.familyPolicy}; ips=${r.requestedIPs.map(formatIP).join(',') || '-'}; pool=${r.requestedPool ?? '-'}; share=${r.sharingKey ?? '-'}; ${r.trafficPolicy}`;
}

describe('controller: viewService', () => {
  const cases: { name: string; s: ServiceObject; lbClass?: string; want: string }[] = [
    {
      name: 'a plain LoadBalancer Service',
      s: svc(LB),
      want: 'managed; IPv4 SingleStack; ips=-; pool=-; share=-; Cluster',
    },
    {
      name: 'not of type LoadBalancer',
      s: svc({ type: 'ClusterIP' }),
      want: 'notLoadBalancer; IPv4 SingleStack; ips=-; pool=-; share=-; Cluster',
    },
    {
      name: 'another loadBalancerClass',
      s: svc({ ...LB, loadBalancerClass: 'other.example/lb' }),
      want: 'otherLoadBalancerClass; IPv4 SingleStack; ips=-; pool=-; share=-; Cluster',
    },
    {
      name: 'our loadBalancerClass, instance with that class',
      s: svc({ ...LB, loadBalancerClass: 'herald.dev/lb' }),
      lbClass: 'herald.dev/lb',
      want: 'managed; IPv4 SingleStack; ips=-; pool=-; share=-; Cluster',
    },
    {
      name: 'being deleted wins over everything',
      s: svc({ type: 'ClusterIP' }, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
      want: 'deleted; IPv4 SingleStack; ips=-; pool=-; share=-; Cluster',
    },
    {
      name: 'Local traffic policy',
      s: svc({ ...LB, externalTrafficPolicy: 'Local' }),
      want: 'managed; IPv4 SingleStack; ips=-; pool=-; share=-; Local',
    },
    {
      name: 'dual stack asked for',
      s: svc({ ...LB, ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' }),
      want: 'managed; IPv6+IPv4 RequireDualStack; ips=-; pool=-; share=-; Cluster',
    },
    {
      name: 'requested IPs give the families when none are named',
      s: svc(LB, { annotations: { 'herald.dev/load-balancer-ips': '2001:db8::5, 192.0.2.5' } }),
      want: 'managed; IPv6+IPv4 SingleStack; ips=2001:db8::5,192.0.2.5; pool=-; share=-; Cluster',
    },
    {
      name: 'spec.loadBalancerIP alone',
      s: svc({ ...LB, loadBalancerIP: '192.0.2.9' }),
      want: 'managed; IPv4 SingleStack; ips=192.0.2.9; pool=-; share=-; Cluster',
    },
    {
      name: 'spec.loadBalancerIP that the annotation also names',
      s: svc({ ...LB, loadBalancerIP: '192.0.2.9' }, { annotations: { 'herald.dev/load-balancer-ips': '192.0.2.9' } }),
      want: 'managed; IPv4 SingleStack; ips=192.0.2.9; pool=-; share=-; Cluster',
    },
    {
      name: 'pool and sharing key, trimmed',
      s: svc(LB, { annotations: { 'herald.dev/address-pool': ' lan ', 'herald.dev/allow-shared-ip': ' k1 ' } }),
      want: 'managed; IPv4 SingleStack; ips=-; pool=lan; share=k1; Cluster',
    },
    {
      name: 'an empty sharing key is no key',
      s: svc(LB, { annotations: { 'herald.dev/allow-shared-ip': ' ' } }),
      want: 'managed; IPv4 SingleStack; ips=-; pool=-; share=-; Cluster',
    },
    {
      name: 'MetalLB annotations are honoured',
      s: svc(LB, {
        annotations: { 'metallb.io/address-pool': 'lan', 'metallb.universe.tf/loadBalancerIPs': '192.0.2.7' },
      }),
      want: 'managed; IPv4 SingleStack; ips=192.0.2.7; pool=lan; share=-; Cluster',
    },
    {
      name: 'invalid: spec.loadBalancerIP disagrees with the annotation',
      s: svc({ ...LB, loadBalancerIP: '192.0.2.9' }, { annotations: { 'herald.dev/load-balancer-ips': '192.0.2.8' } }),
      want: 'managed; invalid: spec.loadBalancerIP 192.0.2.9 disagrees with annotation herald.dev/load-balancer-ips "192.0.2.8"',
    },
    {
      name: 'invalid: an annotation address that is no address',
      s: svc(LB, { annotations: { 'metallb.io/loadBalancerIPs': '192.0.2.300' } }),
      want: 'managed; invalid: annotation metallb.io/loadBalancerIPs: "192.0.2.300" is not an IP address',
    },
    {
      name: 'invalid: spec.loadBalancerIP that is no address',
      s: svc({ ...LB, loadBalancerIP: 'web.example' }),
      want: 'managed; invalid: spec.loadBalancerIP: "web.example" is not an IP address',
    },
    {
      name: 'invalid: an unknown family policy',
      s: svc({ ...LB, ipFamilyPolicy: 'DualStackPlease' }),
      want: 'managed; invalid: spec.ipFamilyPolicy "DualStackPlease" is not supported',
    },
    {
      name: 'invalid: an empty pool annotation',
      s: svc(LB, { annotations: { 'herald.dev/address-pool': '  ' } }),
      want: 'managed; invalid: annotation herald.dev/address-pool is empty',
    },
    {
      name: 'an unmanaged Service still gets its request read (and may be invalid)',
      s: svc({ type: 'NodePort', loadBalancerIP: 'x' }),
      want: 'notLoadBalancer; invalid: spec.loadBalancerIP: "x" is not an IP address',
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      expect(summary(viewService(tc.s, {}, tc.lbClass !== undefined ? { lbClass: tc.lbClass } : {}))).to.equal(tc.want);
    });
  }

  it('key, current addresses (hostnames and bad text left out), current pool and the MetalLB annotations in use', () => {
    const o = svc(
      LB,
      {
        annotations: {
          'herald.dev/ip-allocated-from-pool': 'lan',
          'metallb.io/allow-shared-ip': 'k',
          'herald.dev/address-pool': 'lan',
        },
      },
      ['192.0.2.5', 'nope', '2001:db8::5'],
    );
    delete o.metadata.namespace;
    const v = viewService(o, { team: 'a' }, {});
    expect(v.key).to.equal('default/web');
    expect(v.currentIPs.map(formatIP)).to.deep.equal(['192.0.2.5', '2001:db8::5']);
    expect(v.currentPool).to.equal('lan');
    expect(v.metallbAnnotations).to.deep.equal(['metallb.io/allow-shared-ip']);
    expect('invalid' in v.request ? undefined : v.request.namespaceLabels).to.deep.equal({ team: 'a' });
  });
});
