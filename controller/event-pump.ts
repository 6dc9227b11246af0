/**
 * Service Events are written after the Service writes they describe: while Services wait in
 * the work queue, an Event waits too (at most `delayMs`), so a burst of new Services gets its
 * addresses first and its IPAllocated Events right after. The pump sleeps on the queue (woken
 * when it empties) and on the Event's own deadline, never on a polling timer.
 */
import type { Clock } from '../src/core/clock.js';
import type { ObjectReference } from '../src/k8s/index.js';
import type { EventIntent } from './reconcile.js';

/** What the pump defers to: the controller's work queue. */
export interface PendingWork {
  len(): number;
  /** Resolves once nothing waits to be handed out (or the queue shuts down). */
  empty(): Promise<void>;
}

export interface EventPumpOptions {
  readonly clock: Clock;
  readonly work: PendingWork;
  readonly delayMs: number;
  /** Hands one Event over (the recorder writes in order, retries, and drops on close). */
  readonly record: (ref: ObjectReference, e: EventIntent) => void;
}

/** Whether `p` settles within `ms`. */
export function settlesWithin(clock: Clock, p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const t = clock.setTimeout(() => resolve(false), ms);
    const done = (): void => {
      t.cancel();
      resolve(true);
    };
    p.then(done, done);
  });
}

export class EventPump {
  private readonly pending: { ref: ObjectReference; e: EventIntent; at: number }[] = [];
  private head = 0;
  private running: Promise<void> | undefined;
  private stopping = false;

  constructor(private readonly opts: EventPumpOptions) {}

  push(ref: ObjectReference, e: EventIntent): void {
    this.pending.push({ ref, e, at: this.opts.clock.monotonic() });
    this.running ??= this.run();
  }

  /** Stops deferring: from now on Events are handed over at once (a sleeping pump wakes when the queue shuts down). */
  stop(): void {
    this.stopping = true;
  }

  /** Resolves when everything pushed so far has been handed over. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  private async run(): Promise<void> {
    // Yield first, so `running` is set before the loop can finish and clear it.
    await Promise.resolve();
    while (this.head < this.pending.length) {
      const next = this.pending[this.head]!;
      const waited = this.opts.clock.monotonic() - next.at;
      if (!this.stopping && this.opts.work.len() > 0 && waited < this.opts.delayMs) {
        // Woken when the queue empties (or shuts down), else when this Event has waited enough.
        await settlesWithin(this.opts.clock, this.opts.work.empty(), this.opts.delayMs - waited);
        continue;
      }
      this.head++;
      this.opts.record(next.ref, next.e);
    }
    this.pending.length = 0;
    this.head = 0;
    this.running = undefined;
  }
}
