/**
 * From the speaker's cached objects to the inputs of its pure decisions (no I/O): the
 * configuration objects for `parseConfig`, the Services it is responsible for (the Service
 * rules shared with the controller, src/api/service.ts), endpoints per Service, and a Node's
 * addresses.
 */
import { SERVICE_NAME_LABEL } from '../src/api/names.js';
import { IP_ALLOCATED_FROM_POOL } from '../src/api/annotations.js';
import { API_VERSION } from '../src/api/group.js';
import { ingressIPs, responsibility, serviceKey, trafficPolicy, type ServiceObject } from '../src/api/service.js';
import { tryParseIP, type IP } from '../src/net/ip.js';
import type { EndpointInfo, ServiceInfo } from './desired.js';

interface Cached {
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly labels?: Readonly<Record<string, string>>;
  };
  readonly [field: string]: unknown;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** Herald's objects by kind, Nodes and Secrets, typed as `parseConfig` expects them. */
export function configObjects(
  herald: Iterable<readonly [string, readonly Cached[]]>,
  nodes: readonly Cached[],
  secrets: readonly Cached[],
): unknown[] {
  const objects: unknown[] = [];
  for (const [kind, list] of herald) for (const o of list) objects.push({ ...o, apiVersion: API_VERSION, kind });
  for (const n of nodes) objects.push({ ...n, apiVersion: 'v1', kind: 'Node' });
  for (const s of secrets) objects.push({ ...s, apiVersion: 'v1', kind: 'Secret' });
  return objects;
}

/** A Service this speaker announces (Herald's by type and class, and holding an address), else undefined. */
export function serviceInfo(
  s: ServiceObject,
  lbClass: string | undefined,
  key = serviceKey(s),
): ServiceInfo | undefined {
  if (!responsibility(s.spec, lbClass).yes) return undefined;
  const ips = ingressIPs(s.status);
  if (ips.length === 0) return undefined;
  const pool = s.metadata.annotations?.[IP_ALLOCATED_FROM_POOL];
  return {
    key,
    labels: s.metadata.labels ?? NO_LABELS,
    ips,
    ...(pool ? { pool } : {}),
    trafficPolicy: trafficPolicy(s.spec),
  };
}

/** The Services this speaker announces. */
export function servicesToAnnounce(services: readonly ServiceObject[], lbClass: string | undefined): ServiceInfo[] {
  const out: ServiceInfo[] = [];
  for (const s of services) {
    const info = serviceInfo(s, lbClass);
    if (info) out.push(info);
  }
  return out;
}

/** The Service (key) an EndpointSlice belongs to, and its endpoints (node, readiness); an endpoint without conditions is ready. */
export function sliceEndpoints(sl: Cached): { service: string; endpoints: EndpointInfo[] } | undefined {
  const svc = sl.metadata.labels?.[SERVICE_NAME_LABEL];
  if (!svc) return undefined;
  const service = serviceKey({
    metadata: { name: svc, ...(sl.metadata.namespace !== undefined ? { namespace: sl.metadata.namespace } : {}) },
  });
  const endpoints = (
    (sl['endpoints'] as { nodeName?: string; conditions?: { ready?: boolean } }[] | undefined) ?? []
  ).map((e) => ({ node: e.nodeName ?? '', ready: e.conditions?.ready !== false }));
  return { service, endpoints };
}

/** Endpoints per Service key, from EndpointSlices. */
export function endpointsByService(slices: readonly Cached[]): Map<string, EndpointInfo[]> {
  const endpoints = new Map<string, EndpointInfo[]>();
  for (const sl of slices) {
    const e = sliceEndpoints(sl);
    if (!e) continue;
    const list = endpoints.get(e.service);
    if (list) list.push(...e.endpoints);
    else endpoints.set(e.service, e.endpoints);
  }
  return endpoints;
}

type NodeAddress = { type: string; address: string };

function addressesOf(node: Cached | undefined): NodeAddress[] {
  return (node?.['status'] as { addresses?: NodeAddress[] } | undefined)?.addresses ?? [];
}

/** A Node's first InternalIP as written, how the membership reaches its speaker. */
export function internalIP(node: Cached | undefined): string | undefined {
  return addressesOf(node).find((a) => a.type === 'InternalIP')?.address;
}

/** What `os.networkInterfaces()` reports, reduced to what is read here. */
export type HostInterfaces = Readonly<
  Record<string, readonly { readonly address: string; readonly internal: boolean }[] | undefined>
>;

/**
 * A node's addresses, for the router ID (IPv4) and the next hop of the other family on
 * dual-stack sessions: its Node object's InternalIPs first (what the cluster knows it by;
 * host interfaces may include bridges with the same address on every node), else the
 * first non-internal host interface address of each family.
 */
export function nodeAddresses(node: Cached | undefined, host: HostInterfaces): { v4?: IP; v6?: IP } {
  const out: { v4?: IP; v6?: IP } = {};
  for (const a of addressesOf(node)) {
    if (a.type !== 'InternalIP') continue;
    const ip = tryParseIP(a.address);
    if (ip?.family === 'IPv4') out.v4 ??= ip;
    else if (ip?.family === 'IPv6') out.v6 ??= ip;
  }
  for (const addrs of Object.values(host)) {
    for (const a of addrs ?? []) {
      if (a.internal) continue;
      const ip = tryParseIP(a.address);
      if (ip?.family === 'IPv4') out.v4 ??= ip;
      else if (ip?.family === 'IPv6' && !a.address.toLowerCase().startsWith('fe80')) out.v6 ??= ip;
    }
  }
  return out;
}
