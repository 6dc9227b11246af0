/**
 * The readonly internal model that src/config builds from API objects. Everything here is
 * already validated: addresses parsed, durations in seconds, references resolved.
 */
import type { CIDR, IPRange } from '../net/cidr.js';
import type { IP } from '../net/ip.js';
import type { CommunityValue } from './community.js';
import type { LabelSelector, Labels } from './label-selector.js';

export interface ObjectMeta {
  readonly name: string;
  readonly namespace?: string;
  readonly labels: Labels;
  readonly annotations: Readonly<Record<string, string>>;
  readonly creationTimestamp?: string;
  readonly generation?: number;
}

export interface ServiceAllocation {
  /** Lower is preferred; undefined sorts last. */
  readonly priority?: number;
  readonly namespaces: readonly string[];
  readonly namespaceSelectors: readonly LabelSelector[];
  readonly serviceSelectors: readonly LabelSelector[];
}

export interface Pool {
  readonly meta: ObjectMeta;
  readonly name: string;
  /** In the order written; one family each. */
  readonly ranges: readonly IPRange[];
  /** The same addresses as CIDRs (a `start-end` range becomes its covering CIDR list). */
  readonly cidrs: readonly CIDR[];
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly serviceAllocation?: ServiceAllocation;
}

export interface PreferredNodeSelector {
  readonly weight: number;
  readonly preference: LabelSelector;
}

export interface L2Advertisement {
  readonly meta: ObjectMeta;
  readonly name: string;
  readonly ipAddressPools: readonly string[];
  readonly ipAddressPoolSelectors: readonly LabelSelector[];
  readonly nodeSelectors: readonly LabelSelector[];
  readonly preferredNodeSelectors: readonly PreferredNodeSelector[];
  readonly interfaces: readonly string[];
  readonly serviceSelectors: readonly LabelSelector[];
}

export interface BgpAdvertisement {
  readonly meta: ObjectMeta;
  readonly name: string;
  readonly aggregationLength: number;
  readonly aggregationLengthV6: number;
  readonly localPref?: number;
  /** Resolved values (aliases replaced), de-duplicated. */
  readonly communities: readonly CommunityValue[];
  readonly ipAddressPools: readonly string[];
  readonly ipAddressPoolSelectors: readonly LabelSelector[];
  readonly nodeSelectors: readonly LabelSelector[];
  readonly peers: readonly string[];
  readonly serviceSelectors: readonly LabelSelector[];
}

export type DynamicASN = 'internal' | 'external';

export type PeerPassword =
  | { readonly kind: 'none' }
  | { readonly kind: 'plain'; readonly value: string }
  | { readonly kind: 'secret'; readonly name: string; readonly namespace: string; readonly value?: string };

export interface Peer {
  readonly meta: ObjectMeta;
  readonly name: string;
  readonly myASN: number;
  readonly peerASN?: number;
  readonly dynamicASN?: DynamicASN;
  readonly peerAddress: IP;
  readonly sourceAddress?: IP;
  readonly peerPort: number;
  /** Seconds; 0 disables keepalives and the hold timer. */
  readonly holdTime: number;
  readonly keepaliveTime: number;
  readonly connectTime: number;
  readonly routerID?: IP;
  readonly nodeSelectors: readonly LabelSelector[];
  readonly password: PeerPassword;
  readonly bfdProfile?: string;
  readonly enableGracefulRestart: boolean;
  readonly passive: boolean;
  readonly ebgpMultiHop: boolean;
  readonly vrf: string;
  readonly disableMP: boolean;
  readonly dualStackAddressFamily: boolean;
}

export interface BfdProfile {
  readonly meta: ObjectMeta;
  readonly name: string;
  readonly receiveInterval: number;
  readonly transmitInterval: number;
  readonly detectMultiplier: number;
  readonly echoInterval: number;
  readonly echoMode: boolean;
  readonly passiveMode: boolean;
  readonly minimumTtl: number;
}

export interface CommunityAlias {
  readonly name: string;
  readonly value: CommunityValue;
  /** The Community object that defines it. */
  readonly definedIn: string;
}

export interface NodeInfo {
  readonly name: string;
  readonly labels: Labels;
  readonly networkUnavailable: boolean;
  readonly excludedFromLoadBalancers: boolean;
}

export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Labels;
}

export interface SecretInfo {
  readonly name: string;
  readonly namespace: string;
  readonly type: string;
  /** Decoded values of data (base64) merged with stringData. */
  readonly data: Readonly<Record<string, string>>;
}

export interface Config {
  readonly pools: ReadonlyMap<string, Pool>;
  readonly l2Advertisements: ReadonlyMap<string, L2Advertisement>;
  readonly bgpAdvertisements: ReadonlyMap<string, BgpAdvertisement>;
  readonly peers: ReadonlyMap<string, Peer>;
  readonly bfdProfiles: ReadonlyMap<string, BfdProfile>;
  readonly communities: ReadonlyMap<string, CommunityAlias>;
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  readonly namespaces: ReadonlyMap<string, NamespaceInfo>;
  /** Keyed `namespace/name`. */
  readonly secrets: ReadonlyMap<string, SecretInfo>;
}
