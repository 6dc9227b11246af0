/**
 * What this node's Service status objects should say, computed from one pass's desired
 * state (pure): object name -> its status as sorted JSON, per kind. The writer
 * (service-status.ts) makes the cluster match it in the background.
 */
import type { DesiredState } from './desired.js';
import { sortedJson } from './views.js';

/**
 * How a speaker reports what it announces over BGP: `per-node`, BGPNodeStatus shards (the
 * default; bgp-node-status.ts), or `per-service`, MetalLB's ServiceBGPStatus per Service and
 * node (for tooling written against it; Services x nodes under ~50,000).
 */
export type ServiceStatusMode = 'per-node' | 'per-service';
export const SERVICE_STATUS_MODES = ['per-node', 'per-service'] as const satisfies readonly ServiceStatusMode[];

export function dnsName(...parts: string[]): string {
  return parts
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 253);
}

/** Per kind (ServiceL2Status, ServiceBGPStatus, ...): object name -> status text. */
export type StatusSet = ReadonlyMap<string, ReadonlyMap<string, string>>;

/**
 * ServiceL2Status per Service answered via Layer 2: with the interfaces it is answered on
 * (`l2Owned`, IP -> interfaces, what the engine really answers), and not at all while none
 * of its IPs is answered.
 */
export function l2StatusObjects(
  node: string,
  l2Services: readonly string[],
  desired: Pick<DesiredState, 'l2'>,
  l2Owned: ReadonlyMap<string, readonly string[]>,
): Map<string, string> {
  // Interfaces per Service in one pass over the owned IPs (not one per Service: 10k Services).
  const interfacesOf = new Map<string, Set<string>>();
  for (const [ip, v] of desired.l2) {
    const on = l2Owned.get(ip);
    if (!on) continue;
    for (const svc of v.services) {
      let set = interfacesOf.get(svc);
      if (!set) interfacesOf.set(svc, (set = new Set()));
      for (const i of on) set.add(i);
    }
  }
  const out = new Map<string, string>();
  for (const svc of new Set(l2Services)) {
    const on = interfacesOf.get(svc);
    if (!on) continue;
    const [ns, name] = svc.split('/') as [string, string];
    out.set(
      dnsName('l2', ns, name, node),
      sortedJson({
        node,
        serviceName: name,
        serviceNamespace: ns,
        interfaces: [...on].sort().map((i) => ({ name: i })),
      }),
    );
  }
  return out;
}

/** The peers that get routes from this node (sorted): what every BGP status names. */
export function peersWithRoutes(desired: Pick<DesiredState, 'bgp'>): string[] {
  return [...desired.bgp]
    .filter(([, routes]) => routes.length > 0)
    .map(([p]) => p)
    .sort();
}

/** ServiceBGPStatus per Service announced via BGP (`--service-status=per-service`, MetalLB's shape). */
export function bgpServiceStatusObjects(
  node: string,
  bgpServices: readonly string[],
  desired: Pick<DesiredState, 'bgp'>,
): Map<string, string> {
  const peers = peersWithRoutes(desired);
  const out = new Map<string, string>();
  for (const svc of new Set(bgpServices)) {
    const [ns, name] = svc.split('/') as [string, string];
    out.set(dnsName('bgp', ns, name, node), sortedJson({ node, serviceName: name, serviceNamespace: ns, peers }));
  }
  return out;
}
