/**
 * One Service's reconcile, from current state: (service view, allocator) -> the status,
 * annotation and condition it should have, and the Events to record. Pure apart from the
 * allocator's own state; the caller writes the result.
 */
import { SERVICE_CONDITION_ADDRESS_ASSIGNED } from '../src/api/annotations.js';
import { formatIP, type IP } from '../src/net/ip.js';
import type { Allocator } from './allocator/allocator.js';
import type { FailureReason } from './allocator/types.js';
import type { ServiceView } from './service-view.js';

export type ConditionReason = 'Assigned' | 'IPNotInPool' | FailureReason;

export interface DesiredCondition {
  readonly type: typeof SERVICE_CONDITION_ADDRESS_ASSIGNED;
  readonly status: 'True' | 'False';
  readonly reason: ConditionReason;
  readonly message: string;
}

export interface EventIntent {
  readonly type: 'Normal' | 'Warning';
  readonly reason:
    'IPAllocated' | 'AllocationFailed' | 'IPNotInPool' | 'IPConflict' | 'IPReleased' | 'MetalLBAnnotation';
  readonly message: string;
}

export type Desired =
  | {
      readonly kind: 'managed';
      readonly ips: readonly IP[];
      /** The pool to record in the annotation; undefined removes it. */
      readonly pool: string | undefined;
      readonly condition: DesiredCondition;
      readonly events: readonly EventIntent[];
      readonly result: 'assigned' | 'failed' | 'notInPool';
    }
  | {
      /** Not Herald's (any more): clear what Herald wrote, if anything. */
      readonly kind: 'unmanaged';
      /** Herald had given it addresses: clear status.loadBalancer. */
      readonly clearStatus: boolean;
      readonly events: readonly EventIntent[];
    };

function list(ips: readonly IP[]): string {
  return ips.map(formatIP).join(', ');
}

function sameIPs(a: readonly IP[], b: readonly IP[]): boolean {
  return a.length === b.length && a.every((ip, i) => ip.family === b[i]!.family && ip.value === b[i]!.value);
}

export function reconcileService(view: ServiceView, allocator: Allocator): Desired {
  if (!view.managed.yes) {
    const had = allocator.assignmentOf(view.key);
    allocator.release(view.key);
    // After a restart the allocator knows nothing of it: the pool annotation says Herald gave
    // addresses (it goes last). A real API server clears status.loadBalancer itself when the
    // type changes, so the addresses may be gone from the status already (Herald's condition
    // is not); without either, only the annotation is left of a clean-up already told.
    const gave = view.currentPool !== undefined && (view.currentIPs.length > 0 || view.heraldCondition);
    const ips = had?.ips ?? (gave ? view.currentIPs : []);
    const what = ips.length > 0 ? list(ips) : `its addresses from pool "${view.currentPool ?? ''}"`;
    const why =
      view.managed.reason === 'notLoadBalancer'
        ? 'the Service is no longer of type LoadBalancer'
        : 'the Service now names another loadBalancerClass';
    const events: EventIntent[] =
      (had || gave) && view.managed.reason !== 'deleted'
        ? [{ type: 'Normal', reason: 'IPReleased', message: `released ${what}: ${why}` }]
        : [];
    return { kind: 'unmanaged', clearStatus: had !== undefined || view.currentPool !== undefined, events };
  }
  const events: EventIntent[] = [];
  if (view.metallbAnnotations.length > 0) {
    events.push({
      type: 'Normal',
      reason: 'MetalLBAnnotation',
      message: `honouring MetalLB annotation(s) ${view.metallbAnnotations.join(', ')}; Herald's herald.dev/ names are preferred`,
    });
  }
  if ('invalid' in view.request) {
    allocator.release(view.key);
    return {
      kind: 'managed',
      ips: [],
      pool: undefined,
      condition: {
        type: SERVICE_CONDITION_ADDRESS_ASSIGNED,
        status: 'False',
        reason: 'InvalidRequest',
        message: view.request.invalid,
      },
      events: [
        ...events,
        { type: 'Warning', reason: 'AllocationFailed', message: `InvalidRequest: ${view.request.invalid}` },
      ],
      result: 'failed',
    };
  }
  const r = allocator.assign(view.request, {
    ips: view.currentIPs,
    ...(view.currentPool !== undefined ? { pool: view.currentPool } : {}),
  });
  if (!r.ok) {
    // Waiting for another Service's status to be cleared is not worth a Warning: it ends by itself.
    const failed: EventIntent = {
      type: 'Warning',
      reason: 'AllocationFailed',
      message: `${r.reason}: ${r.message}${r.pool ? ` (pool "${r.pool}")` : ''}`,
    };
    return {
      kind: 'managed',
      ips: [],
      pool: undefined,
      condition: { type: SERVICE_CONDITION_ADDRESS_ASSIGNED, status: 'False', reason: r.reason, message: r.message },
      events: r.waiting ? events : [...events, failed],
      result: 'failed',
    };
  }
  if (r.conflict) {
    events.push({
      type: 'Warning',
      reason: 'IPConflict',
      message: `${list(r.conflict.ips)} is held by ${r.conflict.holder} (${r.conflict.reason}); assigned ${list(r.ips)} instead`,
    });
  }
  if (!sameIPs(r.ips, view.currentIPs)) {
    events.push({
      type: 'Normal',
      reason: 'IPAllocated',
      message: `assigned ${list(r.ips)} from pool "${r.pool ?? ''}"`,
    });
  }
  if (r.notInPool) {
    const message = `${list(r.ips)} ${r.ips.length > 1 ? 'are' : 'is'} no longer in a pool that serves this Service; kept until the Service or the pools change`;
    events.push({ type: 'Warning', reason: 'IPNotInPool', message });
    return {
      kind: 'managed',
      ips: r.ips,
      pool: r.pool,
      condition: { type: SERVICE_CONDITION_ADDRESS_ASSIGNED, status: 'True', reason: 'IPNotInPool', message },
      events,
      result: 'notInPool',
    };
  }
  return {
    kind: 'managed',
    ips: r.ips,
    pool: r.pool,
    condition: {
      type: SERVICE_CONDITION_ADDRESS_ASSIGNED,
      status: 'True',
      reason: 'Assigned',
      message: `${list(r.ips)} from pool "${r.pool ?? ''}"`,
    },
    events,
    result: 'assigned',
  };
}
