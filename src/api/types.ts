/**
 * TypeScript mirrors of the CRDs in crds/*.yaml, which are the source of truth.
 * test/unit/api/drift.test.ts fails when a schema field has no counterpart here or the
 * reverse, or when required-ness differs.
 */
import type { ConditionsStatus, HeraldObject, LabelSelector } from './meta.js';

// ---- IPAddressPool
export interface ServiceAllocation {
  priority?: number;
  namespaces?: string[];
  namespaceSelectors?: LabelSelector[];
  serviceSelectors?: LabelSelector[];
}

export interface IPAddressPoolSpec {
  /** CIDRs or `start-end` ranges, IPv4 and IPv6. */
  addresses: string[];
  autoAssign?: boolean;
  avoidBuggyIPs?: boolean;
  serviceAllocation?: ServiceAllocation;
}

/** Counts are decimal strings: a /64 holds 2^64 addresses. */
export interface IPAddressPoolStatus extends ConditionsStatus {
  assignedIPv4?: string;
  assignedIPv6?: string;
  availableIPv4?: string;
  availableIPv6?: string;
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type IPAddressPool = HeraldObject<'IPAddressPool', IPAddressPoolSpec, IPAddressPoolStatus>;

// ---- L2Advertisement
export interface PreferredNodeSelector {
  /** 1-100. */
  weight: number;
  preference: LabelSelector;
}

export interface L2AdvertisementSpec {
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  nodeSelectors?: LabelSelector[];
  preferredNodeSelectors?: PreferredNodeSelector[];
  interfaces?: string[];
  serviceSelectors?: LabelSelector[];
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type L2Advertisement = HeraldObject<'L2Advertisement', L2AdvertisementSpec, ConditionsStatus>;

// ---- BGPAdvertisement
export interface BGPAdvertisementSpec {
  aggregationLength?: number;
  aggregationLengthV6?: number;
  localPref?: number;
  /** `a:b`, `large:a:b:c`, or a Community alias name. */
  communities?: string[];
  ipAddressPools?: string[];
  ipAddressPoolSelectors?: LabelSelector[];
  nodeSelectors?: LabelSelector[];
  peers?: string[];
  serviceSelectors?: LabelSelector[];
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type BGPAdvertisement = HeraldObject<'BGPAdvertisement', BGPAdvertisementSpec, ConditionsStatus>;

// ---- BGPPeer
export interface SecretReference {
  name: string;
  namespace?: string;
}

export interface BGPPeerSpec {
  myASN: number;
  peerASN?: number;
  dynamicASN?: 'internal' | 'external';
  peerAddress: string;
  sourceAddress?: string;
  peerPort?: number;
  /** Durations such as `90s`, `1m30s`. */
  holdTime?: string;
  keepaliveTime?: string;
  connectTime?: string;
  routerID?: string;
  nodeSelectors?: LabelSelector[];
  password?: string;
  passwordSecret?: SecretReference;
  bfdProfile?: string;
  enableGracefulRestart?: boolean;
  /** Herald: never connect out; wait for the peer to connect to the speaker (port peerPort). */
  passive?: boolean;
  ebgpMultiHop?: boolean;
  vrf?: string;
  disableMP?: boolean;
  dualStackAddressFamily?: boolean;
  /** MetalLB v1beta2; declared so that it is refused (CEL rule and src/config), never pruned. */
  localASN?: number;
  /** MetalLB v1beta2 unnumbered BGP; declared so that it is refused, never pruned. */
  interface?: string;
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type BGPPeer = HeraldObject<'BGPPeer', BGPPeerSpec, ConditionsStatus>;

// ---- BFDProfile
export interface BFDProfileSpec {
  receiveInterval?: number;
  transmitInterval?: number;
  detectMultiplier?: number;
  echoInterval?: number;
  echoMode?: boolean;
  passiveMode?: boolean;
  minimumTtl?: number;
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type BFDProfile = HeraldObject<'BFDProfile', BFDProfileSpec, ConditionsStatus>;

// ---- Community
export interface CommunityAliasEntry {
  name: string;
  value: string;
}

export interface CommunitySpec {
  communities?: CommunityAliasEntry[];
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type Community = HeraldObject<'Community', CommunitySpec, ConditionsStatus>;

// ---- Status kinds (spec is empty; written by Herald)
export type EmptySpec = Record<string, never>;

export interface InterfaceRef {
  name: string;
}

export interface ServiceL2StatusStatus {
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  interfaces?: InterfaceRef[];
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type ServiceL2Status = HeraldObject<'ServiceL2Status', EmptySpec, ServiceL2StatusStatus>;

export interface ServiceBGPStatusStatus {
  node?: string;
  serviceName?: string;
  serviceNamespace?: string;
  peers?: string[];
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type ServiceBGPStatus = HeraldObject<'ServiceBGPStatus', EmptySpec, ServiceBGPStatusStatus>;

/** One Service in a BGPNodeStatus shard; `peers` index into the shard's `peers`. */
export interface BGPNodeStatusService {
  namespace: string;
  name: string;
  peers?: number[];
}

export interface BGPNodeStatusStatus {
  node?: string;
  shard?: number;
  shards?: number;
  serviceCount?: number;
  peers?: string[];
  services?: BGPNodeStatusService[];
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type BGPNodeStatus = HeraldObject<'BGPNodeStatus', EmptySpec, BGPNodeStatusStatus>;

export type BGPSessionPhase = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface BGPSessionStateStatus {
  node?: string;
  peer?: string;
  peerAddress?: string;
  state?: BGPSessionPhase;
  lastError?: string;
  establishedTime?: string;
  prefixesSent?: number;
  bfd?: BGPSessionBFDStatus;
}

export interface BGPSessionBFDStatus {
  state?: 'AdminDown' | 'Down' | 'Init' | 'Up';
  diagnostic?: string;
  error?: string;
  transmitInterval?: number;
  detectionTime?: number;
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type BGPSessionState = HeraldObject<'BGPSessionState', EmptySpec, BGPSessionStateStatus>;

export interface ConfigurationErrorEntry {
  kind: string;
  namespace?: string;
  name: string;
  field: string;
  reason: string;
  transient?: boolean;
}

export interface ConfigurationStateStatus extends ConditionsStatus {
  component?: 'controller' | 'speaker';
  node?: string;
  result?: 'Valid' | 'Invalid' | 'Unknown';
  errors?: ConfigurationErrorEntry[];
}

/** @public The whole object of this kind: the API mirror, kept for users of src/api. */
export type ConfigurationState = HeraldObject<'ConfigurationState', EmptySpec, ConfigurationStateStatus>;
