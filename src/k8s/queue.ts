/**
 * A de-duplicating work queue with rate-limited retries, after client-go's workqueue: a key
 * added many times before it is processed is processed once; a key being processed is not
 * handed out again until `done`, and is re-queued then if it was added meanwhile.
 */
import { backoffDelay } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';

export interface WorkQueueOptions {
  readonly clock: Clock;
  /** Delay of the first retry; doubles per failure up to maxDelayMs. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
}

export class WorkQueue {
  /** Keys in FIFO order from `head` on (Array.shift is O(n) on long arrays: 10k keys cost seconds). */
  private queue: string[] = [];
  private head = 0;
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly delayed = new Map<string, { handle: TimerHandle; due: number }>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  /** Resolved, and cleared, when the last queued key is handed out or the queue shuts down. */
  private drain: { promise: Promise<void>; resolve: () => void } | undefined;
  private shuttingDown = false;
  private readonly clock: Clock;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(opts: WorkQueueOptions) {
    this.clock = opts.clock;
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 300_000;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else this.queue.push(key);
  }

  /**
   * Adds after a delay. A key already waiting keeps the earlier of the two due times, so
   * repeated calls coalesce instead of postponing the key for ever.
   */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    const due = this.clock.monotonic() + ms;
    const waiting = this.delayed.get(key);
    if (waiting && waiting.due <= due) return;
    waiting?.handle.cancel();
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { handle, due });
  }

  /** Re-queues with exponential backoff; returns the delay used. */
  addRateLimited(key: string): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = backoffDelay(n, { baseMs: this.baseDelayMs, maxMs: this.maxDelayMs, jitter: 0 }, () => 0);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears the failure count of a key that succeeded. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key, waiting for one; undefined once shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.head < this.queue.length ? this.queue[this.head++] : undefined;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      if (this.len() === 0) this.drained();
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  len(): number {
    return this.queue.length - this.head;
  }

  /**
   * Resolves once no key waits to be handed out (at once if none does now), or on shutdown.
   * Keys being processed or waiting for a retry do not count: this is the moment a consumer
   * that defers to queued work (the controller's Events) may go ahead.
   */
  empty(): Promise<void> {
    if (this.len() === 0 || this.shuttingDown) return Promise.resolve();
    if (!this.drain) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drain = { promise, resolve };
    }
    return this.drain.promise;
  }

  private drained(): void {
    this.drain?.resolve();
    this.drain = undefined;
  }

  isIdle(): boolean {
    return this.len() === 0 && this.processing.size === 0 && this.delayed.size === 0;
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const t of this.delayed.values()) t.handle.cancel();
    this.delayed.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
    this.drained();
  }
}
