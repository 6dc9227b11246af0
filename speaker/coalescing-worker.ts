/**
 * One background pass at a time over the newest value offered (decision 015, step 0: routes
 * never wait for status). `offer` only records the value and returns: a pass in progress
 * finishes first, then the worker runs again with the newest value; values offered meanwhile
 * are skipped, never queued. A pass says whether it is done, failed (retried with the
 * project backoff, unless a newer value comes first and the backoff has run out), or has
 * work that is due later (per-object rate limits): then it runs again at that time.
 */
import { backoffDelay, type BackoffOptions } from '../src/core/backoff.js';
import type { Clock, TimerHandle } from '../src/core/clock.js';

/** What a pass reports: all written, some writes failed, or some are held back until `afterMs` from now. */
export type PassResult =
  | { readonly outcome: 'done' }
  | { readonly outcome: 'failed'; readonly failures: number }
  | { readonly outcome: 'due'; readonly afterMs: number };

export interface CoalescingWorkerOptions<T> {
  readonly clock: Clock;
  readonly random?: () => number;
  readonly backoff?: BackoffOptions;
  /** Writes `value`; must not throw (a failure is a PassResult). */
  readonly pass: (value: T) => Promise<PassResult>;
}

export class CoalescingWorker<T> {
  private pending: { value: T } | undefined;
  private last: { value: T } | undefined;
  private running: Promise<void> | undefined;
  private timer: { handle: TimerHandle; reason: 'backoff' | 'due' } | undefined;
  private failures = 0;
  private stopped = false;
  /** Passes run so far (for tests and logs). */
  passes = 0;

  constructor(private readonly o: CoalescingWorkerOptions<T>) {}

  /** Records the newest desired value; a pass starts now unless one runs or a retry backoff is waiting. */
  offer(value: T): void {
    if (this.stopped) return;
    this.pending = { value };
    if (this.timer?.reason === 'backoff') return;
    this.cancelTimer();
    this.start();
  }

  /**
   * One more pass over the last value, unless a newer one is already waiting (something the
   * passes compare with changed, e.g. an object deleted by someone else). Nothing before the first offer.
   */
  again(): void {
    if (this.stopped || !this.last || this.pending) return;
    if (this.running || this.timer?.reason === 'backoff') this.pending = this.last;
    else this.offer(this.last.value);
  }

  /** Resolves once no pass runs and none is waiting to start now (timers for later may remain). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** No further passes; waits for the one in progress, at most `withinMs`. True when it finished. */
  async stop(withinMs: number): Promise<boolean> {
    this.stopped = true;
    this.pending = undefined;
    this.cancelTimer();
    if (!this.running) return true;
    let timeout: TimerHandle | undefined;
    const expired = new Promise<false>(
      (resolve) => (timeout = this.o.clock.setTimeout(() => resolve(false), withinMs)),
    );
    const done = this.idle().then(() => true as const);
    const finished = await Promise.race([done, expired]);
    timeout?.cancel();
    return finished;
  }

  private cancelTimer(): void {
    this.timer?.handle.cancel();
    this.timer = undefined;
  }

  private start(): void {
    if (this.running || this.stopped) return;
    this.running = this.loop().finally(() => (this.running = undefined));
  }

  private async loop(): Promise<void> {
    while (this.pending && !this.stopped) {
      const { value } = this.pending;
      this.pending = undefined;
      this.last = { value };
      this.passes++;
      const result = await this.o.pass(value);
      if (this.stopped) return;
      if (result.outcome === 'failed') {
        const delay = backoffDelay(
          this.failures++,
          this.o.backoff ?? { baseMs: 500, maxMs: 30_000 },
          this.o.random ?? Math.random,
        );
        this.schedule('backoff', delay);
        return;
      }
      this.failures = 0;
      if (result.outcome === 'due' && !this.pending) {
        this.schedule('due', result.afterMs);
        return;
      }
    }
  }

  /** After `ms`, a pass over the newest value (the one offered meanwhile, else the last one). */
  private schedule(reason: 'backoff' | 'due', ms: number): void {
    this.cancelTimer();
    const handle = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.pending ??= this.last;
      this.start();
    }, ms);
    this.timer = { handle, reason };
  }
}

/** Runs `fn` over `items` with at most `limit` calls in flight; resolves when all settled. */
export async function forEachBounded<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const it = items[Symbol.iterator]();
  const lane = async (): Promise<void> => {
    for (let n = it.next(); !n.done; n = it.next()) await fn(n.value);
  };
  await Promise.all(Array.from({ length: Math.max(1, limit) }, lane));
}
