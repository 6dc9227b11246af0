/**
 * The API semantics, independent of HTTP: create, read, list, update, patch, delete and
 * watch with kube-apiserver's rules for resourceVersion, generation, status, finalizers,
 * namespaces, selectors, paging, custom resources and Service allocation.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PatchError, jsonPatch, mergePatch, strategicMergePatch, type Json } from './patch.js';
import { groupVersion, resourceKey, Registry, type ResourceInfo } from './registry.js';
import { admitCrd, crdResources } from './crd.js';
import { matchFields, matchLabels, parseFieldSelector, parseLabelSelector, SelectorError, type FieldRequirement, type LabelRequirement } from './selectors.js';
import { ServiceInvalid, ServiceNetwork, type ServiceNetworkOptions } from './services.js';
import { alreadyExists, ApiError, badRequest, conflict, gone, invalidObject, notFound, type Target } from './status.js';
import { Store, TooOldError, type Change, type Meta, type Obj } from './store.js';
import { tryParseIP } from '../../src/net/ip.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export interface ListOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
}

export interface WatchOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly resourceVersion?: string;
  readonly allowWatchBookmarks?: boolean;
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

export interface WatchHandle {
  bookmark(): void;
  stop(): void;
}

export interface CoreOptions extends ServiceNetworkOptions {
  /** Milliseconds since the epoch; the lab passes a real clock, tests may pass a fake one. */
  readonly now?: () => number;
  readonly historyLimit?: number;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = canonical(v[k]);
    return out;
  }
  return v;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function withoutKeys(o: Obj, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...o };
  for (const k of keys) delete out[k];
  return out;
}

function target(info: ResourceInfo): Target {
  return { qualified: resourceKey(info), group: info.group, kind: info.kind };
}

interface Snapshot {
  readonly rv: number;
  readonly items: Obj[];
}

export class ApiCore {
  readonly registry = new Registry();
  readonly store: Store;
  private readonly services: ServiceNetwork;
  private readonly now: () => number;
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly watches = new Set<{ close(): void }>();

  constructor(opts: CoreOptions = {}) {
    this.store = new Store(opts.historyLimit);
    this.services = new ServiceNetwork(opts);
    this.now = opts.now ?? Date.now;
    const ns = this.registry.lookup('', 'v1', 'namespaces')!;
    for (const name of SYSTEM_NAMESPACES) this.create(ns, undefined, { metadata: { name } });
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** The object as a client sees it: apiVersion and kind of the version asked for. */
  present(info: ResourceInfo, o: Obj): Obj {
    return { apiVersion: groupVersion(info), kind: info.kind, ...withoutKeys(o, ['apiVersion', 'kind']) } as unknown as Obj;
  }

  // ---------------------------------------------------------------- reads

  get(info: ResourceInfo, ns: string | undefined, name: string): Obj {
    const o = this.store.get(resourceKey(info), info.namespaced ? ns : undefined, name);
    if (!o) throw notFound(target(info), name);
    return this.present(info, o);
  }

  private selectors(info: ResourceInfo, opts: { labelSelector?: string; fieldSelector?: string }): { labels: LabelRequirement[]; fields: FieldRequirement[] } {
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
        throw gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
      }
      rv = snap.rv;
      items = snap.items;
      offset = token.offset;
      snapshotId = token.id;
    } else {
      if (opts.resourceVersion && /^\d+$/.test(opts.resourceVersion) && Number(opts.resourceVersion) > this.store.currentRv()) {
        throw new ApiError(504, 'Timeout', `Too large resource version: ${opts.resourceVersion}, current: ${this.store.currentRv()}`);
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
      metadata['continue'] = Buffer.from(JSON.stringify({ id: snapshotId, offset: offset + limit, rv })).toString('base64url');
      metadata['remainingItemCount'] = items.length - offset - limit;
    }
    return {
      apiVersion: groupVersion(info),
      kind: `${info.kind}List`,
      metadata,
      items: page.map((o) => this.present(info, o)),
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

  // ---------------------------------------------------------------- writes

  private checkName(info: ResourceInfo, name: string): void {
    const t = target(info);
    const bad = (msg: string): never => {
      throw invalidObject(t, name, [{ field: 'metadata.name', reason: 'FieldValueInvalid', message: `metadata.name: Invalid value: "${name}": ${msg}` }]);
    };
    if (info.group === 'rbac.authorization.k8s.io') {
      if (name === '.' || name === '..' || /[/%]/.test(name)) bad('may not contain "/" or "%" and may not be "." or ".."');
      return;
    }
    if (info.resource === 'services') {
      if (name.length > 63 || !DNS_1035.test(name)) bad("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character");
      return;
    }
    if (info.resource === 'namespaces') {
      if (name.length > 63 || !DNS_LABEL.test(name)) bad("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character");
      return;
    }
    if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
      bad("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
    }
  }

  private requireNamespace(info: ResourceInfo, ns: string | undefined, creating: boolean): void {
    if (!info.namespaced) return;
    if (!ns) throw badRequest('the server could not find the requested resource: namespace is required');
    const nsObj = this.store.get('namespaces', undefined, ns);
    if (!nsObj) throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    if (creating && (nsObj['status'] as { phase?: string } | undefined)?.phase === 'Terminating') {
      throw new ApiError(403, 'Forbidden', `${info.resource} is forbidden: unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  private checkKind(info: ResourceInfo, body: Record<string, unknown>): void {
    if (body['kind'] !== undefined && body['kind'] !== info.kind) {
      throw badRequest(`the API version in the data (${String(body['apiVersion'])}) does not match the expected API version (${groupVersion(info)}) or kind ${String(body['kind'])} is not ${info.kind}`);
    }
  }

  create(info: ResourceInfo, ns: string | undefined, body: unknown): Obj {
    if (!isObj(body)) throw badRequest('the body of the request was in an unknown format');
    this.checkKind(info, body);
    const meta: Meta = { ...(isObj(body['metadata']) ? (body['metadata'] as Meta) : ({} as Meta)) };
    if (info.namespaced) {
      if (meta.namespace !== undefined && meta.namespace !== '' && ns !== undefined && meta.namespace !== ns) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      const nsValue = ns ?? meta.namespace;
      if (nsValue !== undefined) meta.namespace = nsValue;
    } else delete meta.namespace;
    if (!meta.name) {
      if (typeof meta['generateName'] === 'string' && meta['generateName'] !== '') {
        meta.name = `${meta['generateName']}${randomSuffix()}`;
      } else {
        throw invalidObject(target(info), '', [{ field: 'metadata.name', reason: 'FieldValueRequired', message: 'metadata.name: Required value: name or generateName is required' }]);
      }
    }
    this.checkName(info, meta.name);
    this.requireNamespace(info, meta.namespace, true);
    if (this.store.get(resourceKey(info), meta.namespace, meta.name)) throw alreadyExists(target(info), meta.name);
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta['deletionGracePeriodSeconds'];
    meta.uid = randomUUID();
    meta.creationTimestamp = this.timestamp();
    meta.generation = 1;
    let obj = { ...withoutKeys(body as Obj, ['apiVersion', 'kind']), metadata: meta } as Obj;
    if (info.hasStatus && info.schema) delete obj['status'];
    obj = this.admit(info, obj, undefined);
    const stored = this.store.put(resourceKey(info), obj);
    this.afterWrite(info, stored, undefined);
    return this.present(info, stored);
  }

  /** Kind-specific defaulting and validation shared by create and update. */
  private admit(info: ResourceInfo, obj: Obj, old: Obj | undefined): Obj {
    const t = target(info);
    if (info.schema) {
      const r = info.schema.admit(obj, old);
      if (!r.ok) throw invalidObject(t, obj.metadata.name, r.causes);
      return r.object as Obj;
    }
    switch (`${info.group}/${info.resource}`) {
      case '/services': {
        try {
          const out = this.services.admit(obj, old);
          if (!old) out['status'] = { loadBalancer: {} };
          this.validateServiceStatus(info, out);
          return out as Obj;
        } catch (err) {
          if (err instanceof ServiceInvalid) throw invalidObject(t, obj.metadata.name, err.causes);
          throw err;
        }
      }
      case '/namespaces': {
        const labels = { ...(obj.metadata.labels ?? {}), 'kubernetes.io/metadata.name': obj.metadata.name };
        const spec = isObj(obj['spec']) ? obj['spec'] : {};
        return {
          ...obj,
          metadata: { ...obj.metadata, labels },
          spec: { finalizers: ['kubernetes'], ...spec },
          status: old ? old['status'] : { phase: 'Active' },
        } as Obj;
      }
      case '/secrets': {
        const data: Record<string, string> = { ...((obj['data'] as Record<string, string> | undefined) ?? {}) };
        for (const [k, v] of Object.entries((obj['stringData'] as Record<string, string> | undefined) ?? {})) {
          data[k] = Buffer.from(String(v), 'utf8').toString('base64');
        }
        const out = withoutKeys(obj, ['stringData']) as Obj;
        if (Object.keys(data).length > 0) out['data'] = data;
        out['type'] ??= 'Opaque';
        if (old && old['type'] !== out['type']) {
          throw invalidObject(t, obj.metadata.name, [{ field: 'type', reason: 'FieldValueInvalid', message: `type: Invalid value: "${String(out['type'])}": field is immutable` }]);
        }
        return out;
      }
      case '/pods':
        if (!old && !isObj(obj['status'])) return { ...obj, status: { phase: 'Pending' } } as Obj;
        return obj;
      case 'apiextensions.k8s.io/customresourcedefinitions':
        return this.admitCrd(obj);
      default:
        return obj;
    }
  }

  private validateServiceStatus(info: ResourceInfo, svc: Record<string, unknown>): void {
    const status = isObj(svc['status']) ? svc['status'] : {};
    const lb = isObj(status['loadBalancer']) ? status['loadBalancer'] : {};
    const ingress = Array.isArray(lb['ingress']) ? lb['ingress'] : [];
    ingress.forEach((ing: unknown, i: number) => {
      const entry = isObj(ing) ? ing : {};
      const field = `status.loadBalancer.ingress[${i}]`;
      if (entry['ip'] !== undefined && !tryParseIP(String(entry['ip']))) {
        throw invalidObject(target(info), String((svc['metadata'] as Meta).name), [{ field: `${field}.ip`, reason: 'FieldValueInvalid', message: `${field}.ip: Invalid value: "${String(entry['ip'])}": must be a valid IP address` }]);
      }
      if (entry['ipMode'] !== undefined && entry['ip'] === undefined) {
        throw invalidObject(target(info), String((svc['metadata'] as Meta).name), [{ field: `${field}.ipMode`, reason: 'FieldValueForbidden', message: `${field}.ipMode: Forbidden: may not be specified when \`ip\` is not` }]);
      }
      if (entry['ipMode'] !== undefined && entry['ipMode'] !== 'VIP' && entry['ipMode'] !== 'Proxy') {
        throw invalidObject(target(info), String((svc['metadata'] as Meta).name), [{ field: `${field}.ipMode`, reason: 'FieldValueNotSupported', message: `${field}.ipMode: Unsupported value: "${String(entry['ipMode'])}": supported values: "Proxy", "VIP"` }]);
      }
    });
  }

  private admitCrd(obj: Obj): Obj {
    return admitCrd(obj, this.timestamp());
  }

  private registerCrd(crd: Obj): void {
    this.registry.removeCrd(crd.metadata.name);
    for (const r of crdResources(crd)) this.registry.add(r);
  }

  private afterWrite(info: ResourceInfo, stored: Obj, old: Obj | undefined): void {
    if (info.group === 'apiextensions.k8s.io' && info.resource === 'customresourcedefinitions') {
      if (!stored.metadata.deletionTimestamp) this.registerCrd(stored);
    }
    void old;
  }

  /** Shared by PUT, PATCH and their /status forms. */
  private writeUpdate(info: ResourceInfo, ns: string | undefined, name: string, body: unknown, sub: 'status' | undefined, fromPatch: boolean): Obj {
    const key = resourceKey(info);
    const scope = info.namespaced ? ns : undefined;
    const old = this.store.get(key, scope, name);
    if (!old) throw notFound(target(info), name);
    if (!isObj(body)) throw badRequest('the body of the request was in an unknown format');
    this.checkKind(info, body);
    const meta: Meta = { ...(isObj(body['metadata']) ? (body['metadata'] as Meta) : ({} as Meta)) };
    if (meta.name !== undefined && meta.name !== name) throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    if (info.namespaced && meta.namespace !== undefined && meta.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(target(info), name);
    }
    if (!fromPatch && (meta.resourceVersion === undefined || meta.resourceVersion === '') && info.schema) {
      // Custom resources refuse an unconditional PUT, as kube-apiserver does.
      throw invalidObject(target(info), name, [{ field: 'metadata.resourceVersion', reason: 'FieldValueInvalid', message: 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update' }]);
    }
    const keepMeta: Meta = {
      ...meta,
      name: old.metadata.name,
      uid: old.metadata.uid!,
      creationTimestamp: old.metadata.creationTimestamp!,
      generation: old.metadata.generation ?? 1,
      ...(old.metadata.namespace !== undefined ? { namespace: old.metadata.namespace } : {}),
    };
    delete keepMeta.deletionTimestamp;
    if (old.metadata.deletionTimestamp) {
      keepMeta.deletionTimestamp = old.metadata.deletionTimestamp;
      keepMeta['deletionGracePeriodSeconds'] = old.metadata['deletionGracePeriodSeconds'];
      const added = (keepMeta.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
      if (added.length > 0) {
        throw invalidObject(target(info), name, [{ field: 'metadata.finalizers', reason: 'FieldValueForbidden', message: `metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}` }]);
      }
    }
    let next: Obj;
    if (sub === 'status') {
      // Built-in kinds' status strategies reset only the spec, so metadata (labels,
      // annotations) written through /status is kept, as kube-apiserver does for Services;
      // a custom resource's /status keeps everything but the status.
      next = info.schema ? ({ ...old, status: body['status'] } as Obj) : ({ ...old, metadata: keepMeta, status: body['status'] } as Obj);
    } else {
      next = { ...withoutKeys(body as Obj, ['apiVersion', 'kind']), metadata: keepMeta } as Obj;
      if (info.hasStatus) {
        if (old['status'] !== undefined) next['status'] = old['status'];
        else delete next['status'];
      }
    }
    if (sub === 'status') {
      // A status write cannot change the spec: only the status rules apply.
      if (info.schema) next = this.admit(info, next, old);
      else if (info.group === '' && info.resource === 'services') this.validateServiceStatus(info, next);
    } else if (info.group === '' && info.resource === 'services' && same(next['spec'], old['spec'])) {
      // Metadata-only change (labels, annotations, finalizers): allocations stay as they are.
    } else {
      next = this.admit(info, next, old);
    }
    const specChanged = !same(withoutKeys(next, ['metadata', 'status']), withoutKeys(old, ['metadata', 'status']));
    if (specChanged && sub !== 'status') next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    else next.metadata.generation = old.metadata.generation ?? 1;
    const comparableOld = { ...old, metadata: withoutKeys(old.metadata as unknown as Obj, ['resourceVersion', 'managedFields']) };
    const comparableNew = { ...next, metadata: withoutKeys(next.metadata as unknown as Obj, ['resourceVersion', 'managedFields']) };
    if (same(comparableOld, comparableNew)) return this.present(info, old);
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      return this.present(info, this.finalize(info, next));
    }
    const stored = this.store.put(key, next);
    this.afterWrite(info, stored, old);
    return this.present(info, stored);
  }

  update(info: ResourceInfo, ns: string | undefined, name: string, body: unknown, sub?: 'status'): Obj {
    return this.writeUpdate(info, ns, name, body, sub, false);
  }

  patch(info: ResourceInfo, ns: string | undefined, name: string, type: PatchType, patch: unknown, sub?: 'status'): Obj {
    const old = this.store.get(resourceKey(info), info.namespaced ? ns : undefined, name);
    if (!old) {
      if (type === 'apply') return this.create(info, ns, patch);
      throw notFound(target(info), name);
    }
    if (type === 'strategic' && info.schema) {
      throw new ApiError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`);
    }
    const current = this.present(info, old) as unknown as Json;
    let result: Json;
    try {
      switch (type) {
        case 'merge':
        case 'apply':
          result = mergePatch(current, patch as Json);
          break;
        case 'json':
          result = jsonPatch(current, patch);
          break;
        case 'strategic':
          result = strategicMergePatch(current, patch as Json);
          break;
      }
    } catch (err) {
      if (err instanceof PatchError) throw new ApiError(422, 'Invalid', `the server rejected our request due to an error in our request: ${err.message}`);
      throw err;
    }
    const patchMeta = isObj(patch) && isObj(patch['metadata']) ? patch['metadata'] : {};
    const body = result as Record<string, unknown>;
    const meta = { ...(isObj(body['metadata']) ? body['metadata'] : {}) };
    // Only a resourceVersion written in the patch itself is a precondition.
    if (typeof patchMeta['resourceVersion'] === 'string' && type !== 'json') meta['resourceVersion'] = patchMeta['resourceVersion'];
    else if (type !== 'json') delete meta['resourceVersion'];
    else if (meta['resourceVersion'] === old.metadata.resourceVersion) delete meta['resourceVersion'];
    return this.writeUpdate(info, ns, name, { ...body, metadata: meta }, sub, true);
  }

  private finalize(info: ResourceInfo, obj: Obj): Obj {
    const gone = this.store.remove(resourceKey(info), obj.metadata.namespace, obj.metadata.name);
    this.afterDelete(info, obj);
    return gone ?? obj;
  }

  private afterDelete(info: ResourceInfo, obj: Obj): void {
    if (info.group === '' && info.resource === 'services') this.services.release(obj);
    if (info.group === 'apiextensions.k8s.io' && info.resource === 'customresourcedefinitions') {
      const removed = this.registry.removeCrd(obj.metadata.name);
      const first = removed[0];
      if (first) {
        const key = resourceKey(first);
        for (const o of this.store.list(key)) this.store.remove(key, o.metadata.namespace, o.metadata.name);
        this.store.dropResource(key);
      }
    }
    if (info.namespaced && obj.metadata.namespace) this.maybeFinishNamespace(obj.metadata.namespace);
  }

  delete(info: ResourceInfo, ns: string | undefined, name: string, options: unknown = {}): Record<string, unknown> {
    const key = resourceKey(info);
    const scope = info.namespaced ? ns : undefined;
    const old = this.store.get(key, scope, name);
    if (!old) throw notFound(target(info), name);
    const pre = isObj(options) && isObj(options['preconditions']) ? options['preconditions'] : {};
    if ((pre['uid'] !== undefined && pre['uid'] !== old.metadata.uid) || (pre['resourceVersion'] !== undefined && pre['resourceVersion'] !== old.metadata.resourceVersion)) {
      throw conflict(target(info), name);
    }
    if (info.group === '' && info.resource === 'namespaces') return this.deleteNamespace(info, old);
    if ((old.metadata.finalizers ?? []).length > 0) {
      if (old.metadata.deletionTimestamp) return this.present(info, old);
      const marked = this.store.put(key, { ...old, metadata: { ...old.metadata, deletionTimestamp: this.timestamp(), deletionGracePeriodSeconds: 0 } } as Obj);
      return this.present(info, marked);
    }
    const removed = this.finalize(info, old);
    return this.present(info, removed);
  }

  deleteCollection(info: ResourceInfo, ns: string | undefined, opts: ListOptions): Record<string, unknown> {
    const list = this.list(info, ns, { ...(opts.labelSelector !== undefined ? { labelSelector: opts.labelSelector } : {}), ...(opts.fieldSelector !== undefined ? { fieldSelector: opts.fieldSelector } : {}) });
    const items = list['items'] as Obj[];
    for (const o of items) this.delete(info, o.metadata.namespace, o.metadata.name);
    return { ...list, items: [] };
  }

  private deleteNamespace(info: ResourceInfo, old: Obj): Record<string, unknown> {
    const name = old.metadata.name;
    if (SYSTEM_NAMESPACES.includes(name)) {
      throw new ApiError(403, 'Forbidden', `namespaces "${name}" is forbidden: this namespace may not be deleted`);
    }
    const marked = this.store.put('namespaces', {
      ...old,
      metadata: { ...old.metadata, deletionTimestamp: old.metadata.deletionTimestamp ?? this.timestamp() },
      status: { phase: 'Terminating' },
    } as Obj);
    for (const r of this.registry.all()) {
      if (!r.namespaced) continue;
      const key = resourceKey(r);
      for (const o of this.store.list(key, name)) {
        if (this.store.get(key, name, o.metadata.name)) this.delete(r, name, o.metadata.name);
      }
    }
    this.maybeFinishNamespace(name);
    return this.present(info, this.store.get('namespaces', undefined, name) ?? marked);
  }

  private maybeFinishNamespace(ns: string): void {
    const nsObj = this.store.get('namespaces', undefined, ns);
    if (!nsObj || (nsObj['status'] as { phase?: string } | undefined)?.phase !== 'Terminating') return;
    const seen = new Set<string>();
    for (const r of this.registry.all()) {
      const key = resourceKey(r);
      if (!r.namespaced || seen.has(key)) continue;
      seen.add(key);
      if (this.store.list(key, ns).length > 0) return;
    }
    this.store.remove('namespaces', undefined, ns);
  }

  // ---------------------------------------------------------------- watch

  /**
   * Streams changes after `resourceVersion` (or the current objects as ADDED first when it is
   * empty or "0"). Throws ApiError 410 for a version older than the retained history.
   */
  watch(info: ResourceInfo, ns: string | undefined, opts: WatchOptions, send: (e: WatchEvent) => void, close: () => void): WatchHandle {
    const { labels, fields } = this.selectors(info, opts);
    const scope = info.namespaced ? ns : undefined;
    const matches = (o: Obj | undefined): boolean =>
      o !== undefined && (scope === undefined || o.metadata.namespace === scope) && matchLabels(labels, o.metadata.labels) && matchFields(fields, o);
    const deliver = (c: Change): void => {
      const now = matches(c.object);
      const before = matches(c.previous);
      let type: WatchEvent['type'] | undefined;
      if (c.type === 'ADDED') type = now ? 'ADDED' : undefined;
      else if (c.type === 'DELETED') type = before || now ? 'DELETED' : undefined;
      else if (now && before) type = 'MODIFIED';
      else if (now) type = 'ADDED';
      else if (before) type = 'DELETED';
      if (type) send({ type, object: this.present(info, c.object) });
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
    for (const o of initial) send({ type: 'ADDED', object: this.present(info, o) });
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
          send({ type: 'BOOKMARK', object: { apiVersion: groupVersion(info), kind: info.kind, metadata: { resourceVersion: String(this.store.currentRv()) } } });
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

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}
