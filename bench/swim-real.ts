/**
 * Membership on real UDP, to check the simulator (bench/swim-sim.ts) against the kernel's
 * network (issue #22): 100 SWIM members, each the speaker's own driver
 * (speaker/membership/swim-driver.ts: real clock, HMAC-signed datagrams, UDP port 7946), bound
 * to 198.18.0.1-100 in 4 network namespaces on one bridge (test/support/swim-real.ts). The
 * members of a namespace share one Node process; each member to be crashed has a process of
 * its own, killed with SIGKILL (no leave). nftables drops `--loss` of the datagrams at random
 * in every namespace's output hook (this kernel has no sch_netem), so each datagram faces the
 * loss once, as in the simulator. Then the simulator runs the same scenario (members, loss,
 * warm-up, window, crashes, the same members crashed) `--sim-runs` times with successive seeds,
 * its samples pooled (ten crashes make a poor p99), and both are printed side by side with the
 * ratio real / simulated.
 *
 * Addresses: 198.18.0.0/15 (RFC 2544, benchmarks only).
 *
 *   sudo npx tsx bench/swim-real.ts [--members 100] [--namespaces 4] [--loss 0.01] [--warmup 20] [--measure 120] [--kills 10] [--seed 1] [--sim-runs 20]
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { RealSwimCluster, realMemberName } from '../test/support/swim-real.js';
import type { HostReport } from '../test/support/swim-member-host.js';
import { arg, pct, sleep, until } from './support/common.js';
import { judge, runScenario, victimsOf, type Detection } from './support/swim-scenario.js';

const members = arg('members', 100);
const namespaces = arg('namespaces', 4);
const loss = arg('loss', 0.01);
const warmupMs = arg('warmup', 20) * 1000;
const measureMs = arg('measure', 120) * 1000;
const kills = arg('kills', 10);
const seed = arg('seed', 1);
/** Simulated runs pooled (seeds seed, seed + 1, ...): the simulator is cheap, and 10 crashes are few. */
const simRuns = arg('sim-runs', 20);
// As bench/swim-sim.ts: the last crash leaves a quarter of the window for the news to spread.
const killEveryMs = Math.floor((measureMs * 0.75) / Math.max(1, kills));

const epochNow = (): number => performance.timeOrigin + performance.now();
const load = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

interface Figures extends Detection {
  readonly measuredMs: number;
  readonly datagramsPerMemberPerSec: number;
  readonly bytesPerMemberPerSec: number;
  readonly meanDatagram: number;
}

interface RealExtra {
  readonly convergedS: number;
  readonly wireBytesPerMemberPerSec: number;
  readonly dropped: number;
  readonly sentByRule: number;
  readonly unreachables: number;
  readonly unreachableBytesPerMemberPerSec: number;
  readonly rejected: number;
  readonly hosts: { names: readonly string[]; delta: HostReport }[];
}

function minus(a: HostReport, b: HostReport): HostReport {
  return {
    ...a,
    sent: a.sent - b.sent,
    sentBytes: a.sentBytes - b.sentBytes,
    received: a.received - b.received,
    rejected: a.rejected - b.rejected,
  };
}

async function real(cluster: RealSwimCluster, victims: readonly string[]): Promise<Figures & RealExtra> {
  const goAt = cluster.go();
  const convergedS = await until(() => cluster.allAlive(), 'every member to hold every other alive', 120_000, 50);
  const rest = goAt + warmupMs - epochNow();
  if (rest > 0) await sleep(rest);

  cluster.mark();
  const before = await cluster.reports();
  const wire0 = cluster.interfaceTxBytes();
  const rule0 = cluster.datagramsDropped();
  const t0 = epochNow();
  for (let k = 0; k < victims.length; k++) {
    const wait = t0 + k * killEveryMs - epochNow();
    if (wait > 0) await sleep(wait);
    await cluster.kill(victims[k]!);
  }
  const wait = t0 + measureMs - epochNow();
  if (wait > 0) await sleep(wait);
  const after = await cluster.reports();
  const t1 = epochNow();
  const wire1 = cluster.interfaceTxBytes();
  const rule1 = cluster.datagramsDropped();

  const seconds = (t1 - t0) / 1000;
  const survivors = new Set(cluster.names.filter((n) => !cluster.isKilled(n)));
  // Each process reports its own members' judgements: merged, they arrive slightly out of order.
  const window = cluster.transitions.filter((t) => t.at >= t0 && t.at <= t1).sort((a, b) => a.at - b.at);
  const d = judge(window, cluster.killedAt, survivors);
  const hosts = after.map((a, i) => ({ names: a.names, delta: minus(a.report, before[i]!.report) }));
  const sent = hosts.reduce((s, h) => s + h.delta.sent, 0);
  const bytes = hosts.reduce((s, h) => s + h.delta.sentBytes, 0);
  return {
    ...d,
    measuredMs: t1 - t0,
    datagramsPerMemberPerSec: sent / members / seconds,
    bytesPerMemberPerSec: bytes / members / seconds,
    meanDatagram: sent > 0 ? bytes / sent : 0,
    convergedS,
    wireBytesPerMemberPerSec: (wire1 - wire0) / members / seconds,
    dropped: rule1.dropped - rule0.dropped,
    sentByRule: rule1.sent - rule0.sent,
    unreachables: rule1.unreachables - rule0.unreachables,
    unreachableBytesPerMemberPerSec: (rule1.unreachableBytes - rule0.unreachableBytes) / members / seconds,
    rejected: hosts.reduce((s, h) => s + h.delta.rejected, 0),
    hosts,
  };
}

/** The same scenario simulated `simRuns` times: detection samples pooled, false judgements summed over the summed time, rates averaged. */
function simulated(): Figures {
  const runs = Array.from({ length: simRuns }, (_, k) =>
    runScenario({
      nodes: members,
      seed: seed + k,
      network: { loss, delayMs: 0.2, jitterMs: 0.6 },
      warmupMs,
      kills,
      killEveryMs,
      measureMs,
    }),
  );
  const all = <K extends 'firstDeadMs' | 'allDeadMs' | 'observerDeadMs'>(k: K): number[] => runs.flatMap((r) => r[k]);
  const sum = (f: (r: (typeof runs)[number]) => number): number => runs.reduce((a, r) => a + f(r), 0);
  return {
    firstDeadMs: all('firstDeadMs'),
    allDeadMs: all('allDeadMs'),
    observerDeadMs: all('observerDeadMs'),
    falseDead: sum((r) => r.falseDead),
    falseDeadMembers: sum((r) => r.falseDeadMembers),
    falseSuspect: sum((r) => r.falseSuspect),
    falseSuspectEpisodes: sum((r) => r.falseSuspectEpisodes),
    measuredMs: sum((r) => r.measuredMs),
    datagramsPerMemberPerSec: sum((r) => r.datagramsPerNodePerSec) / runs.length,
    bytesPerMemberPerSec: sum((r) => r.bytesPerNodePerSec) / runs.length,
    meanDatagram: sum((r) => r.meanDatagram) / runs.length,
  };
}

const s2 = (ms: number): string => (Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
const ratio = (a: number, b: number): string =>
  b > 0 && Number.isFinite(a) ? (a / b).toFixed(2) : a === 0 && b === 0 ? 'both 0' : 'n/a';
const done = (xs: readonly number[]): number[] => xs.filter((x) => !Number.isNaN(x));
const perHour = (count: number, f: Figures): number => count / (f.measuredMs / 3_600_000);

function table(r: Figures, s: Figures): string[] {
  const rows: [string, number, number, (x: number) => string][] = [
    ['first declared dead p50', pct(done(r.firstDeadMs), 50), pct(done(s.firstDeadMs), 50), s2],
    ['first declared dead p99', pct(done(r.firstDeadMs), 99), pct(done(s.firstDeadMs), 99), s2],
    ['each member declares dead p50', pct(r.observerDeadMs, 50), pct(s.observerDeadMs, 50), s2],
    ['each member declares dead p99', pct(r.observerDeadMs, 99), pct(s.observerDeadMs, 99), s2],
    ['all members hold dead p50', pct(done(r.allDeadMs), 50), pct(done(s.allDeadMs), 50), s2],
    ['all members hold dead p99', pct(done(r.allDeadMs), 99), pct(done(s.allDeadMs), 99), s2],
    [
      'live members declared dead /h',
      perHour(r.falseDeadMembers, r),
      perHour(s.falseDeadMembers, s),
      (x) => x.toFixed(1),
    ],
    ['false dead judgements /h', perHour(r.falseDead, r), perHour(s.falseDead, s), (x) => x.toFixed(1)],
    [
      'false suspicions /h (episodes)',
      perHour(r.falseSuspectEpisodes, r),
      perHour(s.falseSuspectEpisodes, s),
      (x) => x.toFixed(1),
    ],
    ['false suspect judgements /h', perHour(r.falseSuspect, r), perHour(s.falseSuspect, s), (x) => x.toFixed(0)],
    ['datagrams sent per member /s', r.datagramsPerMemberPerSec, s.datagramsPerMemberPerSec, (x) => x.toFixed(2)],
    ['payload per member (B/s)', r.bytesPerMemberPerSec, s.bytesPerMemberPerSec, (x) => x.toFixed(0)],
    ['mean datagram (B)', r.meanDatagram, s.meanDatagram, (x) => x.toFixed(0)],
  ];
  const w = Math.max(...rows.map((x) => x[0].length));
  const out = [`${'figure'.padEnd(w)} | ${'real UDP'.padStart(10)} | ${'simulated'.padStart(10)} | real/sim`];
  for (const [label, a, b, fmt] of rows)
    out.push(`${label.padEnd(w)} | ${fmt(a).padStart(10)} | ${fmt(b).padStart(10)} | ${ratio(a, b)}`);
  const missing = (f: Figures): number => f.allDeadMs.length - done(f.allDeadMs).length;
  out.push(
    `crashes: real ${r.allDeadMs.length}, simulated ${s.allDeadMs.length} (${simRuns} runs); not held dead by every member by the end of the window: real ${missing(r)}, simulated ${missing(s)}; (member, crash) detections: real ${r.observerDeadMs.length}, simulated ${s.observerDeadMs.length}`,
  );
  const mh = (f: Figures): string => ((members * f.measuredMs) / 3_600_000).toFixed(1);
  out.push(
    `false judgements: real ${r.falseDead} dead of ${r.falseDeadMembers} members, ${r.falseSuspect} suspect in ${r.falseSuspectEpisodes} episodes in ${mh(r)} member-hours; simulated ${s.falseDead} dead of ${s.falseDeadMembers} members, ${s.falseSuspect} suspect in ${s.falseSuspectEpisodes} episodes in ${mh(s)} member-hours`,
  );
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('bench/swim-real needs root (network namespaces)');
  for (const tool of ['ip', 'nft']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      throw new Error(`bench/swim-real needs ${tool} (scripts/install-deps.sh)`);
  }
  const names = Array.from({ length: members }, (_, i) => realMemberName(i));
  const victims = victimsOf(names, kills);
  console.log(
    `SWIM on real UDP: ${members} members in ${namespaces} namespace(s) (as many processes, plus one per crashed member: ${victims.length}), ${loss * 100} % loss (nftables), ${warmupMs / 1000} s warm-up, ${measureMs / 1000} s measured, a crash every ${(killEveryMs / 1000).toFixed(1)} s; load ${load()}`,
  );
  let cluster: RealSwimCluster | undefined;
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) return;
    interrupted = true;
    void (cluster?.teardown() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let r: Figures & RealExtra;
  try {
    cluster = await RealSwimCluster.start({
      prefix: `bsr${process.pid % 10000}`,
      members,
      namespaces,
      subnet: '198.18.0.',
      alone: victims,
      loss,
    });
    r = await real(cluster, victims);
  } finally {
    if (!interrupted) await cluster?.teardown();
  }
  const loadReal = load();
  const t = performance.now();
  const s = simulated();
  const simS = (performance.now() - t) / 1000;
  console.log(
    `real: every member held every other alive ${r.convergedS.toFixed(2)} s after start; load at the end ${loadReal}`,
  );
  console.log(
    `real: nftables saw ${r.sentByRule} datagrams in the window and dropped ${r.dropped} (${((100 * r.dropped) / Math.max(1, r.sentByRule)).toFixed(2)} %); ${r.rejected} rejected by the drivers`,
  );
  console.log(
    `real: ${r.wireBytesPerMemberPerSec.toFixed(0)} B/s per member on the interfaces (frames: + 42 B of Ethernet/IP/UDP headers over the bridge, + 28 B over lo; drops not counted; ARP and ICMP included), of which ${r.unreachableBytesPerMemberPerSec.toFixed(0)} B/s (IP bytes) are the ${r.unreachables} port-unreachables the kernel sent for probes of crashed members`,
  );
  for (const h of r.hosts) {
    const d = h.delta;
    const who = h.names.length === 1 ? h.names[0]! : `${h.names.length} members`;
    if (h.names.length > 1)
      console.log(
        `real: process of ${who}: CPU ${((100 * d.cpuMs) / d.wallMs).toFixed(1)} % of a core, event-loop delay p50 ${d.lagP50Ms.toFixed(1)} ms p99 ${d.lagP99Ms.toFixed(1)} ms max ${d.lagMaxMs.toFixed(1)} ms`,
      );
  }
  const solo = r.hosts.filter((h) => h.names.length === 1).map((h) => h.delta);
  if (solo.length > 0)
    console.log(
      `real: the ${solo.length} one-member processes (until killed): event-loop delay p99 up to ${Math.max(...solo.map((d) => d.lagP99Ms)).toFixed(1)} ms, max up to ${Math.max(...solo.map((d) => d.lagMaxMs)).toFixed(1)} ms`,
    );
  console.log(
    `simulated: the same scenario ${simRuns} times (seeds ${seed}-${seed + simRuns - 1}, 0.2-0.8 ms one-way delay) in ${simS.toFixed(1)} s; load ${load()}`,
  );
  for (const line of table(r, s)) console.log(line);
}

await main();
