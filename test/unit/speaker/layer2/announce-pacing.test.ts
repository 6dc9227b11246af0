/**
 * Pacing of gratuitous announcements on a FakeClock (speaker/layer2/announcer.ts): a takeover
 * of 10,000 IPs never exceeds an interface's token bucket in any window, sends every first
 * announcement before any repeat and within the stated bound, gives every IP all its
 * announcements, and drops what is pending on release and on interface removal.
 */
import { MovingClock } from '../../../support/moving-clock.js';
import { expect } from 'chai';
import {
  Announcer,
  DEFAULT_ANNOUNCE_INTERVAL_MS,
  DEFAULT_ANNOUNCE_RATE,
  DEFAULT_ANNOUNCE_REPEATS,
  PACE_TICK_MS,
  defaultBurst,
  type AnnouncerOptions,
} from '../../../../speaker/layer2/announcer.js';
import { FakeClock } from '../../../../src/core/clock.js';
import { formatIP, parseIP, type IP } from '../../../../src/net/ip.js';

interface Sent {
  readonly at: number;
  readonly key: string;
  readonly ifname: string;
  readonly frames: number;
}

const V4_DOC = ['192.0.2', '198.51.100', '203.0.113'];

/**
 * `count` addresses: IPv6 from 2001:db8:18::/64, or IPv4 from the three documentation /24s
 * (768 at most), starting at `from`.
 */
function addresses(count: number, family: 'IPv4' | 'IPv6' = 'IPv6', from = 0): IP[] {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return parseIP(family === 'IPv4' ? `${V4_DOC[Math.floor(n / 256)]!}.${n % 256}` : `2001:db8:18::${n.toString(16)}`);
  });
}

/** Frames per announcement as the engine counts them: a gratuitous ARP in both forms, or one NA. */
const byFamily = (ip: IP): number => (ip.family === 'IPv4' ? 2 : 1);

/**
 * An announcer recording its sends. Unless told otherwise every announcement costs 2 frames,
 * as an IPv4 one does: the takeovers of 10,000 below use IPv6 documentation addresses (there
 * are only 768 IPv4 ones) at the cost of IPv4.
 */
function setup(opts: Partial<Omit<AnnouncerOptions, 'clock' | 'send'>> = {}): {
  a: Announcer;
  clock: FakeClock;
  sent: Sent[];
  t0: number;
} {
  const clock = new FakeClock();
  const sent: Sent[] = [];
  const frames = opts.frames ?? ((): number => 2);
  const a = new Announcer({
    clock,
    frames,
    send: (ip, ifname) => {
      sent.push({ at: clock.monotonic(), key: `${formatIP(ip)}%${ifname}`, ifname, frames: frames(ip) });
      return frames(ip);
    },
    ...opts,
  });
  return { a, clock, sent, t0: clock.monotonic() };
}

/** The most frames `ifname` sent in any closed window [t, t + windowMs]. */
function maxInWindow(sent: readonly Sent[], ifname: string, windowMs: number): number {
  const xs = sent.filter((s) => s.ifname === ifname);
  let best = 0;
  let sum = 0;
  let j = 0;
  for (let i = 0; i < xs.length; i++) {
    while (j < xs.length && xs[j]!.at - xs[i]!.at <= windowMs) sum += xs[j++]!.frames;
    best = Math.max(best, sum);
    sum -= xs[i]!.frames;
  }
  return best;
}

/** Splits the sends into first announcements (the first send of each key) and repeats, with their positions. */
function firstsAndRepeats(sent: readonly Sent[]): {
  firsts: number[];
  repeats: number[];
  perKey: Map<string, number[]>;
} {
  const perKey = new Map<string, number[]>();
  const firsts: number[] = [];
  const repeats: number[] = [];
  sent.forEach((s, i) => {
    const times = perKey.get(s.key) ?? [];
    (times.length === 0 ? firsts : repeats).push(i);
    times.push(s.at);
    perKey.set(s.key, times);
  });
  return { firsts, repeats, perKey };
}

const WINDOWS_MS = [1, 10, 100, 1000, 5000];

describe('layer2: announcement pacing (FakeClock)', () => {
  it('defaults: 2000 frames/s per interface, a burst of 200 (100 ms worth), 5 repeats a second apart', () => {
    const { a } = setup();
    expect([
      a.ratePerSecond,
      a.burst,
      DEFAULT_ANNOUNCE_RATE,
      DEFAULT_ANNOUNCE_REPEATS,
      DEFAULT_ANNOUNCE_INTERVAL_MS,
    ]).to.deep.equal([2000, 200, 2000, 5, 1000]);
    expect([defaultBurst(10), defaultBurst(5), defaultBurst(Infinity)]).to.deep.equal([2, 2, Infinity]);
  });

  it('a takeover of 10,000 addresses at 2 frames each: rate never exceeded, firsts before repeats, all within (frames - burst) / rate, every IP announced 6 times', () => {
    const { a, clock, sent, t0 } = setup();
    const ips = addresses(10_000);
    for (const ip of ips) a.announce(ip, 'eth0');
    const bound = a.backlog('eth0');
    // 20,000 frames queued; the burst went at once.
    expect(bound.firsts).to.equal(10_000 - 100);
    expect(bound.frames).to.equal(20_000 - 200);
    expect(bound.withinMs).to.equal(((20_000 - 200) / 2000) * 1000 + PACE_TICK_MS);
    clock.advance(120_000);
    expect(a.active()).to.equal(0);
    expect(clock.pending()).to.equal(0);

    for (const w of WINDOWS_MS)
      expect(maxInWindow(sent, 'eth0', w), `window ${w} ms`).to.be.at.most(a.burst + (a.ratePerSecond * w) / 1000);
    // Steady state, the burst spent: 1 s windows starting after the first second hold at most the rate.
    expect(
      maxInWindow(
        sent.filter((s) => s.at - t0 >= 1000),
        'eth0',
        1000,
      ),
    ).to.be.at.most(a.ratePerSecond + 2 * PACE_TICK_MS * (a.ratePerSecond / 1000));

    const { firsts, repeats, perKey } = firstsAndRepeats(sent);
    expect(firsts).to.have.length(10_000);
    expect(Math.max(...firsts)).to.be.below(Math.min(...repeats)); // no repeat before the last first
    const lastFirst = sent[Math.max(...firsts)]!.at - t0;
    expect(lastFirst).to.be.at.most(bound.withinMs);
    expect(lastFirst).to.be.at.least(9900 - PACE_TICK_MS); // really paced, not sent at once
    for (const [key, times] of perKey) {
      expect(times, key).to.have.length(1 + DEFAULT_ANNOUNCE_REPEATS);
      for (let i = 1; i < times.length; i++)
        expect(times[i]! - times[i - 1]!, key).to.be.at.least(DEFAULT_ANNOUNCE_INTERVAL_MS);
    }
    // The whole run: 120,000 frames at 2000/s, plus the burst.
    expect(sent.reduce((n, s) => n + s.frames, 0)).to.equal(120_000);
    expect(sent.at(-1)!.at - t0).to.be.within(59_900 - PACE_TICK_MS, 61_000);
  });

  it('two interfaces and both families: each interface has its own bucket; an IPv6 announcement is one frame', () => {
    const { a, clock, sent, t0 } = setup({ ratePerSecond: 500, frames: byFamily });
    const v4 = addresses(700, 'IPv4');
    const v6 = addresses(3000);
    for (let i = 0; i < 3000; i++) {
      if (i < 700) a.announce(v4[i]!, 'eth0');
      a.announce(v6[i]!, 'eth0');
      a.announce(v6[i]!, 'eth1');
    }
    // eth0: 700 × 2 + 3000 × 1 frames, eth1: 3000, each less its burst of 50.
    expect(a.backlog('eth0').withinMs).to.equal(Math.ceil(((4400 - 50) / 500) * 1000) + PACE_TICK_MS);
    expect(a.backlog('eth1').withinMs).to.equal(Math.ceil(((3000 - 50) / 500) * 1000) + PACE_TICK_MS);
    clock.advance(200_000);
    for (const ifname of ['eth0', 'eth1'])
      for (const w of WINDOWS_MS)
        expect(maxInWindow(sent, ifname, w), `${ifname}, window ${w} ms`).to.be.at.most(
          a.burst + (a.ratePerSecond * w) / 1000,
        );
    const lastFirst = (ifname: string): number => {
      const { firsts } = firstsAndRepeats(sent.filter((s) => s.ifname === ifname));
      return sent.filter((s) => s.ifname === ifname)[Math.max(...firsts)]!.at - t0;
    };
    expect(lastFirst('eth0')).to.be.at.most(8_700 + PACE_TICK_MS);
    expect(sent.filter((s) => s.ifname === 'eth0').reduce((n, s) => n + s.frames, 0)).to.equal(4400 * 6);
    expect(lastFirst('eth1')).to.be.at.most(5_900 + PACE_TICK_MS); // eth0's backlog does not hold eth1 back
    expect(sent.filter((s) => s.ifname === 'eth1')).to.have.length(3000 * 6);
  });

  it('IPs taken while repeats are due get their first announcement before any of those repeats', () => {
    const { a, clock, sent, t0 } = setup();
    for (const ip of addresses(1000)) a.announce(ip, 'eth0');
    clock.advance(1500); // firsts done by 0.9 s; repeats due from 1.0 s on are going out
    const mark = sent.length;
    const late = addresses(1000, 'IPv6', 5000);
    const takenAt = clock.monotonic();
    for (const ip of late) a.announce(ip, 'eth0');
    clock.advance(60_000);
    const after = sent.slice(mark);
    const lateKeys = new Set(late.map((ip) => `${formatIP(ip)}%eth0`));
    const firstIdx = [...lateKeys].map((k) => after.findIndex((s) => s.key === k));
    const firstOldRepeat = after.findIndex((s) => !lateKeys.has(s.key));
    expect(Math.max(...firstIdx)).to.be.below(firstOldRepeat === -1 ? Infinity : firstOldRepeat);
    // The bucket may be empty at the takeover: 2,000 frames at 2000/s, plus one tick.
    expect(after[Math.max(...firstIdx)]!.at - takenAt).to.be.at.most(1000 + PACE_TICK_MS);
    for (const w of WINDOWS_MS)
      expect(maxInWindow(sent, 'eth0', w)).to.be.at.most(a.burst + (a.ratePerSecond * w) / 1000);
    expect(firstsAndRepeats(sent).perKey.size).to.equal(2000);
    for (const times of firstsAndRepeats(sent).perKey.values()) expect(times).to.have.length(6);
    expect(sent[0]!.at).to.equal(t0);
  });

  it('releasing IPs drops their pending announcements, queued firsts included, and charges no frames for them', () => {
    const { a, clock, sent } = setup();
    const ips = addresses(10_000);
    for (const ip of ips) a.announce(ip, 'eth0');
    clock.advance(2000);
    const releasedAt = clock.monotonic();
    const released = ips.filter((_, i) => i % 2 === 1);
    for (const ip of released) a.stop(ip, 'eth0');
    expect(a.active()).to.equal(5000);
    const boundAfter = a.backlog('eth0');
    const gone = new Set(released.map((ip) => `${formatIP(ip)}%eth0`));
    clock.advance(120_000);
    expect(sent.filter((s) => gone.has(s.key) && s.at > releasedAt)).to.deep.equal([]);
    const kept = firstsAndRepeats(sent.filter((s) => !gone.has(s.key))).perKey;
    expect(kept.size).to.equal(5000);
    for (const times of kept.values()) expect(times).to.have.length(6);
    // At 2 s, 2,100 firsts were out (the burst, then 2 s at the rate); of the 7,900 queued, the
    // 3,950 kept go right after, not behind the released ones.
    const { firsts } = firstsAndRepeats(sent);
    expect(sent[Math.max(...firsts)]!.at - releasedAt).to.be.at.most(boundAfter.withinMs);
    expect(boundAfter).to.deep.include({ firsts: 3950, frames: 7900 });
    expect(clock.pending()).to.equal(0);
  });

  it('an interface removed drops everything pending on it; the others go on', () => {
    const { a, clock, sent } = setup();
    for (const ip of addresses(5000)) {
      a.announce(ip, 'eth0');
      a.announce(ip, 'eth1');
    }
    clock.advance(1000);
    a.stopInterface('eth0');
    const removedAt = clock.monotonic();
    expect(a.backlog('eth0')).to.deep.equal({ firsts: 0, frames: 0, withinMs: 0 });
    expect(a.active()).to.equal(5000);
    clock.advance(120_000);
    expect(sent.filter((s) => s.ifname === 'eth0' && s.at > removedAt)).to.deep.equal([]);
    expect(sent.filter((s) => s.ifname === 'eth1')).to.have.length(5000 * 6);
    expect(a.active()).to.equal(0);
    expect(clock.pending()).to.equal(0);
  });

  it('the bound holds on a clock that moves while frames go out (50 µs an announcement), as the real one does', () => {
    // FakeClock stands still inside a callback; this one moves with every send.
    const clock = new MovingClock();
    const sent: Sent[] = [];
    const a = new Announcer({
      clock,
      ratePerSecond: 10_000,
      repeats: 1,
      frames: () => 2,
      send: (ip) => {
        sent.push({ at: clock.t, key: formatIP(ip), ifname: 'eth0', frames: 2 });
        clock.t += 0.05;
        return 2;
      },
    });
    for (const ip of addresses(10_000)) a.announce(ip, 'eth0');
    clock.drain((due, now) => Math.max(now, due));
    expect(sent).to.have.length(20_000);
    for (const w of WINDOWS_MS)
      expect(maxInWindow(sent, 'eth0', w), `window ${w} ms`).to.be.at.most(a.burst + (a.ratePerSecond * w) / 1000);
  });

  it('a send that sent nothing (link down) is not charged: the queue drains without waiting', () => {
    const clock = new FakeClock();
    let calls = 0;
    const a = new Announcer({ clock, repeats: 0, frames: () => 2, send: () => (calls++, 0) });
    for (const ip of addresses(10_000)) a.announce(ip, 'eth0');
    expect(calls).to.equal(10_000);
    expect(clock.pending()).to.equal(0);
  });

  it('unpaced (Infinity): everything at once, as before pacing', () => {
    const { a, sent, t0 } = setup({ ratePerSecond: Infinity });
    for (const ip of addresses(10_000)) a.announce(ip, 'eth0');
    expect(sent).to.have.length(10_000);
    expect(sent.every((s) => s.at === t0)).to.equal(true);
    expect(a.backlog('eth0').withinMs).to.equal(0);
  });
});
