/**
 * The controller loop: informers for Services, Namespaces and IPAddressPools; a work queue
 * of Service keys; the allocator; writes of status, annotation, condition and Events; pool
 * status and ConfigurationState. On start it replays Services that already hold addresses
 * (oldest first) before any pending Service is given one.
 */
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import { GROUP, VERSION } from '../src/api/group.js';
import { IP_ALLOCATED_FROM_POOL, SERVICE_CONDITION_ADDRESS_ASSIGNED } from '../src/api/annotations.js';
import type { Clock } from '../src/core/clock.js';
import { errorMessage } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { parseConfig } from '../src/config/parse.js';
import type { ConfigError } from '../src/core/errors.js';
import { EventRecorder, Informer, NAMESPACES, SECRETS, SERVICES, StatusWriter, isAlreadyExists, WorkQueue, heraldResource, isNotFound, setCondition, type Condition, type KubeClient, type KubeObject } from '../src/k8s/index.js';
import { formatIP } from '../src/net/ip.js';
import { Allocator } from './allocator/allocator.js';
import { reconcileService, type Desired, type EventIntent } from './reconcile.js';
import { serviceKey, viewService, type ServiceObject } from './service-view.js';

const POOLS = heraldResource('IPAddressPool');
const CONFIG_STATES = heraldResource('ConfigurationState');

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
  /** Pool status writes are coalesced over this window (default 1000 ms). */
  readonly poolStatusDelayMs?: number;
  /** Source of the memberlist key; crypto.randomBytes by default. */
  readonly randomBytes?: (n: number) => Buffer;
}

/** The Secret the speakers use to authenticate membership messages; the controller makes it. */
export const MEMBERLIST_SECRET = 'herald-memberlist';

interface Metrics {
  readonly allocations: Counter;
  readonly failures: Counter;
  readonly reconcileSeconds: Histogram;
  readonly queueDepth: Gauge;
  readonly poolAddresses: Gauge;
  readonly poolInUse: Gauge;
}

function makeMetrics(registry: Registry): Metrics {
  return {
    allocations: new Counter({ name: 'herald_controller_allocations_total', help: 'Services given addresses', registers: [registry] }),
    failures: new Counter({ name: 'herald_controller_allocation_failures_total', help: 'Failed allocations by reason', labelNames: ['reason'], registers: [registry] }),
    reconcileSeconds: new Histogram({ name: 'herald_controller_reconcile_duration_seconds', help: 'Time to reconcile one Service', buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5], registers: [registry] }),
    queueDepth: new Gauge({ name: 'herald_controller_queue_depth', help: 'Service keys waiting', registers: [registry] }),
    poolAddresses: new Gauge({ name: 'herald_pool_addresses_total', help: 'Usable addresses per pool and family (saturates above 2^53)', labelNames: ['pool', 'family'], registers: [registry] }),
    poolInUse: new Gauge({ name: 'herald_pool_addresses_in_use', help: 'Addresses in use per pool and family', labelNames: ['pool', 'family'], registers: [registry] }),
  };
}

function conditionsOf(obj: KubeObject): Condition[] {
  return ((obj['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).filter((c) => c && typeof c.type === 'string');
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
  /** Service UIDs already told that their MetalLB annotations are honoured. */
  private readonly toldMetalLB = new Set<string>();
  /** Conflicts found by the start-up replay, told by the Service's first sync. */
  private readonly replayEvents = new Map<string, EventIntent[]>();
  readonly counts = { reconciles: 0, writes: 0 };

  constructor(private readonly opts: ControllerOptions) {
    this.log = opts.logger.child({ component: 'controller' });
    const base = { client: opts.client, clock: opts.clock, logger: this.log, ...(opts.random ? { random: opts.random } : {}), pageSize: 500 };
    this.services = new Informer({ ...base, type: SERVICES, resyncMs: opts.resyncMs ?? 0 });
    this.namespaces = new Informer({ ...base, type: NAMESPACES });
    this.pools = new Informer({ ...base, type: POOLS, namespace: opts.namespace });
    this.queue = new WorkQueue({ clock: opts.clock, baseDelayMs: 50, maxDelayMs: 60_000 });
    this.poolQueue = new WorkQueue({ clock: opts.clock, baseDelayMs: 100, maxDelayMs: 60_000 });
    this.writer = new StatusWriter({ client: opts.client });
    this.events = new EventRecorder({ client: opts.client, clock: opts.clock, logger: this.log, component: 'herald-controller' });
    this.metrics = makeMetrics(opts.registry);
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
        if (JSON.stringify(o.metadata.labels ?? {}) !== JSON.stringify(old.metadata.labels ?? {})) this.enqueueNamespace(o.metadata.name);
      },
    });
    const onPools = (): void => {
      if (this.ready) this.reloadPools(true);
    };
    // Only spec changes matter: a status write (ours) must not trigger a reload.
    this.pools.addHandlers({ onAdd: onPools, onUpdate: (o, old) => (o.metadata.generation !== old.metadata.generation ? onPools() : undefined), onDelete: onPools });
    this.services.addIndexer('namespace', (o) => [o.metadata.namespace ?? '']);
    this.services.start();
    this.namespaces.start();
    this.pools.start();
    await Promise.all([this.services.waitForSync(), this.namespaces.waitForSync(), this.pools.waitForSync()]);
    this.reloadPools(false);
    this.replay();
    this.ready = true;
    for (const s of this.services.list()) this.enqueue(serviceKey(s));
    for (let i = 0; i < (this.opts.workers ?? 16); i++) this.workersDone.push(this.work());
    this.workersDone.push(this.poolWork());
    await this.ensureMemberlistSecret();
    this.log.info('controller started', { services: this.services.list().length, pools: this.allocator.poolNames().length });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.services.stop();
    this.namespaces.stop();
    this.pools.stop();
    this.queue.shutdown();
    this.poolQueue.shutdown();
    await Promise.all(this.workersDone);
    await this.events.flush();
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

  private onServiceDeleted(o: ServiceObject): void {
    const key = serviceKey(o);
    const had = this.allocator.assignmentOf(key);
    if (this.allocator.release(key) && had && had.pool) this.poolQueue.addAfter(had.pool, this.opts.poolStatusDelayMs ?? 1000);
  }

  private namespaceLabels(ns: string): Record<string, string> {
    return this.namespaces.get(ns)?.metadata.labels ?? {};
  }

  /** Re-reads pools into the allocator; `requeue` gives every Service another look. */
  private reloadPools(requeue: boolean): void {
    const objects = this.pools.list().map((p) => ({ ...p, apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAddressPool' }));
    const parsed = parseConfig(objects);
    this.configErrors = parsed.errors;
    for (const e of parsed.errors) this.log.warn('invalid IPAddressPool', { pool: e.object.name, field: e.field, reason: e.reason });
    const { notInPool } = this.allocator.setPools(parsed.config.pools.values());
    if (notInPool.length > 0) this.log.warn('addresses outside every pool are kept', { services: notInPool });
    for (const p of this.pools.list()) this.poolQueue.add(p.metadata.name);
    this.poolQueue.add('\u0000configurationstate');
    if (requeue) for (const s of this.services.list()) this.enqueue(serviceKey(s));
  }

  /** Services that already hold addresses, oldest first, claim them before anything else. */
  private replay(): void {
    const assigned = this.services
      .list()
      .filter((s) => (s.status?.loadBalancer?.ingress ?? []).length > 0)
      .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || confirmedAt(a).localeCompare(confirmedAt(b)) || serviceKey(a).localeCompare(serviceKey(b)));
    let kept = 0;
    for (const s of assigned) {
      const view = viewService(s, this.namespaceLabels(s.metadata.namespace ?? 'default'), this.opts.lbClass !== undefined ? { lbClass: this.opts.lbClass } : {});
      if (!view.managed.yes || 'invalid' in view.request) continue;
      const r = this.allocator.assign(view.request, { ips: view.currentIPs, ...(view.currentPool !== undefined ? { pool: view.currentPool } : {}) });
      if (r.ok && !r.changed && !r.conflict) kept++;
      if (r.ok && r.conflict) {
        const held = r.conflict.ips.map(formatIP).join(', ');
        this.replayEvents.set(view.key, [{ type: 'Warning', reason: 'IPConflict', message: `${held} is held by ${r.conflict.holder} (${r.conflict.reason}); assigned ${r.ips.map(formatIP).join(', ')} instead` }]);
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
        this.log.warn('service sync failed, will retry', { service: key, error: errorMessage(err), retryInMs: delay });
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
    const view = viewService(svc, this.namespaceLabels(svc.metadata.namespace ?? 'default'), this.opts.lbClass !== undefined ? { lbClass: this.opts.lbClass } : {});
    const before = this.allocator.assignmentOf(key);
    let desired = reconcileService(view, this.allocator);
    const told = this.replayEvents.get(key);
    if (told) {
      this.replayEvents.delete(key);
      desired = { ...desired, events: [...told, ...desired.events] };
    }
    const after = this.allocator.assignmentOf(key);
    // Pool status is coalesced: at most one write per pool per second.
    for (const pool of new Set([before?.pool, after?.pool])) if (pool) this.poolQueue.addAfter(pool, this.opts.poolStatusDelayMs ?? 1000);
    await this.write(svc, desired);
  }

  private async write(svc: ServiceObject & KubeObject, desired: Desired): Promise<void> {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name;
    const now = new Date(this.opts.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const events: EventIntent[] = [];
    if (desired.kind === 'unmanaged') {
      if (svc.metadata.annotations?.[IP_ALLOCATED_FROM_POOL] !== undefined && desired.clearStatus) await this.patchPoolAnnotation(ns, name, null);
      if (desired.clearStatus || conditionsOf(svc).some((c) => c.type === SERVICE_CONDITION_ADDRESS_ASSIGNED)) {
        const out = await this.writer.update(SERVICES, ns, name, (o) => {
          const st = { ...((o['status'] as Record<string, unknown>) ?? {}) };
          const conds = conditionsOf(o).filter((c) => c.type !== SERVICE_CONDITION_ADDRESS_ASSIGNED);
          const next: Record<string, unknown> = { ...st, ...(desired.clearStatus ? { loadBalancer: {} } : {}), conditions: conds };
          if (conds.length === 0) delete next['conditions'];
          return JSON.stringify(next) === JSON.stringify(st) ? undefined : next;
        }, svc);
        if (out.result === 'written') this.counts.writes++;
      }
      events.push(...desired.events);
    } else {
      const oldCond = conditionsOf(svc).find((c) => c.type === SERVICE_CONDITION_ADDRESS_ASSIGNED);
      const conditionChanged = !oldCond || oldCond.status !== desired.condition.status || oldCond.reason !== desired.condition.reason || oldCond.message !== desired.condition.message;
      const ingress = desired.ips.map((ip) => ({ ip: formatIP(ip), ipMode: 'VIP' }));
      // Status and annotation go out in one write: a strategic-merge patch to services/status
      // that touches only the ingress list, Herald's own condition (merged by type) and the
      // pool annotation (a Service's status strategy resets only the spec, so metadata written
      // through /status is kept). It needs no resourceVersion and cannot conflict with others.
      const current = conditionsOf(svc);
      const conds = setCondition(current, { ...desired.condition, observedGeneration: svc.metadata.generation ?? 1 }, now);
      const ours = conds.find((x) => x.type === SERVICE_CONDITION_ADDRESS_ASSIGNED)!;
      const curLb = (svc['status'] as { loadBalancer?: unknown } | undefined)?.loadBalancer ?? {};
      const lb = desired.ips.length > 0 ? { ingress } : {};
      const annotation = svc.metadata.annotations?.[IP_ALLOCATED_FROM_POOL];
      const want = desired.ips.length > 0 ? desired.pool : undefined;
      const annotationChanged = (want ?? null) !== (annotation ?? null);
      if (JSON.stringify(curLb) !== JSON.stringify(lb) || conds !== current || annotationChanged) {
        const patch = {
          ...(annotationChanged ? { metadata: { annotations: { [IP_ALLOCATED_FROM_POOL]: want ?? null } } } : {}),
          status: { loadBalancer: desired.ips.length > 0 ? { ingress } : { ingress: null }, conditions: [ours] },
        };
        if (!(await this.patchStatus(ns, name, patch))) return;
      }
      for (const e of desired.events) {
        if (e.reason === 'MetalLBAnnotation') {
          const uid = svc.metadata.uid ?? `${ns}/${name}`;
          if (this.toldMetalLB.has(uid)) continue;
          this.toldMetalLB.add(uid);
        } else if ((e.reason === 'AllocationFailed' || e.reason === 'IPNotInPool') && !conditionChanged) continue;
        events.push(e);
      }
      if (desired.result === 'assigned' && events.some((e) => e.reason === 'IPAllocated')) this.metrics.allocations.inc();
      if (desired.result === 'failed' && conditionChanged) this.metrics.failures.inc({ reason: desired.condition.reason });
    }
    const ref = { apiVersion: 'v1', kind: 'Service', name, namespace: ns, ...(svc.metadata.uid ? { uid: svc.metadata.uid } : {}) };
    for (const e of events) void this.events.record(ref, e.type, e.reason, e.message);
  }

  /** False when the Service is gone. */
  private async patchPoolAnnotation(ns: string, name: string, pool: string | null): Promise<boolean> {
    try {
      await this.opts.client.patch(SERVICES, ns, name, { metadata: { annotations: { [IP_ALLOCATED_FROM_POOL]: pool } } });
      this.counts.writes++;
      return true;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return false;
    }
  }

  /** False when the Service is gone. */
  private async patchStatus(ns: string, name: string, patch: Record<string, unknown>): Promise<boolean> {
    try {
      await this.opts.client.patch(SERVICES, ns, name, patch, { kind: 'strategic', status: true });
      this.counts.writes++;
      return true;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return false;
    }
  }

  private async poolWork(): Promise<void> {
    for (;;) {
      const key = await this.poolQueue.get();
      if (key === undefined) return;
      try {
        if (key === '\u0000configurationstate') await this.writeConfigurationState();
        else await this.writePoolStatus(key);
        this.poolQueue.forget(key);
      } catch (err) {
        const delay = this.poolQueue.addRateLimited(key);
        this.log.warn('pool status write failed, will retry', { pool: key, error: errorMessage(err), retryInMs: delay });
      } finally {
        this.poolQueue.done(key);
      }
    }
  }

  private async writePoolStatus(name: string): Promise<void> {
    const obj = this.pools.get(`${this.opts.namespace}/${name}`);
    if (!obj) return;
    const stats = this.allocator.stats(name);
    const errors = this.configErrors.filter((e) => e.object.kind === 'IPAddressPool' && e.object.name === name);
    const now = new Date(this.opts.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    if (stats) {
      for (const f of ['IPv4', 'IPv6'] as const) {
        const total = stats[f].assigned + stats[f].available;
        this.metrics.poolAddresses.set({ pool: name, family: f }, total > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(total));
        this.metrics.poolInUse.set({ pool: name, family: f }, Number(stats[f].assigned));
      }
    }
    const invalid = errors.filter((e) => !e.transient);
    const cond = invalid.length > 0
      ? { type: 'Valid', status: 'False' as const, reason: 'Invalid', message: invalid.map((e) => `${e.field}: ${e.reason}`).join('; ') }
      : { type: 'Valid', status: 'True' as const, reason: 'Valid', message: 'the pool is valid and serving' };
    await this.writer.update(POOLS, this.opts.namespace, name, (o) => {
      const st = (o['status'] as Record<string, unknown> | undefined) ?? {};
      const conds = setCondition(conditionsOf(o), { ...cond, observedGeneration: o.metadata.generation ?? 1 }, now);
      const next: Record<string, unknown> = {
        ...st,
        assignedIPv4: String(stats?.IPv4.assigned ?? 0n),
        assignedIPv6: String(stats?.IPv6.assigned ?? 0n),
        availableIPv4: String(stats?.IPv4.available ?? 0n),
        availableIPv6: String(stats?.IPv6.available ?? 0n),
        observedGeneration: o.metadata.generation ?? 1,
        conditions: conds,
      };
      return JSON.stringify(next) === JSON.stringify(st) ? undefined : next;
    }, obj);
    const ref = { apiVersion: `${GROUP}/${VERSION}`, kind: 'IPAddressPool', name, namespace: this.opts.namespace, ...(obj.metadata.uid ? { uid: obj.metadata.uid } : {}) };
    for (const e of invalid) void this.events.record(ref, 'Warning', 'ConfigInvalid', `${e.field}: ${e.reason}`);
  }

  /** Creates the speakers' membership key once per installation (like MetalLB's controller). */
  private async ensureMemberlistSecret(): Promise<void> {
    try {
      if (await this.opts.client.tryGet(SECRETS, this.opts.namespace, MEMBERLIST_SECRET)) return;
      const key = (this.opts.randomBytes ?? randomBytes)(32).toString('base64');
      await this.opts.client.create(SECRETS, { metadata: { name: MEMBERLIST_SECRET, namespace: this.opts.namespace }, type: 'Opaque', data: { secretkey: Buffer.from(key).toString('base64') } });
      this.log.info('created the memberlist secret', { secret: `${this.opts.namespace}/${MEMBERLIST_SECRET}` });
    } catch (err) {
      if (!isAlreadyExists(err)) this.log.warn('could not create the memberlist secret', { error: errorMessage(err) });
    }
  }

  private async writeConfigurationState(): Promise<void> {
    const name = 'controller';
    const errors = this.configErrors.map((e) => ({ kind: e.object.kind, ...(e.object.namespace ? { namespace: e.object.namespace } : {}), name: e.object.name, field: e.field, reason: e.reason, ...(e.transient ? { transient: true } : {}) }));
    const result = errors.some((e) => !e.transient) ? 'Invalid' : 'Valid';
    const now = new Date(this.opts.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    let existing = await this.opts.client.tryGet(CONFIG_STATES, this.opts.namespace, name);
    if (!existing) {
      try {
        existing = await this.opts.client.create(CONFIG_STATES, { metadata: { name, namespace: this.opts.namespace, labels: { 'app.kubernetes.io/component': 'controller' } }, spec: {} });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        return;
      }
    }
    await this.writer.update(CONFIG_STATES, this.opts.namespace, name, (o) => {
      const st = (o['status'] as Record<string, unknown> | undefined) ?? {};
      const conds = setCondition(conditionsOf(o), { type: 'Valid', status: result === 'Valid' ? 'True' : 'False', reason: result, message: result === 'Valid' ? 'configuration accepted' : `${errors.length} configuration error(s)` }, now);
      const next = { ...st, component: 'controller', result, errors, conditions: conds };
      return JSON.stringify(next) === JSON.stringify(st) ? undefined : next;
    }, existing);
  }
}
