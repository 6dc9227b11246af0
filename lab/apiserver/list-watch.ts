/**
 * Reading collections: lists filtered by label and field selectors and paged through
 * snapshots with continue tokens, and watches that stream one type's changes to a client.
 */
import { randomBytes } from 'node:crypto';
import { present } from './objects.js';
import { groupVersion, resourceKey, type ResourceInfo } from './registry.js';
import {
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
  SelectorError,
  type FieldRequirement,
  type LabelRequirement,
} from './selectors.js';
import { ApiError, badRequest, gone } from './status.js';
import type {
  ListOptions as ClientListOptions,
  WatchEventType,
  WatchOptions as ClientWatchOptions,
} from '../../src/k8s/client.js';
import { TooOldError, type Change, type Obj, type Store } from './store.js';

/** A list's query parameters: the client's, with the namespace in the path instead. */
export type ListOptions = Omit<ClientListOptions, 'namespace'>;

/** What the store's watch needs of a watch's query (the HTTP layer keeps timeoutSeconds: watch-stream.ts). */
export type WatchOptions = Omit<ClientWatchOptions, 'namespace' | 'timeoutSeconds'>;

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: Record<string, unknown>;
}

export interface WatchHandle {
  bookmark(): void;
  stop(): void;
}

interface Snapshot {
  readonly rv: number;
  readonly items: Obj[];
}

/** Lists and watches over a store, with the paging snapshots and open watches they keep. */
export class ListWatch {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly watches = new Set<{ close(): void }>();

  constructor(private readonly store: Store) {}

  private selectors(
    info: ResourceInfo,
    opts: { labelSelector?: string; fieldSelector?: string },
  ): { labels: LabelRequirement[]; fields: FieldRequirement[] } {
    try {
      return {
        labels: parseLabelSelector(opts.labelSelector),
        fields: parseFieldSelector(opts.fieldSelector, ['metadata.name', 'metadata.namespace', ...info.fields]),
      };
    } catch (err) {
      if (err instanceof SelectorError) throw badRequest(`unable to parse requirement: ${err.message}`);
      throw err;
    }
  }

  list(info: ResourceInfo, ns: string | undefined, opts: ListOptions = {}): Record<string, unknown> {
    const { labels, fields } = this.selectors(info, opts);
    let rv: number;
    let items: Obj[];
    let offset = 0;
    let snapshotId: string | undefined;
    if (opts.continue) {
      const token = this.decodeContinue(opts.continue);
      const snap = this.snapshots.get(token.id);
      if (!snap || snap.rv < this.store.oldestWatchableRv()) {
        throw gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
      rv = snap.rv;
      items = snap.items;
      offset = token.offset;
      snapshotId = token.id;
    } else {
      if (
        opts.resourceVersion &&
        /^\d+$/.test(opts.resourceVersion) &&
        Number(opts.resourceVersion) > this.store.currentRv()
      ) {
        throw new ApiError(
          504,
          'Timeout',
          `Too large resource version: ${opts.resourceVersion}, current: ${this.store.currentRv()}`,
        );
      }
      rv = this.store.currentRv();
      items = this.store
        .list(resourceKey(info), info.namespaced ? ns : undefined)
        .filter((o) => matchLabels(labels, o.metadata.labels) && matchFields(fields, o));
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    const page = limit ? items.slice(offset, offset + limit) : items.slice(offset);
    const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
    if (limit && offset + limit < items.length) {
      if (!snapshotId) {
        snapshotId = randomBytes(8).toString('hex');
        this.snapshots.set(snapshotId, { rv, items });
        while (this.snapshots.size > 64) this.snapshots.delete(this.snapshots.keys().next().value!);
      }
      metadata['continue'] = Buffer.from(JSON.stringify({ id: snapshotId, offset: offset + limit, rv })).toString(
        'base64url',
      );
      metadata['remainingItemCount'] = items.length - offset - limit;
    }
    return {
      apiVersion: groupVersion(info),
      kind: `${info.kind}List`,
      metadata,
      items: page.map((o) => present(info, o)),
    };
  }

  private decodeContinue(text: string): { id: string; offset: number } {
    try {
      const t = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as { id?: unknown; offset?: unknown };
      if (typeof t.id === 'string' && typeof t.offset === 'number') return { id: t.id, offset: t.offset };
    } catch {
      // fall through
    }
    throw badRequest('invalid continue token');
  }

  /**
   * Streams changes after `resourceVersion` (or the current objects as ADDED first when it is
   * empty or "0"). Throws ApiError 410 for a version older than the retained history.
   */
  watch(
    info: ResourceInfo,
    ns: string | undefined,
    opts: WatchOptions,
    send: (e: WatchEvent) => void,
    close: () => void,
  ): WatchHandle {
    const { labels, fields } = this.selectors(info, opts);
    const scope = info.namespaced ? ns : undefined;
    const matches = (o: Obj | undefined): boolean =>
      o !== undefined &&
      (scope === undefined || o.metadata.namespace === scope) &&
      matchLabels(labels, o.metadata.labels) &&
      matchFields(fields, o);
    const deliver = (c: Change): void => {
      const now = matches(c.object);
      const before = matches(c.previous);
      let type: WatchEvent['type'] | undefined;
      if (c.type === 'ADDED') type = now ? 'ADDED' : undefined;
      else if (c.type === 'DELETED') type = before || now ? 'DELETED' : undefined;
      else if (now && before) type = 'MODIFIED';
      else if (now) type = 'ADDED';
      else if (before) type = 'DELETED';
      if (type) send({ type, object: present(info, c.object) });
    };
    const rvText = opts.resourceVersion ?? '';
    let fromRv: number;
    const initial: Obj[] = [];
    if (rvText === '' || rvText === '0') {
      fromRv = this.store.currentRv();
      initial.push(...this.store.list(resourceKey(info), scope).filter(matches));
    } else if (/^\d+$/.test(rvText)) {
      fromRv = Number(rvText);
    } else {
      throw badRequest(`invalid resource version "${rvText}"`);
    }
    let sub: ReturnType<Store['subscribe']>;
    try {
      sub = this.store.subscribe(resourceKey(info), fromRv, deliver);
    } catch (err) {
      if (err instanceof TooOldError) throw gone(`too old resource version: ${err.requested} (${err.oldest})`);
      throw err;
    }
    for (const o of initial) send({ type: 'ADDED', object: present(info, o) });
    for (const c of sub.replay) deliver(c);
    const entry = {
      close: () => {
        sub.unsubscribe();
        this.watches.delete(entry);
        close();
      },
    };
    this.watches.add(entry);
    return {
      bookmark: () => {
        if (opts.allowWatchBookmarks) {
          send({
            type: 'BOOKMARK',
            object: {
              apiVersion: groupVersion(info),
              kind: info.kind,
              metadata: { resourceVersion: String(this.store.currentRv()) },
            },
          });
        }
      },
      stop: () => {
        sub.unsubscribe();
        this.watches.delete(entry);
      },
    };
  }

  /** Ends every open watch (the client sees its stream close). */
  dropWatches(): number {
    const all = [...this.watches];
    for (const w of all) w.close();
    return all.length;
  }

  /** Forgets history and paging snapshots: older watches and continues get 410. */
  compact(): void {
    this.store.compact();
    this.snapshots.clear();
  }
}
