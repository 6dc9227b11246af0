/**
 * The one small interface every announcement protocol implements (Layer 2, BGP), after
 * MetalLB's speaker `Protocol` (ShouldAnnounce, SetBalancer, DeleteBalancer), reshaped for
 * Herald's whole-set passes: the pure desired state (desired.ts) has already decided per
 * Service IP and protocol; each announcer reads its protocol's decision, hands its engine the
 * whole set (the engine diffs against what it announced, so withdrawing a Service is leaving
 * it out), tells the cluster what changed (Events, logs), and says what it announces now.
 * See docs/decisions/013-speaker-protocol-interface.md.
 */
import type { EventType } from '../../src/k8s/index.js';
import type { Decision, ServiceDecision } from '../desired.js';

export type Protocol = 'l2' | 'bgp';

/** What one protocol announces after a pass. */
export interface Announced {
  readonly protocol: Protocol;
  /** The Service IPs announced, as text, each once. */
  readonly ips: readonly string[];
  /** The Services (`namespace/name`) announced, for their status objects. */
  readonly services: readonly string[];
}

/** Records an Event on a Service (`namespace/name`); never throws, never waits. */
export type ServiceEvents = (service: string, type: EventType, reason: string, message: string) => void;

/** One announcement protocol on this node, fed a typed view `V` of each pass. */
export interface ProtocolAnnouncer<V, R extends Announced = Announced> {
  readonly protocol: Protocol;
  /** This protocol's decision for one Service IP of the pass: announce, or the reason not to. */
  shouldAnnounce(d: ServiceDecision): Decision;
  /** Announces exactly what `view` says (the whole set); returns what is announced now. */
  setBalancers(view: V): Promise<R>;
  /** Announces nothing any more (the speaker is stopping). */
  stop(): void;
}
