import { expect } from 'chai';
import { SplitBrainGuard } from '../../../../speaker/membership/split-brain.js';

describe('membership: split-brain guard', () => {
  it('a minority stops; the majority keeps going; a real shrink is accepted after it settles', () => {
    const g = new SplitBrainGuard({ settleMs: 30_000 });
    expect(g.check(3, 0).allowed).to.equal(true);
    expect(g.check(2, 1000).allowed).to.equal(true);
    const alone = g.check(1, 2000);
    expect(alone.allowed).to.equal(false);
    if (!alone.allowed) expect(alone.reason).to.include('sees 1 of the 3');
    expect(g.check(1, 31_999).allowed).to.equal(false);
    expect(g.check(1, 32_000).allowed).to.equal(true);
  });

  it('is off for clusters of one or two speakers', () => {
    const g = new SplitBrainGuard();
    g.check(2, 0);
    expect(g.check(1, 1).allowed).to.equal(true);
  });

  it('the reference follows growth at once', () => {
    const g = new SplitBrainGuard();
    g.check(3, 0);
    g.check(5, 1);
    expect(g.check(2, 2).allowed).to.equal(false);
    expect(g.check(3, 3).allowed).to.equal(true);
  });

  it('a node whose own link is down is cut off: it stays stopped however long it lasts, and says why', () => {
    const g = new SplitBrainGuard({ settleMs: 30_000 });
    g.check(3, 0);
    for (const t of [1000, 31_000, 120_000]) {
      const r = g.check(1, t, 'eth0');
      expect(r.allowed).to.equal(false);
      if (!r.allowed)
        expect(r.reason).to.equal(
          "this node's link eth0 is down: it sees 1 of the 3 speakers and announces nothing until the link is back",
        );
    }
    // Back: the others are heard again, nothing was lowered meanwhile.
    expect(g.check(3, 121_000).allowed).to.equal(true);
  });

  it('cuts off even a two-node cluster (the guard is otherwise off there)', () => {
    const g = new SplitBrainGuard();
    g.check(2, 0);
    expect(g.check(1, 1, 'eth0').allowed).to.equal(false);
    expect(g.check(1, 2).allowed).to.equal(true);
  });
});
