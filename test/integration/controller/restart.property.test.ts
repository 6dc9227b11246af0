/**
 * Property, on the embedded API server: random sequences of Service and pool changes with
 * controller restarts in between never give one address to two Services that may not share
 * it, never move an address unless the Service's own request changed, and leave every
 * satisfiable Service assigned.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { Controller } from '../../../controller/controller.js';
import { systemClock } from '../../../src/core/clock.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { NAMESPACES, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';
import { controllerSettled } from '../../support/settle.js';

const POOLS = heraldResource('IPAddressPool');
const NS = 'herald-system';
// Services live in their own namespace: a real server keeps default/kubernetes.
const SVC_NS = 'restart-property';

type Req =
  | { kind: 'auto' }
  | { kind: 'ip'; ip: string }
  | { kind: 'pool'; pool: string }
  | { kind: 'share'; key: string; port: number };

type Op =
  | { op: 'create'; svc: number; req: Req }
  | { op: 'update'; svc: number; req: Req }
  | { op: 'delete'; svc: number }
  | { op: 'pool'; name: 'p1' | 'p2'; addresses: string[] | null }
  | { op: 'restart' };

const reqArb: fc.Arbitrary<Req> = fc.oneof(
  fc.constant({ kind: 'auto' as const }),
  fc.constantFrom('192.0.2.1', '192.0.2.2', '198.51.100.1').map((ip) => ({ kind: 'ip' as const, ip })),
  fc.constantFrom('p1', 'p2').map((pool) => ({ kind: 'pool' as const, pool })),
  fc.record({ kind: fc.constant('share' as const), key: fc.constantFrom('k1', 'k2'), port: fc.constantFrom(80, 443) }),
);

const opArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('create' as const), svc: fc.integer({ min: 0, max: 5 }), req: reqArb }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('update' as const), svc: fc.integer({ min: 0, max: 5 }), req: reqArb }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), svc: fc.integer({ min: 0, max: 5 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('pool' as const),
      name: fc.constantFrom('p1' as const, 'p2' as const),
      addresses: fc.constantFrom(['192.0.2.0/30'], ['192.0.2.0/29'], ['192.0.2.2/31'], ['198.51.100.0/30'], null),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ op: 'restart' as const }) },
) as fc.Arbitrary<Op>;

function annotations(req: Req): Record<string, string> {
  switch (req.kind) {
    case 'ip':
      return { 'herald.dev/load-balancer-ips': req.ip };
    case 'pool':
      return { 'herald.dev/address-pool': req.pool };
    case 'share':
      return { 'herald.dev/allow-shared-ip': req.key };
    default:
      return {};
  }
}

function port(req: Req): number {
  return req.kind === 'share' ? req.port : 80;
}

describe(`controller: restart property on the ${kubeLane()} API server`, function () {
  this.timeout(300_000);
  let c: KubeCluster;
  before(async () => {
    c = await startKubeCluster({ herald: true });
    await c.client.create(NAMESPACES, { metadata: { name: NS } });
    await c.client.create(NAMESPACES, { metadata: { name: SVC_NS } });
  });
  after(async () => {
    await c.stop();
  });

  const settle = (ctl: Controller): Promise<void> => controllerSettled(ctl, () => c.currentRv());

  it('holds for random operation sequences with restarts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 18 }), async (ops) => {
        // A clean slate for each run.
        for (const s of (await c.client.list(SERVICES, { namespace: SVC_NS })).items)
          await c.client.delete(SERVICES, SVC_NS, s.metadata.name);
        for (const p of (await c.client.list(POOLS, { namespace: NS })).items)
          await c.client.delete(POOLS, NS, p.metadata.name);
        await c.client.create(POOLS, {
          metadata: { name: 'p1', namespace: NS },
          spec: { addresses: ['192.0.2.0/30'] },
        });
        const start = async (): Promise<Controller> => {
          const ctl = new Controller({
            client: c.client,
            clock: systemClock(),
            logger: new RecordingLogger(),
            registry: createMetricsRegistry({ defaultMetrics: false }),
            namespace: NS,
            workers: 4,
            poolStatusDelayMs: 10,
          });
          await ctl.start();
          return ctl;
        };
        let ctl = await start();
        const requests = new Map<string, Req>();
        const lastIPs = new Map<string, string[]>();
        try {
          for (const op of ops) {
            const name = 'svc' in op ? `s${op.svc}` : '';
            if (op.op === 'create' && !requests.has(name)) {
              await c.client.create(SERVICES, {
                metadata: { name, namespace: SVC_NS, annotations: annotations(op.req) },
                spec: { type: 'LoadBalancer', ports: [{ name: 'p', port: port(op.req) }] },
              });
              requests.set(name, op.req);
              lastIPs.delete(name);
            } else if (op.op === 'update' && requests.has(name)) {
              const cur = await c.client.get(SERVICES, SVC_NS, name);
              const keep = Object.fromEntries(
                Object.entries(cur.metadata.annotations ?? {}).filter(
                  ([k]) => k === 'herald.dev/ip-allocated-from-pool',
                ),
              );
              await c.client.replace(SERVICES, {
                ...cur,
                metadata: { ...cur.metadata, annotations: { ...keep, ...annotations(op.req) } },
                spec: { ...(cur['spec'] as object), ports: [{ name: 'p', port: port(op.req) }] },
              });
              if (JSON.stringify(requests.get(name)) !== JSON.stringify(op.req)) lastIPs.delete(name);
              requests.set(name, op.req);
            } else if (op.op === 'delete' && requests.has(name)) {
              await c.client.delete(SERVICES, SVC_NS, name);
              requests.delete(name);
              lastIPs.delete(name);
            } else if (op.op === 'pool') {
              const exists = await c.client.tryGet(POOLS, NS, op.name);
              if (op.addresses === null) {
                if (exists) await c.client.delete(POOLS, NS, op.name);
              } else if (exists) await c.client.patch(POOLS, NS, op.name, { spec: { addresses: op.addresses } });
              else
                await c.client.create(POOLS, {
                  metadata: { name: op.name, namespace: NS },
                  spec: { addresses: op.addresses },
                } as KubeObject);
            } else if (op.op === 'restart') {
              await ctl.stop();
              ctl = await start();
            }
            await settle(ctl);
            // Check the invariants against what the API server holds.
            const svcs = (await c.client.list(SERVICES, { namespace: SVC_NS })).items;
            const holders = new Map<string, string[]>();
            for (const s of svcs) {
              const ips = (
                (s['status'] as { loadBalancer?: { ingress?: { ip: string }[] } }).loadBalancer?.ingress ?? []
              ).map((i) => i.ip);
              for (const ip of ips) holders.set(ip, [...(holders.get(ip) ?? []), s.metadata.name]);
              const before = lastIPs.get(s.metadata.name);
              if (before && before.length > 0)
                for (const ip of before)
                  expect(
                    ips,
                    `${s.metadata.name} moved from ${before.join(',')} after ${JSON.stringify(op)}`,
                  ).to.include(ip);
              if (ips.length > 0) lastIPs.set(s.metadata.name, ips);
            }
            for (const [ip, names] of holders) {
              if (names.length < 2) continue;
              const reqs = names.map((n) => requests.get(n)!);
              expect(
                reqs.every((r) => r.kind === 'share' && r.key === (reqs[0] as { key: string }).key),
                `${ip} held by ${names.join(', ')}`,
              ).to.equal(true);
              const ports = reqs.map(port);
              expect(new Set(ports).size, `${ip} port conflict among ${names.join(', ')}`).to.equal(ports.length);
            }
          }
          // Satisfiable: with a roomy pool added, every Service without a pinned request is assigned.
          await c.client.create(POOLS, {
            metadata: { name: 'roomy', namespace: NS },
            spec: { addresses: ['203.0.113.0/24'] },
          });
          await settle(ctl);
          for (const s of (await c.client.list(SERVICES, { namespace: SVC_NS })).items) {
            const r = requests.get(s.metadata.name)!;
            if (r.kind !== 'auto' && r.kind !== 'share') continue;
            const ips = (s['status'] as { loadBalancer?: { ingress?: unknown[] } }).loadBalancer?.ingress ?? [];
            expect(ips.length, `${s.metadata.name} (${JSON.stringify(r)}) unassigned`).to.be.greaterThan(0);
          }
        } finally {
          await ctl.stop();
        }
      }),
      {
        numRuns: Number(process.env['HERALD_PROPERTY_RUNS'] ?? 12),
        // Shrunk counterexamples of bugs found here, replayed every run.
        examples: [
          // A pool edit looked like a change of the Service's pool request and moved its address.
          [
            [
              { op: 'create', svc: 0, req: { kind: 'pool', pool: 'p1' } },
              { op: 'pool', name: 'p1', addresses: ['192.0.2.2/31'] },
              { op: 'restart' },
              { op: 'pool', name: 'p1', addresses: ['192.0.2.0/30'] },
              { op: 'restart' },
              { op: 'create', svc: 0, req: { kind: 'auto' } },
              { op: 'restart' },
            ],
          ],
          // After a pool edit another pool held the address; the allocator adopted that pool as
          // the origin and then saw the Service's own pool request as changed.
          [
            [
              { op: 'create', svc: 0, req: { kind: 'pool', pool: 'p1' } },
              { op: 'pool', name: 'p2', addresses: ['192.0.2.0/30'] },
              { op: 'pool', name: 'p1', addresses: ['198.51.100.0/30'] },
              { op: 'update', svc: 0, req: { kind: 'pool', pool: 'p1' } },
            ],
          ],
        ],
      },
    );
  });
});
