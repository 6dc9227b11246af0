/**
 * Layer 2 behind the protocol interface: the IPs this node owns go to the L2 engine (ARP/NDP
 * answers, gratuitous announcements); the split-brain guard and the rejoin hold narrow them
 * first. Tells each failure once (an Event per Service, a log line), each deferral once (a log
 * line), and each takeover (a nodeAssigned Event; dead owners' ServiceL2Status removed).
 */
import type { Logger } from '../../src/core/logger.js';
import type { Decision, DesiredState, L2Want, ServiceDecision } from '../desired.js';
import type { L2Engine } from '../layer2/engine.js';
import type { Layer2Hold } from '../membership/view.js';
import type { SpeakerStatusObjects } from '../status-objects.js';
import type { Told } from '../told.js';
import type { Announced, ProtocolAnnouncer, ServiceEvents } from './protocol.js';

export interface Layer2View {
  readonly decisions: readonly ServiceDecision[];
  /** The IPs this node owns by the election (IP text -> what to answer). */
  readonly owners: DesiredState['l2'];
  readonly hold: Layer2Hold;
  /** Whether a member is known to be dead (its ServiceL2Status may be removed on takeover). */
  readonly dead: (node: string) => boolean;
}

export interface Layer2Announced extends Announced {
  /** IPs newly announced and released in this pass (text). */
  readonly taken: readonly string[];
  readonly released: readonly string[];
}

export interface Layer2AnnouncerOptions {
  readonly node: string;
  /** Absent when the native addon did not load: nothing is answered (main logs why). */
  readonly engine: Pick<L2Engine, 'setOwned' | 'owns' | 'close'> | undefined;
  readonly logger: Logger;
  readonly events: ServiceEvents;
  readonly told: Told;
  readonly status: Pick<SpeakerStatusObjects, 'forgetDeadOwners'>;
}

export class Layer2Announcer implements ProtocolAnnouncer<Layer2View, Layer2Announced> {
  readonly protocol = 'l2' as const;

  constructor(private readonly opts: Layer2AnnouncerOptions) {}

  shouldAnnounce(d: ServiceDecision): Decision {
    return d.l2;
  }

  /** What the engine answers for now: IP text -> interfaces. */
  owned(): Map<string, string[]> {
    return this.opts.engine?.owns() ?? new Map();
  }

  async setBalancers(view: Layer2View): Promise<Layer2Announced> {
    const { engine, told } = this.opts;
    const owned = this.owned();
    // Guarded: nothing. Rejoining: only what this node already answers for.
    const want: ReadonlyMap<string, L2Want> =
      view.hold === 'guarded'
        ? new Map()
        : view.hold === 'rejoining'
          ? new Map([...view.owners].filter(([ip]) => owned.has(ip)))
          : view.owners;
    const services =
      view.hold === 'guarded'
        ? []
        : view.decisions.filter((d) => this.shouldAnnounce(d).announce).map((d) => d.service);
    if (!engine) return { protocol: 'l2', ips: [...want.keys()], services, taken: [], released: [] };
    const { taken, released, failed, deferred } = engine.setOwned(want.values());
    for (const [ip, why] of failed) {
      if (!told.first({ kind: 'l2Failed', ip, cause: why.message })) continue;
      const of = want.get(ip)?.services ?? [];
      this.opts.logger.error('cannot announce', {
        event: 'announceFailed',
        ip,
        reason: why.reason,
        cause: why.message,
        services: of,
      });
      for (const svc of of)
        this.opts.events(
          svc,
          'Warning',
          'announceFailed',
          `node ${this.opts.node} cannot announce ${ip} via L2: ${why.message}`,
        );
    }
    for (const [ip, why] of deferred) {
      if (!told.first({ kind: 'l2Deferred', ip, reason: why.reason })) continue;
      this.opts.logger.info('not announcing for now', {
        event: 'announceDeferred',
        ip,
        reason: why.reason,
        cause: why.message,
      });
    }
    // What is announced again may fail again later, and must be told again then.
    told.forgetWhere(
      (k) => (k.kind === 'l2Failed' || k.kind === 'l2Deferred') && !failed.has(k.ip) && !deferred.has(k.ip),
    );
    const takenServices = new Set<string>();
    for (const ip of taken) {
      this.opts.logger.info('answering for this IP now', {
        event: 'ipTaken',
        ip,
        services: want.get(ip)?.services ?? [],
      });
      for (const svc of want.get(ip)?.services ?? []) {
        takenServices.add(svc);
        this.opts.events(svc, 'Normal', 'nodeAssigned', `announcing ${ip} from node ${this.opts.node} via L2`);
      }
    }
    for (const ip of released) this.opts.logger.info('no longer answering for this IP', { event: 'ipReleased', ip });
    if (takenServices.size > 0) await this.opts.status.forgetDeadOwners(takenServices, view.dead);
    return { protocol: 'l2', ips: [...want.keys()], services, taken, released };
  }

  stop(): void {
    this.opts.engine?.close();
  }
}
