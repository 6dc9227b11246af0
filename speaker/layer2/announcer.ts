/**
 * Gratuitous announcements on taking ownership of an IP (MetalLB sends them for a few
 * seconds so every neighbour cache moves): one at once, then `repeats` more `intervalMs`
 * apart. Losing ownership stops at once, cancelling whatever is pending. The Clock and the
 * send function are injected; nothing here touches a socket or the real time.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { formatIP, type IP } from '../../src/net/ip.js';

export const DEFAULT_ANNOUNCE_REPEATS = 5;
export const DEFAULT_ANNOUNCE_INTERVAL_MS = 1000;

export interface AnnouncerOptions {
  readonly clock: Clock;
  /** Sends the announcement frames for one IP on one interface (gratuitous ARP or unsolicited NA). */
  readonly send: (ip: IP, ifname: string) => void;
  /** Announcements after the first; default 5. */
  readonly repeats?: number;
  /** Time between announcements; default 1000 ms. */
  readonly intervalMs?: number;
}

interface Run {
  left: number;
  timer: TimerHandle | undefined;
}

export class Announcer {
  private readonly runs = new Map<string, Run>();
  private readonly repeats: number;
  private readonly intervalMs: number;

  constructor(private readonly opts: AnnouncerOptions) {
    this.repeats = opts.repeats ?? DEFAULT_ANNOUNCE_REPEATS;
    this.intervalMs = opts.intervalMs ?? DEFAULT_ANNOUNCE_INTERVAL_MS;
    if (!Number.isInteger(this.repeats) || this.repeats < 0) throw new RangeError(`repeats must be a whole number >= 0, got ${this.repeats}`);
    if (!Number.isFinite(this.intervalMs) || this.intervalMs <= 0) throw new RangeError(`intervalMs must be > 0, got ${this.intervalMs}`);
  }

  private static key(ip: IP, ifname: string): string {
    return `${formatIP(ip)}%${ifname}`;
  }

  /**
   * Took `ip` over on `ifname`: send now and schedule the repeats. Announcing again while a
   * run is pending starts the run over. The next repeat is scheduled before each send, so a
   * send that throws does not end the run.
   */
  announce(ip: IP, ifname: string): void {
    const key = Announcer.key(ip, ifname);
    this.runs.get(key)?.timer?.cancel();
    const run: Run = { left: this.repeats, timer: undefined };
    this.runs.set(key, run);
    this.fire(key, run, ip, ifname);
  }

  private fire(key: string, run: Run, ip: IP, ifname: string): void {
    if (run.left > 0) {
      run.left--;
      run.timer = this.opts.clock.setTimeout(() => this.fire(key, run, ip, ifname), this.intervalMs);
    } else {
      run.timer = undefined;
      if (this.runs.get(key) === run) this.runs.delete(key);
    }
    this.opts.send(ip, ifname);
  }

  /** Lost `ip` on `ifname`: no more announcements. */
  stop(ip: IP, ifname: string): void {
    const key = Announcer.key(ip, ifname);
    this.runs.get(key)?.timer?.cancel();
    this.runs.delete(key);
  }

  stopAll(): void {
    for (const run of this.runs.values()) run.timer?.cancel();
    this.runs.clear();
  }

  isAnnouncing(ip: IP, ifname: string): boolean {
    return this.runs.has(Announcer.key(ip, ifname));
  }

  /** Runs with announcements still to send. */
  active(): number {
    return this.runs.size;
  }
}
