/** What the allocator is asked, and what it answers. Plain data: no Kubernetes types. */
import type { Labels } from '../../src/config/label-selector.js';
import type { IP, IPFamily } from '../../src/net/ip.js';

export type FamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
export type TrafficPolicy = 'Cluster' | 'Local';

export interface PortKey {
  readonly protocol: string;
  readonly port: number;
}

/** A LoadBalancer Service, as far as IP assignment cares. */
export interface ServiceRequest {
  /** `namespace/name`. */
  readonly key: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly namespaceLabels: Labels;
  /** spec.ipFamilies in order; the first is the primary family. */
  readonly families: readonly IPFamily[];
  readonly familyPolicy: FamilyPolicy;
  /** spec.loadBalancerIP or the load-balancer-ips annotation; at most one per family. */
  readonly requestedIPs: readonly IP[];
  /** The address-pool annotation. */
  readonly requestedPool?: string;
  /** The allow-shared-ip annotation. */
  readonly sharingKey?: string;
  readonly ports: readonly PortKey[];
  readonly trafficPolicy: TrafficPolicy;
  /** spec.selector, compared for Local-policy sharing. */
  readonly selector: Readonly<Record<string, string>>;
}

export type FailureReason =
  | 'PoolExhausted'
  | 'NoMatchingPool'
  | 'PoolNotFound'
  /** The pool exists but its configuration was refused. */
  | 'PoolInvalid'
  | 'RequestedIPInUse'
  | 'RequestedIPNotInPool'
  | 'SharingKeyMismatch'
  | 'PortConflict'
  | 'PolicyMismatch'
  | 'FamilyUnavailable'
  | 'InvalidRequest';

export interface Assignment {
  readonly ips: readonly IP[];
  readonly pool: string;
}

export interface FamilyStats {
  /** Distinct addresses in use. */
  readonly assigned: bigint;
  /** Addresses still free (excluding .0/.255 when the pool avoids them). */
  readonly available: bigint;
}

export interface PoolStats {
  readonly IPv4: FamilyStats;
  readonly IPv6: FamilyStats;
}
