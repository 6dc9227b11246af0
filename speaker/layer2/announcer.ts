/**
 * Gratuitous announcements on taking ownership of an IP (MetalLB sends them for a few
 * seconds so every neighbour cache moves): one as soon as the interface's pace allows, then
 * `repeats` more, each at least `intervalMs` after the previous one. Losing ownership stops
 * at once, dropping whatever is pending.
 *
 * Paced per interface by a token bucket counted in frames (`ratePerSecond` sustained, `burst`
 * at once), so a node taking over thousands of IPs does not flood the segment: in any window
 * of W ms one interface sends at most burst + ratePerSecond × W / 1000 frames. First
 * announcements wait in their own queue and always go before any repeat, so N IPs taken at
 * once on an empty queue all have their first announcement out within
 * (their frames − burst) / ratePerSecond seconds, whatever repeats are due meanwhile.
 *
 * One timer for the whole announcer, whatever the number of IPs. The Clock and the send
 * function are injected; nothing here touches a socket or the real time.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { HeraldError } from '../../src/core/errors.js';
import { formatIP, type IP } from '../../src/net/ip.js';

export const DEFAULT_ANNOUNCE_REPEATS = 5;
export const DEFAULT_ANNOUNCE_INTERVAL_MS = 1000;
/** Gratuitous frames a second per interface, sustained (`--l2-announce-rate`). */
export const DEFAULT_ANNOUNCE_RATE = 2000;
/** When waiting for tokens, wake no more often than this: a few frames per wake-up, not one. */
export const PACE_TICK_MS = 10;

/** A rate from the command line: frames a second, a number > 0 (a Usage error naming the flag otherwise). */
export function checkAnnounceRate(rate: number, source = '--l2-announce-rate'): number {
  if (!Number.isFinite(rate) || rate <= 0)
    throw new HeraldError(
      'Usage',
      `${source}: gratuitous frames a second per interface must be a number > 0, got ${String(rate)}`,
    );
  return rate;
}

/** The burst that goes with a rate: 100 ms worth of frames, at least one IPv4 announcement (2 frames). */
export function defaultBurst(ratePerSecond: number): number {
  return Number.isFinite(ratePerSecond) ? Math.max(2, Math.ceil(ratePerSecond / 10)) : Infinity;
}

export interface AnnouncerOptions {
  readonly clock: Clock;
  /**
   * Sends the announcement frames for one IP on one interface (gratuitous ARP or unsolicited
   * NA); returns the frames it really sent (0 when the link is down), or nothing for `frames(ip)`.
   */
  readonly send: (ip: IP, ifname: string) => number | void;
  /** Announcements after the first; default 5. */
  readonly repeats?: number;
  /** Least time between two announcements of one IP on one interface; default 1000 ms. */
  readonly intervalMs?: number;
  /** Frames a second per interface (default DEFAULT_ANNOUNCE_RATE); Infinity sends everything at once. */
  readonly ratePerSecond?: number;
  /** Frames one interface may send at once (default defaultBurst(ratePerSecond)). */
  readonly burst?: number;
  /** Frames one announcement of `ip` takes (default 1; the engine: 2 for IPv4, 1 for IPv6). */
  readonly frames?: (ip: IP) => number;
}

interface Run {
  readonly ip: IP;
  readonly ifname: string;
  readonly key: string;
  /** Clock time it was queued (when its first announcement became due). */
  readonly queuedAt: number;
  left: number;
  /** In the first-announcement queue, waiting for a repeat, or finished/stopped. */
  state: 'first' | 'repeat' | 'done';
  frames: number;
}

/** A FIFO over an array with a moving head (shift() on 10k entries is quadratic). */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(x: T): void {
    this.items.push(x);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  /** Oldest first. */
  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }
  shift(): T | undefined {
    const x = this.items[this.head];
    if (x === undefined) return undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

/** One interface: its token bucket and its two queues. */
interface Lane {
  tokens: number;
  /** Clock time the tokens were counted at. */
  at: number;
  readonly firsts: Fifo<Run>;
  /** Repeats in due order (each due interval after a send, and sends are in time order). */
  readonly repeats: Fifo<{ readonly run: Run; readonly due: number }>;
  /** Frames of the first announcements still queued. */
  firstFrames: number;
  firstCount: number;
  /** The last pass ended waiting for tokens: what it sends next past its time was held back by the pace. */
  held: boolean;
}

/** What the pace holds back, for metrics. */
export interface PacingState {
  /** Per interface announced on (until it is removed): first announcements queued, repeats due and not yet sent. */
  readonly queued: ReadonlyMap<string, { readonly first: number; readonly repeat: number }>;
  /** Announcements sent after their time because the interface's bucket was empty, since start. */
  readonly delayed: number;
}

export class Announcer {
  private readonly runs = new Map<string, Run>();
  private readonly lanes = new Map<string, Lane>();
  private readonly repeats: number;
  private readonly intervalMs: number;
  readonly ratePerSecond: number;
  readonly burst: number;
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  private delayed = 0;

  constructor(private readonly opts: AnnouncerOptions) {
    this.repeats = opts.repeats ?? DEFAULT_ANNOUNCE_REPEATS;
    this.intervalMs = opts.intervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS;
    this.ratePerSecond = opts.ratePerSecond ?? DEFAULT_ANNOUNCE_RATE;
    this.burst = opts.burst ?? defaultBurst(this.ratePerSecond);
    if (!Number.isInteger(this.repeats) || this.repeats < 0)
      throw new RangeError(`repeats must be a whole number >= 0, got ${this.repeats}`);
    if (!Number.isFinite(this.intervalMs) || this.intervalMs <= 0)
      throw new RangeError(`intervalMs must be > 0, got ${this.intervalMs}`);
    if (!(this.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be > 0, got ${this.ratePerSecond}`);
    if (!(this.burst >= 1)) throw new RangeError(`burst must be >= 1, got ${this.burst}`);
  }

  private static key(ip: IP, ifname: string): string {
    return `${formatIP(ip)}%${ifname}`;
  }

  private lane(ifname: string): Lane {
    let l = this.lanes.get(ifname);
    if (!l) {
      l = {
        tokens: this.burst,
        at: this.opts.clock.monotonic(),
        firsts: new Fifo(),
        repeats: new Fifo(),
        firstFrames: 0,
        firstCount: 0,
        held: false,
      };
      this.lanes.set(ifname, l);
    }
    return l;
  }

  /**
   * Took `ip` over on `ifname` (or its link or socket came back): queue a first announcement,
   * sent at once if the interface's bucket allows, then the repeats. Announcing again while
   * a run is pending starts the run over.
   */
  announce(ip: IP, ifname: string): void {
    const key = Announcer.key(ip, ifname);
    this.end(this.runs.get(key));
    const queuedAt = this.opts.clock.monotonic();
    const run: Run = { ip, ifname, key, queuedAt, left: this.repeats, state: 'first', frames: this.cost(ip) };
    this.runs.set(key, run);
    const lane = this.lane(ifname);
    lane.firsts.push(run);
    lane.firstFrames += run.frames;
    lane.firstCount++;
    this.pumpAndSchedule([lane]);
  }

  private cost(ip: IP): number {
    return Math.min(this.opts.frames?.(ip) ?? 1, this.burst);
  }

  /** Takes a run out of its queue's accounting (its queue entry is skipped when reached). */
  private end(run: Run | undefined): void {
    if (!run) return;
    if (run.state === 'first') {
      const lane = this.lanes.get(run.ifname);
      if (lane) {
        lane.firstFrames -= run.frames;
        lane.firstCount--;
      }
    }
    run.state = 'done';
    if (this.runs.get(run.key) === run) this.runs.delete(run.key);
  }

  /**
   * Sends what the lane's bucket allows now, first announcements before repeats; returns when
   * it can send next (Infinity: nothing queued). Throws the first send error only after the
   * whole pass (a throwing send neither ends its run nor stalls the others).
   */
  private pump(lane: Lane, now: number, errors: unknown[]): number {
    if (Number.isFinite(this.ratePerSecond)) {
      lane.tokens = Math.min(this.burst, lane.tokens + ((now - lane.at) * this.ratePerSecond) / 1000);
    }
    lane.at = now;
    const held = lane.held;
    lane.held = false;
    for (;;) {
      while (lane.firsts.peek()?.state === 'done') lane.firsts.shift();
      while (lane.repeats.size > 0 && lane.repeats.peek()!.run.state !== 'repeat') lane.repeats.shift();
      const first = lane.firsts.peek();
      const repeat = first ? undefined : lane.repeats.peek();
      const run = first ?? repeat?.run;
      if (!run) return Infinity;
      if (repeat && repeat.due > now) {
        const ready = this.tokensAt(lane, run.frames, now);
        // Not enough tokens by its due time (PACE_TICK_MS granularity included): the pace holds it back.
        lane.held = ready > repeat.due;
        return Math.max(repeat.due, ready);
      }
      // 1e-9: a wake-up computed for exactly enough tokens must find them despite rounding.
      if (Number.isFinite(this.ratePerSecond) && lane.tokens + 1e-9 < run.frames) {
        lane.held = true;
        return this.tokensAt(lane, run.frames, now);
      }
      // Due before now and the bucket was empty meanwhile (a late timer alone is no delay).
      if (held && (first ? run.queuedAt : repeat!.due) < now) this.delayed++;
      if (first) {
        lane.firsts.shift();
        lane.firstFrames -= run.frames;
        lane.firstCount--;
      } else lane.repeats.shift();
      if (run.left > 0) {
        run.left--;
        run.state = 'repeat';
        lane.repeats.push({ run, due: now + this.intervalMs });
      } else this.end(run);
      let sent: number = run.frames;
      try {
        const r = this.opts.send(run.ip, run.ifname);
        if (typeof r === 'number') sent = r;
      } catch (err) {
        errors.push(err);
      }
      if (Number.isFinite(this.ratePerSecond)) lane.tokens -= sent;
    }
  }

  /** When the lane will hold `frames` tokens (not sooner than PACE_TICK_MS from now when it must wait). */
  private tokensAt(lane: Lane, frames: number, now: number): number {
    if (!Number.isFinite(this.ratePerSecond) || lane.tokens + 1e-9 >= frames) return now;
    return now + Math.max(PACE_TICK_MS, Math.ceil(((frames - lane.tokens) * 1000) / this.ratePerSecond));
  }

  private pumpAndSchedule(lanes: Iterable<Lane>): void {
    const now = this.opts.clock.monotonic();
    const errors: unknown[] = [];
    let next = Infinity;
    for (const lane of lanes) next = Math.min(next, this.pump(lane, now, errors));
    if (next < this.timerAt) {
      this.timer?.cancel();
      this.timerAt = next;
      this.timer = this.opts.clock.setTimeout(() => this.onTimer(), Math.max(0, next - now));
    }
    if (errors.length > 0) throw errors[0];
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    this.pumpAndSchedule(this.lanes.values());
  }

  /** Lost `ip` on `ifname`: no more announcements, queued ones dropped. */
  stop(ip: IP, ifname: string): void {
    this.end(this.runs.get(Announcer.key(ip, ifname)));
  }

  /** The interface is gone: everything pending on it is dropped (its bucket too). */
  stopInterface(ifname: string): void {
    for (const run of this.runs.values()) if (run.ifname === ifname) this.end(run);
    this.lanes.delete(ifname);
  }

  stopAll(): void {
    for (const run of this.runs.values()) run.state = 'done';
    this.runs.clear();
    this.lanes.clear();
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  isAnnouncing(ip: IP, ifname: string): boolean {
    return this.runs.has(Announcer.key(ip, ifname));
  }

  /** Runs with announcements still to send. */
  active(): number {
    return this.runs.size;
  }

  /**
   * What waits for the pace now, per interface, and how many announcements went out late for
   * it so far. Counting the due repeats walks them: as many as are late, not the whole queue.
   */
  pacing(): PacingState {
    const now = this.opts.clock.monotonic();
    const queued = new Map<string, { first: number; repeat: number }>();
    for (const [ifname, lane] of this.lanes) {
      let repeat = 0;
      for (const r of lane.repeats) {
        if (r.due > now) break;
        if (r.run.state === 'repeat') repeat++;
      }
      queued.set(ifname, { first: lane.firstCount, repeat });
    }
    return { queued, delayed: this.delayed };
  }

  /**
   * First announcements still queued on `ifname`, their frames, and how long until the last
   * of them is out at the interface's rate (the bound, from now; 0 when unpaced).
   */
  backlog(ifname: string): { readonly firsts: number; readonly frames: number; readonly withinMs: number } {
    const lane = this.lanes.get(ifname);
    if (!lane || lane.firstCount === 0) return { firsts: 0, frames: 0, withinMs: 0 };
    const tokens = Number.isFinite(this.ratePerSecond)
      ? Math.min(this.burst, lane.tokens + ((this.opts.clock.monotonic() - lane.at) * this.ratePerSecond) / 1000)
      : Infinity;
    // Each wait for tokens ends on a wake-up at most PACE_TICK_MS late (nothing is lost meanwhile: tokens accumulate).
    const wait = Number.isFinite(this.ratePerSecond)
      ? Math.max(0, Math.ceil(((lane.firstFrames - tokens) * 1000) / this.ratePerSecond))
      : 0;
    const withinMs = wait > 0 ? wait + PACE_TICK_MS : 0;
    return { firsts: lane.firstCount, frames: lane.firstFrames, withinMs };
  }
}
