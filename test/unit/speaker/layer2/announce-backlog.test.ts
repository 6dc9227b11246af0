/**
 * The pacer's backlog accounting (Announcer.pacing(), read by the speaker's metrics
 * herald_speaker_l2_announcements_queued and …_delayed_total): first announcements queued and
 * repeats due but unsent, per interface, and announcements sent after their time. Checked
 * against what the recorded sends show (a FakeClock fires every timer on time, so a send
 * later than its due time was held back by the pace), and on hand-worked scripts.
 */
import { MovingClock } from '../../../support/moving-clock.js';
import { expect } from 'chai';
import { Announcer, type AnnouncerOptions } from '../../../../speaker/layer2/announcer.js';
import { FakeClock } from '../../../../src/core/clock.js';
import { formatIP, parseIP, type IP } from '../../../../src/net/ip.js';

interface Sent {
  readonly at: number;
  readonly key: string;
}

const v6 = (count: number, from = 0): IP[] =>
  Array.from({ length: count }, (_, i) => parseIP(`2001:db8:22::${(from + i).toString(16)}`));

function setup(opts: Partial<Omit<AnnouncerOptions, 'clock' | 'send'>> = {}): {
  a: Announcer;
  clock: FakeClock;
  sent: Sent[];
} {
  const clock = new FakeClock();
  const sent: Sent[] = [];
  const a = new Announcer({
    clock,
    send: (ip, ifname) => void sent.push({ at: clock.monotonic(), key: `${formatIP(ip)}%${ifname}` }),
    ...opts,
  });
  return { a, clock, sent };
}

const queuedOf = (a: Announcer): Record<string, { first: number; repeat: number }> =>
  Object.fromEntries(a.pacing().queued);

describe('layer2: the pacer backlog (queued and delayed announcements)', () => {
  it('nothing announced: no interface, nothing delayed', () => {
    const { a } = setup();
    expect(a.pacing()).to.deep.equal({ queued: new Map(), delayed: 0 });
  });

  it('unpaced (Infinity): every interface announced on is listed at 0 and nothing is ever late', () => {
    const { a, clock, sent } = setup({ ratePerSecond: Infinity });
    for (const ip of v6(5000)) {
      a.announce(ip, 'eth0');
      a.announce(ip, 'eth1');
    }
    expect(queuedOf(a)).to.deep.equal({ eth0: { first: 0, repeat: 0 }, eth1: { first: 0, repeat: 0 } });
    clock.advance(60_000);
    expect(sent).to.have.length(5000 * 2 * 6);
    expect(a.pacing().delayed).to.equal(0);
  });

  it('a takeover of 10,000 at 2 frames each: the queued counts and the delayed total agree with the sends, at every step', () => {
    const { a, clock, sent } = setup({ frames: () => 2 });
    const t0 = clock.monotonic();
    const keys = v6(10_000).map((ip) => `${formatIP(ip)}%eth0`);
    for (const ip of v6(10_000)) a.announce(ip, 'eth0');
    const interval = 1000;
    // Per key: its send times so far, from the record.
    const perKey = new Map<string, number[]>(keys.map((k) => [k, []]));
    let seen = 0;
    let maxFirst = 0;
    let maxRepeat = 0;
    for (let step = 0; step <= 500; step++) {
      for (; seen < sent.length; seen++) perKey.get(sent[seen]!.key)!.push(sent[seen]!.at);
      const now = clock.monotonic();
      let first = 0;
      let repeat = 0;
      let late = 0;
      for (const times of perKey.values()) {
        if (times.length === 0) first++;
        else if (times.length < 6 && times.at(-1)! + interval <= now) repeat++;
        // Due: the takeover for the first, the previous send + the interval for a repeat.
        times.forEach((at, i) => void (at > (i === 0 ? t0 : times[i - 1]! + interval) && late++));
      }
      expect(a.pacing(), `at ${now - t0} ms`).to.deep.equal({
        queued: new Map([['eth0', { first, repeat }]]),
        delayed: late,
      });
      maxFirst = Math.max(maxFirst, first);
      maxRepeat = Math.max(maxRepeat, repeat);
      clock.advance(125);
    }
    expect(sent).to.have.length(60_000);
    // The figures were not all zero: the burst (100 announcements) went at once, the rest waited.
    expect(maxFirst).to.equal(9900);
    expect(maxRepeat).to.be.above(1000);
    expect(a.pacing().delayed).to.be.above(9900);
    expect(queuedOf(a)).to.deep.equal({ eth0: { first: 0, repeat: 0 } });
  });

  it('IPs taken just before repeats fall due: the repeats wait for the bucket, are counted queued, then delayed', () => {
    // 100 frames/s, a burst of 10, 1 frame each, one repeat a second later.
    const { a, clock, sent } = setup({ ratePerSecond: 100, burst: 10, repeats: 1 });
    const t0 = clock.monotonic();
    for (const ip of v6(10)) a.announce(ip, 'eth0'); // the burst: all out at once
    expect(a.pacing()).to.deep.equal({ queued: new Map([['eth0', { first: 0, repeat: 0 }]]), delayed: 0 });
    clock.advance(995); // the bucket is full again
    for (const ip of v6(10, 100)) a.announce(ip, 'eth0'); // and empty
    expect(sent.filter((s) => s.at === t0 + 995)).to.have.length(10);
    clock.advance(7); // the first 10 repeats fell due at 1000 with half a token; the next wake-up is a tick later
    expect(queuedOf(a)).to.deep.equal({ eth0: { first: 0, repeat: 10 } });
    expect(a.pacing().delayed).to.equal(0);
    clock.advance(8); // 1010: one repeat out, late
    expect(a.pacing()).to.deep.equal({ queued: new Map([['eth0', { first: 0, repeat: 9 }]]), delayed: 1 });
    clock.advance(90); // 1100: one every 10 ms since
    expect(a.pacing()).to.deep.equal({ queued: new Map([['eth0', { first: 0, repeat: 0 }]]), delayed: 10 });
    // The second 10 repeats fall due at 1995 on a full bucket: on time.
    clock.advance(2000);
    expect(sent).to.have.length(40);
    expect(a.pacing().delayed).to.equal(10);
  });

  it('released IPs leave the queued count at once; a removed interface leaves the list; the delayed total stays', () => {
    const { a, clock } = setup({ ratePerSecond: 100, burst: 10 });
    const ips = v6(30);
    for (const ip of ips) {
      a.announce(ip, 'eth0');
      a.announce(ip, 'eth1');
    }
    expect(queuedOf(a)).to.deep.equal({ eth0: { first: 20, repeat: 0 }, eth1: { first: 20, repeat: 0 } });
    for (const ip of ips.slice(20)) a.stop(ip, 'eth0'); // 10 of the queued ones
    a.announce(ips[0]!, 'eth1'); // announced again: queued once, at the back
    expect(queuedOf(a)).to.deep.equal({ eth0: { first: 10, repeat: 0 }, eth1: { first: 21, repeat: 0 } });
    clock.advance(100); // 10 more out on each
    expect(queuedOf(a)).to.deep.equal({ eth0: { first: 0, repeat: 0 }, eth1: { first: 11, repeat: 0 } });
    expect(a.pacing().delayed).to.equal(20);
    a.stopInterface('eth1');
    expect(a.pacing()).to.deep.equal({ queued: new Map([['eth0', { first: 0, repeat: 0 }]]), delayed: 20 });
  });

  it('a timer that fires late (as a busy event loop makes it) is no delay of the pace', () => {
    const clock = new MovingClock();
    const sent: number[] = [];
    const a = new Announcer({ clock, repeats: 5, send: () => void sent.push(clock.t) });
    for (const ip of v6(20)) a.announce(ip, 'eth0');
    clock.drain((due) => due + 7); // every wake-up 7 ms late
    expect(sent).to.have.length(120);
    expect(sent.at(-1)).to.equal(5 * 1007);
    expect(a.pacing().delayed).to.equal(0);
  });
});
