/**
 * Membership at 1,000 and 5,000 nodes, simulated (issue #22): the speaker's SWIM detector,
 * every member in this one process, on a simulated network (loss, delay, jitter) in virtual
 * time (bench/support/swim-sim.ts). Per run: when a crashed member is declared dead (by the
 * first member, and by every live member), live members declared dead (false positives) and
 * the bytes each member sends. Beside Herald's timing, the same simulator with MetalLB's
 * memberlist timing (DefaultLANConfig: 1 s probe interval, 500 ms probe timeout, 3 indirect
 * checks, suspicion 4 * log10(n) * 1 s, retransmit 4 * log10(n + 1)), and computed figures
 * for one Lease per Service (Cilium: renewed every 2 s retry period, 15 s lease duration).
 *
 *   npx tsx bench/swim-sim.ts [--nodes 1000,5000] [--loss 0.01] [--measure 60] [--warmup 20] [--kills 10] [--seed 1] [--memberlist 1]
 *
 * 5,000 members take 3 GB of heap at the start (25 million member entries) and about 9 GB
 * while the start-up gossip queues fill: `npm run bench:swim-sim` allows 12 GB. Virtual time
 * runs much slower than real time at that size (about 13 s per virtual second on a free core).
 */
import { loadavg } from 'node:os';
import { arg, pct } from './support/common.js';
import { runScenario, type ScenarioResult } from './support/swim-scenario.js';
import type { SimTiming } from './support/swim-sim.js';

function list(name: string, dflt: number[]): number[] {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? '').split(',').map(Number) : dflt;
}

/** memberlist's DefaultLANConfig mapped onto the detector's options (its suspicion floor; see the header). */
function memberlistTiming(n: number): SimTiming {
  return { periodMs: 1000, ackTimeoutMs: 500, indirect: 3, suspicionMs: 4 * Math.max(1, Math.log10(n)) * 1000 };
}

const f = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);

function row(label: string, n: number, r: ScenarioResult, realS: number): string {
  const missing = r.allDeadMs.filter(Number.isNaN).length;
  const hours = (n * r.measuredMs) / 3_600_000;
  return [
    label.padEnd(10),
    String(n).padStart(5),
    `first dead p50 ${f(pct(r.firstDeadMs, 50))} p99 ${f(pct(r.firstDeadMs, 99))}`,
    `all dead p50 ${f(
      pct(
        r.allDeadMs.filter((x) => !Number.isNaN(x)),
        50,
      ),
    )} p99 ${f(
      pct(
        r.allDeadMs.filter((x) => !Number.isNaN(x)),
        99,
      ),
    )}${missing ? ` (${missing} of ${r.allDeadMs.length} not everywhere by the end)` : ''}`,
    `false dead ${r.falseDead} judgements of ${r.falseDeadMembers} members in ${hours.toFixed(1)} member-hours (${(r.falseDeadMembers / (r.measuredMs / 3_600_000)).toFixed(1)}/h cluster-wide); suspects ${r.falseSuspect}`,
    `${(r.bytesPerNodePerSec / 1024).toFixed(2)} KiB/s and ${r.datagramsPerNodePerSec.toFixed(1)} datagrams/s per member (mean ${r.meanDatagram.toFixed(0)} B)`,
    `${r.events} events in ${realS.toFixed(0)} s real, load ${loadavg()[0]!.toFixed(1)}`,
  ].join(' | ');
}

function main(): void {
  const nodes = list('nodes', [1000, 5000]);
  const loss = arg('loss', 0.01);
  const measureMs = arg('measure', 60) * 1000;
  const warmupMs = arg('warmup', 20) * 1000;
  const kills = arg('kills', 10);
  const seed = arg('seed', 1);
  const withMemberlist = arg('memberlist', 1) === 1;
  const network = { loss, delayMs: 0.2, jitterMs: 0.6 };
  console.log(
    `SWIM simulated: ${loss * 100} % loss, 0.2-0.8 ms one-way delay, ${kills} members crashed over ${measureMs / 1000} s after a ${warmupMs / 1000} s warm-up, seed ${seed}`,
  );
  for (const n of nodes) {
    const runs: [string, SimTiming | undefined][] = [['herald', undefined]];
    if (withMemberlist) runs.push(['memberlist', memberlistTiming(n)]);
    for (const [label, timing] of runs) {
      const t = performance.now();
      // The last crash leaves a quarter of the window (at least 5 s) for the news to spread.
      const killEveryMs = Math.floor((measureMs * 0.75) / Math.max(1, kills));
      const r = runScenario({
        nodes: n,
        seed,
        network,
        ...(timing ? { timing } : {}),
        warmupMs,
        kills,
        killEveryMs,
        measureMs,
      });
      console.log(row(label, n, r, (performance.now() - t) / 1000));
    }
  }
  // One Lease per Service (Cilium's L2 announcements): client-go renews every retry period.
  for (const services of [1_000, 10_000, 100_000]) {
    console.log(
      `lease/svc  ${String(services).padStart(6)} Services | API writes ${(services / 2).toLocaleString('en')}/s (renew every 2 s) | detection up to 15 s (lease duration) + 2 s retry | 0 bytes between nodes`,
    );
  }
}

main();
