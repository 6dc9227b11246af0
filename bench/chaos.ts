/**
 * Longer chaos runs than CI's (test/support/chaos.ts): two controller replicas with leader
 * election, random Service and pool operations, SIGKILL/SIGTERM restarts and injected API
 * faults, invariants checked on every Service change. Prints, per run: ops, restarts,
 * faults, duplicates seen, unrequested moves, Services left pending with room, Events
 * lost, settle time and controller RSS. Exit status 1 when an invariant broke; the seed
 * replays the run.
 *
 *   npx tsx bench/chaos.ts [--seed N] [--ops 2000] [--runs 1]
 */
import { formatFigures, runChaos } from '../test/support/chaos.js';
import { arg } from './support/common.js';

async function main(): Promise<void> {
  const ops = arg('ops', 2000);
  const runs = arg('runs', 1);
  const first = arg('seed', Math.floor(Math.random() * 2 ** 31));
  let bad = 0;
  for (let i = 0; i < runs; i++) {
    const seed = first + i;
    console.log(
      `chaos run ${i + 1}/${runs}: seed ${seed}, ${ops} ops (replay: npx tsx bench/chaos.ts --seed ${seed} --ops ${ops})`,
    );
    const lines: string[] = [];
    const f = await runChaos({ seed, ops, restartRate: 0.04, faultRate: 0.12, log: (l) => lines.push(l) });
    console.log(formatFigures(f));
    const broken = [...f.duplicates, ...f.moves, ...f.pendingWithRoom, ...f.eventsLost];
    if (broken.length > 0 || f.restarts.sigtermOver10s > 0) {
      bad++;
      for (const b of broken) console.log(`  BROKEN ${b}`);
      for (const l of lines.slice(-20)) console.log(`  log: ${l}`);
    }
  }
  process.exitCode = bad > 0 ? 1 : 0;
}

await main();
