/**
 * The per-Service inputs of the speaker's decisions, kept from informer events (no I/O): each
 * Service it announces (serviceInfo) and its endpoints from all of its EndpointSlices, and
 * which Services changed since the last pass took them. An event that changes nothing the
 * decisions read (a resync, another field, a Service not Herald's) changes nothing here.
 */
import { serviceKey, type ServiceObject } from '../src/api/service.js';
import type { EndpointInfo, ServiceInfo } from './desired.js';
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

export class ServiceInputs {
  private readonly infos = new Map<string, ServiceInfo>();
  /** Service key -> slice key -> that slice's endpoints. */
  private readonly slicesOf = new Map<string, Map<string, readonly EndpointInfo[]>>();
  /** Slice key -> the Service it belongs to. */
  private readonly sliceService = new Map<string, string>();
  private readonly endpointsOf = new Map<string, readonly EndpointInfo[]>();
  private dirty = new Set<string>();

  constructor(private readonly lbClass: string | undefined) {}

  /** A Service added, updated or (`gone`) deleted; true when its decisions may change. */
  service(obj: ServiceObject, gone: boolean): boolean {
    const key = serviceKey(obj);
    const info = gone ? undefined : serviceInfo(obj, this.lbClass);
    if (sameInfo(this.infos.get(key), info)) return false;
    if (info) this.infos.set(key, info);
    else this.infos.delete(key);
    this.dirty.add(key);
    return true;
  }

  /** An EndpointSlice added, updated or (`gone`) deleted; true when a Service's endpoints changed. */
  slice(obj: Slice, gone: boolean): boolean {
    const sliceKey = serviceKey(obj);
    const now = gone ? undefined : sliceEndpoints(obj);
    const before = this.sliceService.get(sliceKey);
    let changed = false;
    if (before !== undefined && before !== now?.service) changed = this.setSlice(before, sliceKey, undefined);
    if (now) {
      this.sliceService.set(sliceKey, now.service);
      changed = this.setSlice(now.service, sliceKey, now.endpoints) || changed;
    } else this.sliceService.delete(sliceKey);
    return changed;
  }

  private setSlice(service: string, sliceKey: string, endpoints: readonly EndpointInfo[] | undefined): boolean {
    let slices = this.slicesOf.get(service);
    const old = slices?.get(sliceKey);
    if (old === undefined && endpoints === undefined) return false;
    if (old !== undefined && endpoints !== undefined && sameEndpoints(old, endpoints)) return false;
    if (endpoints) {
      if (!slices) this.slicesOf.set(service, (slices = new Map()));
      slices.set(sliceKey, endpoints);
    } else {
      slices?.delete(sliceKey);
      if (slices?.size === 0) this.slicesOf.delete(service);
    }
    this.endpointsOf.delete(service);
    this.dirty.add(service);
    return true;
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
    let eps = this.endpointsOf.get(key);
    if (eps) return eps;
    const slices = this.slicesOf.get(key);
    if (!slices) return NONE;
    eps = slices.size === 1 ? [...slices.values()][0]! : [...slices.values()].flat();
    this.endpointsOf.set(key, eps);
    return eps;
  }
}
