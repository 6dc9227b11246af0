/** The SWIM detector over a simulated network with a fake clock: detection, refutation, indirect probes, leave. */
import { expect } from 'chai';
import { Swim, type Send } from '../../../../speaker/membership/swim.js';

/** Members on a simulated network; `cut` drops messages between two members. */
class World {
  now = 0;
  readonly nodes = new Map<string, Swim>();
  readonly down = new Set<string>();
  readonly cuts = new Set<string>();
  private queue: { at: number; from: string; send: Send }[] = [];
  /** Driven: each member ticks only at its nextDeadline(), as the UDP driver does. */
  private readonly due = new Map<string, number>();
  ticks = 0;

  constructor(
    names: string[],
    seed = 1,
    private readonly driven = false,
  ) {
    let s = seed;
    const random = (): number => {
      s = (s * 16807) % 2147483647;
      return (s - 1) / 2147483646;
    };
    for (const n of names) {
      const w = new Swim({ self: n, random });
      w.setKnown(names);
      this.nodes.set(n, w);
    }
  }

  cut(a: string, b: string): void {
    this.cuts.add(`${a}|${b}`);
    this.cuts.add(`${b}|${a}`);
  }

  private deliver(from: string, sends: Send[]): void {
    for (const s of sends) this.queue.push({ at: this.now + 1, from, send: s });
  }

  run(ms: number): void {
    const end = this.now + ms;
    for (; this.now <= end; this.now += 5) {
      const due = this.queue.filter((q) => q.at <= this.now);
      this.queue = this.queue.filter((q) => q.at > this.now);
      for (const q of due) {
        if (this.down.has(q.send.to) || this.down.has(q.from) || this.cuts.has(`${q.from}|${q.send.to}`)) continue;
        const to = this.nodes.get(q.send.to)!;
        this.deliver(q.send.to, to.receive(q.send.message, this.now).sends);
        if (this.driven) this.due.set(q.send.to, to.nextDeadline(this.now));
      }
      for (const [n, w] of this.nodes) {
        if (this.down.has(n) || (this.driven && (this.due.get(n) ?? 0) > this.now)) continue;
        this.ticks++;
        this.deliver(n, w.tick(this.now).sends);
        if (this.driven) this.due.set(n, w.nextDeadline(this.now));
      }
    }
  }

  aliveAt(n: string): string[] {
    return [...this.nodes.get(n)!.alive()].sort();
  }
}

describe('membership: SWIM failure detector (simulated network, fake clock)', () => {
  it('converges once every member is heard from, or after a probe round and the suspicion time', () => {
    const w = new World(['a', 'b', 'c']);
    const a = w.nodes.get('a')!;
    expect(a.converged(0, 0)).to.equal(false);
    w.run(1000);
    expect(a.converged(0, 1000)).to.equal(true);
    const lonely = new Swim({ self: 'x', random: () => 0.5 });
    lonely.setKnown(['x', 'y', 'z']);
    // Defaults: 200 ms periods, 80 ms ack timeout, 400 ms suspicion: (2 + 1) * 200 + 80 + 400.
    expect(lonely.converged(0, 1079)).to.equal(false);
    expect(lonely.converged(0, 1080)).to.equal(true);
  });

  it('members are alive only once heard from, then all see all', () => {
    const w = new World(['a', 'b', 'c']);
    expect(w.aliveAt('a')).to.deep.equal(['a']);
    w.run(1000);
    for (const n of ['a', 'b', 'c']) expect(w.aliveAt(n)).to.deep.equal(['a', 'b', 'c']);
  });

  // Polling every 5 ms, and ticking only at nextDeadline() as the UDP driver does.
  for (const driven of [false, true]) {
    const how = driven ? ' (ticked only at its deadlines)' : '';
    it(`a member that dies is dead everywhere well under a second later${how}`, () => {
      const w = new World(['a', 'b', 'c', 'd'], 1, driven);
      w.run(1000);
      w.down.add('c');
      const t0 = w.now;
      let detected = -1;
      for (let i = 0; i < 200 && detected < 0; i++) {
        w.run(5);
        if (['a', 'b', 'd'].every((n) => !w.aliveAt(n).includes('c'))) detected = w.now - t0;
      }
      expect(detected).to.be.within(0, 1000);
    });

    it(`a member whose direct link is cut stays alive through indirect probes${how}`, () => {
      const w = new World(['a', 'b', 'c'], 1, driven);
      w.run(1000);
      w.cut('a', 'b');
      w.run(3000);
      expect(w.aliveAt('a')).to.include('b');
      expect(w.aliveAt('b')).to.include('a');
    });
  }

  it("a member's own outage is forgiven: those it suspected or declared dead meanwhile are alive again", () => {
    const w = new World(['a', 'b', 'c']);
    w.run(1000);
    const t0 = w.now;
    w.cut('a', 'b');
    w.cut('a', 'c');
    w.run(1500);
    expect(w.aliveAt('a')).to.deep.equal(['a']);
    w.cuts.clear();
    const a = w.nodes.get('a')!;
    expect(a.forgive(t0, w.now)).to.equal(true);
    expect(w.aliveAt('a')).to.deep.equal(['a', 'b', 'c']);
    w.run(2000);
    expect(w.aliveAt('a')).to.deep.equal(['a', 'b', 'c']);
    // Failures seen before the outage stay.
    const x = new Swim({ self: 'x', random: () => 0.5 });
    x.setKnown(['x', 'y']);
    x.receive({ type: 'ping', seq: 1, from: 'y', updates: [] }, 0);
    x.receive({ type: 'ping', seq: 2, from: 'z', updates: [{ name: 'y', state: 'dead', incarnation: 0 }] }, 1000);
    expect(x.forgive(2000, 2500)).to.equal(false);
    expect(x.stateOf('y')).to.equal('dead');
  });

  it('stale gossip that a member failed does not outweigh hearing from it directly', () => {
    const a = new Swim({ self: 'a', random: () => 0.5 });
    a.setKnown(['a', 'b', 'c']);
    a.receive({ type: 'ping', seq: 1, from: 'c', updates: [{ name: 'c', state: 'alive', incarnation: 3 }] }, 1000);
    // b still gossips what it believed while c was cut off from it.
    a.receive({ type: 'ping', seq: 2, from: 'b', updates: [{ name: 'c', state: 'dead', incarnation: 3 }] }, 1100);
    expect(a.stateOf('c')).to.equal('alive');
    // Not heard from for longer than the suspicion time: the same gossip is believed.
    a.receive({ type: 'ping', seq: 3, from: 'b', updates: [{ name: 'c', state: 'dead', incarnation: 3 }] }, 1500);
    expect(a.stateOf('c')).to.equal('dead');
    // A newer incarnation from c itself (its refutation) always wins.
    a.receive({ type: 'ack', seq: 9, from: 'b', updates: [{ name: 'c', state: 'alive', incarnation: 4 }] }, 1600);
    expect(a.stateOf('c')).to.equal('alive');
  });

  it('a suspected member refutes by raising its incarnation', () => {
    const w = new World(['a', 'b', 'c']);
    w.run(1000);
    // b is cut off from everyone briefly, long enough to be suspected, not long enough to die.
    w.cut('a', 'b');
    w.cut('c', 'b');
    w.run(250);
    w.cuts.clear();
    w.run(2000);
    for (const n of ['a', 'c']) expect(w.aliveAt(n)).to.include('b');
  });

  it('a member that leaves is gone at once, and can come back', () => {
    const w = new World(['a', 'b', 'c']);
    w.run(1000);
    const sends = w.nodes.get('c')!.leave();
    for (const s of sends) w.nodes.get(s.to)!.receive(s.message, w.now);
    expect(w.aliveAt('a')).to.deep.equal(['a', 'b']);
    expect(w.aliveAt('b')).to.deep.equal(['a', 'b']);
    w.down.add('c');
    w.run(1000);
    // A restarted speaker (new instance) is taken back once heard from.
    w.down.delete('c');
    const fresh = new Swim({ self: 'c', random: () => 0.5 });
    fresh.setKnown(['a', 'b', 'c']);
    w.nodes.set('c', fresh);
    w.run(1500);
    expect(w.aliveAt('a')).to.deep.equal(['a', 'b', 'c']);
  });
  describe('ticking only at nextDeadline() (the driver sleeps in between)', () => {
    it('a lone member wakes once per probe period, not on every poll', () => {
      const w = new World(['a'], 1, true);
      w.run(10_000);
      // 10 s at a 200 ms period: about 50 ticks (polling every 5 ms would be 2000).
      expect(w.ticks).to.be.within(45, 55);
    });

    it('never names a deadline before now', () => {
      const sw = new Swim({ self: 'a', random: () => 0.5 });
      sw.setKnown(['a', 'b']);
      sw.tick(0);
      expect(sw.nextDeadline(10_000)).to.equal(10_000);
    });
  });
  describe('at scale (found by simulating 1,000 and 5,000 members, bench/swim-sim.ts)', () => {
    /** a has heard from b and c, then probes b and hears nothing back all period. */
    function suspecting(): { a: Swim; now: number } {
      const a = new Swim({ self: 'a', random: () => 0 });
      a.setKnown(['a', 'b', 'c']);
      a.receive({ type: 'ping', seq: 1, from: 'b', updates: [] }, 0);
      a.receive({ type: 'ping', seq: 2, from: 'c', updates: [] }, 0);
      let now = 0;
      // Probe periods until b is the one probed and its period ends unanswered.
      for (; now < 2000 && a.stateOf('b') !== 'suspect'; now += 200) a.tick(now);
      expect(a.stateOf('b')).to.equal('suspect');
      return { a, now };
    }

    it('the member that suspects another tells it so directly each period, so one lost ack is refuted in a round trip', () => {
      const { a, now } = suspecting();
      // The next period, well within the 400 ms suspicion time.
      const { sends } = a.tick(now);
      const nudge = sends.find(
        (s) => s.to === 'b' && s.message.updates.some((u) => u.name === 'b' && u.state === 'suspect'),
      );
      expect(nudge, JSON.stringify(sends)).to.not.equal(undefined);
      // b answers with its refutation: a believes it at once.
      const b = new Swim({ self: 'b', random: () => 0 });
      b.setKnown(['a', 'b', 'c']);
      const reply = b.receive(nudge!.message, 10_000).sends.find((s) => s.to === 'a')!;
      expect(reply.message.updates[0]).to.deep.equal({ name: 'b', state: 'alive', incarnation: 1 });
      a.receive(reply.message, 10_001);
      expect(a.stateOf('b')).to.equal('alive');
    });

    it('gossip that a member is suspect starts no timer of its own: only a member with its own failed probe declares it dead', () => {
      const x = new Swim({ self: 'x', random: () => 0.5 });
      x.setKnown(['x', 'y', 'z']);
      x.receive({ type: 'ping', seq: 1, from: 'y', updates: [] }, 0);
      x.receive({ type: 'ping', seq: 2, from: 'z', updates: [{ name: 'y', state: 'suspect', incarnation: 0 }] }, 1000);
      expect(x.stateOf('y')).to.equal('suspect');
      // Long past the suspicion time, x still counts y (it has no evidence of its own).
      x.tick(1000 + 400 + 1);
      expect(x.stateOf('y')).to.equal('suspect');
      expect(x.alive().has('y')).to.equal(true);
      // The suspector's verdict, when it comes, is believed.
      x.receive({ type: 'ping', seq: 3, from: 'z', updates: [{ name: 'y', state: 'dead', incarnation: 0 }] }, 1500);
      expect(x.stateOf('y')).to.equal('dead');
    });

    it('each update is piggy-backed a bounded number of times, news of a failure before the alive news of start-up', () => {
      const names = Array.from({ length: 30 }, (_, i) => `m${i}`);
      const a = new Swim({ self: 'm0', random: () => 0.5, retransmitMult: 2 });
      a.setKnown(names);
      // Meet everyone (29 alive news), then hear that m7 died.
      for (const n of names.slice(1)) a.receive({ type: 'ping', seq: 1, from: n, updates: [] }, 0);
      const first = a.receive(
        { type: 'ping', seq: 2, from: 'm1', updates: [{ name: 'm7', state: 'dead', incarnation: 0 }] },
        1000,
      ).sends[0]!;
      const carried: string[][] = [first.message.updates.slice(1).map((u) => `${u.name}:${u.state}`)];
      for (let i = 0; i < 19; i++) {
        const ack = a.receive({ type: 'ping', seq: 10 + i, from: 'm2', updates: [] }, 1000 + i).sends[0]!;
        carried.push(ack.message.updates.slice(1).map((u) => `${u.name}:${u.state}`));
      }
      // First in the first datagram, and in at most 2 * ceil(log10(30 + 1)) = 4 datagrams.
      expect(carried[0]![0]).to.equal('m7:dead');
      expect(carried.filter((c) => c.includes('m7:dead'))).to.have.length(4);
      // Once every update went out its 4 times, a datagram carries only the sender's own news.
      expect(carried[19]).to.deep.equal([]);
      // One datagram never carries the same news twice.
      for (const c of carried) expect(new Set(c).size).to.equal(c.length);
    });
  });
});
