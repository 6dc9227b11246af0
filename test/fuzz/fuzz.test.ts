/**
 * Fuzzing in CI: every decoder and the config parser, 100,000 seeded inputs each, with
 * properties (see each target). A broken property fails with the seed and the shrunk input;
 * `npm run bench:fuzz` runs 1,000,000 each and prints every outcome count.
 */
import { expect } from 'chai';
import { runTarget } from './harness.js';
import { FUZZ_TARGETS, MUST_REACH } from './targets.js';

/** Fixed: a CI failure is replayed with the same seed (`npx tsx bench/fuzz.ts --seed N --runs M`). */
export const CI_SEED = 20261204;
export const CI_RUNS = 100_000;

describe('fuzzing (100k seeded inputs per target)', () => {
  for (const t of FUZZ_TARGETS) {
    it(`${t.name}: no property broken`, function () {
      // Generous: ~5-15 s each on an idle 2-core machine; the run must not be cut by a busy one.
      this.timeout(300_000);
      const r = runTarget(t, { runs: CI_RUNS, seed: CI_SEED });
      const total = r.outcomes.reduce((n, [, c]) => n + c, 0);
      expect(total).to.equal(CI_RUNS);
      const seen = new Set(r.outcomes.map(([o]) => o));
      for (const o of MUST_REACH[t.name] ?? [])
        expect(seen.has(o), `${t.name} never reached ${o}: ${JSON.stringify(r.outcomes)}`).to.equal(true);
      console.log(
        `      ${t.name}: ${CI_RUNS} inputs in ${(r.ms / 1000).toFixed(1)} s; ${r.outcomes
          .slice(0, 6)
          .map(([o, n]) => `${o} ${n}`)
          .join(', ')}${r.outcomes.length > 6 ? ', …' : ''}`,
      );
    });
  }
});
