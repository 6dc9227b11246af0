import { expect } from 'chai';
import { FakeClock } from '../../../src/core/clock.js';
import { WorkQueue } from '../../../src/k8s/queue.js';
import { backoffDelay, jittered } from '../../../src/core/backoff.js';
import { setCondition } from '../../../src/k8s/status.js';

describe('k8s: work queue', () => {
  it('coalesces a key added many times before it is taken', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    for (const k of ['a', 'b', 'a', 'a', 'c', 'b']) q.add(k);
    expect(q.len()).to.equal(3);
    expect([await q.get(), await q.get(), await q.get()]).to.deep.equal(['a', 'b', 'c']);
  });

  it('does not hand out a key being processed; re-queues it on done when it was added meanwhile', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    q.add('a');
    const k = await q.get();
    q.add('a');
    expect(q.len()).to.equal(0);
    q.done(k!);
    expect(q.len()).to.equal(1);
    expect(await q.get()).to.equal('a');
  });

  it('empty(): resolves when the last queued key is handed out, at once when none is, and on shutdown', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    let empty = false;
    await q.empty();
    q.add('a');
    q.add('b');
    const p = q.empty().then(() => (empty = true));
    await q.get();
    await Promise.resolve();
    expect(empty).to.equal(false);
    // Keys in processing do not count: the last one handed out empties the queue.
    await q.get();
    await p;
    expect(empty).to.equal(true);
    q.add('c');
    const shut = q.empty();
    q.shutdown();
    await shut;
    expect(q.len()).to.equal(1);
  });

  it('wakes a waiting worker', async () => {
    const q = new WorkQueue({ clock: new FakeClock() });
    const p = q.get();
    q.add('x');
    expect(await p).to.equal('x');
  });

  it('backs off exponentially per key and forgets on success', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 10, maxDelayMs: 100 });
    expect([
      q.addRateLimited('a'),
      q.addRateLimited('a'),
      q.addRateLimited('a'),
      q.addRateLimited('a'),
      q.addRateLimited('a'),
    ]).to.deep.equal([10, 20, 40, 80, 100]);
    // The key waits for the earliest retry it was given.
    expect(q.len()).to.equal(0);
    clock.advance(9);
    expect(q.len()).to.equal(0);
    clock.advance(1);
    expect(q.len()).to.equal(1);
    q.forget('a');
    expect(q.retries('a')).to.equal(0);
    expect(q.addRateLimited('a')).to.equal(10);
  });

  it('addAfter keeps the earlier due time for a key, and shutdown wakes waiters with undefined', async () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 50);
    q.addAfter('a', 10);
    q.addAfter('a', 30);
    clock.advance(10);
    expect(q.len()).to.equal(1);
    await q.get();
    q.done('a');
    q.addAfter('b', 20);
    clock.advance(15);
    q.addAfter('b', 20);
    clock.advance(5);
    expect(q.len()).to.equal(1);
    await q.get();
    const waiting = q.get();
    q.shutdown();
    expect(await waiting).to.equal(undefined);
  });
});

describe('k8s: backoff and conditions', () => {
  const cases: { attempt: number; random: number; want: number }[] = [
    { attempt: 0, random: 0, want: 100 },
    { attempt: 1, random: 0, want: 200 },
    { attempt: 3, random: 1, want: 960 },
    { attempt: 10, random: 1, want: 5000 },
  ];
  for (const tc of cases) {
    it(`backoff attempt ${tc.attempt} random ${tc.random} -> ${tc.want}ms`, () => {
      expect(backoffDelay(tc.attempt, { baseMs: 100, maxMs: 5000, jitter: 0.2 }, () => tc.random)).to.equal(tc.want);
    });
  }

  const periods: { random: number; want: number }[] = [
    { random: 0, want: 2000 },
    { random: 0.5, want: 2200 },
    { random: 0.999, want: 2400 },
  ];
  for (const tc of periods) {
    it(`a 2000 ms period jittered by a fifth, random ${tc.random} -> ${tc.want}ms (leader election's retry)`, () => {
      expect(jittered(2000, 0.2, () => tc.random)).to.equal(tc.want);
    });
  }

  it('the work queue doubles its delay per failure up to its cap, without jitter', () => {
    const clock = new FakeClock();
    const q = new WorkQueue({ clock, baseDelayMs: 5, maxDelayMs: 30 });
    expect([1, 2, 3, 4, 5].map(() => q.addRateLimited('k'))).to.deep.equal([5, 10, 20, 30, 30]);
    q.forget('k');
    expect(q.addRateLimited('k')).to.equal(5);
    q.shutdown();
  });

  it('setCondition moves lastTransitionTime only when the status changes', () => {
    const a = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'R', message: 'm' }, 't1');
    const b = setCondition(a, { type: 'Ready', status: 'True', reason: 'R2', message: 'm2' }, 't2');
    expect(b[0]!.lastTransitionTime).to.equal('t1');
    expect(b[0]!.reason).to.equal('R2');
    const c = setCondition(b, { type: 'Ready', status: 'False', reason: 'R2', message: 'm2' }, 't3');
    expect(c[0]!.lastTransitionTime).to.equal('t3');
    expect(setCondition(c, { type: 'Ready', status: 'False', reason: 'R2', message: 'm2' }, 't4')).to.equal(c);
  });
});
