/**
 * Writes one Service's reconcile result: status.loadBalancer, Herald's condition and the
 * pool annotation (one strategic-merge patch to services/status), or the clean-up of a
 * Service that is no longer Herald's; then hands its Events to the caller. What is
 * compared is what the server keeps: a server that drops `ipMode` (before Kubernetes 1.29)
 * is recognised from its answer, and `ipMode` is then left out of the comparison, so an
 * unchanged Service is never patched again.
 */
import { IP_ALLOCATED_FROM_POOL, SERVICE_CONDITION_ADDRESS_ASSIGNED } from '../src/api/annotations.js';
import type { Clock } from '../src/core/clock.js';
import {
  SERVICES,
  isNotFound,
  setCondition,
  type KubeClient,
  type KubeObject,
  type ObjectReference,
  type StatusWriter,
} from '../src/k8s/index.js';
import { formatIP } from '../src/net/ip.js';
import type { Desired, EventIntent } from './reconcile.js';
import type { ServiceObject } from '../src/api/service.js';
import type { Metrics } from './metrics.js';
import { conditionsOf } from './status-objects.js';

export interface ServiceWriteDeps {
  readonly client: KubeClient;
  readonly writer: StatusWriter;
  readonly clock: Clock;
  readonly metrics: Metrics;
  readonly counts: { writes: number };
  readonly emit: (ref: ObjectReference, e: EventIntent) => void;
}

export type WriteOutcome = 'written' | 'unchanged' | 'gone';

type Ingress = { ip?: string | undefined; ipMode?: string | undefined; hostname?: string | undefined };

export class ServiceWrites {
  /** Whether the server stores ingress[].ipMode; unknown until it answers a write. */
  private keepsIPMode: boolean | undefined;
  /** Service UIDs already told that their MetalLB annotations are honoured. */
  private readonly toldMetalLB = new Set<string>();

  constructor(private readonly deps: ServiceWriteDeps) {}

  /** The ingress list as this server would keep what Herald sends. */
  private kept(ingress: readonly Ingress[]): Ingress[] {
    return ingress.map((i) => ({ ...i, ...(this.keepsIPMode === false ? { ipMode: undefined } : {}) }));
  }

  private sameIngress(current: readonly Ingress[], wanted: readonly Ingress[]): boolean {
    const a = this.kept(current);
    const b = this.kept(wanted);
    return (
      a.length === b.length &&
      a.every((x, i) => x.ip === b[i]!.ip && x.ipMode === b[i]!.ipMode && x.hostname === undefined)
    );
  }

  /** Learns from the server's answer whether it kept the ipMode Herald sent. */
  private learn(sent: readonly Ingress[], answer: KubeObject): void {
    if (sent.length === 0) return;
    const got = ((answer['status'] as { loadBalancer?: { ingress?: Ingress[] } } | undefined)?.loadBalancer?.ingress ??
      []) as Ingress[];
    if (got.length === 0) return;
    this.keepsIPMode = got.every((i) => i.ipMode !== undefined);
  }

  /**
   * Before any answer: Herald always sends ipMode, so a Service whose status Herald wrote (it
   * carries the pool annotation) without ipMode was stored by a server that drops it.
   */
  private guess(svc: ServiceObject): void {
    const ingress = (svc.status?.loadBalancer?.ingress ?? []) as Ingress[];
    if (
      this.keepsIPMode !== undefined ||
      ingress.length === 0 ||
      svc.metadata.annotations?.[IP_ALLOCATED_FROM_POOL] === undefined
    )
      return;
    if (ingress.some((i) => i.ip !== undefined && i.ipMode === undefined)) this.keepsIPMode = false;
  }

  /** `force`: write even when the cached object already agrees (the cache may be behind). */
  async write(svc: ServiceObject & KubeObject, desired: Desired, force = false): Promise<WriteOutcome> {
    const ns = svc.metadata.namespace ?? 'default';
    const name = svc.metadata.name;
    const now = new Date(this.deps.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const events: EventIntent[] = [];
    let outcome: WriteOutcome = 'unchanged';
    this.guess(svc);
    if (desired.kind === 'unmanaged') {
      // Status first: the pool annotation is what says Herald gave the addresses, so it goes last.
      if (desired.clearStatus || conditionsOf(svc).some((c) => c.type === SERVICE_CONDITION_ADDRESS_ASSIGNED)) {
        const out = await this.deps.writer.update(
          SERVICES,
          ns,
          name,
          (o) => {
            const st = { ...((o['status'] as Record<string, unknown>) ?? {}) };
            const conds = conditionsOf(o).filter((c) => c.type !== SERVICE_CONDITION_ADDRESS_ASSIGNED);
            const next: Record<string, unknown> = {
              ...st,
              ...(desired.clearStatus ? { loadBalancer: {} } : {}),
              conditions: conds,
            };
            if (conds.length === 0) delete next['conditions'];
            return JSON.stringify(next) === JSON.stringify(st) ? undefined : next;
          },
          force ? undefined : svc,
        );
        if (out.result === 'gone') return 'gone';
        if (out.result === 'written') {
          this.deps.counts.writes++;
          outcome = 'written';
        }
      }
      if (svc.metadata.annotations?.[IP_ALLOCATED_FROM_POOL] !== undefined && desired.clearStatus) {
        if (!(await this.patch(ns, name, { metadata: { annotations: { [IP_ALLOCATED_FROM_POOL]: null } } }, false)))
          return 'gone';
        outcome = 'written';
      }
      events.push(...desired.events);
    } else {
      const oldCond = conditionsOf(svc).find((c) => c.type === SERVICE_CONDITION_ADDRESS_ASSIGNED);
      const conditionChanged =
        !oldCond ||
        oldCond.status !== desired.condition.status ||
        oldCond.reason !== desired.condition.reason ||
        oldCond.message !== desired.condition.message;
      const ingress = desired.ips.map((ip) => ({ ip: formatIP(ip), ipMode: 'VIP' }));
      // Status and annotation go out in one write: a strategic-merge patch to services/status
      // that touches only the ingress list, Herald's own condition (merged by type) and the
      // pool annotation (a Service's status strategy resets only the spec, so metadata written
      // through /status is kept). It needs no resourceVersion and cannot conflict with others.
      const current = conditionsOf(svc);
      const conds = setCondition(
        current,
        { ...desired.condition, observedGeneration: svc.metadata.generation ?? 1 },
        now,
      );
      const ours = conds.find((x) => x.type === SERVICE_CONDITION_ADDRESS_ASSIGNED)!;
      const curIngress = (svc.status?.loadBalancer?.ingress ?? []) as Ingress[];
      const annotation = svc.metadata.annotations?.[IP_ALLOCATED_FROM_POOL];
      const want = desired.ips.length > 0 ? desired.pool : undefined;
      const annotationChanged = (want ?? null) !== (annotation ?? null);
      if (force || !this.sameIngress(curIngress, ingress) || conds !== current || annotationChanged) {
        const patch = {
          ...(annotationChanged ? { metadata: { annotations: { [IP_ALLOCATED_FROM_POOL]: want ?? null } } } : {}),
          status: { loadBalancer: desired.ips.length > 0 ? { ingress } : { ingress: null }, conditions: [ours] },
        };
        const answer = await this.patch(ns, name, patch, true);
        if (!answer) return 'gone';
        this.learn(ingress, answer);
        outcome = 'written';
      }
      for (const e of desired.events) {
        if (e.reason === 'MetalLBAnnotation') {
          const uid = svc.metadata.uid ?? `${ns}/${name}`;
          if (this.toldMetalLB.has(uid)) continue;
          this.toldMetalLB.add(uid);
        } else if ((e.reason === 'AllocationFailed' || e.reason === 'IPNotInPool') && !conditionChanged) continue;
        events.push(e);
      }
      if (desired.result === 'assigned' && events.some((e) => e.reason === 'IPAllocated'))
        this.deps.metrics.allocations.inc();
      if (desired.result === 'failed' && conditionChanged)
        this.deps.metrics.failures.inc({ reason: desired.condition.reason });
    }
    const ref = {
      apiVersion: 'v1',
      kind: 'Service',
      name,
      namespace: ns,
      ...(svc.metadata.uid ? { uid: svc.metadata.uid } : {}),
    };
    for (const e of events) this.deps.emit(ref, e);
    return outcome;
  }

  /** The server's answer, or undefined when the Service is gone. */
  private async patch(
    ns: string,
    name: string,
    body: Record<string, unknown>,
    status: boolean,
  ): Promise<KubeObject | undefined> {
    try {
      const out = await this.deps.client.patch(
        SERVICES,
        ns,
        name,
        body,
        status ? { kind: 'strategic', status: true } : {},
      );
      this.deps.counts.writes++;
      return out;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      return undefined;
    }
  }
}
