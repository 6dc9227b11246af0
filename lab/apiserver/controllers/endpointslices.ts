/**
 * The EndpointSlice controller's decision, as a pure function: for a Service with a selector
 * and the Pods of its namespace, the slices kube-controller-manager would keep — one per
 * address family of the Service, endpoints for Pods that have an address of that family
 * (ready / serving / terminating conditions, nodeName, targetRef), ports resolved from
 * targetPort (a name is looked up in the Pod's container ports).
 */
import { createHash } from 'node:crypto';
import type { Obj } from '../store.js';
import { SERVICE_NAME_LABEL } from '../../../src/api/names.js';

export const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const SERVICE_NAME = SERVICE_NAME_LABEL;

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? (v as Rec[]) : []);

/** True when every selector label is on the Pod (Services select by equality only). */
export function selects(
  selector: Readonly<Record<string, string>>,
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

function familyOf(ip: string): 'IPv4' | 'IPv6' {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

function podReady(pod: Obj): boolean {
  return arr(rec(pod['status'])['conditions']).some((c) => c['type'] === 'Ready' && c['status'] === 'True');
}

function podIPs(pod: Obj): string[] {
  const st = rec(pod['status']);
  const ips = arr(st['podIPs'])
    .map((p) => String(p['ip'] ?? ''))
    .filter((ip) => ip !== '');
  if (ips.length === 0 && typeof st['podIP'] === 'string' && st['podIP'] !== '') ips.push(st['podIP']);
  return ips;
}

/** The numeric port a Service port's targetPort means on `pod`, if any. */
function targetPortOn(sp: Rec, pod: Obj): number | undefined {
  const t = sp['targetPort'] ?? sp['port'];
  if (typeof t === 'number') return t;
  if (typeof t === 'string' && /^\d+$/.test(t)) return Number(t);
  for (const c of arr(rec(pod['spec'])['containers'])) {
    for (const p of arr(c['ports']))
      if (p['name'] === t && typeof p['containerPort'] === 'number') return p['containerPort'];
  }
  return undefined;
}

/** The name of a Service's slice for one family: stable, so reconciling updates in place. */
export function sliceName(service: string, family: string): string {
  const suffix = createHash('sha256').update(`${service}/${family}`).digest('hex').slice(0, 5);
  return `${service.slice(0, 56)}-${suffix}`;
}

/** The slices a Service should have (empty for a Service without a selector: those are the user's). */
export function desiredSlices(service: Obj, pods: readonly Obj[]): Obj[] {
  const spec = rec(service['spec']);
  const selector = rec(spec['selector']) as Record<string, string>;
  if (Object.keys(selector).length === 0 || spec['type'] === 'ExternalName') return [];
  const ns = service.metadata.namespace ?? 'default';
  const publishNotReady = spec['publishNotReadyAddresses'] === true;
  const families = arr(spec['ipFamilies']).length > 0 ? (spec['ipFamilies'] as unknown as string[]) : ['IPv4'];
  const selected = pods
    .filter((p) => p.metadata.namespace === ns && selects(selector, p.metadata.labels))
    .filter((p) => !['Succeeded', 'Failed'].includes(String(rec(p['status'])['phase'] ?? '')))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const servicePorts = arr(spec['ports']);
  return families.map((family) => {
    const endpoints: Rec[] = [];
    let ports: Rec[] | undefined;
    for (const pod of selected) {
      const ips = podIPs(pod).filter((ip) => familyOf(ip) === family);
      if (ips.length === 0) continue;
      const resolved = servicePorts.map((sp) => ({ sp, port: targetPortOn(sp, pod) }));
      if (resolved.some((r) => r.port === undefined)) continue;
      ports ??= resolved.map((r) => ({
        ...(r.sp['name'] ? { name: r.sp['name'] } : { name: '' }),
        port: r.port,
        protocol: r.sp['protocol'] ?? 'TCP',
        ...(r.sp['appProtocol'] ? { appProtocol: r.sp['appProtocol'] } : {}),
      }));
      const terminating = pod.metadata.deletionTimestamp !== undefined;
      const ready = podReady(pod);
      const nodeName = rec(pod['spec'])['nodeName'];
      endpoints.push({
        addresses: [ips[0]],
        conditions: { ready: publishNotReady || (ready && !terminating), serving: ready, terminating },
        ...(typeof nodeName === 'string' && nodeName !== '' ? { nodeName } : {}),
        targetRef: { kind: 'Pod', namespace: ns, name: pod.metadata.name, uid: pod.metadata.uid },
      });
    }
    return {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: sliceName(service.metadata.name, family),
        namespace: ns,
        labels: { [SERVICE_NAME]: service.metadata.name, [MANAGED_BY]: CONTROLLER_NAME },
        ownerReferences: [
          {
            apiVersion: 'v1',
            kind: 'Service',
            name: service.metadata.name,
            uid: service.metadata.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      addressType: family,
      endpoints,
      ports:
        ports ??
        servicePorts.map((sp) => ({
          name: sp['name'] ?? '',
          port: typeof sp['targetPort'] === 'number' ? sp['targetPort'] : sp['port'],
          protocol: sp['protocol'] ?? 'TCP',
        })),
    } as unknown as Obj;
  });
}
