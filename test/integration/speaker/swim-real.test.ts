/**
 * The harness of bench/swim-real.ts, small: five speakers' SWIM drivers on real UDP in two
 * namespaces over a bridge (three members in one, two in the other, so datagrams go both over
 * the bridge and over lo), 1 % of datagrams dropped (nftables), real clock and signed datagrams. One
 * member's process is killed (SIGKILL: no leave): every other member must declare it dead (a
 * crash, not a leave), keep each other alive, and the teardown must leave no namespace and
 * no process behind.
 */
import { expect } from 'chai';
import { canUseNetns } from '../../support/netns.js';
import { RealSwimCluster } from '../../support/swim-real.js';
import { requireTool } from '../../support/tools.js';

describe('speaker: SWIM members on real UDP in namespaces (bench/swim-real harness)', function () {
  this.timeout(180_000);
  let cluster: RealSwimCluster | undefined;

  before(function () {
    requireTool(this, 'nft');
    if (!canUseNetns()) {
      if (process.env['CI'] === 'true') throw new Error('network namespace tests need root and ip netns');
      this.skip();
    }
  });
  afterEach(async () => {
    await cluster?.teardown();
    cluster = undefined;
  });

  const poll = async (what: () => boolean, label: string, timeoutMs: number): Promise<void> => {
    const t = performance.now();
    while (!what()) {
      if (performance.now() - t > timeoutMs) throw new Error(`timed out waiting for ${label}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('a killed member is declared dead by every other, which stay alive; nothing is left after teardown', async () => {
    const prefix = `sr${process.pid % 10000}`;
    const c = (cluster = await RealSwimCluster.start({
      prefix,
      members: 5,
      namespaces: 2,
      subnet: '192.0.2.',
      alone: ['node-2'],
      // Some loss, so the harness's drop rule is exercised; the assertions hold whatever is lost.
      loss: 0.01,
    }));
    expect(c.namespaces).to.have.length(2);
    c.go();
    await poll(() => c.allAlive(), 'every member to hold every other alive', 60_000);

    const killedAt = await c.kill('node-2');
    const others = c.names.filter((n) => n !== 'node-2');
    await poll(
      () => c.notAliveAt('node-2').length === others.length && others.every((o) => c.view(o, 'node-2') === 'dead'),
      'every other member to declare node-2 dead',
      60_000,
    );
    for (const o of others) {
      const tr = c.transitions.find((t) => t.observer === o && t.member === 'node-2' && t.state === 'dead');
      expect(tr, o).to.not.equal(undefined);
      expect(tr!.at, o).to.be.greaterThan(killedAt);
    }
    // The survivors hold each other alive (a suspicion under load is refuted, so poll).
    await poll(() => c.allAlive(), 'the survivors to hold each other alive', 60_000);

    // Every datagram was sent by the driver, and every one a member got was signed correctly.
    const reports = await c.reports();
    expect(reports).to.have.length(3);
    for (const { names, report } of reports) {
      expect(report.sent, names.join()).to.be.greaterThan(0);
      expect(report.sentBytes, names.join()).to.be.greaterThan(report.sent);
      expect(report.rejected, names.join()).to.equal(0);
    }
    expect(c.interfaceTxBytes()).to.be.greaterThan(0);
    // The drop rule saw every datagram the drivers had sent when they reported (and those sent since).
    const { sent, dropped } = c.datagramsDropped();
    expect(sent).to.be.at.least(reports.reduce((a, r) => a + r.report.sent, 0));
    expect(dropped).to.be.at.most(sent);
    // node-2's address stays up after its process died: the kernel answers the probes of it.
    expect(c.datagramsDropped().unreachables).to.be.greaterThan(0);

    await c.teardown();
    expect(c.leftovers()).to.deep.equal([]);
  });
});
