/** The lab's "why not announced", from the speakers' own desired-state function, and its table. */
import { expect } from 'chai';
import { formatTable, type LabRow } from '../../../lab/observe.js';
import { notAnnouncedReasons, pendingReason, type ClusterState, type Obj } from '../../../lab/why.js';

const o = (x: Record<string, unknown>): Obj => x as Obj;
const NS = 'herald-system';
const pool = o({ metadata: { name: 'lan', namespace: NS }, spec: { addresses: ['192.0.2.64/28'] } });
const l2adv = o({ metadata: { name: 'lan', namespace: NS }, spec: { ipAddressPools: ['lan'] } });
const node = (name: string): Obj =>
  o({
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  });
const svc = (extra: Record<string, unknown> = {}): Obj =>
  o({
    metadata: { name: 'web', namespace: 'shop', annotations: { 'herald.dev/ip-allocated-from-pool': 'lan' } },
    spec: { type: 'LoadBalancer', ...extra },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.64' }] } },
  });
const slice = (nodeName: string, ready: boolean): Obj =>
  o({
    metadata: { name: 'web-x', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'web' } },
    endpoints: [{ addresses: ['198.51.100.1'], nodeName, conditions: { ready } }],
  });
const state = (over: Partial<ClusterState>): ClusterState => ({
  herald: new Map([
    ['IPAddressPool', [pool]],
    ['L2Advertisement', [l2adv]],
  ]),
  services: [svc()],
  slices: [],
  nodes: [node('node-a'), node('node-b')],
  secrets: [],
  liveSpeakers: new Set(['node-a', 'node-b']),
  events: [],
  ...over,
});

describe('lab: why a Service is not announced', () => {
  const cases: { name: string; st: ClusterState; want: RegExp | undefined }[] = [
    { name: 'announced when a ready endpoint exists', st: state({ slices: [slice('node-b', true)] }), want: undefined },
    { name: 'no endpoints', st: state({}), want: /^noHealthyEndpoints: no ready endpoints/ },
    { name: 'only a not-ready endpoint', st: state({ slices: [slice('node-a', false)] }), want: /^noHealthyEndpoints/ },
    {
      name: 'Local policy, the endpoint on a node without a speaker',
      st: state({ services: [svc({ externalTrafficPolicy: 'Local' })], slices: [slice('node-c', true)] }),
      want: /noLocalEndpoints/,
    },
    {
      name: 'no advertisement for the pool',
      st: state({ herald: new Map([['IPAddressPool', [pool]]]), slices: [slice('node-a', true)] }),
      want: /^noMatchingAdvertisement/,
    },
    {
      name: 'no speaker alive',
      st: state({ liveSpeakers: new Set(), slices: [slice('node-a', true)] }),
      want: /noCandidates/,
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const got = notAnnouncedReasons(tc.st).get('shop/web|192.0.2.64');
      if (tc.want === undefined) expect(got).to.equal(undefined);
      else expect(got).to.match(tc.want);
    });
  }

  it('a Service waiting for an address shows the newest Warning Event about it', () => {
    const ev = (reason: string, t: string, type = 'Warning'): Obj =>
      o({
        metadata: { name: `e-${reason}`, namespace: 'shop' },
        involvedObject: { kind: 'Service', name: 'web', namespace: 'shop' },
        type,
        reason,
        message: `${reason} happened`,
        lastTimestamp: t,
      });
    const st = state({
      events: [
        ev('Old', '2026-01-01T00:00:00Z'),
        ev('AllocationFailed', '2026-01-02T00:00:00Z'),
        ev('Normal', '2026-01-03T00:00:00Z', 'Normal'),
      ],
    });
    expect(pendingReason(st, svc())).to.equal('AllocationFailed: AllocationFailed happened');
    expect(pendingReason(state({}), svc())).to.equal('waiting for the controller');
  });

  it('the table shows the ARP/NDP answer, a wrong MAC as WRONG, the answering Pod and the reason', () => {
    const rows: LabRow[] = [
      {
        service: 'shop/web',
        ip: '192.0.2.64',
        pool: 'lan',
        mode: 'L2',
        announcedBy: ['node-a'],
        neighbour: { ok: true, mac: '02:00:00:00:00:01', node: 'node-a', owner: 'node-a' },
        curl: { ok: true, pod: 'web-1', node: 'node-b', ms: 12 },
      },
      {
        service: 'shop/bad',
        ip: '192.0.2.65',
        pool: 'lan',
        mode: 'L2',
        announcedBy: ['node-a'],
        neighbour: { ok: false, mac: '02:00:00:00:00:02', node: 'node-b', owner: 'node-a' },
        curl: { ok: true, pod: 'bad-1', node: 'node-a', ms: 9 },
        reason: 'ARP answered by node-b (02:00:00:00:00:02), but the owner is node-a',
      },
    ];
    const lines = formatTable(rows);
    expect(lines[0]).to.match(/^SERVICE\s+IP\s+POOL\s+MODE\s+ANNOUNCED BY\s+ARP\/NDP\s+CURL FROM CLIENT\s+WHY$/);
    expect(lines[1]).to.match(/shop\/web\s+192\.0\.2\.64\s+lan\s+L2\s+node-a\s+node-a\s+web-1 on node-b \(12 ms\)$/);
    expect(lines[2]).to.match(/WRONG node-b\s+bad-1 on node-a \(9 ms\)\s+ARP answered by node-b/);
  });
});
