/**
 * Bounded chaos in CI (test/support/chaos.ts): two `herald controller` replicas with leader
 * election, random Service and pool operations, SIGKILL/SIGTERM restarts and injected API
 * faults, with the address invariants checked on every stored Service change. Seeded:
 * HERALD_CHAOS_SEED=N replays a run (the figures and any failure name the seed);
 * HERALD_CHAOS_OPS sets its length. `npm run bench:chaos` runs longer ones.
 */
import { expect } from 'chai';
import { formatFigures, runChaos } from '../../support/chaos.js';

describe('controller chaos (bounded)', function () {
  this.timeout(240_000);

  it('no duplicate, no unrequested move, nothing pending with room, no Event lost', async () => {
    const seed = Number(process.env['HERALD_CHAOS_SEED'] ?? 20261204);
    const ops = Number(process.env['HERALD_CHAOS_OPS'] ?? 250);
    const lines: string[] = [];
    const f = await runChaos({ seed, ops, restartRate: 0.04, faultRate: 0.12, log: (l) => lines.push(l) });
    const figures = formatFigures(f);
    console.log(figures);
    const why = `${figures}\nreplay with HERALD_CHAOS_SEED=${seed} HERALD_CHAOS_OPS=${ops}\n${lines.slice(-20).join('\n')}`;
    expect(f.restarts.sigkill + f.restarts.sigterm, why).to.be.greaterThan(0);
    expect(f.faults, why).to.be.greaterThan(0);
    expect(f.restarts.sigtermOver10s, why).to.equal(0);
    expect(f.duplicates, why).to.deep.equal([]);
    expect(f.moves, why).to.deep.equal([]);
    expect(f.pendingWithRoom, why).to.deep.equal([]);
    expect(f.eventsLost, why).to.deep.equal([]);
  });
});
