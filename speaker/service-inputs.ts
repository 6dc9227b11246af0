/**
 * The per-Service inputs of the speaker's decisions, kept from informer events (no I/O): each
 * Service it announces (serviceInfo) and its endpoints from all of its EndpointSlices, and
 * which Services changed since the last pass took them. An event that changes nothing the
 * decisions read (a resync, another field, a Service not Herald's) changes nothing here.
 */
import { serviceKey, type ServiceObject } from '../src/api/service.js';
import { DesiredIndex } from './desired-index.js';
import {
  contextKey,
  sameServiceDesired,
  serviceDesired,
  type DesiredContext,
  type EndpointInfo,
  type ServiceInfo,
} from './desired.js';
import { serviceInfo, sliceEndpoints } from './inputs.js';

type Slice = Parameters<typeof sliceEndpoints>[0];

function sameInfo(a: ServiceInfo | undefined, b: ServiceInfo | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.pool === b.pool &&
    a.trafficPolicy === b.trafficPolicy &&
    a.ips.length === b.ips.length &&
    a.ips.every((ip, i) => ip.family === b.ips[i]!.family && ip.value === b.ips[i]!.value) &&
    JSON.stringify(Object.entries(a.labels).sort()) === JSON.stringify(Object.entries(b.labels).sort())
  );
}

function sameEndpoints(a: readonly EndpointInfo[], b: readonly EndpointInfo[]): boolean {
  return a.length === b.length && a.every((e, i) => e.node === b[i]!.node && e.ready === b[i]!.ready);
}

const NONE: readonly EndpointInfo[] = [];

/** Endpoints are shared objects, one per node and readiness (100k Services hold them), never changed. */
const ENDPOINTS = new Map<string, EndpointInfo>();
function endpoint(e: EndpointInfo): EndpointInfo {
  const key = `${e.ready ? '+' : '-'}${e.node}`;
  let have = ENDPOINTS.get(key);
  if (!have) {
    if (ENDPOINTS.size >= 100_000) ENDPOINTS.clear();
    ENDPOINTS.set(key, (have = e));
  }
  return have;
}

interface SliceEndpoints {
  readonly service: string;
  readonly endpoints: readonly EndpointInfo[];
}

export class ServiceInputs {
  private readonly infos = new Map<string, ServiceInfo>();
  /** Slice key -> its Service and endpoints. */
  private readonly slices = new Map<string, SliceEndpoints>();
  /** Service key -> its slice's key, or keys when it has several (most have one: no collection each). */
  private readonly slicesOf = new Map<string, string | string[]>();
  /** Endpoints of Services with several slices, joined once. */
  private readonly joined = new Map<string, readonly EndpointInfo[]>();
  private dirty = new Set<string>();

  constructor(private readonly lbClass: string | undefined) {}

  /** A Service added, updated or (`gone`) deleted; true when its decisions may change. */
  service(obj: ServiceObject, gone: boolean): boolean {
    const key = this.canonical(serviceKey(obj));
    const info = gone ? undefined : serviceInfo(obj, this.lbClass, key);
    if (sameInfo(this.infos.get(key), info)) return false;
    if (info) this.infos.set(key, info);
    else this.infos.delete(key);
    this.dirty.add(key);
    return true;
  }

  /** An EndpointSlice added, updated or (`gone`) deleted; true when a Service's endpoints changed. */
  slice(obj: Slice, gone: boolean): boolean {
    const sliceKey = serviceKey(obj);
    const e = gone ? undefined : sliceEndpoints(obj);
    const now = e && { service: this.canonical(e.service), endpoints: e.endpoints.map(endpoint) };
    const before = this.slices.get(sliceKey);
    if (before && now && before.service === now.service && sameEndpoints(before.endpoints, now.endpoints)) return false;
    if (!before && !now) return false;
    if (before) {
      this.slices.delete(sliceKey);
      this.unlink(before.service, sliceKey);
    }
    if (now) {
      this.slices.set(sliceKey, now);
      this.link(now.service, sliceKey);
    }
    return true;
  }

  /** The key string already kept for this Service, so 100k Services keep one copy each. */
  private canonical(key: string): string {
    return this.infos.get(key)?.key ?? this.slices.get(this.firstSlice(key) ?? '')?.service ?? key;
  }

  private firstSlice(service: string): string | undefined {
    const of = this.slicesOf.get(service);
    return typeof of === 'string' ? of : of?.[0];
  }

  private link(service: string, sliceKey: string): void {
    const have = this.slicesOf.get(service);
    if (have === undefined) this.slicesOf.set(service, sliceKey);
    else if (typeof have === 'string') this.slicesOf.set(service, [have, sliceKey]);
    else have.push(sliceKey);
    this.changed(service);
  }

  private unlink(service: string, sliceKey: string): void {
    const have = this.slicesOf.get(service);
    if (have === sliceKey) this.slicesOf.delete(service);
    else if (Array.isArray(have)) {
      const rest = have.filter((k) => k !== sliceKey);
      this.slicesOf.set(service, rest.length === 1 ? rest[0]! : rest);
    }
    this.changed(service);
  }

  private changed(service: string): void {
    this.joined.delete(service);
    this.dirty.add(service);
  }

  /** The Services whose inputs changed since the last call. */
  takeDirty(): Set<string> {
    const d = this.dirty;
    this.dirty = new Set();
    return d;
  }

  /** The Services this speaker announces now. */
  keys(): IterableIterator<string> {
    return this.infos.keys();
  }

  info(key: string): ServiceInfo | undefined {
    return this.infos.get(key);
  }

  /** All endpoints of a Service, over its slices. */
  endpoints(key: string): readonly EndpointInfo[] {
    const of = this.slicesOf.get(key);
    if (of === undefined) return NONE;
    if (typeof of === 'string') return this.slices.get(of)?.endpoints ?? NONE;
    let eps = this.joined.get(key);
    if (!eps) this.joined.set(key, (eps = of.flatMap((k) => this.slices.get(k)?.endpoints ?? NONE)));
    return eps;
  }
}

/** What one update of the desired state did. */
export interface DesiredUpdate {
  /** The Services recomputed. */
  readonly changed: ReadonlySet<string>;
  /** Every Service was recomputed: the context changed, or (`fromScratch`) there was none to compare with. */
  readonly all: boolean;
  /** No earlier context: the first update, one after a failed update, or after invalidate() (the safety net). */
  readonly fromScratch: boolean;
}

/**
 * The desired state kept per Service between passes (decision 016): the inputs from events,
 * the index of every Service's part, and the context of the last update. An update recomputes
 * the Services whose inputs changed, or every Service when the context did.
 */
export class PerServiceDesired {
  readonly inputs: ServiceInputs;
  readonly index = new DesiredIndex();
  /** contextKey() at the last update (undefined: recompute every Service). */
  private context: string | undefined;

  constructor(lbClass: string | undefined) {
    this.inputs = new ServiceInputs(lbClass);
  }

  /** The next update recomputes every Service, as if an event had been missed. */
  invalidate(): void {
    this.context = undefined;
  }

  /**
   * Recomputes; a Service gone or no longer announced is removed, and one whose result says
   * the same keeps its old part, so what follows sees nothing changed. Lets the event loop run
   * every `yieldEvery` Services; what changes meanwhile is recomputed at the next update.
   */
  async update(ctx: DesiredContext, yieldEvery = Infinity): Promise<DesiredUpdate> {
    const key = contextKey(ctx);
    const fromScratch = this.context === undefined;
    const all = key !== this.context;
    let changed = this.inputs.takeDirty();
    if (all) changed = new Set([...changed, ...this.index.keys(), ...this.inputs.keys()]);
    // Until every Service is recomputed, a failed update must recompute them all again.
    this.context = undefined;
    let n = 0;
    for (const service of changed) {
      const info = this.inputs.info(service);
      const part = info ? serviceDesired(ctx, info, this.inputs.endpoints(service)) : undefined;
      const old = this.index.get(service);
      this.index.set(service, part && old && sameServiceDesired(old, part) ? old : part);
      if (++n % yieldEvery === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    this.context = key;
    return { changed, all, fromScratch };
  }
}
