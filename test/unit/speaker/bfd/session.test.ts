/** The transmit schedule of one BFD session on an injected clock: catch-up after a late wake-up, §6.8.7 floor, Poll replies. */
import { expect } from 'chai';
import { FakeClock, type Clock } from '../../../../src/core/clock.js';
import { nullLogger } from '../../../../src/core/logger.js';
import { decodeControl, encodeControl } from '../../../../speaker/bfd/packet.js';
import { BfdSession, jitteredInterval } from '../../../../speaker/bfd/session.js';

/** A FakeClock whose next timers fire `lateMs` after their deadline while `late` is set: a busy machine. */
class LateClock implements Clock {
  late = 0;
  constructor(readonly inner: FakeClock) {}
  now(): number {
    return this.inner.now();
  }
  monotonic(): number {
    return this.inner.monotonic();
  }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    return this.inner.setTimeout(fn, ms + this.late);
  }
}

function upSession(clock: Clock, sent: { at: number; data: Buffer }[], random = () => 0.5): BfdSession {
  const s = new BfdSession({
    localDiscr: 1,
    timers: { desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 3, passive: false },
    clock,
    random,
    logger: nullLogger,
    send: (data) => sent.push({ at: clock.monotonic(), data }),
  });
  s.start();
  const from = (state: 'Down' | 'Init' | 'Up', extra: { final?: boolean } = {}): void =>
    s.receive(
      decodeControl(
        encodeControl({
          diag: 0,
          state,
          poll: false,
          final: extra.final ?? false,
          detectMult: 255,
          myDiscriminator: 2,
          yourDiscriminator: state === 'Down' ? 0 : 1,
          desiredMinTxMs: 100,
          requiredMinRxMs: 100,
          requiredMinEchoRxMs: 0,
        }),
      ),
    );
  from('Init');
  // The peer's Detect Mult of 255 keeps the session Up without more packets in these tests.
  from('Up', { final: true });
  return s;
}

describe('BFD session transmit schedule', () => {
  it('jitter: 75-100 % of the interval, 75-90 % with Detect Mult 1', () => {
    expect(jitteredInterval(100, 3, () => 0)).to.equal(75);
    expect(jitteredInterval(100, 3, () => 0.999999)).to.be.closeTo(100, 0.001);
    expect(jitteredInterval(100, 1, () => 0.999999)).to.be.closeTo(90, 0.001);
  });

  it('catches up after a late wake-up without going below 75 % of the interval', () => {
    const fake = new FakeClock(0);
    const clock = new LateClock(fake);
    const sent: { at: number; data: Buffer }[] = [];
    const s = upSession(clock, sent);
    expect(s.state()).to.equal('Up');
    fake.advance(1000);
    // One wake-up 60 ms late (the machine was busy); then on time again.
    clock.late = 60;
    const before = sent.length;
    fake.advance(150);
    clock.late = 0;
    fake.advance(1000);
    const times = sent.slice(before - 1).map((x) => x.at);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // Nominal gap 87.5 (random 0.5); the late one is 147.5, the next is shortened to the 75 ms floor, the rest 87.5.
    const i = gaps.indexOf(147.5);
    expect(i).to.be.at.least(0);
    expect(gaps[i + 1]).to.equal(75);
    expect(gaps.filter((_, k) => k !== i && k !== i + 1).every((g) => g === 87.5)).to.equal(true);
    expect(gaps.length).to.be.greaterThan(10);
  });

  it('answers a Poll at once with Final, without disturbing the periodic schedule', () => {
    const fake = new FakeClock(0);
    const sent: { at: number; data: Buffer }[] = [];
    const s = upSession(fake, sent);
    fake.advance(500);
    const n = sent.length;
    s.receive(
      decodeControl(
        encodeControl({
          diag: 0,
          state: 'Up',
          poll: true,
          final: false,
          detectMult: 255,
          myDiscriminator: 2,
          yourDiscriminator: 1,
          desiredMinTxMs: 100,
          requiredMinRxMs: 100,
          requiredMinEchoRxMs: 0,
        }),
      ),
    );
    expect(sent).to.have.length(n + 1);
    expect(decodeControl(sent.at(-1)!.data)).to.deep.include({ final: true, poll: false, state: 'Up' });
    const lastPeriodic = sent[n - 1]!.at;
    fake.advance(100);
    expect(sent[n + 1]!.at - lastPeriodic).to.equal(87.5);
  });

  it('sends at one packet per second while not Up (§6.8.3), and nothing after close()', () => {
    const fake = new FakeClock(0);
    const sent: { at: number; data: Buffer }[] = [];
    const s = new BfdSession({
      localDiscr: 1,
      timers: { desiredMinTxMs: 50, requiredMinRxMs: 50, detectMult: 3, passive: false },
      clock: fake,
      random: () => 0,
      logger: nullLogger,
      send: (data) => sent.push({ at: fake.monotonic(), data }),
    });
    s.start();
    fake.advance(3100);
    expect(sent.map((x) => x.at)).to.deep.equal([0, 750, 1500, 2250, 3000]);
    expect(decodeControl(sent[0]!.data).desiredMinTxMs).to.equal(1000);
    s.close();
    fake.advance(5000);
    expect(sent).to.have.length(5);
  });
});
