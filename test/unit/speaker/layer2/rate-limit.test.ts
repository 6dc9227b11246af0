/** Replies per asker: a token bucket per source MAC, on explicit times. */
import { expect } from 'chai';
import { ReplyLimiter } from '../../../../speaker/layer2/rate-limit.js';

describe('layer2: replies per asker are limited', () => {
  it('gives a source its burst at once, then its rate, and other sources their own', () => {
    const l = new ReplyLimiter({ perSecond: 10, burst: 3, maxSources: 10 });
    expect([1, 2, 3, 4].map(() => l.allow('flooder', 0))).to.deep.equal([true, true, true, false]);
    expect(l.allow('neighbour', 0)).to.equal(true);
    expect(l.allow('flooder', 99)).to.equal(false); // 0.99 of a token
    expect(l.allow('flooder', 100)).to.equal(true);
    // A quiet source refills up to its burst only.
    expect([1, 2, 3, 4].map(() => l.allow('flooder', 60_000))).to.deep.equal([true, true, true, false]);
  });

  it('over a second of flood, one source gets burst + rate replies', () => {
    const l = new ReplyLimiter({ perSecond: 100, burst: 50, maxSources: 10 });
    let allowed = 0;
    for (let t = 0; t < 1000; t += 0.02) if (l.allow('flooder', t)) allowed++; // 50k requests
    expect(allowed).to.be.within(149, 151);
  });

  it('remembers a bounded number of sources, forgetting the least recently seen', () => {
    const l = new ReplyLimiter({ perSecond: 1, burst: 1, maxSources: 2 });
    l.allow('a', 0);
    l.allow('b', 0);
    l.allow('a', 1); // a is recent again
    l.allow('c', 2); // b goes
    expect(l.sources()).to.equal(2);
    expect(l.allow('a', 3)).to.equal(false); // still remembered: its token is spent
    expect(l.allow('b', 3)).to.equal(true); // forgotten: a fresh bucket
  });

  it('refuses settings that would answer nobody', () => {
    expect(() => new ReplyLimiter({ perSecond: 0, burst: 1, maxSources: 1 })).to.throw(RangeError);
  });
});
