/**
 * Object storage with one monotonically increasing resourceVersion, a bounded history of
 * changes for watches, and compaction (after which older versions answer 410 Gone).
 */
import type { ObjectMeta } from '../../src/api/meta.js';

export type Obj = Record<string, unknown> & { metadata: Meta };

export interface Meta extends ObjectMeta {
  name: string;
  [k: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  readonly rv: number;
  /** resourceKey of the type, e.g. `services` or `ipaddresspools.herald.dev`. */
  readonly resource: string;
  readonly type: WatchEventType;
  readonly object: Obj;
  /** The object before this change (MODIFIED and DELETED). */
  readonly previous?: Obj;
}

export type ChangeListener = (change: Change) => void;

function objectKey(ns: string | undefined, name: string): string {
  return `${ns ?? ''}/${name}`;
}

export class TooOldError extends Error {
  constructor(
    readonly requested: number,
    readonly oldest: number,
  ) {
    super(`too old resource version: ${requested} (${oldest})`);
  }
}

export class Store {
  private rv: number;
  private readonly objects = new Map<string, Map<string, Obj>>();
  private history: Change[] = [];
  /** Versions at or below this one are no longer in history. */
  private compactedAt: number;
  private readonly listeners = new Set<ChangeListener>();

  constructor(
    private readonly historyLimit = 20_000,
    startRv = 1000,
  ) {
    this.rv = startRv;
    this.compactedAt = startRv;
  }

  currentRv(): number {
    return this.rv;
  }

  oldestWatchableRv(): number {
    return this.compactedAt;
  }

  get(resource: string, ns: string | undefined, name: string): Obj | undefined {
    return this.objects.get(resource)?.get(objectKey(ns, name));
  }

  /** Objects of a type, sorted by namespace then name (the order kube lists in). */
  list(resource: string, ns?: string): Obj[] {
    const all = [...(this.objects.get(resource)?.entries() ?? [])];
    return all
      .filter(([, o]) => ns === undefined || o.metadata.namespace === ns)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o);
  }

  count(resource: string): number {
    return this.objects.get(resource)?.size ?? 0;
  }

  /** Stores a new or changed object under a new resourceVersion and tells the watchers. */
  put(resource: string, object: Obj): Obj {
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    let bucket = this.objects.get(resource);
    if (!bucket) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    const previous = bucket.get(key);
    this.rv++;
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(this.rv) } } as Obj;
    bucket.set(key, stored);
    this.record({
      rv: this.rv,
      resource,
      type: previous ? 'MODIFIED' : 'ADDED',
      object: stored,
      ...(previous ? { previous } : {}),
    });
    return stored;
  }

  remove(resource: string, ns: string | undefined, name: string): Obj | undefined {
    const bucket = this.objects.get(resource);
    const key = objectKey(ns, name);
    const previous = bucket?.get(key);
    if (!bucket || !previous) return undefined;
    bucket.delete(key);
    this.rv++;
    const gone = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(this.rv) } } as Obj;
    this.record({ rv: this.rv, resource, type: 'DELETED', object: gone, previous });
    return gone;
  }

  dropResource(resource: string): void {
    this.objects.delete(resource);
  }

  private record(change: Change): void {
    this.history.push(change);
    // Trimmed in batches (a quarter of the limit at a time), so each write costs O(1)
    // amortized instead of copying the whole history.
    if (this.history.length > this.historyLimit + Math.max(1, this.historyLimit >> 2)) {
      const cut = this.history.length - this.historyLimit;
      this.compactedAt = this.history[cut - 1]!.rv;
      this.history = this.history.slice(cut);
    }
    for (const l of this.listeners) l(change);
  }

  /** Forgets all history: every watch or continue from an older version now gets 410. */
  compact(): void {
    this.history = [];
    this.compactedAt = this.rv;
  }

  /**
   * Changes of one type after `fromRv`, then live ones through `listener`, with no gap:
   * both happen in the same turn of the event loop.
   */
  subscribe(resource: string, fromRv: number, listener: ChangeListener): { replay: Change[]; unsubscribe: () => void } {
    if (fromRv < this.compactedAt) throw new TooOldError(fromRv, this.compactedAt);
    const replay = this.history.filter((c) => c.rv > fromRv && c.resource === resource);
    const l: ChangeListener = (c) => {
      if (c.resource === resource) listener(c);
    };
    this.listeners.add(l);
    return { replay, unsubscribe: () => this.listeners.delete(l) };
  }
}
