/**
 * Gratuitous announcements on taking ownership: one at once, then `repeats` more at
 * `intervalMs`; stopping (losing ownership) cancels what is pending. Clock injected.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { formatIP, type IP } from '../../src/net/ip.js';

export interface AnnouncerOptions {
  readonly clock: Clock;
  /** Sends the announcement frames for one IP on one interface. */
  readonly send: (ip: IP, ifname: string) => void;
  readonly repeats?: number;
  readonly intervalMs?: number;
}

export class Announcer {
  private readonly pending = new Map<string, TimerHandle>();

  constructor(private readonly opts: AnnouncerOptions) {}

  private key(ip: IP, ifname: string): string {
    return `${formatIP(ip)}%${ifname}`;
  }

  announce(ip: IP, ifname: string): void {
    const key = this.key(ip, ifname);
    this.pending.get(key)?.cancel();
    this.opts.send(ip, ifname);
    let left = this.opts.repeats ?? 5;
    const next = (): void => {
      if (left <= 0) {
        this.pending.delete(key);
        return;
      }
      this.pending.set(
        key,
        this.opts.clock.setTimeout(() => {
          left--;
          this.opts.send(ip, ifname);
          next();
        }, this.opts.intervalMs ?? 1000),
      );
    };
    next();
  }

  stop(ip: IP, ifname: string): void {
    const key = this.key(ip, ifname);
    this.pending.get(key)?.cancel();
    this.pending.delete(key);
  }

  stopAll(): void {
    for (const t of this.pending.values()) t.cancel();
    this.pending.clear();
  }

  active(): number {
    return this.pending.size;
  }
}
