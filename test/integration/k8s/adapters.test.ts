/**
 * The src/k8s adapters against a live API server: the one HERALD_KUBE selects (embedded by
 * default, a real control plane from scripts/kube-up.sh with HERALD_KUBE=real), and a real
 * cluster too when HERALD_TEST_KUBECONFIG names a kubeconfig. Fault-injection cases run on
 * the embedded server only, since only it can inject faults.
 */
import { expect } from 'chai';
import type { ApiServer } from '../../../lab/apiserver/index.js';
import { FakeClock, systemClock } from '../../../src/core/clock.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import {
  CONFIGMAPS,
  EVENTS,
  EventRecorder,
  Informer,
  KubeClient,
  LEASES,
  LeaderElector,
  NAMESPACES,
  SERVICES,
  StatusWriter,
  objectKey,
  setCondition,
  type Condition,
  type KubeObject,
} from '../../../src/k8s/index.js';
import { eventually } from '../../support/apiserver.js';
import { kubeLane, skipOnReal, startKubeCluster } from '../../support/kube-cluster.js';

interface Target {
  readonly name: string;
  setup(): Promise<{ client: KubeClient; embedded?: ApiServer | undefined; teardown(): Promise<void> }>;
}

const targets: Target[] = [
  {
    name: `${kubeLane()} API server`,
    setup: async () => {
      const cluster = await startKubeCluster();
      return { client: cluster.client, embedded: cluster.embedded, teardown: () => cluster.stop() };
    },
  },
];
const real = process.env['HERALD_TEST_KUBECONFIG'];
if (real) {
  targets.push({
    name: `real cluster (${real})`,
    setup: () => Promise.resolve({ client: KubeClient.fromFile(real), teardown: () => Promise.resolve() }),
  });
}
const NO_FAULTS = 'fault injection (dropped watches, forced 410s, injected errors) exists only on the embedded server';

for (const target of targets) {
  describe(`k8s adapters on the ${target.name}`, function () {
    this.timeout(60_000);
    let client: KubeClient;
    let embedded: ApiServer | undefined;
    let teardown: () => Promise<void>;
    const ns = `herald-adapters-${process.pid}`;
    const logger = new RecordingLogger();

    before(async () => {
      ({ client, embedded, teardown } = await target.setup());
      await client.create(NAMESPACES, { metadata: { name: ns } });
    });
    after(async () => {
      await client.tryDelete(NAMESPACES, undefined, ns).catch(() => undefined);
      await teardown();
    });

    describe('informer', () => {
      let informer: Informer;
      const log: string[] = [];
      before(async () => {
        informer = new Informer({
          client,
          type: CONFIGMAPS,
          namespace: ns,
          clock: systemClock(),
          logger,
          backoff: { baseMs: 20, maxMs: 200 },
          pageSize: 2,
        });
        informer.addHandlers({
          onAdd: (o) => log.push(`add ${o.metadata.name} ${JSON.stringify(o['data'] ?? {})}`),
          onUpdate: (o, old) => {
            if (o.metadata.resourceVersion !== old.metadata.resourceVersion)
              log.push(`update ${o.metadata.name} ${JSON.stringify(o['data'] ?? {})}`);
          },
          onDelete: (o) => log.push(`delete ${o.metadata.name}`),
        });
        informer.addIndexer('tier', (o) => [o.metadata.labels?.['tier'] ?? '']);
        for (const n of ['a', 'b', 'c'])
          await client.create(CONFIGMAPS, {
            metadata: { name: n, namespace: ns, labels: { tier: n === 'c' ? 'gold' : 'std' } },
          });
        informer.start();
        await informer.waitForSync();
      });
      after(() => informer.stop());

      const settle = async (want: string[]): Promise<void> => {
        await eventually(() => log.length >= want.length, `informer events ${want.join(', ')}`);
        expect(log.splice(0)).to.deep.equal(want);
      };

      it('lists (in pages), then delivers adds, updates and deletes once each, and indexes the cache', async () => {
        await settle(['add a {}', 'add b {}', 'add c {}']);
        expect(informer.byIndex('tier', 'gold').map((o) => o.metadata.name)).to.deep.equal(['c']);
        await client.patch(CONFIGMAPS, ns, 'a', { data: { v: '1' } });
        await client.delete(CONFIGMAPS, ns, 'b');
        await settle(['update a {"v":"1"}', 'delete b']);
        expect(informer.list().map(objectKey).sort()).to.deep.equal([`${ns}/a`, `${ns}/c`]);
      });

      it('recovers from dropped watches with no missed or duplicated events', async function () {
        skipOnReal(this, NO_FAULTS);
        if (!embedded) this.skip();
        const watchesBefore = informer.stats.watches;
        let dropped = 0;
        for (let i = 0; i < 5; i++) {
          dropped += embedded!.faults.dropWatches();
          await client.patch(CONFIGMAPS, ns, 'a', { data: { v: String(10 + i) } });
        }
        await settle([
          'update a {"v":"10"}',
          'update a {"v":"11"}',
          'update a {"v":"12"}',
          'update a {"v":"13"}',
          'update a {"v":"14"}',
        ]);
        expect(dropped).to.be.greaterThan(0);
        expect(informer.stats.watches).to.be.at.least(watchesBefore + dropped);
      });

      it('relists on 410 Gone and reconciles what it missed', async function () {
        skipOnReal(this, NO_FAULTS);
        if (!embedded) this.skip();
        const relists = informer.stats.relistsOnGone;
        // The next watch attempt fails, so the informer is away while history is compacted.
        embedded!.faults.failNext({ resource: 'configmaps', verb: 'watch', count: 1, status: 500 });
        embedded!.faults.dropWatches();
        await client.create(CONFIGMAPS, { metadata: { name: 'd', namespace: ns } });
        await client.delete(CONFIGMAPS, ns, 'c');
        embedded!.faults.compact();
        await settle(['add d {}', 'delete c']);
        expect(informer.stats.relistsOnGone).to.equal(relists + 1);
        expect(informer.byIndex('tier', 'gold')).to.deep.equal([]);
      });
    });

    describe('informer transform', () => {
      it('caches and hands out only what the transform keeps, on list, watch and delete', async () => {
        const keep = (o: KubeObject): KubeObject => ({
          metadata: {
            name: o.metadata.name,
            namespace: o.metadata.namespace!,
            resourceVersion: o.metadata.resourceVersion!,
          },
          data: { v: (o['data'] as Record<string, string> | undefined)?.['v'] ?? '' },
        });
        await client.create(CONFIGMAPS, {
          metadata: { name: 'tx-a', namespace: ns, labels: { big: 'yes' } },
          data: { v: '1', blob: 'x'.repeat(1000) },
        });
        const inf = new Informer({
          client,
          type: CONFIGMAPS,
          namespace: ns,
          clock: systemClock(),
          logger,
          transform: keep,
        });
        const seen: string[] = [];
        const mine = (o: KubeObject): boolean => o.metadata.name === 'tx-a';
        inf.addHandlers({
          onAdd: (o) =>
            mine(o) ? seen.push(`add ${JSON.stringify(o['data'])} ${o.metadata.labels ? 'labels' : ''}`) : undefined,
          onUpdate: (o) => (mine(o) ? seen.push(`update ${JSON.stringify(o['data'])}`) : undefined),
          onDelete: (o) => (mine(o) ? seen.push(`delete ${JSON.stringify(o['data'])}`) : undefined),
        });
        inf.start();
        try {
          await inf.waitForSync();
          await client.patch(CONFIGMAPS, ns, 'tx-a', { data: { v: '2' } });
          await eventually(() => seen.some((l) => l.startsWith('update')), 'the update');
          const cached = inf.get(`${ns}/tx-a`)!;
          expect(cached['data']).to.deep.equal({ v: '2' });
          expect(cached.metadata.labels).to.equal(undefined);
          expect(cached.metadata.resourceVersion).to.be.a('string');
          await client.delete(CONFIGMAPS, ns, 'tx-a');
          await eventually(() => seen.some((l) => l.startsWith('delete')), 'the delete');
          expect(seen).to.deep.equal(['add {"v":"1"} ', 'update {"v":"2"}', 'delete {"v":"2"}']);
        } finally {
          inf.stop();
        }
      });
    });

    describe('informer resync', () => {
      it('re-delivers every cached object as an update each resync period (injected clock)', async () => {
        const clock = new FakeClock();
        const inf = new Informer({ client, type: SERVICES, namespace: 'default', clock, logger, resyncMs: 30_000 });
        await client.create(SERVICES, {
          metadata: { name: 'resync', namespace: 'default' },
          spec: { ports: [{ port: 80 }] },
        });
        const resynced: string[] = [];
        inf.addHandlers({ onUpdate: (o, old) => (o === old ? resynced.push(o.metadata.name) : undefined) });
        inf.start();
        try {
          await inf.waitForSync();
          clock.advance(29_999);
          expect(resynced).to.deep.equal([]);
          clock.advance(1);
          expect(resynced).to.include('resync');
          const n = resynced.length;
          clock.advance(30_000);
          expect(resynced.length).to.equal(2 * n);
        } finally {
          inf.stop();
          await client.delete(SERVICES, 'default', 'resync');
        }
      });
    });

    describe('status writer', () => {
      it('writes a condition through /status and keeps lastTransitionTime when the status holds', async () => {
        const writer = new StatusWriter({ client });
        await client.create(SERVICES, {
          metadata: { name: 'sw', namespace: ns },
          spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
        });
        const cond = (status: 'True' | 'False', at: string) => (o: KubeObject) => {
          const st = (o['status'] ?? {}) as { conditions?: Condition[] };
          const next = setCondition(
            st.conditions,
            { type: 'herald.dev/AddressAssigned', status, reason: 'Test', message: 'm' },
            at,
          );
          return next === st.conditions ? undefined : { ...st, conditions: next };
        };
        const first = await writer.update(SERVICES, ns, 'sw', cond('True', '2026-01-01T00:00:00Z'));
        expect(first.result).to.equal('written');
        const same = await writer.update(SERVICES, ns, 'sw', cond('True', '2026-01-02T00:00:00Z'));
        expect(same.result).to.equal('unchanged');
        const got = await client.get(SERVICES, ns, 'sw');
        expect((got['status'] as { conditions: Condition[] }).conditions[0]!.lastTransitionTime).to.equal(
          '2026-01-01T00:00:00Z',
        );
      });

      it("re-reads and re-applies after a real conflict, keeping the other writer's change", async () => {
        const writer = new StatusWriter({ client });
        const stale = await client.get(SERVICES, ns, 'sw');
        await client.patch(
          SERVICES,
          ns,
          'sw',
          { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } },
          { status: true },
        );
        const out = await writer.update(
          SERVICES,
          ns,
          'sw',
          (o) => ({ ...(o['status'] as object), conditions: [] }),
          stale,
        );
        expect(out.attempts).to.equal(2);
        const got = await client.get(SERVICES, ns, 'sw');
        // kube-apiserver also defaults ipMode (VIP) and drops the empty conditions list (docs/apiserver.md).
        const status = got['status'] as { loadBalancer: { ingress: { ip: string }[] }; conditions?: unknown[] };
        expect(status.loadBalancer.ingress.map((i) => i.ip)).to.deep.equal(['192.0.2.1']);
        expect(status.conditions ?? []).to.deep.equal([]);
      });

      it('survives injected 409s', async function () {
        skipOnReal(this, NO_FAULTS);
        if (!embedded) this.skip();
        embedded!.faults.failNext({ resource: 'services', verb: 'update', count: 3, status: 409 });
        const writer = new StatusWriter({ client });
        const out = await writer.update(SERVICES, ns, 'sw', (o) => ({ ...(o['status'] as object), loadBalancer: {} }));
        expect([out.result, out.attempts]).to.deep.equal(['written', 4]);
      });

      it('reports a deleted object as gone', async () => {
        const writer = new StatusWriter({ client });
        const out = await writer.update(SERVICES, ns, 'never-there', () => ({}));
        expect(out.result).to.equal('gone');
      });
    });

    describe('event recorder', () => {
      it('aggregates repeats into one Event with a count, like client-go', async () => {
        const svc = await client.get(SERVICES, ns, 'sw');
        const rec = new EventRecorder({ client, clock: systemClock(), logger, component: 'herald-controller' });
        const ref = { apiVersion: 'v1', kind: 'Service', name: 'sw', namespace: ns, uid: svc.metadata.uid! };
        for (let i = 0; i < 3; i++) void rec.record(ref, 'Warning', 'AllocationFailed', 'pool "a" is exhausted');
        void rec.record(ref, 'Normal', 'IPAllocated', 'assigned 192.0.2.1 from pool "a"');
        await rec.flush();
        const events = (await client.list(EVENTS, { namespace: ns, fieldSelector: 'involvedObject.name=sw' })).items;
        const summary = events.map((e) => `${String(e['reason'])} x${String(e['count'])}`).sort();
        expect(summary).to.deep.equal(['AllocationFailed x3', 'IPAllocated x1']);
        const failed = events.find((e) => e['reason'] === 'AllocationFailed')!;
        expect(failed['source']).to.deep.equal({ component: 'herald-controller' });
        expect((failed['involvedObject'] as { uid: string }).uid).to.equal(svc.metadata.uid);
      });

      it('writes posted Events in order from its queue; flush waits for all, close drops the rest and counts them', async () => {
        const svc = await client.get(SERVICES, ns, 'sw');
        const rec = new EventRecorder({ client, clock: systemClock(), logger, component: 'herald-controller' });
        const ref = { apiVersion: 'v1', kind: 'Service', name: 'sw', namespace: ns, uid: svc.metadata.uid! };
        // More than the queue's compaction step (1024), so written entries are let go of mid-burst.
        const n = 1100;
        for (let i = 0; i < n; i++) rec.post(ref, 'Normal', 'QueueOrder', `event ${i}`);
        const waited = rec.record(ref, 'Normal', 'QueueOrder', 'last');
        expect(rec.pending()).to.equal(n + 1);
        await rec.flush();
        expect(await waited).to.equal(true);
        expect(rec.stats).to.include({ recorded: n + 1, written: n + 1, failed: 0, dropped: 0 });
        const events = (
          await client.list(EVENTS, { namespace: ns, fieldSelector: 'involvedObject.name=sw,reason=QueueOrder' })
        ).items;
        // Written one at a time, in order: no Event's firstTimestamp (to the second) is before the one posted ahead of it.
        const byMessage = new Map(events.map((e) => [String(e['message']), String(e['firstTimestamp'])]));
        expect(byMessage.size).to.equal(n + 1);
        for (let i = 1; i < n; i++)
          expect(byMessage.get(`event ${i}`)! >= byMessage.get(`event ${i - 1}`)!, `event ${i}`).to.equal(true);

        for (let i = 0; i < 5; i++) rec.post(ref, 'Normal', 'QueueDropped', `dropped ${i}`);
        const dropped = rec.record(ref, 'Normal', 'QueueDropped', 'dropped last');
        rec.close();
        expect(await dropped).to.equal(false);
        await rec.flush();
        expect(rec.stats.dropped).to.be.at.least(5);
        expect(rec.pending()).to.equal(0);
      });
    });

    describe('leader election', () => {
      const make = (identity: string, log: string[]): LeaderElector =>
        new LeaderElector({
          client,
          clock: systemClock(),
          logger,
          namespace: ns,
          name: 'herald-controller',
          identity,
          leaseDurationMs: 1500,
          renewDeadlineMs: 1000,
          retryPeriodMs: 200,
          onStartedLeading: () => log.push(`${identity} leads @${Date.now()}`),
          onStoppedLeading: () => log.push(`${identity} stops @${Date.now()}`),
        });

      it('one of two candidates leads; the leader killed, the other takes over once the lease expires', async () => {
        const log: string[] = [];
        const a = make('a', log);
        const b = make('b', log);
        try {
          a.start();
          await eventually(() => a.isLeader(), 'a to lead');
          b.start();
          // b must not take a lease that a keeps renewing.
          const first = (await client.get(LEASES, ns, 'herald-controller'))['spec'] as { renewTime: string };
          await eventually(
            async () =>
              ((await client.get(LEASES, ns, 'herald-controller'))['spec'] as { renewTime: string }).renewTime !==
              first.renewTime
                ? true
                : undefined,
            'a to renew',
          );
          expect(b.isLeader()).to.equal(false);
          await a.stop({ release: false });
          const lastRenew = Date.parse(
            ((await client.get(LEASES, ns, 'herald-controller'))['spec'] as { renewTime: string }).renewTime,
          );
          await eventually(() => b.isLeader(), 'b to lead', 20_000);
          const lease = (await client.get(LEASES, ns, 'herald-controller'))['spec'] as {
            holderIdentity: string;
            leaseTransitions: number;
            acquireTime: string;
          };
          expect([lease.holderIdentity, lease.leaseTransitions]).to.deep.equal(['b', 1]);
          // Safety, from the Lease's own timestamps: b acquired only after a's lease ran out.
          expect(Date.parse(lease.acquireTime) - lastRenew, 'b acquired before the lease expired').to.be.at.least(1500);
        } finally {
          await a.stop();
          await b.stop();
        }
        const released = (await client.get(LEASES, ns, 'herald-controller'))['spec'] as { holderIdentity: string };
        expect(released.holderIdentity).to.equal('');
      });

      it('a released lease is taken at once by the next candidate', async () => {
        const log: string[] = [];
        const c1 = make('c1', log);
        const c2 = make('c2', log);
        try {
          c1.start();
          await eventually(() => c1.isLeader(), 'c1 to lead', 20_000);
          c2.start();
          await c1.stop();
          await eventually(() => c2.isLeader(), 'c2 to lead after the release', 20_000);
        } finally {
          await c1.stop();
          await c2.stop();
        }
        expect(log.map((l) => l.split(' @')[0])).to.deep.equal(['c1 leads', 'c1 stops', 'c2 leads', 'c2 stops']);
      });
    });
  });
}
