/**
 * What this node must announce, from cluster state (pure): for every service IP and each
 * protocol, announce or not with a reason; the Layer 2 IPs this node answers for (and on
 * which interfaces); the routes each BGP peer should get. Every speaker computes the same
 * Layer 2 owners from the same inputs.
 */
import { anySelectorMatches, selectorMatches, type LabelSelector } from '../src/config/label-selector.js';
import type { BgpAdvertisement, Config, L2Advertisement, NodeInfo, Pool } from '../src/config/model.js';
import { cidrOf, rangeContains, type CIDR } from '../src/net/cidr.js';
import type { TrafficPolicy } from '../src/api/service.js';
import { formatIP, type IP } from '../src/net/ip.js';
import type { Route } from './bgp/session.js';
import { electOwner, type Candidate } from './election.js';

export type NoAnnounce =
  | 'notOwner'
  | 'noMatchingAdvertisement'
  | 'noLocalEndpoints'
  | 'noHealthyEndpoints'
  | 'nodeExcluded'
  /** This node has no Node object (deleted, or not yet seen). */
  | 'nodeNotFound'
  | 'nodeNotSelected'
  | 'poolNotFound'
  | 'noPeers'
  | 'noCandidates';

export type Decision = { readonly announce: true } | { readonly announce: false; readonly reason: NoAnnounce };

export interface ServiceInfo {
  /** `namespace/name`. */
  readonly key: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ips: readonly IP[];
  /** The ip-allocated-from-pool annotation. */
  readonly pool?: string;
  readonly trafficPolicy: TrafficPolicy;
}

export interface EndpointInfo {
  readonly node: string;
  readonly ready: boolean;
}

export interface DesiredInputs {
  readonly node: string;
  readonly config: Config;
  readonly services: readonly ServiceInfo[];
  /** Endpoints per service key (from EndpointSlices). */
  readonly endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
  /** Nodes whose speaker is alive (membership), this one included. */
  readonly liveSpeakers: ReadonlySet<string>;
}

export interface ServiceDecision {
  readonly service: string;
  readonly ip: IP;
  readonly l2: Decision;
  readonly bgp: Decision;
  /** The BGP peers that get a route for this Service IP (sorted; empty unless `bgp` announces). */
  readonly peers: readonly string[];
}

/** One IP this node answers for via Layer 2. */
export interface L2Want {
  readonly ip: IP;
  /** The interfaces the advertisements name ([] = choose automatically). */
  readonly interfaces: readonly string[];
  /** The Services (`namespace/name`) sharing the IP. */
  readonly services: readonly string[];
}

export interface DesiredState {
  /** IP text -> what to answer for it. */
  readonly l2: ReadonlyMap<string, L2Want>;
  /** Peer name -> routes to advertise. */
  readonly bgp: ReadonlyMap<string, readonly Route[]>;
  readonly decisions: readonly ServiceDecision[];
}

function poolFor(config: Config, svc: ServiceInfo, ip: IP): Pool | undefined {
  if (svc.pool) {
    const p = config.pools.get(svc.pool);
    if (p) return p;
  }
  return [...config.pools.values()].find((p) => p.ranges.some((r) => rangeContains(r, ip)));
}

function advertises(
  adv: {
    ipAddressPools: readonly string[];
    ipAddressPoolSelectors: readonly LabelSelector[];
    serviceSelectors: readonly LabelSelector[];
  },
  pool: Pool,
  svc: ServiceInfo,
): boolean {
  const allPools = adv.ipAddressPools.length === 0 && adv.ipAddressPoolSelectors.length === 0;
  const poolOk =
    allPools ||
    adv.ipAddressPools.includes(pool.name) ||
    (adv.ipAddressPoolSelectors.length > 0 && anySelectorMatches(adv.ipAddressPoolSelectors, pool.meta.labels));
  const svcOk = adv.serviceSelectors.length === 0 || anySelectorMatches(adv.serviceSelectors, svc.labels);
  return poolOk && svcOk;
}

function nodeSelected(selectors: readonly LabelSelector[], node: NodeInfo | undefined): boolean {
  return selectors.length === 0 || (node !== undefined && anySelectorMatches(selectors, node.labels));
}

function excluded(node: NodeInfo | undefined): boolean {
  return node === undefined || node.excludedFromLoadBalancers || node.networkUnavailable;
}

function endpointsOk(svc: ServiceInfo, eps: readonly EndpointInfo[], node: string): Decision {
  const ready = eps.filter((e) => e.ready);
  if (ready.length === 0) return { announce: false, reason: 'noHealthyEndpoints' };
  if (svc.trafficPolicy === 'Local' && !ready.some((e) => e.node === node))
    return { announce: false, reason: 'noLocalEndpoints' };
  return { announce: true };
}

function l2Decision(
  inp: DesiredInputs,
  svc: ServiceInfo,
  ip: IP,
  pool: Pool,
): { decision: Decision; interfaces: string[] } {
  const advs: L2Advertisement[] = [...inp.config.l2Advertisements.values()].filter((a) => advertises(a, pool, svc));
  if (advs.length === 0) return { decision: { announce: false, reason: 'noMatchingAdvertisement' }, interfaces: [] };
  const eps = inp.endpoints.get(svc.key) ?? [];
  const me = inp.config.nodes.get(inp.node);
  const eligible = (name: string): Decision => {
    const n = inp.config.nodes.get(name);
    if (excluded(n)) return { announce: false, reason: 'nodeExcluded' };
    if (!advs.some((a) => nodeSelected(a.nodeSelectors, n))) return { announce: false, reason: 'nodeNotSelected' };
    return endpointsOk(svc, eps, name);
  };
  const mine: Decision = me === undefined ? { announce: false, reason: 'nodeNotFound' } : eligible(inp.node);
  const interfaces = [
    ...new Set(advs.filter((a) => nodeSelected(a.nodeSelectors, me)).flatMap((a) => a.interfaces)),
  ].sort();
  if (!mine.announce) return { decision: mine, interfaces };
  const candidates: Candidate[] = [...inp.config.nodes.keys()]
    .filter((name) => inp.liveSpeakers.has(name) && eligible(name).announce)
    .map((name) => {
      const n = inp.config.nodes.get(name)!;
      const weight = advs
        .flatMap((a) => a.preferredNodeSelectors)
        .filter((p) => selectorMatches(p.preference, n.labels))
        .reduce((s, p) => s + p.weight, 0);
      return { node: name, weight };
    });
  const e = electOwner(formatIP(ip), candidates);
  if (e.owner === undefined) return { decision: { announce: false, reason: 'noCandidates' }, interfaces };
  return { decision: e.owner === inp.node ? { announce: true } : { announce: false, reason: 'notOwner' }, interfaces };
}

function bgpRoutes(
  inp: DesiredInputs,
  svc: ServiceInfo,
  ip: IP,
  pool: Pool,
): { decision: Decision; routes: { peer: string; route: Route }[] } {
  const me = inp.config.nodes.get(inp.node);
  const advs: BgpAdvertisement[] = [...inp.config.bgpAdvertisements.values()].filter((a) => advertises(a, pool, svc));
  if (advs.length === 0) return { decision: { announce: false, reason: 'noMatchingAdvertisement' }, routes: [] };
  if (me === undefined) return { decision: { announce: false, reason: 'nodeNotFound' }, routes: [] };
  if (excluded(me)) return { decision: { announce: false, reason: 'nodeExcluded' }, routes: [] };
  const mine = advs.filter((a) => nodeSelected(a.nodeSelectors, me));
  if (mine.length === 0) return { decision: { announce: false, reason: 'nodeNotSelected' }, routes: [] };
  const ep = endpointsOk(svc, inp.endpoints.get(svc.key) ?? [], inp.node);
  if (!ep.announce) return { decision: ep, routes: [] };
  const peers = [...inp.config.peers.values()].filter((p) => nodeSelected(p.nodeSelectors, me));
  const routes: { peer: string; route: Route }[] = [];
  for (const a of mine) {
    const len = ip.family === 'IPv4' ? a.aggregationLength : a.aggregationLengthV6;
    const prefix: CIDR = cidrOf(ip, len);
    const communities = a.communities.filter((c) => c.kind === 'standard').map((c) => (c as { value: number }).value);
    const large = a.communities
      .filter((c) => c.kind === 'large')
      .map((c) => {
        const l = c as { global: number; local1: number; local2: number };
        return [l.global, l.local1, l.local2] as const;
      });
    for (const p of peers) {
      if (a.peers.length > 0 && !a.peers.includes(p.name)) continue;
      routes.push({
        peer: p.name,
        route: {
          prefix,
          ...(communities.length > 0 ? { communities } : {}),
          ...(large.length > 0 ? { largeCommunities: large } : {}),
          ...(a.localPref !== undefined ? { localPref: a.localPref } : {}),
        },
      });
    }
  }
  if (routes.length === 0) return { decision: { announce: false, reason: 'noPeers' }, routes: [] };
  return { decision: { announce: true }, routes };
}

export function desiredState(inp: DesiredInputs): DesiredState {
  const l2 = new Map<string, { ip: IP; interfaces: string[]; services: string[] }>();
  const bgp = new Map<string, Map<string, Route>>();
  const decisions: ServiceDecision[] = [];
  const services = [...inp.services].sort((a, b) => a.key.localeCompare(b.key));
  for (const svc of services) {
    for (const ip of svc.ips) {
      const ipText = formatIP(ip);
      const pool = poolFor(inp.config, svc, ip);
      if (!pool) {
        decisions.push({
          service: svc.key,
          ip,
          l2: { announce: false, reason: 'poolNotFound' },
          bgp: { announce: false, reason: 'poolNotFound' },
          peers: [],
        });
        continue;
      }
      const l = l2Decision(inp, svc, ip, pool);
      if (l.decision.announce) {
        const cur = l2.get(ipText) ?? { ip, interfaces: [], services: [] };
        cur.interfaces = [...new Set([...cur.interfaces, ...l.interfaces])].sort();
        cur.services.push(svc.key);
        l2.set(ipText, cur);
      }
      const b = bgpRoutes(inp, svc, ip, pool);
      for (const { peer, route } of b.routes) {
        const m = bgp.get(peer) ?? new Map<string, Route>();
        // Shared IPs: one route per prefix and attribute set, kept while any Service wants it.
        m.set(
          JSON.stringify([
            formatIP({ family: route.prefix.family, value: route.prefix.base }),
            route.prefix.prefixLength,
            route.communities ?? [],
            route.largeCommunities ?? [],
            route.localPref ?? null,
          ]),
          route,
        );
        bgp.set(peer, m);
      }
      decisions.push({
        service: svc.key,
        ip,
        l2: l.decision,
        bgp: b.decision,
        peers: [...new Set(b.routes.map((r) => r.peer))].sort(),
      });
    }
  }
  return {
    l2,
    bgp: new Map([...bgp].map(([peer, m]) => [peer, [...m.values()]])),
    decisions,
  };
}
