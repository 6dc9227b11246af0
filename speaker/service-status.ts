/**
 * This node's Service status objects (ServiceL2Status, and ServiceBGPStatus or BGPNodeStatus
 * shards), written by a coalescing background worker (decision 015, step 0): the
 * announcement pass only offers the newest desired set and never waits for the API server.
 * A pass deletes what is no longer true (also objects of this node left by an earlier run,
 * seen in the `own` informers), writes what changed or was deleted/edited by someone else,
 * with a few writes in flight; a kind may limit how often one object is rewritten. Failed
 * writes are logged with the object's name and retried with backoff.
 */
import type { BackoffOptions } from '../src/core/backoff.js';
import type { Clock } from '../src/core/clock.js';
import { errorMessage } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { type Informer, type KubeClient, type ResourceType, type StatusWriter } from '../src/k8s/index.js';
import { CoalescingWorker, forEachBounded, type PassResult } from './coalescing-worker.js';
import { nodeStatusObject } from './status-objects.js';
import type { StatusSet } from './status-sets.js';

/** Writes in flight at once: not one after another (10k Services), not a flood either. */
export const STATUS_WRITES_IN_FLIGHT = 8;

export type StatusClient = Pick<KubeClient, 'tryGet' | 'get' | 'create' | 'tryDelete'>;

export interface ServiceStatusKind {
  readonly type: ResourceType;
  /** At most one write of one object of this kind per this many ms (0: no limit). */
  readonly minIntervalMs: number;
}

export interface ServiceStatusWriterOptions {
  readonly client: StatusClient;
  readonly writer: Pick<StatusWriter, 'update'>;
  readonly namespace: string;
  readonly node: string;
  readonly log: Logger;
  readonly clock: Clock;
  readonly random?: () => number;
  readonly backoff?: BackoffOptions;
  /** Every kind this writer owns, in the order written; a kind absent from an offered set has no objects. */
  readonly kinds: readonly ServiceStatusKind[];
  /** This node's own objects by plural (an informer each, ownStatusView), to notice deletions, edits and leftovers. */
  readonly own: ReadonlyMap<string, Pick<Informer, 'get' | 'list'>>;
  readonly inFlight?: number;
}

export class ServiceStatusWriter {
  private readonly worker: CoalescingWorker<StatusSet>;
  /** Per plural: what this writer wrote and believes is there (name -> status text). */
  private readonly written = new Map<string, Map<string, string>>();
  /** Per plural: name -> monotonic time of its last write (kinds with a minimum interval). */
  private readonly writtenAt = new Map<string, Map<string, number>>();

  constructor(private readonly o: ServiceStatusWriterOptions) {
    for (const k of o.kinds) {
      this.written.set(k.type.plural, new Map());
      this.writtenAt.set(k.type.plural, new Map());
    }
    this.worker = new CoalescingWorker({
      clock: o.clock,
      ...(o.random ? { random: o.random } : {}),
      ...(o.backoff ? { backoff: o.backoff } : {}),
      pass: (set) => this.pass(set),
    });
  }

  /** The newest desired set (kind plural -> name -> status text); returns at once. */
  offer(set: StatusSet): void {
    this.worker.offer(set);
  }

  /** One of this node's objects changed or went away (its informer): one more pass compares again. */
  recheck(): void {
    this.worker.again();
  }

  /** Resolves when no pass runs (tests; a retry or a rate-limited write may still be waiting). */
  idle(): Promise<void> {
    return this.worker.idle();
  }

  get passes(): number {
    return this.worker.passes;
  }

  /** On a clean stop: waits for the pass in progress (at most `withinMs`), then deletes every object written. */
  async stop(withinMs: number): Promise<void> {
    if (!(await this.worker.stop(withinMs)))
      this.o.log.warn(`a status pass still runs after ${withinMs} ms; deleting this node's status objects anyway`, {
        event: 'statusWriteSlow',
      });
    for (const k of this.o.kinds) {
      const names = [...(this.written.get(k.type.plural)?.keys() ?? [])];
      await forEachBounded(names, this.o.inFlight ?? STATUS_WRITES_IN_FLIGHT, async (name) => {
        await this.o.client.tryDelete(k.type, this.o.namespace, name).catch((err: unknown) =>
          this.o.log.warn(`could not delete ${k.type.kind} ${name}`, {
            event: 'statusWriteFailed',
            name,
            error: errorMessage(err),
          }),
        );
      });
    }
  }

  private async pass(set: StatusSet): Promise<PassResult> {
    const now = this.o.clock.monotonic();
    let failures = 0;
    let dueInMs = Infinity;
    const tasks: (() => Promise<void>)[] = [];
    for (const kind of this.o.kinds) {
      const { type, minIntervalMs } = kind;
      const next = set.get(type.plural) ?? new Map<string, string>();
      const written = this.written.get(type.plural)!;
      const at = this.writtenAt.get(type.plural)!;
      const cache = this.o.own.get(type.plural);
      const present = new Set([...written.keys(), ...(cache?.list() ?? []).map((x) => x.metadata.name)]);
      for (const name of present) {
        if (next.has(name)) continue;
        tasks.push(async () => {
          try {
            await this.o.client.tryDelete(type, this.o.namespace, name);
            written.delete(name);
            at.delete(name);
          } catch (err) {
            failures++;
            this.o.log.warn(`could not delete ${type.kind} ${name}, will retry`, {
              event: 'statusWriteFailed',
              name,
              error: errorMessage(err),
            });
          }
        });
      }
      for (const [name, text] of next) {
        const cached = cache?.get(`${this.o.namespace}/${name}`);
        // Already there (also after a restart: the previous run's object says the same);
        // without an informer for the kind, what this writer last wrote.
        if (cache ? cached?.['statusText'] === text : written.get(name) === text) {
          written.set(name, text);
          continue;
        }
        const wait = minIntervalMs - (now - (at.get(name) ?? -Infinity));
        if (wait > 0) {
          dueInMs = Math.min(dueInMs, wait);
          continue;
        }
        tasks.push(async () => {
          try {
            await this.write(type, name, text);
            written.set(name, text);
            if (minIntervalMs > 0) at.set(name, this.o.clock.monotonic());
          } catch (err) {
            failures++;
            written.delete(name);
            this.o.log.warn(`could not write ${type.kind} ${name}, will retry`, {
              event: 'statusWriteFailed',
              name,
              error: errorMessage(err),
            });
          }
        });
      }
    }
    await forEachBounded(tasks, this.o.inFlight ?? STATUS_WRITES_IN_FLIGHT, (t) => t());
    if (failures > 0) return { outcome: 'failed', failures };
    return dueInMs < Infinity ? { outcome: 'due', afterMs: dueInMs } : { outcome: 'done' };
  }

  /** Creates the object when missing (a create ignores `status`), then writes its status. */
  private async write(type: ResourceType, name: string, text: string): Promise<void> {
    const status = JSON.parse(text) as Record<string, unknown>;
    const obj = await nodeStatusObject(this.o.client, type, { namespace: this.o.namespace, name, node: this.o.node });
    await this.o.writer.update(type, this.o.namespace, name, () => status, obj);
  }
}
