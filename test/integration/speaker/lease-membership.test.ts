/**
 * Lease membership against the embedded API server through client-node, on a fake clock:
 * who is alive, the stated lease duration honoured, one write per renewal, and the relaxed
 * renewal once the UDP failure detector runs.
 */
import { expect } from 'chai';
import { FakeClock } from '../../../src/core/clock.js';
import { nullLogger } from '../../../src/core/logger.js';
import { LEASES, NAMESPACES } from '../../../src/k8s/index.js';
import { LeaseMembership } from '../../../speaker/membership/lease-membership.js';
import { SPEAKER_LEASE_PREFIX } from '../../../src/api/names.js';
import { eventually } from '../../support/apiserver.js';
import { type KubeCluster, kubeLane, startKubeCluster } from '../../support/kube-cluster.js';

const NS = 'herald-system';

describe(`speaker: Lease membership (${kubeLane()} API server, fake clock)`, function () {
  this.timeout(30_000);
  let cluster: KubeCluster;
  let clock: FakeClock;
  const members: LeaseMembership[] = [];
  const member = (node: string): LeaseMembership => {
    const m = new LeaseMembership({
      client: cluster.client,
      clock,
      logger: nullLogger,
      namespace: NS,
      node,
      onChange: () => undefined,
    });
    members.push(m);
    return m;
  };
  const renewTime = async (node: string): Promise<string> =>
    String(
      ((await cluster.client.get(LEASES, NS, `${SPEAKER_LEASE_PREFIX}${node}`))['spec'] as { renewTime?: string })
        .renewTime,
    );
  const leaseSpec = async (node: string): Promise<{ leaseDurationSeconds?: number; renewTime?: string }> =>
    (await cluster.client.get(LEASES, NS, `${SPEAKER_LEASE_PREFIX}${node}`))['spec'] as {
      leaseDurationSeconds?: number;
      renewTime?: string;
    };

  beforeEach(async () => {
    cluster = await startKubeCluster();
    clock = new FakeClock();
    await cluster.client.create(NAMESPACES, { metadata: { name: NS } });
  });
  afterEach(async () => {
    for (const m of members.splice(0)) await m.stop();
    cluster.client.close();
    await cluster.stop();
  });

  it('members see each other; one that stops renewing is dead after the expiry', async () => {
    const a = member('a');
    const b = member('b');
    await Promise.all([a.start(), b.start()]);
    await eventually(() => a.alive().has('b') && b.alive().has('a'), 'a and b to see each other');
    // b stops renewing without leaving (a crash): its Lease stays, unchanged.
    (b as unknown as { stopped: boolean }).stopped = true;
    const before = await renewTime('a');
    clock.advance(1000); // a renews; b does not
    await eventually(async () => (await renewTime('a')) !== before, "a's renewal");
    expect(a.alive().has('b')).to.equal(true);
    clock.advance(2500);
    expect(a.alive().has('b')).to.equal(false);
    expect(a.alive().has('a')).to.equal(true);
  });

  it('a renewal is one write and no read, whether or not the Lease already exists', async () => {
    // Count what the membership asks of the (real) client.
    const calls: string[] = [];
    const c = cluster.client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    for (const verb of ['get', 'tryGet', 'create', 'patch', 'replace']) {
      if (typeof c[verb] !== 'function') continue;
      const real = c[verb].bind(cluster.client);
      c[verb] = (...args: unknown[]) => {
        if ((args[0] as { plural?: string } | undefined)?.plural === 'leases') calls.push(verb);
        return real(...args);
      };
    }
    const a = member('a');
    await a.start();
    await eventually(() => a.alive().has('a'), 'a to start');
    const lease = (): Promise<unknown> => cluster.client.tryGet(LEASES, NS, `${SPEAKER_LEASE_PREFIX}a`);
    await eventually(async () => (await lease()) !== undefined, 'the Lease');
    // Until its informer has seen the Lease the membership rightly creates (then patches); a
    // real server's watch lags a little behind the create, so wait for the cache.
    const cache = (a as unknown as { informer: { get(key: string): unknown } }).informer;
    await eventually(
      () => cache.get(`${NS}/${SPEAKER_LEASE_PREFIX}a`) !== undefined,
      "the membership's informer to hold its Lease",
    );
    for (let i = 0; i < 3; i++) {
      const before = await renewTime('a');
      calls.length = 0;
      clock.advance(1000);
      await eventually(async () => (await renewTime('a')) !== before, `renewal ${i + 1}`);
      // The test's own reads (renewTime) go through get: the membership made exactly one patch.
      expect(calls.filter((v) => v !== 'get')).to.deep.equal(['patch']);
    }
    // Deleted behind its back: the next renewal creates it again.
    await cluster.client.delete(LEASES, NS, `${SPEAKER_LEASE_PREFIX}a`);
    await eventually(() => !a.alive().has('b'), 'the delete to be seen');
    clock.advance(1000);
    await eventually(async () => (await lease()) !== undefined, 'the Lease to come back');
  });

  it('relaxed (UDP detector running): renews every 10 s stating 30 s, and others honour the 30 s', async () => {
    const a = member('a');
    const b = member('b');
    await Promise.all([a.start(), b.start()]);
    await eventually(() => a.alive().has('b'), 'a to see b');
    b.relax();
    clock.advance(1000);
    await eventually(async () => (await leaseSpec('b')).leaseDurationSeconds === 30, "b's Lease to state 30 s");
    const stated = (await leaseSpec('b')).renewTime;
    await eventually(() => a.alive().has('b'), 'a to see the relaxed renewal');
    // 9 s without a renewal from b: dead under a's own 3 s expiry, alive under b's stated 30 s.
    for (let i = 0; i < 9; i++) clock.advance(1000);
    expect((await leaseSpec('b')).renewTime).to.equal(stated);
    expect(a.alive().has('b')).to.equal(true);
    clock.advance(1000);
    await eventually(async () => (await leaseSpec('b')).renewTime !== stated, "b's next renewal after 10 s");
  });
});
