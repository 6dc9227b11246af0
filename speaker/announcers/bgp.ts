/**
 * BGP behind the protocol interface: the BGPPeers selecting this node get sessions, and each
 * session the whole route set of its peer (the session diffs). Tells each peer that cannot
 * get a Service IP (an announceFailed Event, once per cause), and, only when `tellAnnounced`
 * (`--service-status=per-service`), each newly announced Service IP (a nodeAssigned Event
 * naming its peers): with every node announcing every Service that is an Event per Service
 * per node, and "node X announces Y" is status (BGPNodeStatus), not news (decision 015 step 2).
 */
import { anySelectorMatches } from '../../src/config/label-selector.js';
import type { Config, Peer } from '../../src/config/model.js';
import { bfdStatusView } from '../bfd/binding.js';
import type { BgpManager } from '../bgp/manager.js';
import type { Decision, DesiredState, ServiceDecision } from '../desired.js';
import type { SessionStatus } from '../status-objects.js';
import type { Told } from '../told.js';
import type { Announced, ProtocolAnnouncer, ServiceEvents } from './protocol.js';

export interface BgpView {
  readonly decisions: readonly ServiceDecision[];
  /** Peer name -> the routes it gets. */
  readonly routes: DesiredState['bgp'];
  readonly config: Pick<Config, 'peers' | 'nodes' | 'bfdProfiles'>;
}

export interface BgpAnnouncerOptions {
  readonly node: string;
  readonly manager: Pick<BgpManager, 'apply' | 'failures' | 'lastErrors' | 'states' | 'bfd' | 'stopAll'>;
  readonly events: ServiceEvents;
  readonly told: Told;
  /** A nodeAssigned Event per newly announced Service IP (default on; off with per-node status). */
  readonly tellAnnounced?: boolean;
}

/** The peers of this node: those without node selectors, and those whose selectors match its labels. */
export function peersOfNode(config: BgpView['config'], node: string): Peer[] {
  const me = config.nodes.get(node);
  return [...config.peers.values()].filter(
    (p) => p.nodeSelectors.length === 0 || (me !== undefined && anySelectorMatches(p.nodeSelectors, me.labels)),
  );
}

export class BgpAnnouncer implements ProtocolAnnouncer<BgpView> {
  readonly protocol = 'bgp' as const;
  /** Service IPs announced at the last pass (JSON [service, ip]), so each gets one nodeAssigned Event. */
  private announced = new Set<string>();

  constructor(private readonly opts: BgpAnnouncerOptions) {}

  shouldAnnounce(d: ServiceDecision): Decision {
    return d.bgp;
  }

  setBalancers(view: BgpView): Promise<Announced> {
    const { manager, node, told } = this.opts;
    manager.apply(peersOfNode(view.config, node), view.routes, view.config.bfdProfiles);
    const mine = view.decisions.filter((d) => this.shouldAnnounce(d).announce);
    if (this.opts.tellAnnounced !== false) this.tellAnnounced(mine);
    for (const [peer, cause] of manager.failures()) {
      for (const d of mine) {
        if (!d.peers.includes(peer)) continue;
        const ip = d.ipText;
        if (!told.first({ kind: 'bgpFailed', peer, service: d.service, ip, cause })) continue;
        this.opts.events(
          d.service,
          'Warning',
          'announceFailed',
          `node ${node} cannot announce ${ip} to BGP peer ${peer}: ${cause}`,
        );
      }
    }
    return Promise.resolve({
      protocol: 'bgp',
      ips: [...new Set(mine.map((d) => d.ipText))],
      services: mine.map((d) => d.service),
    });
  }

  /** A nodeAssigned Event for each Service IP announced now and not at the last pass. */
  private tellAnnounced(mine: readonly ServiceDecision[]): void {
    const now = new Set<string>();
    for (const d of mine) {
      const key = JSON.stringify([d.service, d.ipText]);
      now.add(key);
      if (this.announced.has(key)) continue;
      this.opts.events(
        d.service,
        'Normal',
        'nodeAssigned',
        `announcing ${d.ipText} from node ${this.opts.node} via BGP to ${d.peers.join(', ') || 'no peer'}`,
      );
    }
    this.announced = now;
  }

  /** Each peer's session for BGPSessionState; peers without a session are Idle with the reason. */
  sessions(): SessionStatus[] {
    const { manager } = this.opts;
    const errors = manager.lastErrors();
    const sessions: SessionStatus[] = [...manager.states()].map(([peer, s]) => {
      const lastError = errors.get(peer);
      const since = s.establishedSince();
      const bfd = bfdStatusView(manager.bfd.status(peer));
      return {
        peer,
        state: s.state(),
        ...(lastError ? { lastError } : {}),
        ...(since ? { establishedSince: since } : {}),
        prefixesSent: s.stats.prefixesAnnounced,
        ...(bfd ? { bfd } : {}),
      };
    });
    for (const [peer, cause] of manager.failures())
      if (!sessions.some((x) => x.peer === peer))
        sessions.push({ peer, state: 'Idle', lastError: cause, prefixesSent: 0 });
    return sessions;
  }

  /** Closes the sessions; where graceful restart was negotiated, without a Cease (routers keep the routes). */
  stop(): void {
    this.opts.manager.stopAll({ graceful: true });
  }
}
