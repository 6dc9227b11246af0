/**
 * Herald's door to the Kubernetes API. Requests go through @kubernetes/client-node's own
 * HTTP stack (KubeConfig authentication and TLS, its fetch library) and watches through its
 * `Watch`; callers see plain JSON objects and a `KubeApiError` with the Status reason.
 */
import { Agent as HttpsAgent, type AgentOptions } from 'node:https';
import { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, RequestContext, Watch } from './client-node.js';
import { HeraldError } from '../core/errors.js';
import { KubeApiError, isNotFound, knownReason } from './api-error.js';
import type { ObjectMeta as ApiObjectMeta } from '../api/meta.js';

/** Kubernetes ObjectMeta as Herald reads it: the API's shape with the name always set. */
export interface ObjectMeta extends ApiObjectMeta {
  name: string;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** Where a kind lives in the API. */
export interface ResourceType {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

export interface ListResult<T extends KubeObject = KubeObject> {
  readonly items: T[];
  readonly resourceVersion: string;
  readonly continue?: string;
}

export interface ListOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
}

export interface WatchOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly resourceVersion?: string;
  readonly allowWatchBookmarks?: boolean;
  readonly timeoutSeconds?: number;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchStream {
  stop(): void;
}

export type PatchKind = 'merge' | 'json' | 'strategic';

const PATCH_CONTENT_TYPE: Record<PatchKind, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

export function resourcePath(t: ResourceType, namespace?: string, name?: string, sub?: string): string {
  const base = t.group === '' ? `/api/${t.version}` : `/apis/${t.group}/${t.version}`;
  const ns = t.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${t.plural}${name !== undefined ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
}

export function apiVersionOf(t: ResourceType): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

export interface KubeClientOptions {
  /**
   * Sent as the User-Agent of every request and as the `fieldManager` of every create,
   * update and patch (`herald-controller`, `herald-speaker`), so the server's managedFields
   * and audit log name the component instead of the HTTP library.
   */
  readonly userAgent?: string;
}

/** The operations Herald needs, on any resource type. */
export class KubeClient {
  private readonly http = new IsomorphicFetchHttpLibrary();
  private readonly watcher: Watch;
  private readonly server: string;

  constructor(
    readonly kubeConfig: KubeConfig,
    private readonly clientOpts: KubeClientOptions = {},
  ) {
    const cluster = kubeConfig.getCurrentCluster();
    if (!cluster) throw new HeraldError('Usage', 'the kubeconfig has no current cluster');
    this.server = cluster.server.replace(/\/+$/, '');
    this.watcher = new Watch(kubeConfig);
  }

  static fromFile(path: string, opts: KubeClientOptions = {}): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    return new KubeClient(kc, opts);
  }

  static fromString(text: string, opts: KubeClientOptions = {}): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromString(text);
    return new KubeClient(kc, opts);
  }

  /** In-cluster service account, or $KUBECONFIG / ~/.kube/config; the caller decides which. */
  static fromDefault(opts: KubeClientOptions = {}): KubeClient {
    const kc = new KubeConfig();
    kc.loadFromDefault();
    return new KubeClient(kc, opts);
  }

  /**
   * client-node builds a new TLS agent for every request, so every call pays a handshake.
   * Keep one keep-alive agent per distinct TLS setting instead; credentials in headers are
   * still applied per request by client-node. The setting is recognised by cheap identity
   * (lengths and ends of the PEM material), not by serialising it on every request.
   */
  private readonly agents = new Map<string, HttpsAgent>();

  private reuseAgent(ctx: RequestContext): void {
    const agent = ctx.getAgent();
    if (!(agent instanceof HttpsAgent)) return;
    const o = (agent as HttpsAgent & { options: AgentOptions }).options;
    const tag = (v: unknown): string => {
      if (v === undefined || v === null) return '-';
      if (Buffer.isBuffer(v)) return `${v.length}:${v.subarray(-24).toString('hex')}`;
      const t = String(v);
      return `${t.length}:${t.slice(-48)}`;
    };
    const key = [
      tag(o.ca),
      tag(o.cert),
      tag(o.key),
      tag(o.pfx),
      String(o.rejectUnauthorized),
      String(o.servername),
    ].join('|');
    let shared = this.agents.get(key);
    if (!shared) {
      shared = new HttpsAgent({ ...o, keepAlive: true, maxSockets: 32 });
      this.agents.set(key, shared);
    }
    ctx.setAgent(shared);
  }

  /** Closes kept-alive connections (call when done with the client). */
  close(): void {
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  /** The namespace of the current kubeconfig context, or `default`. */
  defaultNamespace(): string {
    const ctx = this.kubeConfig.getContextObject(this.kubeConfig.getCurrentContext());
    return ctx?.namespace ?? 'default';
  }

  async request(
    method: HttpMethod,
    path: string,
    query: Record<string, string | number | boolean | undefined> = {},
    body?: unknown,
    contentType = 'application/json',
  ): Promise<unknown> {
    const ctx = new RequestContext(this.server + path, method);
    const agent = this.clientOpts.userAgent;
    const writes = method === HttpMethod.POST || method === HttpMethod.PUT || method === HttpMethod.PATCH;
    const q =
      agent !== undefined && writes && query['fieldManager'] === undefined ? { ...query, fieldManager: agent } : query;
    for (const [k, v] of Object.entries(q)) if (v !== undefined) ctx.setQueryParam(k, String(v));
    ctx.setHeaderParam('Accept', 'application/json');
    if (agent !== undefined) ctx.setHeaderParam('User-Agent', agent);
    if (body !== undefined) {
      ctx.setHeaderParam('Content-Type', contentType);
      ctx.setBody(JSON.stringify(body));
    }
    await this.kubeConfig.applySecurityAuthentication(ctx);
    this.reuseAgent(ctx);
    let response;
    try {
      response = await this.http.send(ctx).toPromise();
    } catch (err) {
      throw new KubeApiError(0, 'Unknown', `${method} ${path}: ${(err as Error).message}`, { cause: err });
    }
    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.httpStatusCode < 200 || response.httpStatusCode > 299) {
      const status = (parsed ?? {}) as Record<string, unknown>;
      const message =
        typeof status['message'] === 'string'
          ? status['message']
          : `${method} ${path}: HTTP ${response.httpStatusCode} ${text.slice(0, 200)}`;
      throw new KubeApiError(response.httpStatusCode, knownReason(status['reason'], response.httpStatusCode), message, {
        status,
      });
    }
    return parsed;
  }

  /** A GET whose answer is text, not JSON (pods/log). */
  async getText(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<string> {
    const ctx = new RequestContext(this.server + path, HttpMethod.GET);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) ctx.setQueryParam(k, String(v));
    await this.kubeConfig.applySecurityAuthentication(ctx);
    this.reuseAgent(ctx);
    const response = await this.http
      .send(ctx)
      .toPromise()
      .catch((err: unknown) => {
        throw new KubeApiError(0, 'Unknown', `GET ${path}: ${(err as Error).message}`, { cause: err });
      });
    const text = await response.body.text();
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) return text;
    let status: Record<string, unknown> = {};
    try {
      status = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not a Status object
    }
    const message =
      typeof status['message'] === 'string'
        ? status['message']
        : `GET ${path}: HTTP ${response.httpStatusCode} ${text.slice(0, 200)}`;
    throw new KubeApiError(response.httpStatusCode, knownReason(status['reason'], response.httpStatusCode), message, {
      status,
    });
  }

  /** The server's /version: major and minor as numbers (a trailing `+` dropped) and gitVersion. */
  async serverVersion(): Promise<{ major: number; minor: number; gitVersion: string }> {
    const v = (await this.request(HttpMethod.GET, '/version')) as
      { major?: string; minor?: string; gitVersion?: string } | undefined;
    return {
      major: parseInt(v?.major ?? '', 10),
      minor: parseInt(v?.minor ?? '', 10),
      gitVersion: v?.gitVersion ?? 'unknown',
    };
  }

  async list<T extends KubeObject = KubeObject>(t: ResourceType, opts: ListOptions = {}): Promise<ListResult<T>> {
    const out = (await this.request(HttpMethod.GET, resourcePath(t, opts.namespace), {
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      limit: opts.limit,
      continue: opts.continue,
      resourceVersion: opts.resourceVersion,
    })) as { items?: T[]; metadata?: { resourceVersion?: string; continue?: string } };
    const items = (out.items ?? []).map((o) => ({ ...o, apiVersion: apiVersionOf(t), kind: t.kind }));
    return {
      items,
      resourceVersion: out.metadata?.resourceVersion ?? '',
      ...(out.metadata?.continue ? { continue: out.metadata.continue } : {}),
    };
  }

  /** Every page of a list (limit/continue), as one consistent snapshot. */
  async listAll<T extends KubeObject = KubeObject>(
    t: ResourceType,
    opts: Omit<ListOptions, 'continue'> = {},
  ): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    do {
      const page: ListResult<T> = await this.list<T>(t, { ...opts, ...(cont ? { continue: cont } : {}) });
      items.push(...page.items);
      rv = page.resourceVersion;
      cont = page.continue;
    } while (cont);
    return { items, resourceVersion: rv };
  }

  async get<T extends KubeObject = KubeObject>(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T> {
    return (await this.request(HttpMethod.GET, resourcePath(t, namespace, name))) as T;
  }

  /** The object, or undefined when it does not exist. */
  async tryGet<T extends KubeObject = KubeObject>(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
  ): Promise<T | undefined> {
    try {
      return await this.get<T>(t, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async create<T extends KubeObject = KubeObject>(t: ResourceType, obj: KubeObject): Promise<T> {
    const body = { ...obj, apiVersion: apiVersionOf(t), kind: t.kind };
    return (await this.request(HttpMethod.POST, resourcePath(t, obj.metadata.namespace), {}, body)) as T;
  }

  async replace<T extends KubeObject = KubeObject>(t: ResourceType, obj: KubeObject): Promise<T> {
    const body = { ...obj, apiVersion: apiVersionOf(t), kind: t.kind };
    return (await this.request(
      HttpMethod.PUT,
      resourcePath(t, obj.metadata.namespace, obj.metadata.name),
      {},
      body,
    )) as T;
  }

  async replaceStatus<T extends KubeObject = KubeObject>(t: ResourceType, obj: KubeObject): Promise<T> {
    const body = { ...obj, apiVersion: apiVersionOf(t), kind: t.kind };
    return (await this.request(
      HttpMethod.PUT,
      resourcePath(t, obj.metadata.namespace, obj.metadata.name, 'status'),
      {},
      body,
    )) as T;
  }

  async patch<T extends KubeObject = KubeObject>(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    patch: unknown,
    opts: { kind?: PatchKind; status?: boolean; query?: Record<string, string> } = {},
  ): Promise<T> {
    const kind = opts.kind ?? 'merge';
    return (await this.request(
      HttpMethod.PATCH,
      resourcePath(t, namespace, name, opts.status ? 'status' : undefined),
      opts.query ?? {},
      patch,
      PATCH_CONTENT_TYPE[kind],
    )) as T;
  }

  /** `gracePeriodSeconds: 0` ends a Pod at once (what a kubelet does once its containers stopped). */
  async delete(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    opts: { preconditions?: { uid?: string; resourceVersion?: string }; gracePeriodSeconds?: number } = {},
  ): Promise<void> {
    const body =
      opts.preconditions || opts.gracePeriodSeconds !== undefined
        ? {
            kind: 'DeleteOptions',
            apiVersion: 'v1',
            ...(opts.preconditions ? { preconditions: opts.preconditions } : {}),
            ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
          }
        : undefined;
    await this.request(HttpMethod.DELETE, resourcePath(t, namespace, name), {}, body);
  }

  /** A GET of any API path (discovery documents), parsed JSON. */
  async getJson(path: string, query: Record<string, string | number | boolean | undefined> = {}): Promise<unknown> {
    return this.request(HttpMethod.GET, path, query);
  }

  /** POST to a subresource that creates something: `pods/binding`, `serviceaccounts/token`. */
  async createSubresource<T = unknown>(
    t: ResourceType,
    namespace: string | undefined,
    name: string,
    sub: string,
    body: unknown,
  ): Promise<T> {
    return (await this.request(HttpMethod.POST, resourcePath(t, namespace, name, sub), {}, body)) as T;
  }

  /** Creates an object at the collection path of `t` with the given query (`fieldValidation: 'Strict'`, as kubectl sends). */
  async createWith<T extends KubeObject = KubeObject>(
    t: ResourceType,
    obj: KubeObject,
    query: Record<string, string>,
  ): Promise<T> {
    return (await this.request(HttpMethod.POST, resourcePath(t, obj.metadata.namespace), query, obj)) as T;
  }

  /** Deletes when present; true when something was deleted. */
  async tryDelete(t: ResourceType, namespace: string | undefined, name: string): Promise<boolean> {
    try {
      await this.delete(t, namespace, name);
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /**
   * Streams watch events through client-node's Watch. `onDone` runs once when the stream
   * ends, with the error (an HTTP status becomes a KubeApiError) or undefined.
   */
  async watch<T extends KubeObject = KubeObject>(
    t: ResourceType,
    opts: WatchOptions,
    onEvent: (type: WatchEventType, object: T) => void,
    onDone: (err: unknown) => void,
  ): Promise<WatchStream> {
    const query: Record<string, string | boolean | number> = {};
    if (opts.labelSelector !== undefined) query['labelSelector'] = opts.labelSelector;
    if (opts.fieldSelector !== undefined) query['fieldSelector'] = opts.fieldSelector;
    if (opts.resourceVersion !== undefined) query['resourceVersion'] = opts.resourceVersion;
    if (opts.allowWatchBookmarks) query['allowWatchBookmarks'] = true;
    if (opts.timeoutSeconds !== undefined) query['timeoutSeconds'] = opts.timeoutSeconds;
    let done = false;
    const finish = (err: unknown): void => {
      if (done) return;
      done = true;
      const e = err as { statusCode?: number; message?: string } | null | undefined;
      if (e && typeof e.statusCode === 'number')
        onDone(
          new KubeApiError(
            e.statusCode,
            knownReason(undefined, e.statusCode),
            e.message ?? `watch failed: HTTP ${e.statusCode}`,
            { cause: err },
          ),
        );
      else if (e && (e as { name?: string }).name === 'AbortError') onDone(undefined);
      else onDone(e ?? undefined);
    };
    const controller = await this.watcher.watch(
      resourcePath(t, opts.namespace),
      query,
      (type: string, obj: unknown) => onEvent(type as WatchEventType, obj as T),
      finish,
    );
    return {
      stop: () => {
        done = true;
        controller.abort();
      },
    };
  }
}
