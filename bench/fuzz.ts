/**
 * Fuzzing at scale: every target of test/fuzz (BGP decoder and framer, ARP, NDP,
 * Ethernet/VLAN, SWIM datagrams, config parser) with 1,000,000 seeded inputs each, printing
 * the count of every outcome. Exit 1 on the first broken property, with the seed and the
 * shrunk input to replay it.
 *
 *   npx tsx bench/fuzz.ts [--runs 1000000] [--seed 1] [--only bgp-decoder,arp]
 */
import { FuzzFailure, runTarget } from '../test/fuzz/harness.js';
import { FUZZ_TARGETS } from '../test/fuzz/targets.js';
import { arg } from './support/common.js';

const runs = arg('runs', 1_000_000);
const seed = arg('seed', Date.now() % 2_147_483_647);
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? (process.argv[onlyAt + 1] ?? '').split(',').filter(Boolean) : [];

console.log(`fuzz: ${runs} inputs per target, seed ${seed}`);
let failed = false;
for (const t of FUZZ_TARGETS) {
  if (only.length > 0 && !only.includes(t.name)) continue;
  try {
    const r = runTarget(t, { runs, seed });
    console.log(
      `\n${t.name}: ${runs} inputs in ${(r.ms / 1000).toFixed(1)} s (${Math.round(runs / (r.ms / 1000))}/s), 0 broken properties`,
    );
    for (const [outcome, n] of r.outcomes)
      console.log(`  ${String(n).padStart(9)}  ${((100 * n) / runs).toFixed(3).padStart(7)} %  ${outcome}`);
  } catch (err) {
    failed = true;
    console.log(`\n${t.name}: BROKEN PROPERTY\n${err instanceof FuzzFailure ? err.message : String(err)}`);
  }
}
process.exitCode = failed ? 1 : 0;
