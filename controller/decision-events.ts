/**
 * Events that tell a decision the state cannot show afterwards — IPConflict (the Service got
 * other addresses than the ones it showed) and IPReleased (its addresses are cleared) — are
 * written *before* the write that carries the decision out. A Service's write waits for its
 * owed Events (at most `waitMs` per sync; the sync is retried, and a stop abandons it), so a
 * crash at any point leaves either the Event on the server or the old state, from which the
 * next start decides, and tells, again. What the server already holds at start (an Event
 * written just before a crash) is not written twice.
 */
import type { Clock } from '../src/core/clock.js';
import type { ObjectReference } from '../src/k8s/index.js';
import type { SeenEvent } from './event-rederive.js';
import type { EventIntent } from './reconcile.js';

const DECISIONS: ReadonlySet<string> = new Set(['IPConflict', 'IPReleased']);

export function isDecision(e: EventIntent): boolean {
  return DECISIONS.has(e.reason);
}

/**
 * The reasons a start asks `onServerAtStart` about: the decisions, and MetalLBAnnotation
 * (told once per Service, not again by every start). Only these are kept of the Events the
 * server held: at 100,000 Services its 100,000 IPAllocated Events kept as keys were about
 * 30 MB for as long as the process ran, and nothing asks about them.
 */
const ASKED_AT_START: ReadonlySet<string> = new Set([...DECISIONS, 'MetalLBAnnotation']);

export interface DecisionEventsDeps {
  readonly clock: Clock;
  /** Writes one Event; true once the server took it. */
  readonly record: (ref: ObjectReference, e: EventIntent) => Promise<boolean>;
  /** How long one sync waits for an owed Event (default 2000 ms). */
  readonly waitMs?: number;
}

interface Owed {
  readonly e: EventIntent;
  pending: Promise<boolean> | undefined;
}

/** A Service's write cannot go ahead: an Event that tells it is not on the server yet. */
export class EventNotWritten extends Error {}

const keyOf = (uid: string, e: { reason: string; message: string }): string =>
  `${uid}\u0000${e.reason}\u0000${e.message}`;

export class DecisionEvents {
  private readonly owed = new Map<string, Owed[]>();
  private readonly onServer = new Set<string>();

  constructor(private readonly deps: DecisionEventsDeps) {}

  /** The Events the server held at start (written by an earlier process). */
  seen(events: readonly SeenEvent[]): void {
    for (const e of events) if (ASKED_AT_START.has(e.reason)) this.onServer.add(keyOf(e.uid, e));
  }

  /**
   * Whether the server already held this Event at start. Answers for the decisions and
   * MetalLBAnnotation (ASKED_AT_START); false for any other reason.
   */
  onServerAtStart(uid: string | undefined, e: EventIntent): boolean {
    return uid !== undefined && this.onServer.has(keyOf(uid, e));
  }

  /** Adds the decision Events among `events` to what the Service owes (once each). */
  owe(key: string, events: readonly EventIntent[]): void {
    const list = this.owed.get(key) ?? [];
    for (const e of events) {
      if (isDecision(e) && !list.some((o) => o.e.reason === e.reason && o.e.message === e.message))
        list.push({ e, pending: undefined });
    }
    if (list.length > 0) this.owed.set(key, list);
  }

  forget(key: string): void {
    this.owed.delete(key);
  }

  /** Writes what the Service owes; throws EventNotWritten when one is not on the server within waitMs. */
  async settle(key: string, ref: ObjectReference): Promise<void> {
    const list = this.owed.get(key);
    if (!list) return;
    for (const o of [...list]) {
      if (!this.onServerAtStart(ref.uid, o.e)) {
        // A write still in flight from an earlier sync is awaited again, never repeated.
        o.pending ??= this.deps.record(ref, o.e);
        const done = await this.within(o.pending);
        if (done === 'timeout')
          throw new EventNotWritten(
            `the ${o.e.reason} Event for ${key} is not written yet; its status write waits for it`,
          );
        if (!done) {
          o.pending = undefined;
          throw new EventNotWritten(
            `the ${o.e.reason} Event for ${key} could not be written; its status write waits for it`,
          );
        }
      }
      list.splice(list.indexOf(o), 1);
    }
    this.owed.delete(key);
  }

  private within(p: Promise<boolean>): Promise<boolean | 'timeout'> {
    return new Promise((resolve) => {
      const t = this.deps.clock.setTimeout(() => resolve('timeout'), this.deps.waitMs ?? 2000);
      void p.then((v) => {
        t.cancel();
        resolve(v);
      });
    });
  }
}
