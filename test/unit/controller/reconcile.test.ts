/**
 * reconcileService: (service view, allocator) -> status, condition and Events. Script tables
 * in the manner of MetalLB's controller tests: each case is a sequence of Service states
 * against one allocator, each with the condition reason and Events it must give.
 */
import { expect } from 'chai';
import { Allocator } from '../../../controller/allocator/index.js';
import { reconcileService } from '../../../controller/reconcile.js';
import { viewService } from '../../../controller/service-view.js';
import type { ServiceObject } from '../../../src/api/service.js';
import { formatIP } from '../../../src/net/ip.js';
import { makePools } from '../../support/pools.js';

interface Step {
  readonly svc: string;
  readonly spec?: NonNullable<ServiceObject['spec']>;
  readonly annotations?: Record<string, string>;
  /** What the Service's status shows now (its ingress), and the pool annotation. */
  readonly current?: string[];
  readonly currentPool?: string;
  readonly deleted?: boolean;
  /** `kind result/condition reason ips` in one line. */
  readonly want: string;
  /** `type reason: message` per Event. */
  readonly events: string[];
}

const LB: NonNullable<ServiceObject['spec']> = {
  type: 'LoadBalancer',
  ports: [{ protocol: 'TCP', port: 80 }],
  selector: { app: 'web' },
};

function object(s: Step): ServiceObject {
  const [namespace, name] = s.svc.split('/') as [string, string];
  const annotations = {
    ...(s.annotations ?? {}),
    ...(s.currentPool ? { 'herald.dev/ip-allocated-from-pool': s.currentPool } : {}),
  };
  return {
    metadata: { name, namespace, annotations, ...(s.deleted ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
    spec: s.spec ?? LB,
    status: { loadBalancer: { ingress: (s.current ?? []).map((ip) => ({ ip })) } },
  };
}

const cases: { name: string; pools?: Record<string, { addresses: string[] }>; steps: Step[] }[] = [
  {
    name: 'assigned once, then steady (no second Event), then released when no longer a LoadBalancer',
    steps: [
      {
        svc: 'shop/web',
        want: 'managed assigned/Assigned 192.0.2.1',
        events: ['Normal IPAllocated: assigned 192.0.2.1 from pool "lan"'],
      },
      {
        svc: 'shop/web',
        current: ['192.0.2.1'],
        currentPool: 'lan',
        want: 'managed assigned/Assigned 192.0.2.1',
        events: [],
      },
      {
        svc: 'shop/web',
        spec: { type: 'ClusterIP' },
        current: ['192.0.2.1'],
        currentPool: 'lan',
        want: 'unmanaged clearStatus',
        events: ['Normal IPReleased: released 192.0.2.1: the Service is no longer of type LoadBalancer'],
      },
    ],
  },
  {
    name: 'another class: released with its own reason; deleted: released without an Event',
    steps: [
      {
        svc: 'shop/a',
        want: 'managed assigned/Assigned 192.0.2.1',
        events: ['Normal IPAllocated: assigned 192.0.2.1 from pool "lan"'],
      },
      {
        svc: 'shop/a',
        spec: { ...LB, loadBalancerClass: 'other.example/lb' },
        current: ['192.0.2.1'],
        want: 'unmanaged clearStatus',
        events: ['Normal IPReleased: released 192.0.2.1: the Service now names another loadBalancerClass'],
      },
      {
        svc: 'shop/b',
        want: 'managed assigned/Assigned 192.0.2.1',
        events: ['Normal IPAllocated: assigned 192.0.2.1 from pool "lan"'],
      },
      { svc: 'shop/b', deleted: true, current: ['192.0.2.1'], want: 'unmanaged clearStatus', events: [] },
    ],
  },
  {
    name: 'after a restart the allocator knows nothing: the pool annotation still says Herald gave the address, and the release is told (an Event lost in a crash is told again)',
    steps: [
      {
        svc: 'shop/web',
        spec: { type: 'NodePort' },
        current: ['192.0.2.1'],
        currentPool: 'lan',
        want: 'unmanaged clearStatus',
        events: ['Normal IPReleased: released 192.0.2.1: the Service is no longer of type LoadBalancer'],
      },
      {
        svc: 'shop/other',
        spec: { type: 'NodePort' },
        current: ['192.0.2.1'],
        want: 'unmanaged keepStatus',
        events: [],
      },
    ],
  },
  {
    name: 'an invalid request: condition InvalidRequest and a Warning; the address is given back',
    steps: [
      {
        svc: 'shop/web',
        want: 'managed assigned/Assigned 192.0.2.1',
        events: ['Normal IPAllocated: assigned 192.0.2.1 from pool "lan"'],
      },
      {
        svc: 'shop/web',
        spec: { ...LB, loadBalancerIP: 'web.example' },
        current: ['192.0.2.1'],
        want: 'managed failed/InvalidRequest -',
        events: ['Warning AllocationFailed: InvalidRequest: spec.loadBalancerIP: "web.example" is not an IP address'],
      },
      {
        svc: 'shop/next',
        want: 'managed assigned/Assigned 192.0.2.1',
        events: ['Normal IPAllocated: assigned 192.0.2.1 from pool "lan"'],
      },
    ],
  },
  {
    name: 'failures name their reason and pool',
    pools: { lan: { addresses: ['192.0.2.1/32'] } },
    steps: [
      {
        svc: 'shop/a',
        want: 'managed assigned/Assigned 192.0.2.1',
        events: ['Normal IPAllocated: assigned 192.0.2.1 from pool "lan"'],
      },
      {
        svc: 'shop/b',
        want: 'managed failed/PoolExhausted -',
        events: ['Warning AllocationFailed: PoolExhausted: pool "lan" has no free IPv4 address (pool "lan")'],
      },
      {
        svc: 'shop/c',
        annotations: { 'herald.dev/address-pool': 'wan' },
        want: 'managed failed/PoolNotFound -',
        events: ['Warning AllocationFailed: PoolNotFound: pool "wan" does not exist'],
      },
      {
        svc: 'shop/d',
        spec: { ...LB, loadBalancerIP: '198.51.100.1' },
        want: 'managed failed/RequestedIPNotInPool -',
        events: ['Warning AllocationFailed: RequestedIPNotInPool: 198.51.100.1 is not in any one pool'],
      },
    ],
  },
  {
    name: 'MetalLB annotations are honoured and said so, on every pass',
    steps: [
      {
        svc: 'shop/web',
        annotations: { 'metallb.io/address-pool': 'lan' },
        want: 'managed assigned/Assigned 192.0.2.1',
        events: [
          "Normal MetalLBAnnotation: honouring MetalLB annotation(s) metallb.io/address-pool; Herald's herald.dev/ names are preferred",
          'Normal IPAllocated: assigned 192.0.2.1 from pool "lan"',
        ],
      },
      {
        svc: 'shop/web',
        annotations: { 'metallb.io/address-pool': 'lan' },
        current: ['192.0.2.1'],
        currentPool: 'lan',
        want: 'managed assigned/Assigned 192.0.2.1',
        events: [
          "Normal MetalLBAnnotation: honouring MetalLB annotation(s) metallb.io/address-pool; Herald's herald.dev/ names are preferred",
        ],
      },
    ],
  },
];

function line(d: ReturnType<typeof reconcileService>): string {
  if (d.kind === 'unmanaged') return `unmanaged ${d.clearStatus ? 'clearStatus' : 'keepStatus'}`;
  return `managed ${d.result}/${d.condition.reason} ${d.ips.map(formatIP).join(',') || '-'}`;
}

describe('controller: reconcileService (reasons and Events)', () => {
  for (const tc of cases) {
    it(tc.name, () => {
      const allocator = new Allocator();
      allocator.setPools(makePools(tc.pools ?? { lan: { addresses: ['192.0.2.1-192.0.2.3'] } }));
      tc.steps.forEach((s, i) => {
        const d = reconcileService(viewService(object(s), {}, {}), allocator);
        expect(line(d), `step ${i}`).to.equal(s.want);
        expect(
          d.events.map((e) => `${e.type} ${e.reason}: ${e.message}`),
          `step ${i}`,
        ).to.deep.equal(s.events);
      });
    });
  }
});
