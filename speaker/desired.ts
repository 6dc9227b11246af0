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
import { DesiredIndex } from './desired-index.js';

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

/** Decisions are shared objects (100k Services hold one each), never changed. */
const YES: Decision = { announce: true };
const NOS = new Map<NoAnnounce, Decision>();
function no(reason: NoAnnounce): Decision {
  let d = NOS.get(reason);
  if (!d) NOS.set(reason, (d = { announce: false, reason }));
  return d;
}

/** Lists many Services hold the same of (their peers), shared; bounded, as the configuration names few peers. */
const LISTS = new Map<string, readonly string[]>();
const NONE: readonly never[] = [];
function shared(list: readonly string[]): readonly string[] {
  if (list.length === 0) return NONE;
  const key = list.join('\n');
  const have = LISTS.get(key);
  if (have) return have;
  if (LISTS.size >= 1000) LISTS.clear();
  LISTS.set(key, list);
  return list;
}

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

/** What every Service's decisions read besides the Service itself and its endpoints. */
export interface DesiredContext {
  readonly node: string;
  readonly config: Config;
  /** Nodes whose speaker is alive (membership), this one included. */
  readonly liveSpeakers: ReadonlySet<string>;
}

export interface DesiredInputs extends DesiredContext {
  readonly services: readonly ServiceInfo[];
  /** Endpoints per service key (from EndpointSlices). */
  readonly endpoints: ReadonlyMap<string, readonly EndpointInfo[]>;
}

export interface ServiceDecision {
  readonly service: string;
  readonly ip: IP;
  /** `ip` as text (formatIP), made once. */
  readonly ipText: string;
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
  if (ready.length === 0) return no('noHealthyEndpoints');
  if (svc.trafficPolicy === 'Local' && !ready.some((e) => e.node === node)) return no('noLocalEndpoints');
  return YES;
}

function l2Decision(
  inp: DesiredContext,
  svc: ServiceInfo,
  eps: readonly EndpointInfo[],
  ipText: string,
  pool: Pool,
): { decision: Decision; interfaces: string[] } {
  const advs: L2Advertisement[] = [...inp.config.l2Advertisements.values()].filter((a) => advertises(a, pool, svc));
  if (advs.length === 0) return { decision: no('noMatchingAdvertisement'), interfaces: [] };
  const me = inp.config.nodes.get(inp.node);
  const eligible = (name: string): Decision => {
    const n = inp.config.nodes.get(name);
    if (excluded(n)) return no('nodeExcluded');
    if (!advs.some((a) => nodeSelected(a.nodeSelectors, n))) return no('nodeNotSelected');
    return endpointsOk(svc, eps, name);
  };
  const mine: Decision = me === undefined ? no('nodeNotFound') : eligible(inp.node);
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
  const e = electOwner(ipText, candidates);
  if (e.owner === undefined) return { decision: no('noCandidates'), interfaces };
  return { decision: e.owner === inp.node ? YES : no('notOwner'), interfaces };
}

function bgpRoutes(
  inp: DesiredContext,
  svc: ServiceInfo,
  eps: readonly EndpointInfo[],
  ip: IP,
  pool: Pool,
): { decision: Decision; routes: { peer: string; route: Route }[] } {
  const me = inp.config.nodes.get(inp.node);
  const advs: BgpAdvertisement[] = [...inp.config.bgpAdvertisements.values()].filter((a) => advertises(a, pool, svc));
  if (advs.length === 0) return { decision: no('noMatchingAdvertisement'), routes: [] };
  if (me === undefined) return { decision: no('nodeNotFound'), routes: [] };
  if (excluded(me)) return { decision: no('nodeExcluded'), routes: [] };
  const mine = advs.filter((a) => nodeSelected(a.nodeSelectors, me));
  if (mine.length === 0) return { decision: no('nodeNotSelected'), routes: [] };
  const ep = endpointsOk(svc, eps, inp.node);
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
  if (routes.length === 0) return { decision: no('noPeers'), routes: [] };
  return { decision: YES, routes };
}

/** One Layer 2 IP a Service wants this node to answer for. */
export interface ServiceL2 {
  readonly ipText: string;
  readonly ip: IP;
  readonly interfaces: readonly string[];
}

/** One route a Service wants a peer to get; `key` names the prefix with its attributes (shared IPs share it). */
export interface ServiceRoute {
  readonly peer: string;
  readonly key: string;
  readonly route: Route;
}

/** What one Service contributes to this node's desired state. */
export interface ServiceDesired {
  readonly decisions: readonly ServiceDecision[];
  readonly l2: readonly ServiceL2[];
  readonly routes: readonly ServiceRoute[];
}

/** A route as a key: its prefix, and its attributes only when it has any (the usual route has none). */
function routeKey(route: Route, baseText: string): string {
  const prefix = `${baseText}/${route.prefix.prefixLength}`;
  if (!route.communities && !route.largeCommunities && route.localPref === undefined) return prefix;
  return JSON.stringify([prefix, route.communities ?? [], route.largeCommunities ?? [], route.localPref ?? null]);
}

/** The decisions, Layer 2 IPs and routes of one Service, from the context and its endpoints. */
export function serviceDesired(ctx: DesiredContext, svc: ServiceInfo, eps: readonly EndpointInfo[]): ServiceDesired {
  const decisions: ServiceDecision[] = [];
  const l2: ServiceL2[] = [];
  const routes: ServiceRoute[] = [];
  for (const ip of svc.ips) {
    const ipText = formatIP(ip);
    const pool = poolFor(ctx.config, svc, ip);
    if (!pool) {
      const none = no('poolNotFound');
      decisions.push({ service: svc.key, ip, ipText, l2: none, bgp: none, peers: NONE });
      continue;
    }
    const l = l2Decision(ctx, svc, eps, ipText, pool);
    if (l.decision.announce) l2.push({ ipText, ip, interfaces: l.interfaces });
    const b = bgpRoutes(ctx, svc, eps, ip, pool);
    for (const { peer, route } of b.routes) {
      const base = route.prefix.prefixLength === (ip.family === 'IPv4' ? 32 : 128) ? ipText : undefined;
      routes.push({
        peer,
        key: routeKey(route, base ?? formatIP({ family: route.prefix.family, value: route.prefix.base })),
        route,
      });
    }
    decisions.push({
      service: svc.key,
      ip,
      ipText,
      l2: l.decision,
      bgp: b.decision,
      peers: shared([...new Set(b.routes.map((r) => r.peer))].sort()),
    });
  }
  return { decisions, l2: l2.length > 0 ? l2 : NONE, routes: routes.length > 0 ? routes : NONE };
}

/** The peers that get a Service's routes from this node (sorted; none when it is not announced over BGP). */
export function announcedPeers(part: ServiceDesired | undefined): readonly string[] {
  const announced = part?.decisions.filter((d) => d.bgp.announce) ?? [];
  return [...new Set(announced.flatMap((d) => d.peers))].sort();
}

function sameDecision(a: Decision, b: Decision): boolean {
  return a.announce === b.announce && (a.announce || a.reason === (b as { reason: NoAnnounce }).reason);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Whether two results of serviceDesired say the same (a recomputed Service that did not change keeps its old one). */
export function sameServiceDesired(a: ServiceDesired, b: ServiceDesired): boolean {
  return (
    a.decisions.length === b.decisions.length &&
    a.decisions.every((d, i) => {
      const e = b.decisions[i]!;
      return (
        d.service === e.service &&
        d.ipText === e.ipText &&
        sameDecision(d.l2, e.l2) &&
        sameDecision(d.bgp, e.bgp) &&
        sameList(d.peers, e.peers)
      );
    }) &&
    a.l2.length === b.l2.length &&
    a.l2.every((l, i) => l.ipText === b.l2[i]!.ipText && sameList(l.interfaces, b.l2[i]!.interfaces)) &&
    a.routes.length === b.routes.length &&
    a.routes.every((r, i) => r.peer === b.routes[i]!.peer && r.key === b.routes[i]!.key)
  );
}

export function desiredState(inp: DesiredInputs): DesiredState {
  const index = new DesiredIndex();
  for (const svc of [...inp.services].sort((a, b) => a.key.localeCompare(b.key)))
    index.set(svc.key, serviceDesired(inp, svc, inp.endpoints.get(svc.key) ?? []));
  return index.state();
}

/**
 * The part of the context every Service's decisions read, as text: when it is the same as at
 * the last pass, only the Services that changed need their decisions again.
 */
export function contextKey(ctx: DesiredContext): string {
  const { config } = ctx;
  return JSON.stringify(
    [
      ctx.node,
      [...ctx.liveSpeakers].sort(),
      [...config.pools.values()],
      [...config.l2Advertisements.values()],
      [...config.bgpAdvertisements.values()],
      [...config.peers.values()].map((p) => [p.name, p.nodeSelectors]),
      [...config.nodes.values()],
    ],
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );
}
