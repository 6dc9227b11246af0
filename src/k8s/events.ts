/**
 * Kubernetes Events (core/v1), aggregated like client-go's recorder: the same
 * (object, type, reason, message) repeated within the aggregation window bumps `count` and
 * `lastTimestamp` of one Event instead of creating another.
 */
import { randomBytes } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { isNotFound, type KubeClient, type KubeObject } from './client.js';
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
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
  /** Monotonic ms of the last occurrence (the aggregation window ignores wall-clock jumps). */
  lastSeenMs: number;
}

export function referenceOf(obj: KubeObject, apiVersion = obj.apiVersion ?? 'v1', kind = obj.kind ?? ''): ObjectReference {
  return {
    apiVersion,
    kind,
    name: obj.metadata.name,
    ...(obj.metadata.namespace !== undefined ? { namespace: obj.metadata.namespace } : {}),
    ...(obj.metadata.uid !== undefined ? { uid: obj.metadata.uid } : {}),
    ...(obj.metadata.resourceVersion !== undefined ? { resourceVersion: obj.metadata.resourceVersion } : {}),
  };
}

export class EventRecorder {
  private readonly seen = new Map<string, Seen>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly opts: EventRecorderOptions) {}

  private iso(ms: number): string {
    return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** Records an Event; never throws (a failed Event is logged). Resolves when written. */
  record(ref: ObjectReference, type: EventType, reason: string, message: string): Promise<void> {
    const p = this.chain.then(() => this.write(ref, type, reason, message)).catch((err: unknown) => {
      this.opts.logger.warn('could not record event', { reason, object: `${ref.namespace ?? ''}/${ref.name}`, error: errorMessage(err) });
    });
    this.chain = p;
    return p;
  }

  /** Resolves when every Event recorded so far has been written. */
  flush(): Promise<void> {
    return this.chain;
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
      prior.count++;
      prior.lastSeenMs = mono;
      try {
        await this.opts.client.patch(EVENTS, prior.namespace, prior.name, { count: prior.count, lastTimestamp: now });
        this.touch(key, prior);
        return;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // The Event expired or was deleted: create a fresh one below.
      }
    }
    const name = `${ref.name}.${nowMs.toString(16)}${randomBytes(3).toString('hex')}`;
    await this.opts.client.create(EVENTS, {
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
    });
    this.touch(key, { name, namespace, count: 1, firstTimestamp: now, lastSeenMs: mono });
  }

  private touch(key: string, s: Seen): void {
    this.seen.delete(key);
    this.seen.set(key, s);
    const max = this.opts.cacheSize ?? 4096;
    while (this.seen.size > max) this.seen.delete(this.seen.keys().next().value!);
  }
}
