/**
 * Measurements over the simulated SWIM cluster (pure, virtual time): how long a crashed
 * member takes to be declared dead (by the first member, and by every live member), how
 * often a live member is wrongly declared dead, and the bytes each member sends.
 */
import { SwimSim, type SimNetwork, type SimTiming, type Transition } from './swim-sim.js';

export interface ScenarioOptions {
  readonly nodes: number;
  readonly seed: number;
  readonly network: SimNetwork;
  readonly timing?: SimTiming;
  /** Virtual ms before anything is measured (members hear of each other). */
  readonly warmupMs: number;
  /** Members crashed, one every `killEveryMs`, after the warm-up. */
  readonly kills: number;
  readonly killEveryMs: number;
  /** Virtual ms measured after the warm-up (false positives and bytes count over it). */
  readonly measureMs: number;
}

/** What the judgements of a run say about its crashes (the same for the simulator and real UDP). */
export interface Detection {
  /** Per crashed member: ms until the first member declared it dead (NaN: never). */
  readonly firstDeadMs: number[];
  /** Per crashed member: ms until every live member held it dead (NaN: not within the run). */
  readonly allDeadMs: number[];
  /** Per crashed member and member running at the end: ms until that member declared it dead (missing: never). */
  readonly observerDeadMs: number[];
  /** Judgements 'dead' of a member that was running (observer × member). */
  readonly falseDead: number;
  /** Distinct running members that at least one member declared dead. */
  readonly falseDeadMembers: number;
  /** Judgements 'suspect' of a member that was running (most are refuted in time). */
  readonly falseSuspect: number;
  /**
   * False suspicions as events: the suspect judgements of one running member, each within 1 s
   * of the one before, count once (one failed probe, then the gossip of it spreading).
   */
  readonly falseSuspectEpisodes: number;
}

/**
 * Reads the judgements made during a measured window, in time order: `killedAt` holds each crashed member
 * and when it crashed, `survivors` the members still running at the end (only they must all
 * hold a crashed member dead). Times in any unit, as long as both use the same one.
 */
export function judge(
  transitions: Iterable<Transition>,
  killedAt: ReadonlyMap<string, number>,
  survivors: ReadonlySet<string>,
): Detection {
  const firstDead = new Map<string, number>();
  const deadBy = new Map<string, Set<string>>();
  let falseDead = 0;
  let falseSuspect = 0;
  let falseSuspectEpisodes = 0;
  const lastSuspect = new Map<string, number>();
  const falseMembers = new Set<string>();
  const allDead = new Map<string, number>();
  const observerDeadMs: number[] = [];
  for (const tr of transitions) {
    const killed = killedAt.get(tr.member);
    const running = killed === undefined || tr.at < killed;
    if (running) {
      if (tr.state === 'dead') {
        falseDead++;
        falseMembers.add(tr.member);
      } else if (tr.state === 'suspect') {
        falseSuspect++;
        const last = lastSuspect.get(tr.member);
        if (last === undefined || tr.at - last > 1000) falseSuspectEpisodes++;
        lastSuspect.set(tr.member, tr.at);
      }
      continue;
    }
    if (tr.state !== 'dead') continue;
    if (!firstDead.has(tr.member)) firstDead.set(tr.member, tr.at);
    // Every member still running at the end must hold it dead; those that crashed do not count.
    if (!survivors.has(tr.observer)) continue;
    const set = deadBy.get(tr.member) ?? new Set<string>();
    if (!set.has(tr.observer)) {
      set.add(tr.observer);
      observerDeadMs.push(tr.at - killed);
      if (set.size === survivors.size) allDead.set(tr.member, tr.at);
    }
    deadBy.set(tr.member, set);
  }
  const firstDeadMs: number[] = [];
  const allDeadMs: number[] = [];
  for (const [v, at] of killedAt) {
    const f = firstDead.get(v);
    firstDeadMs.push(f === undefined ? NaN : f - at);
    const all = allDead.get(v);
    allDeadMs.push(all === undefined ? NaN : all - at);
  }
  return {
    firstDeadMs,
    allDeadMs,
    observerDeadMs,
    falseDead,
    falseDeadMembers: falseMembers.size,
    falseSuspect,
    falseSuspectEpisodes,
  };
}

export interface ScenarioResult extends Detection {
  /** UDP payload bytes sent per member per virtual second, over the measured window. */
  readonly bytesPerNodePerSec: number;
  readonly datagramsPerNodePerSec: number;
  /** Mean payload of one datagram. */
  readonly meanDatagram: number;
  /** Virtual ms measured. */
  readonly measuredMs: number;
  readonly events: number;
}

/** The members crashed, spread over the index range, so no two are probe-order neighbours by construction. */
export function victimsOf(names: readonly string[], kills: number): string[] {
  return Array.from({ length: kills }, (_, k) => names[Math.floor(((k + 0.5) * names.length) / Math.max(1, kills))]!);
}

export function runScenario(o: ScenarioOptions): ScenarioResult {
  const sim = new SwimSim({
    nodes: o.nodes,
    seed: o.seed,
    network: o.network,
    ...(o.timing ? { timing: o.timing } : {}),
  });
  sim.runUntil(o.warmupMs);
  const start = sim.now;
  const t0 = sim.transitions.length;
  const bytes0 = sim.counters.bytes;
  const sent0 = sim.counters.sent;
  const victims = victimsOf(sim.names, o.kills);
  const killedAt = new Map<string, number>();
  let next = 0;
  const end = start + o.measureMs;
  for (let t = start; t < end;) {
    const killAt = next < victims.length ? start + next * o.killEveryMs : Infinity;
    const step = Math.min(end, killAt);
    sim.runUntil(step);
    t = step;
    if (step === killAt) {
      sim.kill(victims[next]!);
      killedAt.set(victims[next]!, sim.now);
      next++;
    }
  }
  const seconds = (sim.now - start) / 1000;
  const bytes = sim.counters.bytes - bytes0;
  const sent = sim.counters.sent - sent0;

  const survivors = new Set(sim.names.filter((n) => !sim.isDown(n)));
  const d = judge(sim.transitions.slice(t0), killedAt, survivors);
  return {
    ...d,
    bytesPerNodePerSec: bytes / o.nodes / seconds,
    datagramsPerNodePerSec: sent / o.nodes / seconds,
    meanDatagram: sent > 0 ? bytes / sent : 0,
    measuredMs: sim.now - start,
    events: sim.counters.delivered + sim.counters.wakeups,
  };
}
