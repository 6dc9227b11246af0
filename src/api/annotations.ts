/**
 * Service annotations Herald reads and writes. Each request annotation has MetalLB
 * aliases (metallb.io/ and the older metallb.universe.tf/) that Herald honours too, so a
 * MetalLB user's Services keep working; Herald's own name wins when both are set.
 */

/** Ask for a pool by name. */
export const ADDRESS_POOL = 'herald.dev/address-pool';
/** Ask for addresses: a comma-separated list, at most one per family. */
export const LOAD_BALANCER_IPS = 'herald.dev/load-balancer-ips';
/** Sharing key: Services with the same key may share an IP. */
export const ALLOW_SHARED_IP = 'herald.dev/allow-shared-ip';
/** Written by the controller: the pool the Service's addresses came from. */
export const IP_ALLOCATED_FROM_POOL = 'herald.dev/ip-allocated-from-pool';

/** Herald's request annotation → the MetalLB names that mean the same. */
export const METALLB_ALIASES: Readonly<Record<string, readonly string[]>> = {
  [ADDRESS_POOL]: ['metallb.io/address-pool', 'metallb.universe.tf/address-pool'],
  [LOAD_BALANCER_IPS]: ['metallb.io/loadBalancerIPs', 'metallb.universe.tf/loadBalancerIPs'],
  [ALLOW_SHARED_IP]: ['metallb.io/allow-shared-ip', 'metallb.universe.tf/allow-shared-ip'],
};

export interface AnnotationValue {
  readonly value: string;
  /** The annotation the value came from (Herald's or a MetalLB alias). */
  readonly from: string;
}

/** Reads a request annotation, Herald's name first, then its MetalLB aliases. */
export function readAnnotation(
  annotations: Readonly<Record<string, string>> | undefined,
  name: string,
): AnnotationValue | undefined {
  if (!annotations) return undefined;
  for (const key of [name, ...(METALLB_ALIASES[name] ?? [])]) {
    const v = annotations[key];
    if (v !== undefined) return { value: v, from: key };
  }
  return undefined;
}

export const SERVICE_CONDITION_ADDRESS_ASSIGNED = 'herald.dev/AddressAssigned';
