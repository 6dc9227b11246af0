/**
 * Issue 18 items 4 and 6, in CI: Herald's BGP session against BIRD 2 (netns) flapped 20 times
 * (protocol disable/enable, a clean BIRD restart, kill -9 of BIRD, in turn) gets every route
 * back each time and holds no more handles or file descriptors after the last flap than after
 * the first few (counted by type with process.getActiveResourcesInfo() and /proc/self/fd in
 * the session's process; deterministic, no wall-clock bound). And BIRD killed while a large
 * batch of UPDATEs is on the wire gets every route once it is back. bench/soak.ts runs the
 * 100-flap version with memory figures.
 */
import { expect } from 'chai';
import { BgpFlapRig, type FlapKind, type Health } from '../../support/bgp-flap-rig.js';
import { useNetns } from '../../support/netns.js';

const KINDS: readonly FlapKind[] = ['disable', 'restart', 'kill'];

describe('reliability: BGP session flaps against BIRD (netns)', function () {
  this.timeout(180_000);
  const netns = useNetns(this, ['bird']);
  let rig: BgpFlapRig | undefined;
  afterEach(() => rig?.cleanup());

  it('20 flaps: every route back each time, no handle or fd grows per flap', async () => {
    rig = new BgpFlapRig(netns(), 200);
    await rig.start();
    let baseline: Health | undefined;
    for (let i = 0; i < 20; i++) {
      await rig.flap(KINDS[i % KINDS.length]!);
      await rig.allRoutes();
      expect(rig.routeCount(), `routes at BIRD after flap ${i + 1}`).to.equal(200);
      if (i === 2) baseline = await rig.health();
    }
    const end = await rig.health();
    expect(end.fds, 'open fds after 20 flaps vs after 3').to.be.at.most(baseline!.fds);
    for (const [type, n] of Object.entries(end.resources)) {
      expect(n, `${type} handles after 20 flaps vs after 3`).to.be.at.most(baseline!.resources[type] ?? 0);
    }
    // One BGP connection, whatever happened before.
    expect(end.resources['TCPSocketWrap']).to.equal(1);
  });

  it('BIRD killed mid-UPDATE: after its restart every route arrives', async () => {
    rig = new BgpFlapRig(netns(), 100);
    await rig.start();
    const more = 30_000;
    const { seenBeforeKill } = await rig.killMidUpdate(more);
    expect(seenBeforeKill, 'BIRD was killed with part of the batch in')
      .to.be.above(100)
      .and.below(100 + more);
    await rig.allRoutes(60_000);
    expect(rig.routeCount()).to.equal(100 + more);
  });
});
