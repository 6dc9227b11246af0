/**
 * Status writes with optimistic concurrency: read, change, write with the read
 * resourceVersion; on 409 Conflict read again and re-apply the change. Plus metav1.Condition
 * helpers with kube's lastTransitionTime rule.
 */
import type { KubeClient, KubeObject, ResourceType } from './client.js';
import { isConflict } from './api-error.js';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/**
 * Returns the conditions with `next` set; lastTransitionTime moves only when the status
 * changes. Returns the same array object when nothing changed.
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  next: Omit<Condition, 'lastTransitionTime'>,
  now: string,
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const old = i >= 0 ? list[i] : undefined;
  const merged: Condition = {
    ...next,
    lastTransitionTime: old && old.status === next.status ? old.lastTransitionTime : now,
  };
  if (
    old &&
    old.status === merged.status &&
    old.reason === merged.reason &&
    old.message === merged.message &&
    old.observedGeneration === merged.observedGeneration
  ) {
    return conditions as Condition[];
  }
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

export interface StatusWriterOptions {
  readonly client: KubeClient;
  /** Attempts before giving up on repeated conflicts. */
  readonly maxAttempts?: number;
}

export type StatusOutcome<T> =
  | { result: 'written'; object: T; attempts: number }
  | { result: 'unchanged'; object: T; attempts: number }
  | { result: 'gone'; attempts: number };

export class StatusWriter {
  private readonly maxAttempts: number;

  constructor(private readonly opts: StatusWriterOptions) {
    this.maxAttempts = opts.maxAttempts ?? 8;
  }

  /** Reads (or starts from `cached`), lets `write` send a change, and on 409 reads again and retries. */
  private async retrying<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    cached: T | undefined,
    write: (current: T) => Promise<T> | undefined,
  ): Promise<StatusOutcome<T>> {
    let current: T | undefined = cached;
    for (let attempt = 1; ; attempt++) {
      current ??= await this.opts.client.tryGet<T>(type, namespace, name);
      if (!current) return { result: 'gone', attempts: attempt };
      const pending = write(current);
      if (!pending) return { result: 'unchanged', object: current, attempts: attempt };
      try {
        return { result: 'written', object: await pending, attempts: attempt };
      } catch (err) {
        if (!isConflict(err) || attempt >= this.maxAttempts) throw err;
        current = undefined;
      }
    }
  }

  /**
   * Applies `mutate` to the current object's status and writes it through /status.
   * `mutate` gets a copy of the latest object and returns the new status, or undefined for
   * "no change". Starts from `cached` when given (saving a read), re-reading after conflicts.
   */
  update<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    mutate: (obj: T) => unknown,
    cached?: T,
  ): Promise<StatusOutcome<T>> {
    return this.retrying(type, namespace, name, cached, (current) => {
      const status = mutate(structuredClone(current));
      return status === undefined ? undefined : this.opts.client.replaceStatus<T>(type, { ...current, status });
    });
  }

  /**
   * The same with a main-resource write (annotations, labels, finalizers): `mutate` returns
   * the whole new object or undefined.
   */
  updateObject<T extends KubeObject>(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    mutate: (obj: T) => T | undefined,
    cached?: T,
  ): Promise<StatusOutcome<T>> {
    return this.retrying(type, namespace, name, cached, (current) => {
      const next = mutate(structuredClone(current));
      return next === undefined
        ? undefined
        : this.opts.client.replace<T>(type, {
            ...next,
            metadata: { ...next.metadata, resourceVersion: current.metadata.resourceVersion! },
          });
    });
  }
}
