/**
 * The speaker on one node: watches the cluster, computes this node's desired announcements
 * (pure, desired.ts) and hands each protocol its view of them (announcers/: Layer 2, BGP);
 * reports ServiceL2Status, ServiceBGPStatus, BGPSessionState and ConfigurationState, Events
 * and metrics. This file is the loop that composes the units; each decision lives in one.
 */
import { MEMBERLIST_SECRET, MEMBERLIST_SECRET_KEY, NODE_LABEL, SPEAKER_NAME } from '../src/api/names.js';
import { networkInterfaces } from 'node:os';
import type { Registry } from 'prom-client';
import type { Clock } from '../src/core/clock.js';
import { errorMessage } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { parseConfig } from '../src/config/parse.js';
import {
  ENDPOINT_SLICES,
  EventRecorder,
  type ObjectReference,
  heraldResource,
  Informer,
  NODES,
  PODS,
  SECRETS,
  SERVICES,
  StatusWriter,
  WorkQueue,
  type KubeClient,
} from '../src/k8s/index.js';
import type { ServiceObject } from '../src/api/service.js';
import type { IP } from '../src/net/ip.js';
import type { NativeAddon } from '../native/index.js';
import { BgpAnnouncer } from './announcers/bgp.js';
import { Layer2Announcer } from './announcers/layer2.js';
import type { ServiceEvents } from './announcers/protocol.js';
import { BgpManager } from './bgp/manager.js';
import { AnnounceMetrics } from './announce-metrics.js';
import { announcedPeers, type DesiredContext, type DesiredState } from './desired.js';
import { configObjects, internalIP, nodeAddresses } from './inputs.js';
import { PerServiceDesired, type ServiceInputs } from './service-inputs.js';
import { L2Engine } from './layer2/engine.js';
import { NetlinkLinks } from './layer2/links.js';
import { notReadyNodes, SPEAKER_POD_SELECTOR } from './membership/pod-readiness.js';
import { MembershipView } from './membership/view.js';
import { SpeakerMetrics } from './metrics.js';
import { BgpNodeStatusShards, shardCount, shardsWritten } from './bgp-node-status.js';
import { ServiceStatusWriter } from './service-status.js';
import { bgpServiceStatusObjects, l2StatusObjects, type ServiceStatusMode } from './status-sets.js';
import { BGP_NODE_STATUS, BGP_STATUS, L2_STATUS, SpeakerStatusObjects } from './status-objects.js';
import { Told } from './told.js';
import { endpointSliceView, ownStatusView, serviceView } from './views.js';

/** After this long without a pass, one that recomputes every Service, though no event asked for it. */
const FULL_RESYNC_MS = 5 * 60_000;
/**
 * Each status object is written at most once a second (decision 015: per BGPNodeStatus shard).
 * Also keeps a write from being repeated when the informer shows the object's create before
 * its status update: the next comparison waits until the informer has caught up.
 */
const STATUS_MIN_INTERVAL_MS = 1000;
/** A pass recomputing many Services lets the event loop run after this many (BGP keepalives, informer events). */
const YIELD_EVERY = 1000;
/** On stop, how long the status pass in progress may take before this node's status objects are deleted anyway. */
const STATUS_STOP_WAIT_MS = 10_000;
const HERALD_KINDS = [
  'IPAddressPool',
  'L2Advertisement',
  'BGPAdvertisement',
  'BGPPeer',
  'BFDProfile',
  'Community',
] as const;

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
  /** Gratuitous ARP/NA frames a second per interface (default DEFAULT_ANNOUNCE_RATE). */
  readonly announceRate?: number;
  /** BGP status: BGPNodeStatus shards per node (default), or MetalLB's ServiceBGPStatus per Service and node. */
  readonly serviceStatus?: ServiceStatusMode;
}

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
  private readonly membership: MembershipView;
  /** Conditions already told (log lines, Events), each until it ends. */
  private readonly told = new Told();
  /** Something changed since the last pass started. */
  private dirty = true;
  /** Each announced Service's inputs (kept from Service and EndpointSlice events) and desired state, recomputed per Service. */
  private readonly desired: PerServiceDesired;
  /** When the last pass started (monotonic ms). */
  private lastPass = 0;
  /** The BGPNodeStatus objects, kept per Service like the desired state (per-node mode). */
  private readonly bgpShards: BgpNodeStatusShards;
  private readonly links?: NetlinkLinks;
  private readonly bgp: BgpManager;
  private readonly layer2: Layer2Announcer;
  private readonly bgpAnnouncer: BgpAnnouncer;
  private readonly events: EventRecorder;
  private readonly log: Logger;
  private ready = false;
  private stopped = false;
  private worker: Promise<void> | undefined;
  private readonly status: SpeakerStatusObjects;
  /** ServiceL2Status and the BGP status (BGPNodeStatus or ServiceBGPStatus), written in the background: routes never wait for them. */
  private readonly serviceStatus: ServiceStatusWriter;
  /** The BGPNodeStatus shard count (per-node mode; at first what an earlier run left); it moves with hysteresis (bgp-node-status.ts). */
  private shards: number | undefined;
  private readonly metrics: SpeakerMetrics;
  private readonly announceMetrics: AnnounceMetrics;

  constructor(private readonly opts: SpeakerOptions) {
    this.log = opts.logger.child({ component: 'speaker', node: opts.node });
    this.desired = new PerServiceDesired(opts.lbClass);
    this.bgpShards = new BgpNodeStatusShards(opts.node);
    const base = { client: opts.client, clock: opts.clock, logger: this.log };
    this.services = new Informer({ ...base, type: SERVICES, transform: serviceView });
    this.slices = new Informer({
      ...base,
      type: ENDPOINT_SLICES,
      transform: endpointSliceView,
      purpose: 'the speaker does not start (it announces nothing; EndpointSlice v1 needs Kubernetes 1.21)',
    });
    this.nodes = new Informer({ ...base, type: NODES });
    this.secrets = new Informer({ ...base, type: SECRETS, namespace: opts.namespace });
    this.pods = new Informer({ ...base, type: PODS, namespace: opts.namespace, labelSelector: SPEAKER_POD_SELECTOR });
    for (const k of HERALD_KINDS)
      this.herald.set(k, new Informer({ ...base, type: heraldResource(k), namespace: opts.namespace }));
    for (const t of [L2_STATUS, BGP_STATUS, BGP_NODE_STATUS])
      this.ownStatus.set(
        t.plural,
        new Informer({
          ...base,
          type: t,
          namespace: opts.namespace,
          labelSelector: `${NODE_LABEL}=${opts.node}`,
          transform: ownStatusView,
        }),
      );
    this.informers.push(
      this.services,
      this.slices,
      this.nodes,
      this.secrets,
      this.pods,
      ...this.herald.values(),
      ...this.ownStatus.values(),
    );
    this.queue = new WorkQueue({ clock: opts.clock, baseDelayMs: 100, maxDelayMs: 10_000 });
    const native = 'error' in opts.native ? undefined : opts.native;
    if (native) this.links = new NetlinkLinks({ native, logger: this.log.child({ component: 'layer2' }) });
    this.membership = new MembershipView({
      ...base,
      logger: this.log.child({ component: 'membership' }),
      namespace: opts.namespace,
      node: opts.node,
      ...(opts.memberExpireMs ? { expireMs: opts.memberExpireMs } : {}),
      ...(opts.memberPort !== undefined ? { memberPort: opts.memberPort } : {}),
      ...(opts.splitBrainGuard !== undefined ? { splitBrainGuard: opts.splitBrainGuard } : {}),
      ...(this.links ? { links: this.links } : {}),
      nodeAddresses: () => this.nodeAddresses(),
      addressOf: (node) => internalIP(this.nodes.get(node)),
      onChange: () => this.kick(),
    });
    const l2Counters = { requests: 0, answers: 0, gratuitous: 0, malformed: 0, rateLimited: 0 };
    let engine: L2Engine | undefined;
    if (native && this.links)
      engine = new L2Engine({
        native,
        links: this.links,
        clock: opts.clock,
        logger: this.log.child({ component: 'layer2' }),
        counters: l2Counters,
        ...(opts.excludeInterfaces ? { excludeInterfaces: opts.excludeInterfaces } : {}),
        ...(opts.announceRate !== undefined ? { announceRate: opts.announceRate } : {}),
        onChange: () => this.kick(),
        membershipAgreesSince: (since) => this.membership.heardFromAllSince(since),
      });
    else
      this.log.error('Layer 2 mode unavailable: the native addon did not load; BGP mode still runs', {
        event: 'layer2Unavailable',
        cause: (opts.native as { error: string }).error,
      });
    this.bgp = new BgpManager({
      clock: opts.clock,
      logger: this.log.child({ component: 'bgp' }),
      ...(native ? { native } : { nativeError: (opts.native as { error: string }).error }),
      nodeAddresses: () => this.nodeAddresses(),
      listen: opts.bgpListen ?? true,
      onChange: () => this.kick(),
    });
    this.metrics = new SpeakerMetrics(opts.registry, {
      l2Counters,
      l2SocketCounters: () => engine?.socketCounters() ?? {},
      l2Pacing: () => engine?.pacing(),
      bgpSessions: () => this.bgp.states(),
      bgpFailures: () => this.bgp.failures(),
      bfd: () => this.bgp.bfd,
    });
    this.announceMetrics = new AnnounceMetrics(opts.registry, opts.node);
    this.events = new EventRecorder({
      client: opts.client,
      clock: opts.clock,
      logger: this.log,
      component: SPEAKER_NAME,
      host: opts.node,
    });
    const writer = new StatusWriter({ client: opts.client });
    this.status = new SpeakerStatusObjects({
      client: opts.client,
      writer,
      namespace: opts.namespace,
      node: opts.node,
      log: this.log,
    });
    // Both BGP kinds, whichever the mode: this node's objects of the other one (an earlier run in the other mode) are deleted.
    const kinds = [L2_STATUS, BGP_STATUS, BGP_NODE_STATUS].map((type) => ({
      type,
      minIntervalMs: STATUS_MIN_INTERVAL_MS,
    }));
    this.serviceStatus = new ServiceStatusWriter({
      client: opts.client,
      writer,
      namespace: opts.namespace,
      node: opts.node,
      log: this.log.child({ component: 'status' }),
      clock: opts.clock,
      kinds,
      own: this.ownStatus,
    });
    const events: ServiceEvents = (svc, type, reason, message) =>
      void this.events.record(this.serviceRef(svc), type, reason, message);
    this.layer2 = new Layer2Announcer({
      node: opts.node,
      engine,
      logger: this.log.child({ component: 'layer2' }),
      events,
      told: this.told,
      status: this.status,
    });
    // Per-node status: no Event per announced Service per node (decision 015 step 2); failures still get theirs.
    this.bgpAnnouncer = new BgpAnnouncer({
      node: opts.node,
      manager: this.bgp,
      events,
      told: this.told,
      tellAnnounced: opts.serviceStatus === 'per-service',
    });
  }

  /** This node's addresses: its Node object's InternalIPs first, else the host's interfaces (inputs.ts). */
  private nodeAddresses(): { v4?: IP; v6?: IP } {
    return nodeAddresses(this.nodes.get(this.opts.node), networkInterfaces());
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
    const own = new Set<Informer>(this.ownStatus.values());
    for (const inf of this.informers) {
      // This node's own status objects change with every write of them: the status writer
      // compares again (a deleted or edited one is written again); no announcement pass needed.
      if (own.has(inf)) {
        const changed = (): void => this.serviceStatus.recheck();
        inf.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
      } else if (inf === this.services || inf === this.slices) {
        // Per Service: only a change to what the decisions read asks for a pass, and only that Service is recomputed.
        const take =
          inf === this.services
            ? (o: unknown, gone: boolean): boolean => this.desired.inputs.service(o as ServiceObject, gone)
            : (o: unknown, gone: boolean): boolean =>
                this.desired.inputs.slice(o as Parameters<ServiceInputs['slice']>[0], gone);
        inf.addHandlers({
          onAdd: (o) => take(o, false) && this.kick(),
          onUpdate: (o) => take(o, false) && this.kick(),
          onDelete: (o) => take(o, true) && this.kick(),
        });
      } else {
        const changed = (): void => this.kick();
        inf.addHandlers({ onAdd: changed, onUpdate: changed, onDelete: changed });
      }
      inf.start();
    }
    await Promise.all(this.informers.map((i) => i.waitForSync()));
    try {
      await this.links?.start();
    } catch (err) {
      this.log
        .child({ component: 'layer2' })
        .error("cannot watch the node's links (netlink); link events will go unnoticed", {
          event: 'linkWatchFailed',
          error: errorMessage(err),
        });
    }
    await this.membership.start();
    this.ready = true;
    this.worker = this.work();
    this.kick();
    this.log.info('speaker started', { event: 'started' });
  }

  /**
   * Called periodically: recomputes only when something changed that no event reports (the
   * split-brain guard's settle window ending), or, recomputing every Service, when no pass ran
   * for FULL_RESYNC_MS (a safety net); with 100k Services that pass is not free, and an idle
   * speaker stays idle.
   */
  resync(): void {
    if (!this.ready || this.stopped) return;
    const now = this.opts.clock.monotonic();
    const safetyNet = now - this.lastPass >= FULL_RESYNC_MS;
    // The safety net recomputes every Service, as if an event had been missed.
    if (safetyNet) this.desired.invalidate();
    if (this.membership.guardChanged() || this.dirty || safetyNet) this.kick();
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
        this.log.warn('speaker sync failed, will retry', { event: 'syncFailed', error: errorMessage(err) });
        this.queue.addRateLimited(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  /** One pass: configuration, membership, the desired state, each protocol, metrics; hands the Service status to its writer. */
  private async sync(): Promise<void> {
    // Events from here on ask for another pass.
    this.dirty = false;
    this.lastPass = this.opts.clock.monotonic();
    const parsed = parseConfig(
      configObjects(
        [...this.herald].map(([kind, inf]) => [kind, inf.list()] as const),
        this.nodes.list(),
        this.secrets.list(),
      ),
    );
    await this.status.writeConfigurationState(parsed.errors);
    this.membership.useKey(
      parsed.config.secrets.get(`${this.opts.namespace}/${MEMBERLIST_SECRET}`)?.data[MEMBERLIST_SECRET_KEY],
    );
    this.membership.setMembers(this.nodes.list().map((n) => n.metadata.name));
    const members = this.membership.pass(notReadyNodes(this.pods.list()));
    const { state: desired, changed } = await this.desiredState({
      node: this.opts.node,
      config: parsed.config,
      liveSpeakers: members.candidates,
    });
    this.tellNodeMissing();
    this.told.pruneServices({ has: (key) => this.services.get(key) !== undefined });
    const l2 = await this.layer2.setBalancers({
      decisions: desired.decisions,
      owners: desired.l2,
      hold: members.hold,
      dead: members.dead,
    });
    const bgp = await this.bgpAnnouncer.setBalancers({
      decisions: desired.decisions,
      routes: desired.bgp,
      config: parsed.config,
    });
    for (const a of [l2, bgp]) this.metrics.announced(a);
    this.announceMetrics.observe({
      l2Owned: this.layer2.owned(),
      l2: desired.l2,
      decisions: desired.decisions,
      configErrors: parsed.errors,
    });
    this.offerServiceStatus(l2.services, bgp.services, desired, changed);
  }

  /**
   * The desired state after recomputing the Services whose inputs changed since the last
   * pass, or every Service when the context changed (configuration, nodes, live speakers).
   * Lets the event loop run every YIELD_EVERY Services; what changes meanwhile is recomputed
   * at the next pass. Returns the state and the Services recomputed.
   */
  private async desiredState(ctx: DesiredContext): Promise<{ state: DesiredState; changed: ReadonlySet<string> }> {
    const started = this.opts.clock.monotonic();
    const update = await this.desired.update(ctx, YIELD_EVERY);
    if (update.all)
      this.log.info('recomputed every Service', {
        event: 'recomputedAll',
        reason: update.fromScratch ? 'start or safety net' : 'configuration, nodes or live speakers',
        services: update.changed.size,
        ms: Math.round(this.opts.clock.monotonic() - started),
      });
    return { state: this.desired.index.state(), changed: update.changed };
  }

  /** Only records the status wanted: the background writer catches up, the next pass never waits for it. */
  private offerServiceStatus(
    l2Services: readonly string[],
    bgpServices: readonly string[],
    desired: DesiredState,
    changed: ReadonlySet<string>,
  ): void {
    const { node } = this.opts;
    const set = new Map([[L2_STATUS.plural, l2StatusObjects(node, l2Services, desired, this.layer2.owned())]]);
    if (this.opts.serviceStatus === 'per-service')
      set.set(BGP_STATUS.plural, bgpServiceStatusObjects(node, bgpServices, desired));
    else {
      for (const service of changed) this.bgpShards.set(service, announcedPeers(this.desired.index.get(service)));
      this.shards ??= shardsWritten(
        (this.ownStatus.get(BGP_NODE_STATUS.plural)?.list() ?? []).map((o) => String(o['statusText'] ?? '')),
      );
      this.shards = shardCount(this.bgpShards.size, this.shards);
      this.bgpShards.resize(this.shards);
      set.set(BGP_NODE_STATUS.plural, new Map(this.bgpShards.objects()));
    }
    this.serviceStatus.offer(set);
  }

  /** A warning while this node's own Node object does not exist (once, and again if it goes away again). */
  private tellNodeMissing(): void {
    if (this.nodes.get(this.opts.node) !== undefined) this.told.forget({ kind: 'nodeMissing' });
    else if (this.told.first({ kind: 'nodeMissing' }))
      this.log.warn(`this node's Node object ${this.opts.node} does not exist: announcing nothing from it`, {
        event: 'nodeNotFound',
      });
  }

  /** Per-peer session state objects; called periodically by main. */
  async writeSessionStates(): Promise<void> {
    await this.status.writeSessionStates(this.bgpAnnouncer.sessions(), this.opts.clock.monotonic());
  }

  l2Owned(): Map<string, string[]> {
    return this.layer2.owned();
  }

  /**
   * SIGTERM: leave the membership at once (a new L2 owner takes over); close BGP sessions with
   * Cease (the routers withdraw), or, where graceful restart was negotiated, without one so
   * the routers keep the routes while this speaker restarts.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.membership.stop();
    this.queue.shutdown();
    await this.worker;
    this.layer2.stop();
    this.links?.close();
    this.bgpAnnouncer.stop();
    for (const i of this.informers) i.stop();
    await this.serviceStatus.stop(STATUS_STOP_WAIT_MS);
    // Events retry on errors now: give them a moment, never the whole shutdown.
    await this.events.flushWithin(2000);
    this.events.close();
  }
}
