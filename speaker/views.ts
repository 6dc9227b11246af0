/**
 * What the speaker keeps of the objects it caches (informer transforms): with 10k Services
 * the full objects (ports, selectors, cluster IPs, managed fields, every endpoint address)
 * were most of its memory, and it reads a handful of fields.
 */
import { SERVICE_NAME_LABEL } from '../src/api/names.js';
import { IP_ALLOCATED_FROM_POOL } from '../src/api/annotations.js';
import type { KubeObject } from '../src/k8s/index.js';

/** The label an EndpointSlice names its Service by. */

/**
 * Strings few distinct values share (namespaces, types, policies, pools, node names), one copy
 * each: parsed from JSON, every object has its own (100k Services held 100k "LoadBalancer").
 */
const STRINGS = new Map<string, string>();
function shared<T extends string | undefined>(s: T): T {
  if (s === undefined) return s;
  const have = STRINGS.get(s);
  if (have !== undefined) return have as T;
  if (STRINGS.size >= 10_000) STRINGS.clear();
  STRINGS.set(s, s);
  return s;
}

const READY = { true: { ready: true }, false: { ready: false } } as const;

function meta(o: KubeObject, extra: Partial<KubeObject['metadata']> = {}): KubeObject['metadata'] {
  const m = o.metadata;
  return {
    name: m.name,
    ...(m.namespace !== undefined ? { namespace: shared(m.namespace) } : {}),
    ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
    ...extra,
  };
}

/** A Service: its uid (Events name it), labels, the pool annotation, type, class, traffic policy and ingress IPs. */
export function serviceView(o: KubeObject): KubeObject {
  const spec = (o['spec'] ?? {}) as { type?: string; loadBalancerClass?: string; externalTrafficPolicy?: string };
  const ingress = (
    (o['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress ?? []
  )
    .filter((i) => i.ip !== undefined)
    .map((i) => ({ ip: i.ip }));
  const pool = o.metadata.annotations?.[IP_ALLOCATED_FROM_POOL];
  return {
    metadata: meta(o, {
      ...(o.metadata.uid !== undefined ? { uid: o.metadata.uid } : {}),
      ...(o.metadata.labels ? { labels: o.metadata.labels } : {}),
      ...(pool !== undefined ? { annotations: { [IP_ALLOCATED_FROM_POOL]: shared(pool) } } : {}),
    }),
    spec: {
      ...(spec.type !== undefined ? { type: shared(spec.type) } : {}),
      ...(spec.loadBalancerClass != null ? { loadBalancerClass: shared(spec.loadBalancerClass) } : {}),
      ...(spec.externalTrafficPolicy !== undefined
        ? { externalTrafficPolicy: shared(spec.externalTrafficPolicy) }
        : {}),
    },
    status: { loadBalancer: { ingress } },
  };
}

/** An EndpointSlice: its Service and, per endpoint, the node and readiness. */
export function endpointSliceView(o: KubeObject): KubeObject {
  const svc = o.metadata.labels?.[SERVICE_NAME_LABEL];
  const endpoints = (
    (o['endpoints'] as { nodeName?: string; conditions?: { ready?: boolean } }[] | undefined) ?? []
  ).map((e) => ({
    ...(e.nodeName !== undefined ? { nodeName: shared(e.nodeName) } : {}),
    ...(e.conditions?.ready !== undefined ? { conditions: READY[e.conditions.ready ? 'true' : 'false'] } : {}),
  }));
  return { metadata: meta(o, svc !== undefined ? { labels: { [SERVICE_NAME_LABEL]: svc } } : {}), endpoints };
}

/**
 * JSON text with every object's keys sorted: the form in which the speaker compares a status
 * the server keeps with the one it wants written. kube-apiserver hands a custom resource back
 * with its keys sorted (Go encodes maps that way), whatever order they were sent in; compared
 * as sent, no stored status ever matched, and every sync rewrote every status object.
 */
export function sortedJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    x !== null && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(
          Object.entries(x as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : x,
  );
}

/**
 * One of this speaker's own status objects (ServiceL2Status, ServiceBGPStatus): its status
 * as sorted JSON text, which is what the speaker compares with the status it wants written.
 */
export function ownStatusView(o: KubeObject): KubeObject {
  return { metadata: meta(o), statusText: sortedJson(o['status'] ?? {}) };
}
