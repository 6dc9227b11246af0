/**
 * Events lost in a crash (still queued, or never acknowledged) are re-derived from status on
 * start: every Service whose Herald condition changed within the Event lifetime (one hour on
 * kube-apiserver's default) and that has no matching Event from herald-controller gets it
 * again — IPAllocated for `Assigned`, IPNotInPool, and AllocationFailed for a failure.
 * `missingEvents` is pure: the caller lists the Services and Events and records what it returns.
 */
import { CONTROLLER_NAME } from '../src/api/names.js';
import { SERVICE_CONDITION_ADDRESS_ASSIGNED } from '../src/api/annotations.js';
import { errorMessage } from '../src/core/errors.js';
import type { Logger } from '../src/core/logger.js';
import { EVENTS, type KubeClient, type KubeObject, type ObjectReference } from '../src/k8s/index.js';
import type { EventIntent } from './reconcile.js';
import { serviceKey, type ServiceObject } from '../src/api/service.js';
import { conditionsOf } from './status-objects.js';

/** An Event as far as this cares. */
export interface SeenEvent {
  readonly uid: string;
  readonly reason: string;
  readonly message: string;
}

export interface RederiveOptions {
  readonly nowMs: number;
  /** Conditions older than this have no Event to re-derive (it would have expired). */
  readonly windowMs: number;
  /** Whether Herald serves the Service now. */
  readonly managed: (svc: ServiceObject) => boolean;
}

function intentFor(reason: string, message: string): EventIntent {
  if (reason === 'Assigned') return { type: 'Normal', reason: 'IPAllocated', message: `assigned ${message}` };
  if (reason === 'IPNotInPool') return { type: 'Warning', reason: 'IPNotInPool', message };
  return { type: 'Warning', reason: 'AllocationFailed', message: `${reason}: ${message}` };
}

export function missingEvents(
  services: readonly (ServiceObject & KubeObject)[],
  seen: readonly SeenEvent[],
  opts: RederiveOptions,
): { ref: ObjectReference; e: EventIntent }[] {
  const byUid = new Map<string, SeenEvent[]>();
  for (const e of seen) byUid.set(e.uid, [...(byUid.get(e.uid) ?? []), e]);
  const out: { ref: ObjectReference; e: EventIntent }[] = [];
  for (const svc of services) {
    const uid = svc.metadata.uid;
    if (!uid || !opts.managed(svc)) continue;
    const c = conditionsOf(svc).find((x) => x.type === SERVICE_CONDITION_ADDRESS_ASSIGNED);
    if (!c?.lastTransitionTime || opts.nowMs - Date.parse(c.lastTransitionTime) > opts.windowMs) continue;
    const e = intentFor(c.reason, c.message);
    // AllocationFailed messages may carry the pool after the condition's message.
    if ((byUid.get(uid) ?? []).some((x) => x.reason === e.reason && x.message.startsWith(e.message))) continue;
    const [namespace, name] = serviceKey(svc).split('/') as [string, string];
    out.push({ ref: { apiVersion: 'v1', kind: 'Service', name, namespace, uid }, e });
  }
  return out;
}

/**
 * The Events herald-controller wrote about Services, or undefined when they cannot be read.
 * Read page by page, each page cut down to what a start compares before the next is asked
 * for: at 100,000 Services the whole list held at once was about 80 MB of Event objects
 * (beside the Service cache being listed at the same time), the three strings kept of
 * each about a quarter of that.
 */
export async function listControllerEvents(
  client: Pick<KubeClient, 'list'>,
  log: Logger,
): Promise<SeenEvent[] | undefined> {
  const out: SeenEvent[] = [];
  try {
    let cont: string | undefined;
    do {
      const page = await client.list(EVENTS, {
        fieldSelector: 'involvedObject.kind=Service',
        limit: 500,
        ...(cont !== undefined ? { continue: cont } : {}),
      });
      for (const e of page.items) {
        if ((e['source'] as { component?: string } | undefined)?.component !== CONTROLLER_NAME) continue;
        out.push({
          uid: String((e['involvedObject'] as { uid?: string } | undefined)?.uid ?? ''),
          reason: String(e['reason'] ?? ''),
          message: String(e['message'] ?? ''),
        });
      }
      cont = page.continue;
    } while (cont !== undefined);
    return out;
  } catch (err) {
    log.warn('cannot list Events; lost ones are not re-derived this time', {
      event: 'eventListFailed',
      error: errorMessage(err),
    });
    return undefined;
  }
}
