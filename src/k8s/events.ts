/**
 * Kubernetes Events (core/v1), aggregated like client-go's recorder: the same
 * (object, type, reason, message) repeated within the aggregation window bumps `count` and
 * `lastTimestamp` of one Event instead of creating another. A write that fails for a
 * transient reason (no connection, 429, 5xx, no answer within the request timeout) is
 * retried with backoff; `close()` drops whatever is still unwritten, so Events never hold
 * up a shutdown (owners re-derive the important ones from status on their next start).
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { KubeApiError, isNotFound } from './api-error.js';
import type { KubeClient } from './client.js';
import { backoffDelay } from '../core/backoff.js';
import { EVENTS } from './resources.js';

export interface ObjectReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
}

export type EventType = 'Normal' | 'Warning';

export interface EventRecorderOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  /** `herald-controller`, `herald-speaker`. */
  readonly component: string;
  /** The node, for speakers. */
  readonly host?: string;
  /** How long a repeat is folded into the previous Event (client-go: 10 minutes). */
  readonly aggregateWindowMs?: number;
  /** Remembered (object, reason, message) keys. */
  readonly cacheSize?: number;
  /** Attempts per Event on transient errors (default 6), with backoff from 200 ms to 5 s. */
  readonly attempts?: number;
  /** A write not answered within this long counts as a transient failure (default 10 s). */
  readonly requestTimeoutMs?: number;
  readonly random?: () => number;
}

/** No connection, throttled, or a server error: worth another try. */
function transient(err: unknown): boolean {
  return (
    err instanceof KubeApiError &&
    (err.code === 'Unavailable' || err.code === 'Timeout' || err.code === 'TooManyRequests')
  );
}

class Closed extends Error {}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  /** Monotonic ms of the last occurrence (the aggregation window ignores wall-clock jumps). */
  lastSeenMs: number;
}

/** One Event waiting to be written: a few fields, not a chain of promises and closures. */
interface Queued {
  readonly ref: ObjectReference;
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
  /** Only for callers that wait for this Event (`record`); `post` leaves it out. */
  readonly done?: (ok: boolean) => void;
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  /**
   * Events recorded and not yet taken by the writer, in order. A burst of 100,000 Events
   * waits here as 100,000 small records; a promise chain (three promises and closures per
   * Event) cost several times that while the burst was written.
   */
  private queue: Queued[] = [];
  private head = 0;
  private writing = false;
  /** Resolved when the queue is empty and nothing is being written. */
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  private wake: (() => void) | undefined;
  readonly stats = { recorded: 0, written: 0, retries: 0, failed: 0, dropped: 0 };

  constructor(private readonly opts: EventRecorderOptions) {}

  /** Events recorded and not yet written, failed or dropped. */
  pending(): number {
    return this.stats.recorded - this.stats.written - this.stats.failed - this.stats.dropped;
  }

  /** Stops writing: Events not yet written (and retries in progress) are dropped and counted. */
  close(): void {
    this.closed = true;
    this.wake?.();
    if (!this.writing) this.drain();
  }

  /** Resolves when every Event recorded so far has been written (true), or after `timeoutMs` (false). */
  flushWithin(timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const t = this.opts.clock.setTimeout(() => resolve(false), timeoutMs);
      void this.flush().then(() => {
        t.cancel();
        resolve(true);
      });
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = this.opts.clock.setTimeout(resolve, ms);
      this.wake = () => {
        t.cancel();
        resolve();
      };
    });
  }

  /** One API call, failed as transient when it is not answered in time. */
  private timed<T>(call: Promise<T>): Promise<T> {
    const ms = this.opts.requestTimeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const t = this.opts.clock.setTimeout(
        () => reject(new KubeApiError(0, 'Timeout', `no answer within ${ms} ms`)),
        ms,
      );
      call.then(
        (v) => {
          t.cancel();
          resolve(v);
        },
        (err: unknown) => {
          t.cancel();
          reject(err);
        },
      );
    });
  }

  private async writeRetrying(ref: ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    const attempts = this.opts.attempts ?? 6;
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new Closed();
      try {
        await this.write(ref, type, reason, message);
        this.stats.written++;
        return;
      } catch (err) {
        if (!transient(err) || attempt + 1 >= attempts || this.closed) throw err;
        this.stats.retries++;
        await this.sleep(backoffDelay(attempt, { baseMs: 200, maxMs: 5000 }, this.opts.random ?? Math.random));
      }
    }
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /**
   * Records an Event; never throws (a failed Event is logged). Resolves when done: true when
   * the server took it, false when it failed or was dropped.
   */
  record(ref: ObjectReference, type: EventType, reason: string, message: string): Promise<boolean> {
    return new Promise<boolean>((done) => this.enqueue({ ref, type, reason, message, done }));
  }

  /** Records an Event nobody waits for (the same order, retries and logging as `record`). */
  post(ref: ObjectReference, type: EventType, reason: string, message: string): void {
    this.enqueue({ ref, type, reason, message });
  }

  /** Resolves when every Event recorded so far has been written (or failed, or was dropped). */
  flush(): Promise<void> {
    if (!this.writing && this.head === this.queue.length) return Promise.resolve();
    return new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(q: Queued): void {
    this.stats.recorded++;
    this.queue.push(q);
    if (!this.writing) void this.run();
  }

  /** Writes the queue in order, one Event at a time, until it is empty. */
  private async run(): Promise<void> {
    this.writing = true;
    // Yield first: Events recorded in the same turn join this run instead of starting another.
    await Promise.resolve();
    while (this.head < this.queue.length && !this.closed) {
      const q = this.queue[this.head]!;
      // Let go of what was written: the array is compacted once its written half is large.
      this.queue[this.head++] = undefined as unknown as Queued;
      if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      // Not `q.done?.(await …)`: without a `done` that would skip the write itself.
      const ok = await this.writeOne(q);
      q.done?.(ok);
    }
    this.writing = false;
    this.drain();
  }

  /** After close, what is still queued is dropped; then whoever waits for the queue is told. */
  private drain(): void {
    if (this.closed) {
      for (let i = this.head; i < this.queue.length; i++) {
        this.stats.dropped++;
        this.queue[i]!.done?.(false);
      }
      this.queue = [];
      this.head = 0;
    }
    if (this.head < this.queue.length) return;
    this.queue = [];
    this.head = 0;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private async writeOne(q: Queued): Promise<boolean> {
    try {
      await this.writeRetrying(q.ref, q.type, q.reason, q.message);
      return true;
    } catch (err) {
      if (err instanceof Closed || this.closed) {
        this.stats.dropped++;
        return false;
      }
      this.stats.failed++;
      this.opts.logger.warn('could not record event', {
        event: 'eventWriteFailed',
        reason: q.reason,
        object: `${q.ref.namespace ?? ''}/${q.ref.name}`,
        error: errorMessage(err),
      });
      return false;
    }
  }

  private async write(ref: ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    const nowMs = this.opts.clock.now();
    // The aggregation window is measured on the monotonic clock: a wall-clock jump neither merges nor splits Events.
    const mono = this.opts.clock.monotonic();
    const now = this.iso(nowMs);
    const namespace = ref.namespace ?? 'default';
    const key = [ref.kind, namespace, ref.name, ref.uid ?? '', type, reason, message].join('\u0000');
    const window = this.opts.aggregateWindowMs ?? 600_000;
    const prior = this.seen.get(key);
    if (prior && mono - prior.lastSeenMs <= window) {
      try {
        await this.timed(
          this.opts.client.patch(EVENTS, prior.namespace, prior.name, { count: prior.count + 1, lastTimestamp: now }),
        );
        prior.count++;
        prior.lastSeenMs = mono;
        this.touch(key, prior);
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The Event expired or was deleted: create a fresh one below.
      }
    }
    const name = `${ref.name}.${nowMs.toString(16)}${randomBytes(3).toString('hex')}`;
    await this.timed(
      this.opts.client.create(EVENTS, {
        metadata: { name, namespace },
        involvedObject: ref,
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: now,
        lastTimestamp: now,
        source: { component: this.opts.component, ...(this.opts.host ? { host: this.opts.host } : {}) },
        reportingComponent: this.opts.component,
        reportingInstance: this.opts.host ?? this.opts.component,
      }),
    );
    this.touch(key, { name, namespace, count: 1, firstTimestamp: now, lastSeenMs: mono });
  }

  private touch(key: string, s: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, s);
    const max = this.opts.cacheSize ?? 4096;
    while (this.seen.size > max) this.seen.delete(this.seen.keys().next().value!);
  }
}
