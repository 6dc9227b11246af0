/**
 * The speaker on one node: watches the cluster, computes this node's desired announcements
 * (pure), and drives the Layer 2 and BGP engines; reports ServiceL2Status,
 * ServiceBGPStatus, BGPSessionState and ConfigurationState, Events and metrics.
 */
import { networkInterfaces } from 'node:os';
import { Gauge, type Registry } from 'prom-client';
import { IP_ALLOCATED_FROM_POOL } from '../src/api/annotations.js';
import { GROUP, VERSION } from '../src/api/group.js';
import type { Clock } from '../src/core/clock.js';
import { errorMessage } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { parseConfig } from '../src/config/parse.js';
import { anySelectorMatches } from '../src/config/label-selector.js';
import { ENDPOINT_SLICES, EventRecorder, type ObjectReference, heraldResource, Informer, NODES, PODS, SECRETS, SERVICES, StatusWriter, WorkQueue, type KubeClient } from '../src/k8s/index.js';
import { cidrContains } from '../src/net/cidr.js';
import { tryParseIP, type IP } from '../src/net/ip.js';
import type { NativeAddon } from '../native/index.js';
import { BgpManager } from './bgp/manager.js';
import { bfdStatusView } from './bfd/binding.js';
import { registerBfdMetrics } from './bfd/metrics.js';
import { desiredState, type EndpointInfo, type ServiceInfo } from './desired.js';
import { BGP_STATUS, L2_STATUS, SpeakerStatusObjects } from './status-objects.js';
import { DEFAULT_REJOIN_HOLD_MS, L2Engine } from './layer2/engine.js';
import { NetlinkLinks } from './layer2/links.js';
import { LeaseMembership } from './membership/lease-membership.js';
import { SwimMembership } from './membership/swim-driver.js';
import { SplitBrainGuard } from './membership/split-brain.js';
import { notReadyNodes, SPEAKER_POD_SELECTOR } from './membership/pod-readiness.js';
import { endpointSliceView, ownStatusView, serviceView } from './views.js';

/** How long a member that dropped out of the live set still counts for the owner election. */
const TAKEOVER_DAMPING_MS = 200;
/** How long before the link-down notification a failure may already have been this node's own. */
const OWN_OUTAGE_MARGIN_MS = 500;
/** A full pass at least this often even when no event asked for one. */
const FULL_RESYNC_MS = 5 * 60_000;
const HERALD_KINDS = ['IPAddressPool', 'L2Advertisement', 'BGPAdvertisement', 'BGPPeer', 'BFDProfile', 'Community'] as const;

export interface SpeakerOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly node: string;
  readonly namespace: string;
  readonly lbClass?: string;
  /** The native addon, or why it is unavailable (Layer 2 then fails clearly; BGP still runs). */
  readonly native: NativeAddon | { error: string };
  readonly memberExpireMs?: number;
  /** UDP port of the SWIM failure detector (memberlist Secret present); 0 disables it. */
  readonly memberPort?: number;
  /** Stop Layer 2 announcing when this speaker sees a minority of the members (default on). */
  readonly splitBrainGuard?: boolean;
  /** Accept routers' BGP connections on the peers' ports (default on; passive peers need it). */
  readonly bgpListen?: boolean;
  /** Interface name globs Layer 2 never picks by itself (default DEFAULT_EXCLUDED_INTERFACES). */
  readonly excludeInterfaces?: readonly string[];
}

/** The Secret (made by the controller) whose `secretkey` authenticates membership datagrams. */
const MEMBERLIST_SECRET = 'herald-memberlist';


export class Speaker {
  private readonly informers: Informer[] = [];
  private readonly services: Informer;
  private readonly slices: Informer;
  private readonly nodes: Informer;
  private readonly secrets: Informer;
  /** The speaker pods, for their readiness (a second membership input). */
  private readonly pods: Informer;
  /** This node's own status objects, so one deleted by someone else is written again. */
  private readonly ownStatus = new Map<string, Informer>();
  private readonly herald = new Map<string, Informer>();
  private readonly queue: WorkQueue;
  private readonly membership: LeaseMembership;
  private swim: SwimMembership | undefined;
  private readonly guard = new SplitBrainGuard();
  /** announceFailed already told, by IP and cause. */
  private readonly toldFailed = new Set<string>();
  /** "service|ip" announced via BGP at the last pass, for nodeAssigned Events. */
  private bgpAnnounced = new Set<string>();
  private guarded = false;
  /** For steadyAlive: the live set last seen, and when members dropped out of it. */
  private lastAlive = new Set<string>();
  private readonly goneAt = new Map<string, number>();
  /** Until when (monotonic) no new Layer 2 IP is taken: just back from a partition. */
  private rejoinUntil = 0;
  /** Something changed since the last pass started. */
  private dirty = true;
  private lastSync = 0;
  private swimStarting = false;
  private readonly l2?: L2Engine;
  private readonly links?: NetlinkLinks;
  private readonly bgp: BgpManager;
  private readonly events: EventRecorder;
  private readonly writer: StatusWriter;
  private readonly log: Logger;
  private ready = false;
  private stopped = false;
  private worker: Promise<void> | undefined;
  private readonly status: SpeakerStatusObjects;
  private readonly metrics: { announced: Gauge; l2Frames: Gauge; sessionUp: Gauge; bgpMessages: Gauge };
  private readonly l2Counters = { requests: 0, answers: 0, gratuitous: 0, malformed: 0, rateLimited: 0 };

  constructor(private readonly opts: SpeakerOptions) {
    this.log = opts.logger.child({ component: 'speaker', node: opts.node });
    const base = { client: opts.client, clock: opts.clock, logger: this.log };
    this.services = new Informer({ ...base, type: SERVICES, transform: serviceView });
    this.slices = new Informer({ ...base, type: ENDPOINT_SLICES, transform: endpointSliceView, purpose: 'the speaker does not start (it announces nothing; EndpointSlice v1 needs Kubernetes 1.21)' });
    this.nodes = new Informer({ ...base, type: NODES });
    this.secrets = new Informer({ ...base, type: SECRETS, namespace: opts.namespace });
    this.pods = new Informer({ ...base, type: PODS, namespace: opts.namespace, labelSelector: SPEAKER_POD_SELECTOR });
    for (const k of HERALD_KINDS) this.herald.set(k, new Informer({ ...base, type: heraldResource(k), namespace: opts.namespace }));
    for (const t of [L2_STATUS, BGP_STATUS]) this.ownStatus.set(t.plural, new Informer({ ...base, type: t, namespace: opts.namespace, labelSelector: `herald.dev/node=${opts.node}`, transform: ownStatusView }));
    this.informers.push(this.services, this.slices, this.nodes, this.secrets, this.pods, ...this.herald.values(), ...this.ownStatus.values());
    this.queue = new WorkQueue({ clock: opts.clock, baseDelayMs: 100, maxDelayMs: 10_000 });
    this.membership = new LeaseMembership({ ...base, namespace: opts.namespace, node: opts.node, ...(opts.memberExpireMs ? { expireMs: opts.memberExpireMs } : {}), onChange: () => this.kick() });
    const native = 'error' in opts.native ? undefined : opts.native;
    if (native) {
      this.links = new NetlinkLinks({ native, logger: this.log });
      this.l2 = new L2Engine({ native, links: this.links, clock: opts.clock, logger: this.log, counters: this.l2Counters, ...(opts.excludeInterfaces ? { excludeInterfaces: opts.excludeInterfaces } : {}), onChange: () => this.kick(), membershipAgreesSince: (since) => this.swim?.heardFromAllSince(since) === true });
    }
    else this.log.error('layer2 mode unavailable: the native addon did not load; BGP mode still runs', { cause: (opts.native as { error: string }).error });
    this.bgp = new BgpManager({ clock: opts.clock, logger: this.log, ...(native ? { native } : { nativeError: (opts.native as { error: string }).error }), nodeAddresses: () => this.nodeAddresses(), listen: opts.bgpListen ?? true, onChange: () => this.kick() });
    registerBfdMetrics(opts.registry, () => this.bgp.bfd);
    this.events = new EventRecorder({ client: opts.client, clock: opts.clock, logger: this.log, component: 'herald-speaker', host: opts.node });
    this.writer = new StatusWriter({ client: opts.client });
    this.status = new SpeakerStatusObjects({ client: opts.client, writer: this.writer, namespace: opts.namespace, node: opts.node, log: this.log, own: this.ownStatus });
    this.metrics = {
      announced: new Gauge({ name: 'herald_speaker_announced_ips', help: 'Service IPs this node announces', labelNames: ['protocol'], registers: [opts.registry] }),
      l2Frames: new Gauge({
        name: 'herald_speaker_l2_frames_total',
        help: 'ARP/NDP requests seen, answers sent, gratuitous announcements sent, malformed frames dropped, answers held back by the per-asker limit; sockets reopened, socket errors, stalls, frames the kernel dropped on a full queue',
        labelNames: ['kind'],
        registers: [opts.registry],
        collect: () => {
          for (const [k, v] of Object.entries(this.l2Counters)) this.metrics.l2Frames.set({ kind: k }, v);
          // The sockets' own: reopened, socketErrors, stalls, kernelDrops.
          for (const [k, v] of Object.entries(this.l2?.socketCounters() ?? {})) this.metrics.l2Frames.set({ kind: k }, v);
        },
      }),
      // Both read the sessions at scrape time, starting empty: a deleted peer leaves no series behind.
      sessionUp: new Gauge({
        name: 'herald_speaker_bgp_session_up',
        help: '1 when the BGP session is Established',
        labelNames: ['peer'],
        registers: [opts.registry],
        collect: () => {
          this.metrics.sessionUp.reset();
          for (const [peer, s] of this.bgp.states()) this.metrics.sessionUp.set({ peer }, s.state() === 'Established' ? 1 : 0);
        },
      }),
      bgpMessages: new Gauge({
        name: 'herald_speaker_bgp_messages_total',
        help: 'BGP messages per peer: updates, keepalives and notifications, sent and received; prefixes announced',
        labelNames: ['peer', 'kind'],
        registers: [opts.registry],
        collect: () => {
          this.metrics.bgpMessages.reset();
          for (const [peer, session] of this.bgp.states()) {
            for (const [kind, v] of Object.entries(session.stats)) this.metrics.bgpMessages.set({ peer, kind }, v);
          }
        },
      }),
    };
  }

  /**
   * This node's addresses, for the router ID (IPv4) and the next hop of the other family on
   * dual-stack sessions: its Node object's InternalIPs first (what the cluster knows it by;
   * host interfaces may include bridges with the same address on every node), else the
   * first non-internal host interface address of each family.
   */
  private nodeAddresses(): { v4?: IP; v6?: IP } {
    const out: { v4?: IP; v6?: IP } = {};
    const node = this.nodes.get(this.opts.node);
    for (const a of ((node?.['status'] as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? [])) {
      if (a.type !== 'InternalIP') continue;
      const ip = tryParseIP(a.address);
      if (ip?.family === 'IPv4') out.v4 ??= ip;
      else if (ip?.family === 'IPv6') out.v6 ??= ip;
    }
    for (const addrs of Object.values(networkInterfaces())) {
      for (const a of addrs ?? []) {
        if (a.internal) continue;
        const ip = tryParseIP(a.address);
        if (ip?.family === 'IPv4') out.v4 ??= ip;
        else if (ip?.family === 'IPv6' && !a.address.toLowerCase().startsWith('fe80')) out.v6 ??= ip;
      }
    }
    return out;
  }

  /**
   * The live speakers: SWIM's view once it has heard from (or given up on) every member,
   * the Lease view until then (SWIM starts knowing only itself).
   */
  private aliveSpeakers(): Set<string> {
    const leases = this.membership.alive();
    // Every speaker alive by its Lease must have been heard over SWIM too: one still starting
    // is not a partition (a speaker that stays silent keeps this node on Leases).
    const swimReady = this.swim?.converged() === true && [...leases].every((n) => n === this.opts.node || this.swim!.knows(n));
    return swimReady ? this.swim!.alive() : leases;
  }

  /**
   * The live set the owner election uses: a member that just dropped out stays in it for
   * TAKEOVER_DAMPING_MS, so a failure that membership takes back at once (a missed probe
   * under link chaos) makes no other node claim its IPs and announce them; a real failure
   * costs that much more failover time. A new pass is asked for when the damping ends.
   */
  private steadyAlive(alive: ReadonlySet<string>): Set<string> {
    const now = this.opts.clock.monotonic();
    for (const n of this.lastAlive) if (!alive.has(n) && !this.goneAt.has(n)) this.goneAt.set(n, now);
    for (const n of alive) this.goneAt.delete(n);
    this.lastAlive = new Set(alive);
    const out = new Set(alive);
    for (const [n, at] of this.goneAt) {
      if (now - at < TAKEOVER_DAMPING_MS) {
        out.add(n);
        this.opts.clock.setTimeout(() => this.kick(), at + TAKEOVER_DAMPING_MS - now);
      } else this.goneAt.delete(n);
    }
    return out;
  }

  /** This node's own link that is down, if the link holding its InternalIP is (the node is cut off, not the others gone). */
  private isolatedLink(): string | undefined {
    if (!this.links) return undefined;
    const { v4, v6 } = this.nodeAddresses();
    for (const i of this.links.interfaces()) {
      if (i.up) continue;
      if (i.addrs.some((a) => (v4 && a.ip.family === 'IPv4' && a.ip.value === v4.value) || (v6 && a.ip.family === 'IPv6' && a.ip.value === v6.value))) return i.name;
    }
    return undefined;
  }

  /** The Service `namespace/name` as an Event's involvedObject, with its uid so `kubectl describe` finds the Event. */
  private serviceRef(key: string): ObjectReference {
    const [namespace, name] = key.split('/') as [string, string];
    const uid = this.services.get(key)?.metadata.uid;
    return { apiVersion: 'v1', kind: 'Service', namespace, name, ...(uid !== undefined ? { uid } : {}) };
  }

  notReadyReason(): string | undefined {
    return this.ready ? undefined : 'caches not synced';
  }

  async start(): Promise<void> {
    for (const inf of this.informers) {
      inf.addHandlers({ onAdd: () => this.kick(), onUpdate: () => this.kick(), onDelete: () => this.kick() });
      inf.start();
    }
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    // The link holding this node's address going down and up: SWIM's failures meanwhile were this node's own.
    let ownLinkDownAt: number | undefined;
    this.links?.onChange(() => {
      const down = this.isolatedLink() !== undefined;
      if (down && ownLinkDownAt === undefined) ownLinkDownAt = this.opts.clock.monotonic();
      else if (!down && ownLinkDownAt !== undefined) {
        // The probe that saw the first failure may have been sent up to one probe period
        // before the kernel said the link was down.
        this.swim?.forgive(ownLinkDownAt - OWN_OUTAGE_MARGIN_MS);
        ownLinkDownAt = undefined;
      }
    });
    try {
      await this.links?.start();
    } catch (err) {
      this.log.error('layer2: cannot watch the node\'s links (netlink); link events will go unnoticed', { event: 'linkWatchFailed', error: errorMessage(err) });
    }
    await this.membership.start();
    this.ready = true;
    this.worker = this.work();
    this.kick();
    this.log.info('speaker started');
  }

  /**
   * Called periodically: recomputes only when something changed that no event reports (the
   * split-brain guard's settle window ending), or when the last full pass is FULL_RESYNC_MS old
   * (a safety net); with 10k Services a pass is not free, and an idle speaker stays idle.
   */
  resync(): void {
    if (!this.ready || this.stopped) return;
    const now = this.opts.clock.monotonic();
    const alive = this.aliveSpeakers();
    const guarded = this.opts.splitBrainGuard !== false && !this.guard.check(alive.size, now, this.isolatedLink()).allowed;
    if (this.dirty || guarded !== this.guarded || now - this.lastSync >= FULL_RESYNC_MS) this.kick();
  }

  private kick(): void {
    this.dirty = true;
    if (this.ready && !this.stopped) this.queue.addAfter('sync', 10);
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      try {
        await this.sync();
        this.queue.forget(key);
      } catch (err) {
        this.log.warn('speaker sync failed, will retry', { error: errorMessage(err) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async sync(): Promise<void> {
    // Events from here on ask for another pass.
    this.dirty = false;
    this.lastSync = this.opts.clock.monotonic();
    const objects: unknown[] = [];
    for (const [kind, inf] of this.herald) for (const o of inf.list()) objects.push({ ...o, apiVersion: `${GROUP}/${VERSION}`, kind });
    for (const n of this.nodes.list()) objects.push({ ...n, apiVersion: 'v1', kind: 'Node' });
    for (const s of this.secrets.list()) objects.push({ ...s, apiVersion: 'v1', kind: 'Secret' });
    const parsed = parseConfig(objects);
    await this.status.writeConfigurationState(parsed.errors);
    this.ensureSwim(parsed.config.secrets.get(`${this.opts.namespace}/${MEMBERLIST_SECRET}`)?.data['secretkey']);
    this.swim?.setMembers(this.nodes.list().map((n) => n.metadata.name));
    const services: ServiceInfo[] = [];
    for (const s of this.services.list()) {
      const spec = (s['spec'] ?? {}) as { type?: string; loadBalancerClass?: string; externalTrafficPolicy?: string };
      if (spec.type !== 'LoadBalancer' || (spec.loadBalancerClass ?? undefined) !== this.opts.lbClass) continue;
      const ips = (((s['status'] as { loadBalancer?: { ingress?: { ip?: string }[] } } | undefined)?.loadBalancer?.ingress) ?? []).map((i) => (i.ip ? tryParseIP(i.ip) : undefined)).filter((ip): ip is IP => ip !== undefined);
      if (ips.length === 0) continue;
      const pool = s.metadata.annotations?.[IP_ALLOCATED_FROM_POOL];
      services.push({ key: `${s.metadata.namespace}/${s.metadata.name}`, labels: s.metadata.labels ?? {}, ips, ...(pool ? { pool } : {}), trafficPolicy: spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster' });
    }
    const endpoints = new Map<string, EndpointInfo[]>();
    for (const sl of this.slices.list()) {
      const svc = sl.metadata.labels?.['kubernetes.io/service-name'];
      if (!svc) continue;
      const key = `${sl.metadata.namespace}/${svc}`;
      const list = endpoints.get(key) ?? [];
      for (const e of ((sl['endpoints'] as { nodeName?: string; conditions?: { ready?: boolean } }[] | undefined) ?? [])) list.push({ node: e.nodeName ?? '', ready: e.conditions?.ready !== false });
      endpoints.set(key, list);
    }
    const alive = this.aliveSpeakers();
    const notReady = notReadyNodes(this.pods.list());
    const steady = this.steadyAlive(alive);
    const candidates = notReady.size === 0 ? steady : new Set([...steady].filter((n) => !notReady.has(n)));
    const desired = desiredState({ node: this.opts.node, config: parsed.config, services, endpoints, liveSpeakers: candidates });
    const guard = this.opts.splitBrainGuard === false ? { allowed: true as const } : this.guard.check(alive.size, this.opts.clock.monotonic(), this.isolatedLink());
    if (!guard.allowed) {
      if (!this.guarded) this.log.warn('split-brain guard: not answering for Layer 2 IPs', { event: 'splitBrainGuard', reason: guard.reason, alive: [...alive].sort() });
    } else if (this.guarded) this.log.info('split-brain guard: lifted', { event: 'splitBrainGuardLifted', alive: [...alive].sort() });
    const meKnown = this.nodes.get(this.opts.node) !== undefined;
    if (!meKnown && !this.toldFailed.has('node|missing')) {
      this.toldFailed.add('node|missing');
      this.log.warn(`this node's Node object ${this.opts.node} does not exist: announcing nothing from it`, { event: 'nodeNotFound' });
    } else if (meKnown) this.toldFailed.delete('node|missing');
    const now = this.opts.clock.monotonic();
    if (this.guarded && guard.allowed) {
      // Back from a partition: who is dead in this view was learnt while cut off. Take no new IP
      // until every member has been heard from again (or the hold ends), or this node would
      // claim IPs of members it has not heard from yet (and announce them from a non-owner).
      const since = now;
      this.rejoinUntil = now + DEFAULT_REJOIN_HOLD_MS;
      this.log.info('layer2: back from a partition; taking no new IP until membership agrees again', { event: 'rejoining', holdMs: DEFAULT_REJOIN_HOLD_MS });
      const check = (): void => {
        if (this.stopped || this.rejoinUntil === 0) return;
        if (this.swim?.heardFromAllSince(since) || this.opts.clock.monotonic() >= this.rejoinUntil) {
          this.rejoinUntil = 0;
          this.kick();
        } else this.opts.clock.setTimeout(check, 100);
      };
      this.opts.clock.setTimeout(check, 100);
    }
    this.guarded = !guard.allowed;
    const owned = this.l2?.owns() ?? new Map<string, string[]>();
    const l2 = !guard.allowed ? new Map<string, { ip: IP; interfaces: readonly string[]; services: readonly string[] }>() : now < this.rejoinUntil ? new Map([...desired.l2].filter(([ip]) => owned.has(ip))) : desired.l2;
    // Layer 2.
    if (this.l2) {
      const { taken, failed, deferred } = this.l2.setOwned(new Map([...l2].map(([ip, v]) => [ip, v.interfaces])));
      for (const [ip, why] of failed) {
        const key = `l2|${ip}|${why.message}`;
        if (this.toldFailed.has(key)) continue;
        this.toldFailed.add(key);
        this.log.error('layer2: cannot announce', { event: 'announceFailed', ip, reason: why.reason, cause: why.message, services: l2.get(ip)?.services ?? [] });
        for (const svc of l2.get(ip)?.services ?? []) void this.events.record(this.serviceRef(svc), 'Warning', 'announceFailed', `node ${this.opts.node} cannot announce ${ip} via L2: ${why.message}`);
      }
      for (const [ip, why] of deferred) {
        const key = `l2|${ip}|${why.reason}`;
        if (this.toldFailed.has(key)) continue;
        this.toldFailed.add(key);
        this.log.info('layer2: not announcing for now', { event: 'announceDeferred', ip, reason: why.reason, cause: why.message });
      }
      // What is announced again may fail again later, and must be told again then.
      for (const key of this.toldFailed) {
        const [proto, ip] = key.split('|');
        if (proto === 'l2' && ip !== undefined && !failed.has(ip) && !deferred.has(ip)) this.toldFailed.delete(key);
      }
      const takenServices = new Set<string>();
      for (const ip of taken) {
        for (const key of l2.get(ip)?.services ?? []) {
          takenServices.add(key);
          void this.events.record(this.serviceRef(key), 'Normal', 'nodeAssigned', `announcing ${ip} from node ${this.opts.node} via L2`);
        }
      }
      // Only members known to be dead: one not heard from yet may be alive and announcing.
      if (takenServices.size > 0) await this.status.forgetDeadOwners(takenServices, (n) => !alive.has(n) && (!this.swim || this.swim.isDead(n)));
    }
    // BGP.
    const me = parsed.config.nodes.get(this.opts.node);
    const peers = [...parsed.config.peers.values()].filter((p) => p.nodeSelectors.length === 0 || (me !== undefined && anySelectorMatches(p.nodeSelectors, me.labels)));
    this.bgp.apply(peers, desired.bgp, parsed.config.bfdProfiles);
    const nowBgp = new Set<string>();
    for (const d of desired.decisions) {
      if (!d.bgp.announce) continue;
      const key = `${d.service}|${d.ip}`;
      nowBgp.add(key);
      if (this.bgpAnnounced.has(key)) continue;
      const ip = tryParseIP(d.ip);
      const peersOf = [...desired.bgp].filter(([, routes]) => ip !== undefined && routes.some((r) => cidrContains(r.prefix, ip))).map(([p]) => p).sort();
      void this.events.record(this.serviceRef(d.service), 'Normal', 'nodeAssigned', `announcing ${d.ip} from node ${this.opts.node} via BGP to ${peersOf.join(', ') || 'no peer'}`);
    }
    this.bgpAnnounced = nowBgp;
    for (const [peer, cause] of this.bgp.failures()) {
      for (const route of desired.bgp.get(peer) ?? []) {
        for (const d of desired.decisions) {
          const ip = tryParseIP(d.ip);
          if (!d.bgp.announce || !ip || !cidrContains(route.prefix, ip)) continue;
          const key = `bgp|${peer}|${d.service}|${d.ip}|${cause}`;
          if (this.toldFailed.has(key)) continue;
          this.toldFailed.add(key);
          void this.events.record(this.serviceRef(d.service), 'Warning', 'announceFailed', `node ${this.opts.node} cannot announce ${d.ip} to BGP peer ${peer}: ${cause}`);
        }
      }
    }
    this.metrics.announced.set({ protocol: 'l2' }, l2.size);
    this.metrics.announced.set({ protocol: 'bgp' }, new Set(desired.decisions.filter((d) => d.bgp.announce).map((d) => d.ip)).size);
    await this.status.writeServiceStatuses(guard.allowed ? desired.decisions.filter((d) => d.l2.announce).map((d) => d.service) : [], desired.decisions.filter((d) => d.bgp.announce).map((d) => d.service), desired, this.l2?.owns() ?? new Map());
  }

  /** Starts the UDP failure detector once the memberlist key exists (Lease membership until then). */
  private ensureSwim(key: string | undefined): void {
    if (this.swim || this.swimStarting || !key || this.opts.memberPort === 0) return;
    this.swimStarting = true;
    const addressOf = (node: string): string | undefined => {
      const n = this.nodes.get(node);
      const addrs = ((n?.['status'] as { addresses?: { type: string; address: string }[] } | undefined)?.addresses ?? []);
      return addrs.find((a) => a.type === 'InternalIP')?.address;
    };
    const swim = new SwimMembership({ node: this.opts.node, key: Buffer.from(key), port: this.opts.memberPort ?? 7946, clock: this.opts.clock, logger: this.log, addressOf, onChange: () => this.kick() });
    swim.start().then(
      () => {
        this.swim = swim;
        this.log.info('membership: SWIM failure detector running', { port: this.opts.memberPort ?? 7946 });
        this.membership.relax();
        this.kick();
        // Members that never answer leave SWIM unconverged until its bound: decide again then.
        const poll = (): void => {
          if (this.stopped) return;
          if (swim.converged()) this.kick();
          else this.opts.clock.setTimeout(poll, 200);
        };
        poll();
      },
      (err: unknown) => this.log.warn('membership: SWIM unavailable, staying with Leases', { error: errorMessage(err) }),
    );
  }

  /** Per-peer session state objects; called periodically by main. */
  async writeSessionStates(): Promise<void> {
    const failures = this.bgp.failures();
    const errors = this.bgp.lastErrors();
    const sessions = [...this.bgp.states()].map(([peer, s]) => {
      const lastError = errors.get(peer);
      const since = s.establishedSince();
      const bfd = bfdStatusView(this.bgp.bfd.status(peer));
      return { peer, state: s.state(), ...(lastError ? { lastError } : {}), ...(since ? { establishedSince: since } : {}), prefixesSent: s.stats.prefixesAnnounced, ...(bfd ? { bfd } : {}) };
    });
    // Peers that have no session at all are reported too, Idle with the reason.
    for (const [peer, cause] of failures) if (!sessions.some((x) => x.peer === peer)) sessions.push({ peer, state: 'Idle', lastError: cause, prefixesSent: 0 });
    await this.status.writeSessionStates(sessions, this.opts.clock.monotonic());
  }

  l2Owned(): Map<string, string[]> {
    return this.l2?.owns() ?? new Map();
  }

  /**
   * SIGTERM: leave the membership at once (a new L2 owner takes over); close BGP sessions with
   * Cease (the routers withdraw), or, where graceful restart was negotiated, without one so
   * the routers keep the routes while this speaker restarts.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    this.swim?.stop();
    await this.membership.stop();
    this.queue.shutdown();
    await this.worker;
    this.l2?.close();
    this.links?.close();
    this.bgp.stopAll({ graceful: true });
    for (const i of this.informers) i.stop();
    await this.status.deleteServiceStatuses();
    // Events retry on errors now: give them a moment, never the whole shutdown.
    await this.events.flushWithin(2000);
    this.events.close();
  }
}
