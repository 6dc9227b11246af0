/** Properties of the allocator over random operation sequences (fast-check). */
import { expect } from 'chai';
import fc from 'fast-check';
import { Allocator, sharingProblem, type ServiceRequest } from '../../../controller/allocator/index.js';
import { formatIP, parseIP } from '../../../src/net/ip.js';
import { makePools } from '../../support/pools.js';

const POOL_SETS = [
  { a: { addresses: ['192.0.2.0/29'] }, b: { addresses: ['198.51.100.0/30', '2001:db8::/126'] } },
  { a: { addresses: ['192.0.2.0/30'] }, b: { addresses: ['198.51.100.0/30', '2001:db8::/126'] } },
  { a: { addresses: ['192.0.2.0/29'], avoidBuggyIPs: true } },
].map((s) => makePools(s));

type Op =
  | {
      kind: 'assign';
      svc: number;
      key: string | undefined;
      port: number;
      ip: string | undefined;
      policy: 'SingleStack' | 'RequireDualStack' | 'PreferDualStack';
    }
  | { kind: 'release'; svc: number }
  | { kind: 'pools'; set: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('assign' as const),
    svc: fc.integer({ min: 0, max: 9 }),
    key: fc.option(fc.constantFrom('k1', 'k2'), { nil: undefined }),
    port: fc.constantFrom(80, 443),
    ip: fc.option(fc.constantFrom('192.0.2.1', '192.0.2.4', '198.51.100.1'), { nil: undefined }),
    policy: fc.constantFrom('SingleStack' as const, 'RequireDualStack' as const, 'PreferDualStack' as const),
  }),
  fc.record({ kind: fc.constant('release' as const), svc: fc.integer({ min: 0, max: 9 }) }),
  fc.record({ kind: fc.constant('pools' as const), set: fc.integer({ min: 0, max: 2 }) }),
);

function request(op: Extract<Op, { kind: 'assign' }>): ServiceRequest {
  return {
    key: `ns/s${op.svc}`,
    namespace: 'ns',
    labels: {},
    namespaceLabels: {},
    families: ['IPv4', 'IPv6'],
    familyPolicy: op.ip ? 'SingleStack' : op.policy,
    requestedIPs: op.ip ? [parseIP(op.ip)] : [],
    ...(op.key ? { sharingKey: op.key } : {}),
    ports: [{ protocol: 'TCP', port: op.port }],
    trafficPolicy: 'Cluster',
    selector: {},
  };
}

describe('allocator: properties', () => {
  it('never gives one address to two Services that may not share it, and never moves an unchanged Service', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const a = new Allocator();
        a.setPools(POOL_SETS[0]!);
        const requests = new Map<string, ServiceRequest>();
        const asked = new Map<string, string>();
        const last = new Map<string, string>();
        for (const op of ops) {
          if (op.kind === 'release') {
            a.release(`ns/s${op.svc}`);
            asked.delete(`ns/s${op.svc}`);
            requests.delete(`ns/s${op.svc}`);
            last.delete(`ns/s${op.svc}`);
          } else if (op.kind === 'pools') {
            a.setPools(POOL_SETS[op.set]!);
          } else {
            const r = request(op);
            const text = JSON.stringify({ ...op, svc: undefined });
            const sameRequest = asked.get(r.key) === text;
            asked.set(r.key, text);
            const res = a.assign(r);
            if (res.ok) {
              const now = res.ips.map(formatIP).join(',');
              // An unchanged request keeps its addresses (it may only gain a second family).
              if (sameRequest && last.has(r.key)) {
                for (const old of last.get(r.key)!.split(','))
                  expect(now.split(','), `${r.key} kept ${old}`).to.include(old);
              }
              requests.set(r.key, r);
              last.set(r.key, now);
            } else {
              a.release(r.key);
              requests.delete(r.key);
              last.delete(r.key);
            }
          }
          // Invariant: holders of one address may all share it.
          const byIP = new Map<string, string[]>();
          for (const key of requests.keys()) {
            for (const ip of a.assignmentOf(key)?.ips ?? [])
              byIP.set(formatIP(ip), [...(byIP.get(formatIP(ip)) ?? []), key]);
          }
          for (const [, keys] of byIP) {
            for (const x of keys)
              for (const y of keys)
                if (x !== y)
                  expect(sharingProblem(requests.get(x)!, requests.get(y)!), `${x} and ${y}`).to.equal(undefined);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
