/**
 * A Service object read at the boundary into what the controller needs: whether Herald is
 * responsible for it, its allocation request, and the addresses its status already shows.
 * Bad input (an unparsable annotation) becomes a reason, never a throw.
 */
import {
  ADDRESS_POOL,
  ALLOW_SHARED_IP,
  IP_ALLOCATED_FROM_POOL,
  LOAD_BALANCER_IPS,
  SERVICE_CONDITION_ADDRESS_ASSIGNED,
  readAnnotation,
} from '../src/api/annotations.js';
import {
  ingressIPs,
  responsibility,
  serviceKey,
  trafficPolicy,
  type NotResponsible,
  type ServiceObject,
} from '../src/api/service.js';
import type { Labels } from '../src/config/label-selector.js';
import { tryParseIP, type IP, type IPFamily } from '../src/net/ip.js';
import type { FamilyPolicy, ServiceRequest } from './allocator/types.js';

/** Why the controller leaves a Service alone: the shared rules' reasons, or the Service is being deleted. */
export type Unmanaged = NotResponsible | 'deleted';

export interface ServiceView {
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly managed: { readonly yes: true } | { readonly yes: false; readonly reason: Unmanaged };
  /** The allocation request, or why it cannot be made. */
  readonly request: ServiceRequest | { readonly invalid: string };
  /** Addresses in status.loadBalancer.ingress (unparsable entries left out). */
  readonly currentIPs: readonly IP[];
  /** The ip-allocated-from-pool annotation. */
  readonly currentPool?: string;
  /** Herald's AddressAssigned condition is in the status (Herald's clean-up removes it before the annotation). */
  readonly heraldCondition: boolean;
  /** MetalLB annotations the Service uses (Herald honours them). */
  readonly metallbAnnotations: readonly string[];
}

function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

export function viewService(svc: ServiceObject, namespaceLabels: Labels, opts: { lbClass?: string }): ServiceView {
  const namespace = svc.metadata.namespace ?? 'default';
  const key = serviceKey(svc);
  const spec = svc.spec ?? {};
  const annotations = svc.metadata.annotations ?? {};
  const currentIPs = ingressIPs(svc.status);
  const currentPool = annotations[IP_ALLOCATED_FROM_POOL];
  const managed: ServiceView['managed'] = svc.metadata.deletionTimestamp
    ? { yes: false, reason: 'deleted' }
    : responsibility(spec, opts.lbClass);

  const metallb: string[] = [];
  const pool = readAnnotation(annotations, ADDRESS_POOL);
  const ipsAnn = readAnnotation(annotations, LOAD_BALANCER_IPS);
  const share = readAnnotation(annotations, ALLOW_SHARED_IP);
  for (const a of [pool, ipsAnn, share]) if (a && !a.from.startsWith('herald.dev/')) metallb.push(a.from);

  const base = {
    key,
    namespace,
    name: svc.metadata.name,
    managed,
    currentIPs,
    heraldCondition: (svc.status?.conditions ?? []).some(
      (c) => (c as { type?: unknown } | null)?.type === SERVICE_CONDITION_ADDRESS_ASSIGNED,
    ),
    ...(currentPool !== undefined ? { currentPool } : {}),
    metallbAnnotations: metallb,
  };
  const invalid = (why: string): ServiceView => ({ ...base, request: { invalid: why } });

  const requestedText: string[] = [];
  if (ipsAnn) requestedText.push(...splitList(ipsAnn.value));
  if (spec.loadBalancerIP) {
    if (requestedText.length > 0 && !requestedText.includes(spec.loadBalancerIP)) {
      return invalid(
        `spec.loadBalancerIP ${spec.loadBalancerIP} disagrees with annotation ${ipsAnn!.from} "${ipsAnn!.value}"`,
      );
    }
    if (requestedText.length === 0) requestedText.push(spec.loadBalancerIP);
  }
  const requestedIPs: IP[] = [];
  for (const t of requestedText) {
    const ip = tryParseIP(t);
    if (!ip)
      return invalid(
        `${ipsAnn && ipsAnn.value.includes(t) ? `annotation ${ipsAnn.from}` : 'spec.loadBalancerIP'}: "${t}" is not an IP address`,
      );
    requestedIPs.push(ip);
  }
  const families = (spec.ipFamilies ?? []).filter((f): f is IPFamily => f === 'IPv4' || f === 'IPv6');
  const policy = (spec.ipFamilyPolicy ?? 'SingleStack') as FamilyPolicy;
  if (!['SingleStack', 'PreferDualStack', 'RequireDualStack'].includes(policy))
    return invalid(`spec.ipFamilyPolicy "${policy}" is not supported`);
  if (pool && pool.value.trim() === '') return invalid(`annotation ${pool.from} is empty`);
  const request: ServiceRequest = {
    key,
    namespace,
    labels: svc.metadata.labels ?? {},
    namespaceLabels,
    families: families.length > 0 ? families : requestedIPs.length > 0 ? requestedIPs.map((ip) => ip.family) : ['IPv4'],
    familyPolicy: policy,
    requestedIPs,
    ...(pool ? { requestedPool: pool.value.trim() } : {}),
    ...(share && share.value.trim() !== '' ? { sharingKey: share.value.trim() } : {}),
    ports: (spec.ports ?? []).map((p) => ({ protocol: p.protocol ?? 'TCP', port: p.port ?? 0 })),
    trafficPolicy: trafficPolicy(spec),
    selector: spec.selector ?? {},
  };
  return { ...base, request };
}
