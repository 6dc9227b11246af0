/** The SWIM simulator itself (bench/support/swim-sim.ts): it must see what the detector does, no more. */
import { expect } from 'chai';
import { encodeDatagram } from '../../../speaker/membership/swim-codec.js';
import type { SwimMessage } from '../../../speaker/membership/swim.js';
import { judge, runScenario, victimsOf } from '../../../bench/support/swim-scenario.js';
import { datagramBytes, SwimSim } from '../../../bench/support/swim-sim.js';
import { seeded } from '../../support/seeded.js';

const quiet = { loss: 0, delayMs: 0.2, jitterMs: 0.6 };

describe('bench: SWIM simulator', () => {
  it('counts the bytes the UDP driver would send, as encodeDatagram builds them', () => {
    const key = Buffer.from('k');
    const cases: SwimMessage[] = [
      { type: 'ping', seq: 0, from: 'node-1', updates: [] },
      {
        type: 'ack',
        seq: 123_456,
        from: 'node-17',
        updates: [
          { name: 'node-22', state: 'suspect', incarnation: 10 },
          { name: 'n', state: 'alive', incarnation: 0 },
        ],
      },
      {
        type: 'pingReq',
        seq: 9,
        from: 'a',
        target: 'node-4999',
        updates: [{ name: 'x', state: 'dead', incarnation: 3 }],
      },
      {
        type: 'indirectAck',
        seq: 99,
        from: 'b',
        target: 'c',
        updates: [{ name: 'y', state: 'left', incarnation: 1_000_000 }],
      },
    ];
    for (const m of cases) expect(datagramBytes(m), m.type).to.equal(encodeDatagram(m, key).length);
  });

  it('replays exactly from its seed', () => {
    const a = seeded(42);
    const b = seeded(42);
    expect([a(), a(), a()]).to.deep.equal([b(), b(), b()]);
    const run = (): string => {
      const sim = new SwimSim({ nodes: 20, seed: 7, network: { loss: 0.05, delayMs: 0.2, jitterMs: 0.6 } });
      sim.runUntil(3000);
      return JSON.stringify(sim.counters);
    };
    expect(run()).to.equal(run());
  });

  it('every member comes to see every other alive, and none is judged dead, at 0 % loss', () => {
    const sim = new SwimSim({ nodes: 50, seed: 1, network: quiet });
    sim.runUntil(30_000);
    for (const n of sim.names) expect(sim.swim(n).alive().size, n).to.equal(50);
    expect(sim.transitions.filter((t) => t.state === 'dead' || t.state === 'suspect')).to.deep.equal([]);
  });

  it('a crashed member is declared dead by every live member, and no live one is', () => {
    const r = runScenario({
      nodes: 60,
      seed: 3,
      network: quiet,
      warmupMs: 20_000,
      kills: 3,
      killEveryMs: 4000,
      measureMs: 20_000,
    });
    expect(r.firstDeadMs).to.have.length(3);
    for (const ms of r.firstDeadMs) expect(ms).to.be.within(0, 5000);
    for (const ms of r.allDeadMs) expect(ms).to.be.at.least(0);
    expect(r.falseDead).to.equal(0);
    expect(r.bytesPerNodePerSec).to.be.greaterThan(0);
  });

  it('a partition is seen as one, and heals', () => {
    const sim = new SwimSim({ nodes: 10, seed: 5, network: quiet });
    sim.runUntil(10_000);
    const left = sim.names.slice(0, 5);
    sim.partition([left, sim.names.slice(5)]);
    sim.runUntil(20_000);
    expect([...sim.swim('node-0').alive()].sort()).to.deep.equal([...left].sort());
    sim.heal();
    sim.runUntil(60_000);
    // The sides hear each other again only when they probe across (their own round robin), then gossip spreads it.
    expect(sim.swim('node-0').alive().size).to.equal(10);
  });

  it('drops datagrams at the loss rate it is given', () => {
    const sim = new SwimSim({ nodes: 20, seed: 9, network: { loss: 0.2, delayMs: 0.2, jitterMs: 0 } });
    sim.runUntil(20_000);
    const rate = sim.counters.lost / sim.counters.sent;
    expect(rate).to.be.within(0.17, 0.23);
  });

  it('reads crashes and false judgements from the judgements alone (shared with bench/swim-real)', () => {
    // c crashes at 1000 and d at 2000; a and b run to the end.
    const killedAt = new Map([
      ['c', 1000],
      ['d', 2000],
    ]);
    const t = (at: number, observer: string, member: string, state: 'alive' | 'suspect' | 'dead' | 'left') => ({
      at,
      observer,
      member,
      state,
    });
    const r = judge(
      [
        t(500, 'a', 'b', 'suspect'), // a live member suspected: a false suspicion
        t(600, 'a', 'b', 'alive'),
        t(800, 'c', 'b', 'suspect'), // the same suspicion, spread by gossip: one more judgement, no new episode
        t(850, 'c', 'b', 'alive'),
        t(900, 'b', 'd', 'dead'), // d declared dead while it ran: a false death
        t(1300, 'd', 'c', 'dead'), // first, but d crashes later: it does not count for "all"
        t(1400, 'a', 'c', 'dead'),
        t(1700, 'b', 'c', 'dead'), // every survivor now
        t(2600, 'a', 'd', 'dead'), // b held d dead since before the crash: never again after it
        t(2700, 'b', 'a', 'suspect'), // a new episode: another member
        t(3900, 'b', 'a', 'suspect'), // and another: over 1 s after the last
      ],
      killedAt,
      new Set(['a', 'b']),
    );
    expect(r.firstDeadMs).to.deep.equal([300, 600]);
    expect(r.allDeadMs[0]).to.equal(700);
    expect(Number.isNaN(r.allDeadMs[1])).to.equal(true);
    expect(r.observerDeadMs).to.deep.equal([400, 700, 600]);
    expect([r.falseDead, r.falseDeadMembers, r.falseSuspect, r.falseSuspectEpisodes]).to.deep.equal([1, 1, 4, 3]);
    expect(victimsOf(['n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8', 'n9'], 2)).to.deep.equal(['n2', 'n7']);
  });
});
