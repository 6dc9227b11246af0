/**
 * The API semantics, independent of HTTP: create, read, update, patch and delete with
 * kube-apiserver's rules for resourceVersion, generation, status, finalizers, namespaces,
 * custom resources and Service allocation. Admission lives in admission.ts, and lists,
 * paging and watches in list-watch.ts; this class ties them to the store.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { admit, checkKind, checkName, validateServiceStatus, type AdmissionContext } from './admission.js';
import { pruneServiceForVersion } from './compat.js';
import { crdResources } from './crd.js';
import { ListWatch, type ListOptions, type WatchEvent, type WatchHandle, type WatchOptions } from './list-watch.js';
import { isObj, present, same, target, withoutKeys } from './objects.js';
import { PatchError, jsonPatch, mergePatch, strategicMergePatch, type Json } from './patch.js';
import { resourceKey, Registry, type ResourceInfo } from './registry.js';
import { ServiceNetwork, type ServiceNetworkOptions } from './services.js';
import { alreadyExists, ApiError, badRequest, conflict, invalidObject, notFound } from './status.js';
import { Store, type Meta, type Obj } from './store.js';

export type { ListOptions, WatchEvent, WatchHandle, WatchOptions } from './list-watch.js';

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

export interface CoreOptions extends ServiceNetworkOptions {
  /** Milliseconds since the epoch; the lab passes a real clock, tests may pass a fake one. */
  readonly now?: () => number;
  readonly historyLimit?: number;
  /** Emulate Kubernetes 1.<minor> (compat.ts: fields it did not have are dropped); newest when absent. */
  readonly kubernetesMinor?: number;
}

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export class ApiCore {
  readonly registry = new Registry();
  readonly store: Store;
  private readonly services: ServiceNetwork;
  private readonly now: () => number;
  private readonly admission: AdmissionContext;
  private readonly reads: ListWatch;
  private readonly minor: number | undefined;

  constructor(opts: CoreOptions = {}) {
    this.store = new Store(opts.historyLimit);
    this.services = new ServiceNetwork(opts);
    this.now = opts.now ?? Date.now;
    this.minor = opts.kubernetesMinor;
    this.admission = { services: this.services, timestamp: () => this.timestamp() };
    this.reads = new ListWatch(this.store);
    const ns = this.registry.lookup('', 'v1', 'namespaces')!;
    for (const name of SYSTEM_NAMESPACES) this.create(ns, undefined, { metadata: { name } });
  }

  private compat(info: ResourceInfo, o: Obj): Obj {
    return this.minor !== undefined && info.group === '' && info.resource === 'services'
      ? pruneServiceForVersion(o, this.minor)
      : o;
  }

  private timestamp(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** The object as a client sees it: apiVersion and kind of the version asked for. */
  present(info: ResourceInfo, o: Obj): Obj {
    return present(info, o);
  }

  // ---------------------------------------------------------------- reads

  get(info: ResourceInfo, ns: string | undefined, name: string): Obj {
    const o = this.store.get(resourceKey(info), info.namespaced ? ns : undefined, name);
    if (!o) throw notFound(target(info), name);
    return this.present(info, o);
  }

  /** Selected objects of a type, one page at a time when `limit` is set (see ListWatch.list). */
  list(info: ResourceInfo, ns: string | undefined, opts: ListOptions = {}): Record<string, unknown> {
    return this.reads.list(info, ns, opts);
  }

  // ---------------------------------------------------------------- writes

  private requireNamespace(info: ResourceInfo, ns: string | undefined, creating: boolean): void {
    if (!info.namespaced) return;
    if (!ns) throw badRequest('the server could not find the requested resource: namespace is required');
    const nsObj = this.store.get('namespaces', undefined, ns);
    if (!nsObj) throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    if (creating && (nsObj['status'] as { phase?: string } | undefined)?.phase === 'Terminating') {
      throw new ApiError(
        403,
        'Forbidden',
        `${info.resource} is forbidden: unable to create new content in namespace ${ns} because it is being terminated`,
      );
    }
  }

  create(info: ResourceInfo, ns: string | undefined, body: unknown): Obj {
    if (!isObj(body)) throw badRequest('the body of the request was in an unknown format');
    checkKind(info, body);
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
        throw invalidObject(target(info), '', [
          {
            field: 'metadata.name',
            reason: 'FieldValueRequired',
            message: 'metadata.name: Required value: name or generateName is required',
          },
        ]);
      }
    }
    checkName(info, meta.name);
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
    obj = this.compat(info, admit(this.admission, info, obj, undefined));
    const stored = this.store.put(resourceKey(info), obj);
    this.afterWrite(info, stored, undefined);
    return this.present(info, stored);
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
  private writeUpdate(
    info: ResourceInfo,
    ns: string | undefined,
    name: string,
    body: unknown,
    sub: 'status' | undefined,
    fromPatch: boolean,
  ): Obj {
    const key = resourceKey(info);
    const scope = info.namespaced ? ns : undefined;
    const old = this.store.get(key, scope, name);
    if (!old) throw notFound(target(info), name);
    if (!isObj(body)) throw badRequest('the body of the request was in an unknown format');
    checkKind(info, body);
    const meta: Meta = { ...(isObj(body['metadata']) ? (body['metadata'] as Meta) : ({} as Meta)) };
    if (meta.name !== undefined && meta.name !== name)
      throw badRequest(`the name of the object (${meta.name}) does not match the name on the URL (${name})`);
    if (info.namespaced && meta.namespace !== undefined && meta.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    if (
      meta.resourceVersion !== undefined &&
      meta.resourceVersion !== '' &&
      meta.resourceVersion !== old.metadata.resourceVersion
    ) {
      throw conflict(target(info), name);
    }
    if (!fromPatch && (meta.resourceVersion === undefined || meta.resourceVersion === '') && info.schema) {
      // Custom resources refuse an unconditional PUT, as kube-apiserver does.
      throw invalidObject(target(info), name, [
        {
          field: 'metadata.resourceVersion',
          reason: 'FieldValueInvalid',
          message: 'metadata.resourceVersion: Invalid value: 0x0: must be specified for an update',
        },
      ]);
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
        throw invalidObject(target(info), name, [
          {
            field: 'metadata.finalizers',
            reason: 'FieldValueForbidden',
            message: `metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          },
        ]);
      }
    }
    let next: Obj;
    if (sub === 'status') {
      // Built-in kinds' status strategies reset only the spec, so metadata (labels,
      // annotations) written through /status is kept, as kube-apiserver does for Services;
      // a custom resource's /status keeps everything but the status.
      next = info.schema
        ? ({ ...old, status: body['status'] } as Obj)
        : ({ ...old, metadata: keepMeta, status: body['status'] } as Obj);
    } else {
      next = { ...withoutKeys(body as Obj, ['apiVersion', 'kind']), metadata: keepMeta } as Obj;
      if (info.hasStatus) {
        if (old['status'] !== undefined) next['status'] = old['status'];
        else delete next['status'];
      }
    }
    if (sub === 'status') {
      // A status write cannot change the spec: only the status rules apply.
      if (info.schema) next = admit(this.admission, info, next, old);
      else if (info.group === '' && info.resource === 'services') validateServiceStatus(info, next);
    } else if (info.group === '' && info.resource === 'services' && same(next['spec'], old['spec'])) {
      // Metadata-only change (labels, annotations, finalizers): allocations stay as they are.
    } else {
      next = admit(this.admission, info, next, old);
    }
    next = this.compat(info, next);
    const specChanged = !same(withoutKeys(next, ['metadata', 'status']), withoutKeys(old, ['metadata', 'status']));
    if (specChanged && sub !== 'status') next.metadata.generation = (old.metadata.generation ?? 1) + 1;
    else next.metadata.generation = old.metadata.generation ?? 1;
    const comparableOld = {
      ...old,
      metadata: withoutKeys(old.metadata as unknown as Obj, ['resourceVersion', 'managedFields']),
    };
    const comparableNew = {
      ...next,
      metadata: withoutKeys(next.metadata as unknown as Obj, ['resourceVersion', 'managedFields']),
    };
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

  patch(
    info: ResourceInfo,
    ns: string | undefined,
    name: string,
    type: PatchType,
    patch: unknown,
    sub?: 'status',
  ): Obj {
    const old = this.store.get(resourceKey(info), info.namespaced ? ns : undefined, name);
    if (!old) {
      if (type === 'apply') return this.create(info, ns, patch);
      throw notFound(target(info), name);
    }
    if (type === 'strategic' && info.schema) {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml`,
      );
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
      if (err instanceof PatchError)
        throw new ApiError(
          422,
          'Invalid',
          `the server rejected our request due to an error in our request: ${err.message}`,
        );
      throw err;
    }
    const patchMeta = isObj(patch) && isObj(patch['metadata']) ? patch['metadata'] : {};
    const body = result as Record<string, unknown>;
    const meta = { ...(isObj(body['metadata']) ? body['metadata'] : {}) };
    // Only a resourceVersion written in the patch itself is a precondition.
    if (typeof patchMeta['resourceVersion'] === 'string' && type !== 'json')
      meta['resourceVersion'] = patchMeta['resourceVersion'];
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
    if (
      (pre['uid'] !== undefined && pre['uid'] !== old.metadata.uid) ||
      (pre['resourceVersion'] !== undefined && pre['resourceVersion'] !== old.metadata.resourceVersion)
    ) {
      throw conflict(target(info), name);
    }
    if (info.group === '' && info.resource === 'namespaces') return this.deleteNamespace(info, old);
    if ((old.metadata.finalizers ?? []).length > 0) {
      if (old.metadata.deletionTimestamp) return this.present(info, old);
      const marked = this.store.put(key, {
        ...old,
        metadata: { ...old.metadata, deletionTimestamp: this.timestamp(), deletionGracePeriodSeconds: 0 },
      } as Obj);
      return this.present(info, marked);
    }
    const removed = this.finalize(info, old);
    return this.present(info, removed);
  }

  deleteCollection(info: ResourceInfo, ns: string | undefined, opts: ListOptions): Record<string, unknown> {
    const list = this.list(info, ns, {
      ...(opts.labelSelector !== undefined ? { labelSelector: opts.labelSelector } : {}),
      ...(opts.fieldSelector !== undefined ? { fieldSelector: opts.fieldSelector } : {}),
    });
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
  watch(
    info: ResourceInfo,
    ns: string | undefined,
    opts: WatchOptions,
    send: (e: WatchEvent) => void,
    close: () => void,
  ): WatchHandle {
    return this.reads.watch(info, ns, opts, send, close);
  }

  /** Ends every open watch (the client sees its stream close). */
  dropWatches(): number {
    return this.reads.dropWatches();
  }

  /** Forgets history and paging snapshots: older watches and continues get 410. */
  compact(): void {
    this.reads.compact();
  }
}

function randomSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  return [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}
