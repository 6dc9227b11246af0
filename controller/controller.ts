/**
 * The controller loop: informers for Services, Namespaces and IPAddressPools; a work queue
 * of Service keys; the allocator; writes of status, annotation, condition and Events; pool
 * status and ConfigurationState. On start it replays Services that already hold addresses
 * (oldest first) before any pending Service is given one.
 */
import { CONTROLLER_NAME, MEMBERLIST_SECRET } from '../src/api/names.js';
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { GROUP, VERSION } from '../src/api/group.js';
import { SERVICE_CONDITION_ADDRESS_ASSIGNED } from '../src/api/annotations.js';
import type { Clock } from '../src/core/clock.js';
import { errorMessage } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { parseConfig } from '../src/config/parse.js';
import { capList } from '../src/config/reader.js';
import type { ConfigError } from '../src/core/errors.js';
import {
  EventRecorder,
  Informer,
  NAMESPACES,
  SERVICES,
  StatusWriter,
  WorkQueue,
  heraldResource,
  type KubeClient,
  type KubeObject,
  type ObjectReference,
} from '../src/k8s/index.js';
import { formatIP, type IP } from '../src/net/ip.js';
import { Allocator } from './allocator/allocator.js';
import type { ServiceRequest } from './allocator/types.js';
import { ServiceWrites } from './service-write.js';
import { DecisionEvents, isDecision } from './decision-events.js';
import { listControllerEvents, missingEvents } from './event-rederive.js';
import { EventPump, settlesWithin } from './event-pump.js';
import { reconcileService, type EventIntent } from './reconcile.js';
import { serviceKey, type ServiceObject } from '../src/api/service.js';
import { viewService, type ServiceView } from './service-view.js';
import { makeMetrics, type Metrics } from './metrics.js';
import {
  conditionsOf,
  ensureMemberlistSecret,
  writeConfigurationState,
  writePoolStatus,
  type StatusDeps,
} from './status-objects.js';

const POOLS = heraldResource('IPAddressPool');
/** The pool queue's key for the speakers' memberlist Secret (retried there until it exists). */
const MEMBERLIST_KEY = '\u0000memberlist';

/** The longest a Service Event waits for queued Service writes. */
const EVENT_DELAY_MS = 2000;
/** Configuration errors logged per pool reload; the rest are counted (ConfigurationState lists them). */
const MAX_LOGGED_CONFIG_ERRORS = 50;

export interface ControllerOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly registry: Registry;
  /** Where Herald's configuration lives (herald-system). */
  readonly namespace: string;
  /** Serve Services with this loadBalancerClass; undefined: those without a class. */
  readonly lbClass?: string;
  readonly workers?: number;
  readonly resyncMs?: number;
  readonly random?: () => number;
  /** How long a stop waits for queued Events before dropping them (default 2000 ms). */
  readonly eventFlushMs?: number;
  /** Pool status writes are coalesced over this window (default 1000 ms). */
  readonly poolStatusDelayMs?: number;
  /** Source of the memberlist key; crypto.randomBytes by default. */
  readonly randomBytes?: (n: number) => Buffer;
}

/**
 * When Herald confirmed the Service's addresses (its condition's lastTransitionTime); breaks
 * ties between Services created in the same second. Unconfirmed sorts last.
 */
function confirmedAt(s: KubeObject): string {
  const c = conditionsOf(s).find((x) => x.type === SERVICE_CONDITION_ADDRESS_ASSIGNED && x.status === 'True');
  return c?.lastTransitionTime ?? '\uffff';
}

export class Controller {
  readonly allocator = new Allocator();
  private readonly services: Informer<ServiceObject & KubeObject>;
  private readonly namespaces: Informer;
  private readonly pools: Informer;
  private readonly queue: WorkQueue;
  private readonly poolQueue: WorkQueue;
  private readonly writer: StatusWriter;
  private readonly events: EventRecorder;
  private readonly metrics: Metrics;
  private readonly log: Logger;
  private configErrors: readonly ConfigError[] = [];
  private ready = false;
  private stopping = false;
  private readonly workersDone: Promise<void>[] = [];
  private readonly writes: ServiceWrites;
  /**
   * Services whose last reconcile failed, in the order they started waiting: when addresses
   * are freed they are served first, oldest first, before any Service not yet synced.
   * With the reason (the AddressAssigned condition's), for the pending metric.
   */
  private readonly waiting = new Map<string, string>();
  private readonly eventPump: EventPump;
  /** IPConflict and IPReleased: written before the status write that carries them out. */
  private readonly decisions: DecisionEvents;
  readonly counts = { reconciles: 0, writes: 0, retriedWaiting: 0 };

  constructor(private readonly opts: ControllerOptions) {
    this.log = opts.logger.child({ component: 'controller' });
    const base = {
      client: opts.client,
      clock: opts.clock,
      logger: this.log,
      ...(opts.random ? { random: opts.random } : {}),
      pageSize: 500,
    };
    const waits = 'the controller does not start (no Service is given an address)';
    this.services = new Informer({
      ...base,
      type: SERVICES,
      resyncMs: opts.resyncMs ?? 0,
      purpose: waits,
    });
    this.namespaces = new Informer({ ...base, type: NAMESPACES, purpose: waits });
    this.pools = new Informer({
      ...base,
      type: POOLS,
      namespace: opts.namespace,
      purpose: `${waits}; apply Herald's CRDs (kubectl apply -k crds/)`,
    });
    this.queue = new WorkQueue({ clock: opts.clock, baseDelayMs: 50, maxDelayMs: 60_000 });
    this.poolQueue = new WorkQueue({ clock: opts.clock, baseDelayMs: 100, maxDelayMs: 60_000 });
    this.writer = new StatusWriter({ client: opts.client });
    this.events = new EventRecorder({
      client: opts.client,
      clock: opts.clock,
      logger: this.log,
      component: CONTROLLER_NAME,
    });
    this.eventPump = new EventPump({
      clock: opts.clock,
      work: this.queue,
      delayMs: EVENT_DELAY_MS,
      record: (ref, e) => this.events.post(ref, e.type, e.reason, e.message),
    });
    this.metrics = makeMetrics(opts.registry, {
      pools: () =>
        this.allocator.poolNames().flatMap((p) => {
          const stats = this.allocator.stats(p);
          return stats ? [[p, stats] as const] : [];
        }),
      pending: () => this.waiting.entries(),
    });
    this.decisions = new DecisionEvents({
      clock: opts.clock,
      record: (ref, e) => this.events.record(ref, e.type, e.reason, e.message),
    });
    this.writes = new ServiceWrites({
      client: opts.client,
      writer: this.writer,
      clock: opts.clock,
      metrics: this.metrics,
      counts: this.counts,
      emit: (ref, e) => this.emit(ref, e),
    });
  }

  isReady(): boolean {
    return this.ready;
  }

  notReadyReason(): string | undefined {
    return this.ready ? undefined : 'caches not synced or start-up replay not finished';
  }

  /** Starts the informers, replays assigned Services, then serves the queue. */
  async start(): Promise<void> {
    this.services.addHandlers({
      onAdd: (o) => this.enqueue(serviceKey(o)),
      onUpdate: (o) => this.enqueue(serviceKey(o)),
      onDelete: (o) => this.onServiceDeleted(o),
    });
    this.namespaces.addHandlers({
      onUpdate: (o, old) => {
        if (JSON.stringify(o.metadata.labels ?? {}) !== JSON.stringify(old.metadata.labels ?? {}))
          this.enqueueNamespace(o.metadata.name);
      },
    });
    const onPools = (): void => {
      if (this.ready) this.reloadPools(true);
    };
    // Only spec changes matter: a status write (ours) must not trigger a reload.
    this.pools.addHandlers({
      onAdd: onPools,
      onUpdate: (o, old) => (o.metadata.generation !== old.metadata.generation ? onPools() : undefined),
      onDelete: onPools,
    });
    this.services.addIndexer('namespace', (o) => [o.metadata.namespace ?? '']);
    this.services.start();
    this.namespaces.start();
    this.pools.start();
    const seenEvents = listControllerEvents(this.opts.client, this.log);
    await Promise.all([this.services.waitForSync(), this.namespaces.waitForSync(), this.pools.waitForSync()]);
    this.reloadPools(false);
    this.replay();
    const seen = await seenEvents;
    if (seen) {
      this.decisions.seen(seen);
      const derived = missingEvents(this.services.list(), seen, {
        nowMs: this.opts.clock.now(),
        windowMs: 3_600_000,
        managed: (s) => this.view(s).managed.yes,
      });
      for (const d of derived) this.emit(d.ref, d.e);
      if (derived.length > 0) this.log.info('re-derived Events lost before this start', { events: derived.length });
    }
    this.ready = true;
    for (const s of this.byAge(this.services.list())) this.enqueue(serviceKey(s));
    for (let i = 0; i < (this.opts.workers ?? 16); i++) this.workersDone.push(this.work());
    this.workersDone.push(this.poolWork());
    try {
      await this.ensureMemberlistSecret();
    } catch (err) {
      // Retried from the pool queue, with its backoff, until it is there.
      this.memberlistFailed(err, this.poolQueue.addRateLimited(MEMBERLIST_KEY));
    }
    this.log.info('controller started', {
      event: 'started',
      services: this.services.list().length,
      pools: this.allocator.poolNames().length,
    });
  }

  /** Service Events wait for the queued Service writes they describe (see EventPump). */
  private emit(ref: ObjectReference, e: EventIntent): void {
    // Told again by every start (from the Service's annotations), unless the server has it.
    if (e.reason === 'MetalLBAnnotation' && this.decisions.onServerAtStart(ref.uid, e)) return;
    this.eventPump.push(ref, e);
  }

  /**
   * Stops promptly: Service writes in flight finish, queued Events get at most `eventFlushMs`
   * and the rest are dropped (the next start re-derives the important ones from status).
   */
  async stop(): Promise<void> {
    this.stopping = true;
    this.eventPump.stop();
    this.services.stop();
    this.namespaces.stop();
    this.pools.stop();
    this.queue.shutdown();
    this.poolQueue.shutdown();
    // A write the server never answers must not hold the process: after eventFlushMs the
    // in-flight writes are abandoned (as in a crash; the next start works from what the server holds).
    const workers = await settlesWithin(this.opts.clock, Promise.all(this.workersDone), this.opts.eventFlushMs ?? 2000);
    if (!workers) this.log.warn('stopping with Service writes unanswered', { event: 'stoppedUnflushed' });
    await this.eventPump.idle();
    const flushed = await this.events.flushWithin(this.opts.eventFlushMs ?? 2000);
    if (!flushed)
      this.log.warn('stopping with Events unwritten; the next start re-derives the important ones from status', {
        event: 'stoppedUnflushed',
        unwritten: this.events.pending(),
      });
    this.events.close();
  }

  /** True when nothing is queued or in flight (for tests and benches). */
  isIdle(): boolean {
    return this.ready && this.queue.isIdle() && this.poolQueue.isIdle();
  }

  private enqueue(key: string): void {
    if (!this.ready || this.stopping) return;
    this.queue.add(key);
    this.metrics.queueDepth.set(this.queue.len());
  }

  private enqueueNamespace(ns: string): void {
    for (const s of this.services.byIndex('namespace', ns)) this.enqueue(serviceKey(s));
  }

  /** The server confirmed the deletion: what the Service held or showed is free. */
  private onServiceDeleted(o: ServiceObject): void {
    const key = serviceKey(o);
    const had = this.allocator.assignmentOf(key);
    this.waiting.delete(key);
    this.decisions.forget(key);
    const released = this.allocator.release(key);
    if (released && had && had.pool) this.poolQueue.addAfter(had.pool, this.opts.poolStatusDelayMs ?? 1000);
    if ((this.allocator.undrain(key) > 0 || released) && this.ready) this.retryWaiting();
  }

  private view(svc: ServiceObject): ServiceView {
    return viewService(
      svc,
      this.namespaceLabels(svc.metadata.namespace ?? 'default'),
      this.opts.lbClass !== undefined ? { lbClass: this.opts.lbClass } : {},
    );
  }

  private byAge<T extends ServiceObject>(list: T[]): T[] {
    return [...list].sort(
      (a, b) =>
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        confirmedAt(a).localeCompare(confirmedAt(b)) ||
        serviceKey(a).localeCompare(serviceKey(b)),
    );
  }

  /**
   * Addresses were freed: Services that wait (failed) claim them now, oldest waiting first,
   * in this very turn — before any other Service's sync can run — and are queued to write.
   */
  private retryWaiting(): void {
    for (const key of [...this.waiting.keys()]) {
      const svc = this.services.get(key);
      if (!svc) {
        this.waiting.delete(key);
        continue;
      }
      if (this.allocator.assignmentOf(key)) continue;
      const d = reconcileService(this.view(svc), this.allocator);
      if (d.kind === 'managed' && d.result === 'failed') continue;
      this.waiting.delete(key);
      this.counts.retriedWaiting++;
      this.enqueue(key);
    }
  }

  private namespaceLabels(ns: string): Record<string, string> {
    return this.namespaces.get(ns)?.metadata.labels ?? {};
  }

  /** Re-reads pools into the allocator; `requeue` gives every Service another look. */
  private reloadPools(requeue: boolean): void {
    const objects = this.pools.list().map((p) => ({ ...p, apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAddressPool' }));
    const parsed = parseConfig(objects);
    this.configErrors = parsed.errors;
    this.metrics.config.observe(parsed.errors.length);
    const logged = capList(parsed.errors, MAX_LOGGED_CONFIG_ERRORS);
    for (const e of logged.shown)
      this.log.warn('invalid IPAddressPool', {
        event: 'invalidPool',
        pool: e.object.name,
        field: e.field,
        reason: e.reason,
      });
    if (logged.omitted > 0)
      this.log.warn('more pool errors not logged (see ConfigurationState and pool conditions)', {
        omitted: logged.omitted,
        total: parsed.errors.length,
      });
    const { notInPool } = this.allocator.setPools(parsed.config.pools.values(), parsed.invalidPools);
    if (notInPool.length > 0)
      this.log.warn('addresses outside every pool are kept', { event: 'addressesOutsidePools', services: notInPool });
    if (requeue) this.retryWaiting();
    for (const p of this.pools.list()) this.poolQueue.add(p.metadata.name);
    this.poolQueue.add('\u0000configurationstate');
    if (requeue) for (const s of this.byAge(this.services.list())) this.enqueue(serviceKey(s));
  }

  /**
   * Start-up replay, in two passes, oldest first (creation, then confirmation time). First
   * every Service whose status still agrees with its own request re-claims exactly what it
   * shows; only then are the others (request or pool annotation changed, or an address
   * another Service also shows) given addresses. An older Service whose request changed while
   * the controller was down can therefore never take what a younger one shows.
   */
  private replay(): void {
    const assigned = this.byAge(this.services.list().filter((s) => (s.status?.loadBalancer?.ingress ?? []).length > 0));
    const current = (v: ServiceView) => ({
      ips: v.currentIPs,
      ...(v.currentPool !== undefined ? { pool: v.currentPool } : {}),
    });
    // One view at a time, keeping only what the later passes need: a view of every Service
    // held at once was 137.5 MB per 100,000 (measured apart), on top of the caches, and ran
    // a restart at 100k out of a 512 MB heap.
    const shows: { key: string; ips: readonly IP[] }[] = [];
    const rest: ServiceView[] = [];
    let kept = 0;
    for (const s of assigned) {
      const v = this.view(s);
      if (v.managed.yes || v.currentPool !== undefined) shows.push({ key: v.key, ips: v.currentIPs });
      if (!v.managed.yes || 'invalid' in v.request) continue;
      if (this.allocator.keep(v.request, current(v))) kept++;
      else rest.push(v);
    }
    // What every other Service shows (Herald's, or that Herald gave) stays reserved until its
    // first write is acknowledged, so the second pass and pending Services cannot take it.
    for (const d of shows) this.allocator.drain(d.key, d.ips);
    for (const view of rest) {
      const r = this.allocator.assign(view.request as ServiceRequest, current(view));
      if (r.ok && r.conflict) {
        const held = r.conflict.ips.map(formatIP).join(', ');
        this.decisions.owe(view.key, [
          {
            type: 'Warning',
            reason: 'IPConflict',
            message: `${held} is held by ${r.conflict.holder} (${r.conflict.reason}); assigned ${r.ips.map(formatIP).join(', ')} instead`,
          },
        ]);
      }
    }
    this.log.info('start-up replay done', { servicesWithAddresses: assigned.length, kept });
  }

  private async work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.metrics.queueDepth.set(this.queue.len());
      const end = this.metrics.reconcileSeconds.startTimer();
      try {
        await this.sync(key);
        this.queue.forget(key);
      } catch (err) {
        const delay = this.queue.addRateLimited(key);
        this.log.warn('service sync failed, will retry', {
          event: 'syncFailed',
          service: key,
          error: errorMessage(err),
          retryInMs: delay,
        });
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }

  private async sync(key: string): Promise<void> {
    this.counts.reconciles++;
    const svc = this.services.get(key);
    if (!svc) {
      this.onServiceDeleted({ metadata: { name: key.split('/')[1]!, namespace: key.split('/')[0]! } });
      return;
    }
    const view = this.view(svc);
    const before = this.allocator.assignmentOf(key);
    let desired = reconcileService(view, this.allocator);
    this.decisions.owe(key, desired.events);
    desired = { ...desired, events: desired.events.filter((e) => !isDecision(e)) };
    const after = this.allocator.assignmentOf(key);
    // Handover: what the Service held or showed and gives up goes to nobody else until the
    // server has acknowledged the write that stops showing it.
    const keeps = new Set((after?.ips ?? []).map(formatIP));
    // What the status shows counts only when the addresses are Herald's (as at start-up): those
    // of a Service served by another implementation are none of Herald's business.
    const shown = view.managed.yes || view.currentPool !== undefined ? view.currentIPs : [];
    this.allocator.drain(
      key,
      [...(before?.ips ?? []), ...shown].filter((ip) => !keeps.has(formatIP(ip))),
    );
    const drained = this.allocator.drainedBy(key).length > 0;
    // Addresses still reserved for it were Herald's: clear them even if its annotation is gone.
    if (desired.kind === 'unmanaged' && drained && !desired.clearStatus) desired = { ...desired, clearStatus: true };
    if (desired.kind === 'managed' && desired.result === 'failed') this.waiting.set(key, desired.condition.reason);
    else this.waiting.delete(key);
    // Pool status is coalesced: at most one write per pool per second.
    for (const pool of new Set([before?.pool, after?.pool]))
      if (pool) this.poolQueue.addAfter(pool, this.opts.poolStatusDelayMs ?? 1000);
    const [namespace, name] = key.split('/') as [string, string];
    await this.decisions.settle(key, {
      apiVersion: 'v1',
      kind: 'Service',
      name,
      namespace,
      ...(svc.metadata.uid ? { uid: svc.metadata.uid } : {}),
    });
    await this.writes.write(svc, desired, drained);
    if (this.allocator.undrain(key) > 0) this.retryWaiting();
  }

  private async poolWork(): Promise<void> {
    for (;;) {
      const key = await this.poolQueue.get();
      if (key === undefined) return;
      try {
        if (key === '\u0000configurationstate') await this.writeConfigurationState();
        else if (key === MEMBERLIST_KEY) await this.ensureMemberlistSecret();
        else await this.writePoolStatus(key);
        this.poolQueue.forget(key);
      } catch (err) {
        const delay = this.poolQueue.addRateLimited(key);
        if (key === MEMBERLIST_KEY) this.memberlistFailed(err, delay);
        else
          this.log.warn('pool status write failed, will retry', {
            event: 'statusWriteFailed',
            pool: key,
            error: errorMessage(err),
            retryInMs: delay,
          });
      } finally {
        this.poolQueue.done(key);
      }
    }
  }

  private writePoolStatus(name: string): Promise<void> {
    const obj = this.pools.get(`${this.opts.namespace}/${name}`);
    if (!obj) return Promise.resolve();
    return writePoolStatus(this.statusDeps(), obj, this.allocator.stats(name));
  }

  private memberlistFailed(err: unknown, retryInMs: number): void {
    this.log.warn('could not create the memberlist secret, will retry', {
      event: 'memberlistSecretFailed',
      secret: `${this.opts.namespace}/${MEMBERLIST_SECRET}`,
      error: errorMessage(err),
      retryInMs,
    });
  }

  private ensureMemberlistSecret(): Promise<void> {
    return ensureMemberlistSecret(this.statusDeps(), this.opts.randomBytes ?? randomBytes);
  }

  private writeConfigurationState(): Promise<void> {
    return writeConfigurationState(this.statusDeps());
  }

  private statusDeps(): StatusDeps {
    return {
      client: this.opts.client,
      writer: this.writer,
      clock: this.opts.clock,
      log: this.log,
      namespace: this.opts.namespace,
      configErrors: this.configErrors,
      events: this.events,
    };
  }
}
