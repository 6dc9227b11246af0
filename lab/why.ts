/**
 * Why a Service is not announced, in the speakers' own words: the lab runs the speakers'
 * pure desired-state function (speaker/desired.ts) for every node over the cluster state it
 * reads from the API (Herald's configuration, Services, EndpointSlices, Nodes and the speaker
 * Leases that say which speakers are alive), and for a Service still waiting for an address,
 * the controller's last Warning Event.
 */
import { IP_ALLOCATED_FROM_POOL } from '../src/api/annotations.js';
import { ingressIPs, trafficPolicy, type ServiceObject } from '../src/api/service.js';
import { parseConfig } from '../src/config/parse.js';
import { formatIP } from '../src/net/ip.js';
import { desiredState, type Decision, type ServiceInfo } from '../speaker/desired.js';
import { configObjects, endpointsByService } from '../speaker/inputs.js';

type Rec = Record<string, unknown>;
export type Obj = Rec & {
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    creationTimestamp?: string;
  };
};
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});

export interface ClusterState {
  readonly herald: ReadonlyMap<string, readonly Obj[]>;
  readonly services: readonly Obj[];
  readonly slices: readonly Obj[];
  readonly nodes: readonly Obj[];
  readonly secrets: readonly Obj[];
  /** Nodes whose speaker Lease is held (alive). */
  readonly liveSpeakers: ReadonlySet<string>;
  readonly events: readonly Obj[];
}

const TEXT: Record<string, string> = {
  notOwner: 'another node owns it',
  noMatchingAdvertisement: 'no L2Advertisement/BGPAdvertisement selects its pool',
  noLocalEndpoints: 'externalTrafficPolicy Local and no ready endpoint on the node',
  noHealthyEndpoints: 'no ready endpoints (no Pod matches the selector, or none is Ready)',
  nodeExcluded: 'node excluded from load balancers',
  nodeNotSelected: 'node not selected by the advertisement',
  poolNotFound: 'its address is in no IPAddressPool',
  noPeers: 'no BGPPeer for the node',
  noCandidates: 'no live speaker may announce it',
};

function worst(decisions: readonly Decision[]): string | undefined {
  const reasons = [
    ...new Set(decisions.filter((d): d is Extract<Decision, { announce: false }> => !d.announce).map((d) => d.reason)),
  ].filter((r) => r !== 'notOwner');
  return reasons.length > 0 ? reasons.map((r) => `${r}: ${TEXT[r] ?? r}`).join('; ') : undefined;
}

/**
 * Per `ns/name|ip`, the reason no node announces the address (absent when some node does,
 * in L2 or BGP).
 */
export function notAnnouncedReasons(st: ClusterState): Map<string, string> {
  const parsed = parseConfig(configObjects(st.herald, st.nodes, st.secrets));
  const services: ServiceInfo[] = [];
  for (const s of st.services as readonly ServiceObject[]) {
    // Every LoadBalancer Service, whatever its class: the lab asks why any of them is silent.
    if (s.spec?.type !== 'LoadBalancer') continue;
    const ips = ingressIPs(s.status);
    if (ips.length === 0) continue;
    const pool = s.metadata.annotations?.[IP_ALLOCATED_FROM_POOL];
    services.push({
      key: `${s.metadata.namespace}/${s.metadata.name}`,
      labels: s.metadata.labels ?? {},
      ips,
      ...(pool ? { pool } : {}),
      trafficPolicy: trafficPolicy(s.spec),
    });
  }
  const endpoints = endpointsByService(st.slices);
  const byIp = new Map<string, { l2: Decision[]; bgp: Decision[] }>();
  const nodes = st.nodes.map((n) => n.metadata.name);
  for (const node of nodes) {
    const d = desiredState({ node, config: parsed.config, services, endpoints, liveSpeakers: st.liveSpeakers });
    for (const x of d.decisions) {
      const k = `${x.service}|${formatIP(x.ip)}`;
      const cur = byIp.get(k) ?? { l2: [], bgp: [] };
      cur.l2.push(st.liveSpeakers.has(node) ? x.l2 : { announce: false, reason: 'noCandidates' });
      cur.bgp.push(st.liveSpeakers.has(node) ? x.bgp : { announce: false, reason: 'noCandidates' });
      byIp.set(k, cur);
    }
  }
  const out = new Map<string, string>();
  for (const [k, v] of byIp) {
    if (v.l2.some((d) => d.announce) || v.bgp.some((d) => d.announce)) continue;
    let l2 = worst(v.l2);
    let bgp = worst(v.bgp);
    // A protocol no advertisement selects says nothing about the one that does.
    const unadvertised = (r: string | undefined): boolean => r?.startsWith('noMatchingAdvertisement') === true;
    if (unadvertised(bgp) && !unadvertised(l2)) bgp = undefined;
    if (unadvertised(l2) && !unadvertised(bgp)) l2 = undefined;
    // The same reason for both protocols is said once.
    out.set(
      k,
      l2 === bgp || bgp === undefined ? (l2 ?? 'not announced') : l2 === undefined ? bgp : `L2: ${l2} | BGP: ${bgp}`,
    );
  }
  if (nodes.length === 0 || st.liveSpeakers.size === 0)
    for (const s of services)
      for (const ip of s.ips) out.set(`${s.key}|${formatIP(ip)}`, 'noCandidates: no speaker is running');
  return out;
}

/** Why a Service has no address yet: the newest Warning Event about it (the controller's). */
export function pendingReason(st: ClusterState, svc: Obj): string {
  const evs = st.events
    .filter(
      (e) =>
        rec(e['involvedObject'])['name'] === svc.metadata.name &&
        rec(e['involvedObject'])['namespace'] === svc.metadata.namespace &&
        e['type'] === 'Warning',
    )
    .sort((a, b) =>
      String(b['lastTimestamp'] ?? b.metadata.creationTimestamp ?? '').localeCompare(
        String(a['lastTimestamp'] ?? a.metadata.creationTimestamp ?? ''),
      ),
    );
  const e = evs[0];
  return e ? `${String(e['reason'])}: ${String(e['message'])}` : 'waiting for the controller';
}
