/**
 * A typed informer: list, then watch from the list's resourceVersion; on a dropped watch it
 * resumes from the last version seen (bookmarks included), on 410 Gone it relists and
 * reconciles the cache (emitting the deletes and updates it missed), on errors it retries
 * with jittered backoff. A periodic resync re-delivers every cached object as an update.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { backoffDelay } from '../core/backoff.js';
import { isGone, isNotFound } from './api-error.js';
import type { KubeClient, KubeObject, ResourceType, WatchStream } from './client.js';

export interface InformerHandlers<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(obj: T, old: T): void;
  onDelete?(obj: T): void;
}

export interface InformerOptions {
  readonly client: KubeClient;
  readonly type: ResourceType;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** 0 disables resync. */
  readonly resyncMs?: number;
  readonly backoff?: { baseMs: number; maxMs: number };
  /** Page size for the initial and recovery lists. */
  readonly pageSize?: number;
  /**
   * Keeps only what the owner reads of each object (client-go's SetTransform): applied to
   * every listed and watched object before it is cached or handed to a handler. It must keep
   * metadata.name, namespace and resourceVersion.
   */
  readonly transform?: (obj: KubeObject) => KubeObject;
  /** What the owner cannot do while the cache is empty, for the log line when the API is missing. */
  readonly purpose?: string;
}

export type Indexer<T> = (obj: T) => readonly string[];

export function objectKey(obj: { metadata: { namespace?: string; name: string } }): string {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly cache = new Map<string, T>();
  private readonly indexers = new Map<string, Indexer<T>>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private logger: Logger | undefined;
  private stream: WatchStream | undefined;
  private retryTimer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;
  private failures = 0;
  private stopped = true;
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private generation = 0;
  /** Counters for tests and metrics. */
  readonly stats = { lists: 0, watches: 0, relistsOnGone: 0, errors: 0, bookmarks: 0 };

  constructor(private readonly opts: InformerOptions) {}

  addHandlers(h: InformerHandlers<T>): void {
    this.handlers.push(h);
  }

  addIndexer(name: string, fn: Indexer<T>): void {
    this.indexers.set(name, fn);
    const index = new Map<string, Set<string>>();
    this.indices.set(name, index);
    for (const [key, obj] of this.cache) this.indexAdd(name, fn, key, obj);
  }

  private indexAdd(name: string, fn: Indexer<T>, key: string, obj: T): void {
    const index = this.indices.get(name)!;
    for (const v of fn(obj)) {
      let set = index.get(v);
      if (!set) index.set(v, (set = new Set()));
      set.add(key);
    }
  }

  private reindex(key: string, old: T | undefined, obj: T | undefined): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name)!;
      if (old) {
        for (const v of fn(old)) {
          const set = index.get(v);
          set?.delete(key);
          if (set?.size === 0) index.delete(v);
        }
      }
      if (obj) this.indexAdd(name, fn, key, obj);
    }
  }

  byIndex(name: string, value: string): T[] {
    const keys = this.indices.get(name)?.get(value);
    if (!keys) return [];
    return [...keys].map((k) => this.cache.get(k)!).filter((o) => o !== undefined);
  }

  get(key: string): T | undefined {
    return this.cache.get(key);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves after the first complete list has been delivered. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  lastResourceVersion(): string {
    return this.resourceVersion;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.generation++;
    void this.run(this.generation);
    this.scheduleResync();
  }

  stop(): void {
    this.stopped = true;
    this.generation++;
    this.stream?.stop();
    this.stream = undefined;
    this.retryTimer?.cancel();
    this.resyncTimer?.cancel();
  }

  private log(): Logger {
    return (this.logger ??= this.opts.logger.child({ component: 'informer' }));
  }

  private scheduleResync(): void {
    const ms = this.opts.resyncMs ?? 0;
    if (ms <= 0) return;
    this.resyncTimer = this.opts.clock.setTimeout(() => {
      if (this.stopped) return;
      for (const obj of this.cache.values()) for (const h of this.handlers) h.onUpdate?.(obj, obj);
      this.scheduleResync();
    }, ms);
  }

  private async run(gen: number): Promise<void> {
    try {
      if (this.resourceVersion === '') await this.relist(gen);
      if (gen !== this.generation) return;
      await this.watch(gen);
    } catch (err) {
      if (gen !== this.generation) return;
      this.retry(gen, err);
    }
  }

  private retry(gen: number, err: unknown): void {
    this.stats.errors++;
    const delay = backoffDelay(
      this.failures++,
      this.opts.backoff ?? { baseMs: 200, maxMs: 30_000 },
      this.opts.random ?? Math.random,
    );
    const t = this.opts.type;
    if (isNotFound(err)) {
      // The collection itself is missing: the server does not serve this group/version/resource.
      const api = `${t.group === '' ? 'core' : t.group}/${t.version} ${t.plural}`;
      this.log().error(
        `the API server does not serve ${api} (${t.kind}); ${this.opts.purpose ?? 'whatever needs this cache waits for it'} until it does; retrying`,
        { event: 'resourceNotServed', resource: t.plural, group: t.group, version: t.version, delayMs: delay },
      );
    } else
      this.log().warn('list/watch failed, retrying', {
        event: 'watchFailed',
        resource: t.plural,
        error: errorMessage(err),
        delayMs: delay,
      });
    this.retryTimer = this.opts.clock.setTimeout(() => {
      if (gen === this.generation) void this.run(gen);
    }, delay);
  }

  private async relist(gen: number): Promise<void> {
    this.stats.lists++;
    const result = await this.opts.client.listAll<T>(this.opts.type, {
      ...(this.opts.namespace !== undefined ? { namespace: this.opts.namespace } : {}),
      ...(this.opts.labelSelector !== undefined ? { labelSelector: this.opts.labelSelector } : {}),
      ...(this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {}),
      ...(this.opts.pageSize !== undefined ? { limit: this.opts.pageSize } : {}),
    });
    if (gen !== this.generation) return;
    const seen = new Set<string>();
    for (const obj of result.items) {
      const key = objectKey(obj);
      seen.add(key);
      this.upsert(key, obj);
    }
    for (const [key, old] of [...this.cache]) {
      if (!seen.has(key)) this.remove(key, old);
    }
    this.resourceVersion = result.resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private upsert(key: string, raw: T): void {
    const old = this.cache.get(key);
    if (old && old.metadata.resourceVersion === raw.metadata.resourceVersion) return;
    const obj = this.opts.transform ? (this.opts.transform(raw) as T) : raw;
    this.cache.set(key, obj);
    this.reindex(key, old, obj);
    for (const h of this.handlers) {
      if (old) h.onUpdate?.(obj, old);
      else h.onAdd?.(obj);
    }
  }

  private remove(key: string, raw: T): void {
    const old = this.cache.get(key);
    if (!old) return;
    this.cache.delete(key);
    this.reindex(key, old, undefined);
    const obj = this.opts.transform && raw !== old ? (this.opts.transform(raw) as T) : raw;
    for (const h of this.handlers) h.onDelete?.(obj);
  }

  private watch(gen: number): Promise<void> {
    this.stats.watches++;
    return new Promise<void>((resolve) => {
      let gotGone = false;
      const onEvent = (type: string, obj: T): void => {
        if (gen !== this.generation) return;
        switch (type) {
          case 'ADDED':
          case 'MODIFIED':
            this.failures = 0;
            this.upsert(objectKey(obj), obj);
            break;
          case 'DELETED':
            this.failures = 0;
            this.remove(objectKey(obj), obj);
            break;
          case 'BOOKMARK':
            this.stats.bookmarks++;
            break;
          case 'ERROR': {
            const status = obj as unknown as { code?: number; message?: string };
            if (status.code === 410) gotGone = true;
            else
              this.log().warn('watch error event', {
                event: 'watchFailed',
                resource: this.opts.type.plural,
                message: status.message,
              });
            return;
          }
        }
        if (obj?.metadata?.resourceVersion) this.resourceVersion = obj.metadata.resourceVersion;
      };
      const onDone = (err: unknown): void => {
        resolve();
        if (gen !== this.generation || this.stopped) return;
        if (gotGone || isGone(err)) {
          this.stats.relistsOnGone++;
          this.log().info('resourceVersion expired, relisting', { event: 'relist', resource: this.opts.type.plural });
          this.resourceVersion = '';
          void this.run(gen);
          return;
        }
        if (err) {
          this.retry(gen, err);
          return;
        }
        // A clean close (server timeout, dropped connection): resume from the last version.
        void this.run(gen);
      };
      this.opts.client
        .watch<T>(
          this.opts.type,
          {
            ...(this.opts.namespace !== undefined ? { namespace: this.opts.namespace } : {}),
            ...(this.opts.labelSelector !== undefined ? { labelSelector: this.opts.labelSelector } : {}),
            ...(this.opts.fieldSelector !== undefined ? { fieldSelector: this.opts.fieldSelector } : {}),
            resourceVersion: this.resourceVersion,
            allowWatchBookmarks: true,
          },
          onEvent,
          onDone,
        )
        .then((s) => {
          if (gen !== this.generation) s.stop();
          else this.stream = s;
        })
        .catch((err: unknown) => onDone(err));
    });
  }
}
