/**
 * Stateful script tables for the allocator, in the manner of MetalLB's allocator_test.go:
 * each case is a sequence of steps against one allocator, each step with its expected answer.
 */
import { expect } from 'chai';
import { Allocator, type FailureReason, type ServiceRequest } from '../../../controller/allocator/index.js';
import { formatIP, parseIP } from '../../../src/net/ip.js';
import { makePools, type PoolSpec } from '../../support/pools.js';

type Req = Partial<Omit<ServiceRequest, 'requestedIPs'>> & { requestedIPs?: string[] };

function req(key: string, r: Req = {}): ServiceRequest {
  const [namespace] = key.split('/');
  return {
    key,
    namespace: namespace!,
    labels: r.labels ?? {},
    namespaceLabels: r.namespaceLabels ?? {},
    families: r.families ?? ['IPv4'],
    familyPolicy: r.familyPolicy ?? 'SingleStack',
    requestedIPs: (r.requestedIPs ?? []).map(parseIP),
    ...(r.requestedPool !== undefined ? { requestedPool: r.requestedPool } : {}),
    ...(r.sharingKey !== undefined ? { sharingKey: r.sharingKey } : {}),
    ports: r.ports ?? [{ protocol: 'TCP', port: 80 }],
    trafficPolicy: r.trafficPolicy ?? 'Cluster',
    selector: r.selector ?? { app: key },
  };
}

type Step =
  | {
      assign: string;
      with?: Req;
      current?: string[];
      want: string[] | FailureReason;
      pool?: string;
      notInPool?: boolean;
      changed?: boolean;
    }
  | { release: string }
  | { drain: string; ips: string[] }
  | { undrain: string; freed: number }
  | { keep: string; with?: Req; current: string[]; want: boolean }
  | { waitingFor: string; with?: Req }
  | { pools: Record<string, PoolSpec>; notInPool?: string[] }
  | { stats: string; v4?: [string, string]; v6?: [string, string] };

interface Script {
  name: string;
  pools: Record<string, PoolSpec>;
  steps: Step[];
}

const V4 = { addresses: ['192.0.2.0/30'] };

const scripts: Script[] = [
  {
    name: 'lowest free address first; release makes it available again',
    pools: { a: V4 },
    steps: [
      { assign: 'ns/s1', want: ['192.0.2.0'], pool: 'a' },
      { assign: 'ns/s2', want: ['192.0.2.1'] },
      { assign: 'ns/s1', want: ['192.0.2.0'], changed: false },
      { release: 'ns/s1' },
      { assign: 'ns/s3', want: ['192.0.2.0'] },
      { assign: 'ns/s4', want: ['192.0.2.2'] },
      { assign: 'ns/s5', want: ['192.0.2.3'] },
      { assign: 'ns/s6', want: 'PoolExhausted' },
      { stats: 'a', v4: ['4', '0'], v6: ['0', '0'] },
    ],
  },
  {
    name: 'avoidBuggyIPs skips .0 and .255 across a range',
    pools: { a: { addresses: ['192.0.2.254-192.0.3.1'], avoidBuggyIPs: true } },
    steps: [
      { stats: 'a', v4: ['0', '2'] },
      { assign: 'ns/s1', want: ['192.0.2.254'] },
      { assign: 'ns/s2', want: ['192.0.3.1'] },
      { assign: 'ns/s3', want: 'PoolExhausted' },
      { assign: 'ns/s4', with: { requestedIPs: ['192.0.3.0'] }, want: 'RequestedIPNotInPool' },
    ],
  },
  {
    name: 'autoAssign false pools serve only when asked by name or address',
    pools: { manual: { addresses: ['198.51.100.0/30'], autoAssign: false }, auto: { addresses: ['192.0.2.0/31'] } },
    steps: [
      { assign: 'ns/s1', want: ['192.0.2.0'], pool: 'auto' },
      { assign: 'ns/s2', with: { requestedPool: 'manual' }, want: ['198.51.100.0'], pool: 'manual' },
      { assign: 'ns/s3', with: { requestedIPs: ['198.51.100.3'] }, want: ['198.51.100.3'], pool: 'manual' },
      { assign: 'ns/s4', want: ['192.0.2.1'] },
      { assign: 'ns/s5', want: 'PoolExhausted' },
    ],
  },
  {
    name: 'requested pool and requested address errors',
    pools: { a: V4, b: { addresses: ['198.51.100.0/30'] } },
    steps: [
      { assign: 'ns/s1', with: { requestedPool: 'nope' }, want: 'PoolNotFound' },
      { assign: 'ns/s2', with: { requestedIPs: ['203.0.113.9'] }, want: 'RequestedIPNotInPool' },
      { assign: 'ns/s3', with: { requestedIPs: ['198.51.100.2'], requestedPool: 'a' }, want: 'RequestedIPNotInPool' },
      { assign: 'ns/s4', with: { requestedIPs: ['198.51.100.2'] }, want: ['198.51.100.2'], pool: 'b' },
      { assign: 'ns/s5', with: { requestedIPs: ['198.51.100.2'] }, want: 'RequestedIPInUse' },
      {
        assign: 'ns/s6',
        with: { requestedIPs: ['192.0.2.1', '198.51.100.1'], familyPolicy: 'SingleStack' },
        want: 'InvalidRequest',
      },
    ],
  },
  {
    name: 'priority orders pools (lower first, unset last), then names',
    pools: {
      zeta: { addresses: ['192.0.2.0/32'], serviceAllocation: { priority: 10 } },
      alpha: { addresses: ['192.0.2.1/32'], serviceAllocation: { priority: 20 } },
      beta: { addresses: ['192.0.2.2/32'] },
      aaa: { addresses: ['192.0.2.3/32'] },
    },
    steps: [
      { assign: 'ns/s1', want: ['192.0.2.0'], pool: 'zeta' },
      { assign: 'ns/s2', want: ['192.0.2.1'], pool: 'alpha' },
      { assign: 'ns/s3', want: ['192.0.2.3'], pool: 'aaa' },
      { assign: 'ns/s4', want: ['192.0.2.2'], pool: 'beta' },
      { assign: 'ns/s5', want: 'PoolExhausted' },
    ],
  },
  {
    name: 'serviceAllocation: namespaces and selectors exclude, even when named',
    pools: {
      team: {
        addresses: ['192.0.2.0/31'],
        serviceAllocation: { priority: 1, namespaces: ['team'], serviceSelectors: [{ matchLabels: { tier: 'web' } }] },
      },
      labelled: {
        addresses: ['192.0.2.8/31'],
        serviceAllocation: { priority: 2, namespaceSelectors: [{ matchLabels: { env: 'prod' } }] },
      },
      open: { addresses: ['198.51.100.0/31'] },
    },
    steps: [
      { assign: 'team/web', with: { labels: { tier: 'web' } }, want: ['192.0.2.0'], pool: 'team' },
      { assign: 'team/db', with: { labels: { tier: 'db' } }, want: ['198.51.100.0'], pool: 'open' },
      { assign: 'other/web', with: { labels: { tier: 'web' }, requestedPool: 'team' }, want: 'NoMatchingPool' },
      { assign: 'other/x', with: { namespaceLabels: { env: 'prod' } }, want: ['192.0.2.8'], pool: 'labelled' },
      { assign: 'other/y', with: { requestedIPs: ['192.0.2.1'] }, want: 'NoMatchingPool' },
    ],
  },
  {
    name: 'sharing: same key, disjoint ports, same policy share; anything else does not',
    pools: { a: { addresses: ['192.0.2.0/30'] } },
    steps: [
      {
        assign: 'ns/dns-tcp',
        with: { sharingKey: 'dns', ports: [{ protocol: 'TCP', port: 53 }] },
        want: ['192.0.2.0'],
      },
      {
        assign: 'ns/dns-udp',
        with: { sharingKey: 'dns', ports: [{ protocol: 'UDP', port: 53 }] },
        want: ['192.0.2.0'],
      },
      {
        assign: 'ns/dns-dup',
        with: { sharingKey: 'dns', ports: [{ protocol: 'UDP', port: 53 }] },
        want: ['192.0.2.1'],
      },
      { assign: 'ns/x1', with: { requestedIPs: ['192.0.2.0'] }, want: 'RequestedIPInUse' },
      {
        assign: 'ns/x2',
        with: { requestedIPs: ['192.0.2.0'], sharingKey: 'other', ports: [{ protocol: 'TCP', port: 99 }] },
        want: 'SharingKeyMismatch',
      },
      {
        assign: 'ns/x3',
        with: { requestedIPs: ['192.0.2.0'], sharingKey: 'dns', ports: [{ protocol: 'TCP', port: 53 }] },
        want: 'PortConflict',
      },
      {
        assign: 'ns/x4',
        with: {
          requestedIPs: ['192.0.2.0'],
          sharingKey: 'dns',
          ports: [{ protocol: 'TCP', port: 853 }],
          trafficPolicy: 'Local',
        },
        want: 'PolicyMismatch',
      },
      {
        assign: 'ns/x5',
        with: { requestedIPs: ['192.0.2.0'], sharingKey: 'dns', ports: [{ protocol: 'TCP', port: 853 }] },
        want: ['192.0.2.0'],
      },
      { release: 'ns/dns-tcp' },
      { release: 'ns/dns-udp' },
      { stats: 'a', v4: ['2', '2'] },
      { release: 'ns/x5' },
      { stats: 'a', v4: ['1', '3'] },
    ],
  },
  {
    name: 'sharing with Local policy needs identical selectors',
    pools: { a: V4 },
    steps: [
      {
        assign: 'ns/l1',
        with: {
          sharingKey: 'k',
          trafficPolicy: 'Local',
          selector: { app: 'x' },
          ports: [{ protocol: 'TCP', port: 1 }],
        },
        want: ['192.0.2.0'],
      },
      {
        assign: 'ns/l2',
        with: {
          sharingKey: 'k',
          trafficPolicy: 'Local',
          selector: { app: 'x' },
          ports: [{ protocol: 'TCP', port: 2 }],
        },
        want: ['192.0.2.0'],
      },
      {
        assign: 'ns/l3',
        with: {
          requestedIPs: ['192.0.2.0'],
          sharingKey: 'k',
          trafficPolicy: 'Local',
          selector: { app: 'y' },
          ports: [{ protocol: 'TCP', port: 3 }],
        },
        want: 'PolicyMismatch',
      },
    ],
  },
  {
    name: 'dual-stack policies',
    pools: {
      v4only: { addresses: ['192.0.2.0/31'], serviceAllocation: { priority: 1 } },
      dual: { addresses: ['198.51.100.0/31', '2001:db8::/127'], serviceAllocation: { priority: 2 } },
    },
    steps: [
      { assign: 'ns/single', want: ['192.0.2.0'], pool: 'v4only' },
      { assign: 'ns/v6', with: { families: ['IPv6'] }, want: ['2001:db8::'], pool: 'dual' },
      {
        assign: 'ns/require',
        with: { familyPolicy: 'RequireDualStack', families: ['IPv6', 'IPv4'] },
        want: ['2001:db8::1', '198.51.100.0'],
        pool: 'dual',
      },
      {
        assign: 'ns/prefer',
        with: { familyPolicy: 'PreferDualStack', families: ['IPv4', 'IPv6'] },
        want: ['192.0.2.1'],
        pool: 'v4only',
      },
      {
        assign: 'ns/require2',
        with: { familyPolicy: 'RequireDualStack', families: ['IPv4', 'IPv6'] },
        want: 'PoolExhausted',
      },
      {
        assign: 'ns/both',
        with: {
          familyPolicy: 'RequireDualStack',
          families: ['IPv4', 'IPv6'],
          requestedIPs: ['198.51.100.1', '2001:db8::1'],
        },
        want: 'RequestedIPInUse',
      },
    ],
  },
  {
    name: 'RequireDualStack fails on a single-family pool with FamilyUnavailable',
    pools: { a: V4 },
    steps: [
      {
        assign: 'ns/d',
        with: { familyPolicy: 'RequireDualStack', families: ['IPv4', 'IPv6'] },
        want: 'FamilyUnavailable',
      },
    ],
  },
  {
    name: 'PreferDualStack gains its second family when the pool grows',
    pools: { a: { addresses: ['192.0.2.0/31'] } },
    steps: [
      { assign: 'ns/p', with: { familyPolicy: 'PreferDualStack', families: ['IPv4', 'IPv6'] }, want: ['192.0.2.0'] },
      { pools: { a: { addresses: ['192.0.2.0/31', '2001:db8::/126'] } } },
      {
        assign: 'ns/p',
        with: { familyPolicy: 'PreferDualStack', families: ['IPv4', 'IPv6'] },
        want: ['192.0.2.0', '2001:db8::'],
        changed: true,
      },
    ],
  },
  {
    name: 'restart replay keeps current addresses; the first claimant keeps a contested one',
    pools: { a: V4 },
    steps: [
      { assign: 'ns/old', current: ['192.0.2.2'], want: ['192.0.2.2'], changed: false },
      { assign: 'ns/new', current: ['192.0.2.2'], want: ['192.0.2.0'], changed: true },
      { assign: 'ns/req', current: ['192.0.2.2'], with: { requestedIPs: ['192.0.2.2'] }, want: 'RequestedIPInUse' },
      {
        assign: 'ns/moved',
        current: ['192.0.2.3'],
        with: { requestedIPs: ['192.0.2.1'] },
        want: ['192.0.2.1'],
        changed: true,
      },
    ],
  },
  {
    name: 'a pool that shrinks or goes away never moves a working address',
    pools: { a: { addresses: ['192.0.2.0/29'] }, b: { addresses: ['198.51.100.0/30'] } },
    steps: [
      { assign: 'ns/s1', want: ['192.0.2.0'] },
      { assign: 'ns/s2', want: ['192.0.2.1'] },
      { pools: { a: { addresses: ['192.0.2.1/32'] }, b: { addresses: ['198.51.100.0/30'] } }, notInPool: ['ns/s1'] },
      { assign: 'ns/s1', want: ['192.0.2.0'], notInPool: true, changed: false },
      { assign: 'ns/s2', want: ['192.0.2.1'], pool: 'a', notInPool: false },
      { pools: { b: { addresses: ['198.51.100.0/30'] } }, notInPool: ['ns/s1', 'ns/s2'] },
      { assign: 'ns/s3', want: ['198.51.100.0'] },
      { pools: { a: { addresses: ['192.0.2.0/29'] }, b: { addresses: ['198.51.100.0/30'] } }, notInPool: [] },
      { assign: 'ns/s4', want: ['192.0.2.2'] },
      { assign: 'ns/s1', want: ['192.0.2.0'], pool: 'a', notInPool: false },
    ],
  },
  {
    name: 'a shrinking pool is not a change of a pool request',
    pools: { p1: { addresses: ['192.0.2.0/30'] } },
    steps: [
      { assign: 'ns/s', with: { requestedPool: 'p1' }, want: ['192.0.2.0'], pool: 'p1' },
      { pools: { p1: { addresses: ['192.0.2.2/31'] } }, notInPool: ['ns/s'] },
      { assign: 'ns/s', with: { requestedPool: 'p1' }, want: ['192.0.2.0'], notInPool: true, changed: false },
      { assign: 'ns/t', with: { requestedPool: 'p1' }, want: ['192.0.2.2'] },
    ],
  },
  {
    name: 'a Service that names its pool is never re-homed into another pool',
    pools: { p1: { addresses: ['192.0.2.0/30'] } },
    steps: [
      { assign: 'ns/s', with: { requestedPool: 'p1' }, want: ['192.0.2.0'], pool: 'p1' },
      { pools: { p1: { addresses: ['198.51.100.0/30'] }, p2: { addresses: ['192.0.2.0/30'] } }, notInPool: ['ns/s'] },
      { assign: 'ns/s', with: { requestedPool: 'p1' }, want: ['192.0.2.0'], notInPool: true, changed: false },
      { assign: 'ns/s', with: { requestedPool: 'p1' }, want: ['192.0.2.0'], notInPool: true, changed: false },
      { assign: 'ns/other', with: { requestedPool: 'p2' }, want: ['192.0.2.1'] },
    ],
  },
  {
    name: 'a changed request moves the Service',
    pools: { a: V4, b: { addresses: ['198.51.100.0/30'] } },
    steps: [
      { assign: 'ns/s', want: ['192.0.2.0'], pool: 'a' },
      { assign: 'ns/s', with: { requestedPool: 'b' }, want: ['198.51.100.0'], pool: 'b', changed: true },
      { assign: 'ns/t', want: ['192.0.2.0'], pool: 'a' },
    ],
  },
  {
    name: 'a drained address goes to nobody else until undrained; its own Service takes it back',
    pools: { a: V4 },
    steps: [
      { assign: 'ns/x', want: ['192.0.2.0'] },
      { assign: 'ns/x', with: { requestedIPs: ['192.0.2.3'] }, want: ['192.0.2.3'], changed: true },
      { drain: 'ns/x', ips: ['192.0.2.0'] },
      { assign: 'ns/y', want: ['192.0.2.1'] },
      { waitingFor: 'ns/z', with: { requestedIPs: ['192.0.2.0'] } },
      { stats: 'a', v4: ['3', '1'] },
      { undrain: 'ns/x', freed: 1 },
      { assign: 'ns/z', with: { requestedIPs: ['192.0.2.0'] }, want: ['192.0.2.0'] },
      { undrain: 'ns/x', freed: 0 },
    ],
  },
  {
    name: 'a drain never takes an address from the Service that holds it, and survives a pool edit',
    pools: { a: V4 },
    steps: [
      { assign: 'ns/holder', want: ['192.0.2.0'] },
      { drain: 'ns/restored', ips: ['192.0.2.0'] },
      { assign: 'ns/holder', want: ['192.0.2.0'], changed: false },
      { release: 'ns/holder' },
      { pools: { a: { addresses: ['192.0.2.0/29'] } } },
      { assign: 'ns/other', want: ['192.0.2.1'] },
      { assign: 'ns/restored', with: { requestedIPs: ['192.0.2.0'] }, want: ['192.0.2.0'] },
      { undrain: 'ns/restored', freed: 0 },
    ],
  },
  {
    name: 'keep re-claims only what still agrees with the request, and never allocates',
    pools: { a: V4, b: { addresses: ['198.51.100.0/30'] } },
    steps: [
      { keep: 'ns/changed', with: { requestedIPs: ['192.0.2.1'] }, current: ['192.0.2.0'], want: false },
      { keep: 'ns/young', current: ['192.0.2.1'], want: true },
      { keep: 'ns/dup', current: ['192.0.2.1'], want: false },
      { keep: 'ns/pinned', with: { requestedPool: 'b' }, current: ['198.51.100.2'], want: true },
      { assign: 'ns/changed', with: { requestedIPs: ['192.0.2.1'] }, current: ['192.0.2.0'], want: 'RequestedIPInUse' },
      { stats: 'a', v4: ['1', '3'] },
    ],
  },
];

describe('allocator: script tables', () => {
  for (const script of scripts) {
    it(script.name, () => {
      const a = new Allocator();
      a.setPools(makePools(script.pools));
      script.steps.forEach((step, i) => {
        const at = `step ${i + 1}`;
        if ('release' in step) {
          a.release(step.release);
        } else if ('drain' in step) {
          a.drain(step.drain, step.ips.map(parseIP));
        } else if ('undrain' in step) {
          expect(a.undrain(step.undrain), at).to.equal(step.freed);
        } else if ('keep' in step) {
          expect(a.keep(req(step.keep, step.with), { ips: step.current.map(parseIP) }), at).to.equal(step.want);
        } else if ('waitingFor' in step) {
          const r = a.assign(req(step.waitingFor, step.with));
          expect(r.ok ? r.ips.map(formatIP) : [r.reason, r.waiting], at).to.deep.equal(['RequestedIPInUse', true]);
        } else if ('pools' in step) {
          const r = a.setPools(makePools(step.pools));
          if (step.notInPool) expect(r.notInPool, at).to.deep.equal(step.notInPool);
        } else if ('stats' in step) {
          const s = a.stats(step.stats)!;
          if (step.v4) expect([String(s.IPv4.assigned), String(s.IPv4.available)], `${at} v4`).to.deep.equal(step.v4);
          if (step.v6) expect([String(s.IPv6.assigned), String(s.IPv6.available)], `${at} v6`).to.deep.equal(step.v6);
        } else {
          const r = a.assign(
            req(step.assign, step.with),
            step.current ? { ips: step.current.map(parseIP) } : undefined,
          );
          if (typeof step.want === 'string') {
            expect(r.ok ? r.ips.map(formatIP) : r.reason, `${at}: ${r.ok ? '' : r.message}`).to.equal(step.want);
          } else {
            expect(r.ok ? r.ips.map(formatIP) : `${r.reason}: ${r.message}`, at).to.deep.equal(step.want);
            if (r.ok && step.pool !== undefined) expect(r.pool, `${at} pool`).to.equal(step.pool);
            if (r.ok && step.notInPool !== undefined) expect(r.notInPool, `${at} notInPool`).to.equal(step.notInPool);
            if (r.ok && step.changed !== undefined) expect(r.changed, `${at} changed`).to.equal(step.changed);
          }
        }
      });
    });
  }
});

describe('allocator: pool sizes never enumerate', () => {
  it('a /64 costs what a /24 costs, and counts are exact', () => {
    const a = new Allocator();
    a.setPools(makePools({ v6: { addresses: ['2001:db8::/64'] }, v4: { addresses: ['192.0.2.0/24'] } }));
    for (let i = 0; i < 1000; i++) a.assign(req(`ns/v6-${i}`, { families: ['IPv6'] }));
    const s = a.stats('v6')!;
    expect(s.IPv6.assigned).to.equal(1000n);
    expect(s.IPv6.available).to.equal(2n ** 64n - 1000n);
  });
});
