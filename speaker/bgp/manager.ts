/**
 * The BGP sessions of one node, from BGPPeer objects: opened, closed and reconfigured as the
 * peers and their node selectors change, without touching unchanged sessions; each gets its
 * whole route set on every change.
 */
import type { Clock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import type { Peer } from '../../src/config/model.js';
import { formatIP, type IP } from '../../src/net/ip.js';
import type { NativeAddon } from '../../native/index.js';
import { BgpSession, type Route } from './session.js';
import { nativeTcpTransport, tcpTransport, type Transport } from './transport.js';

export interface ManagerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** For TCP-MD5 and TTL; without it, peers with a password cannot connect (reported). */
  readonly native?: NativeAddon;
  readonly nativeError?: string;
  /** This node's IPv4 address for the router ID when a peer does not set one. */
  readonly defaultRouterId?: string;
}

interface Running {
  readonly session: BgpSession;
  readonly fingerprint: string;
}

export function peerFingerprint(p: Peer): string {
  const pw = p.password.kind === 'none' ? '' : p.password.kind === 'plain' ? `p:${p.password.value}` : `s:${p.password.value ?? ''}`;
  return JSON.stringify([p.myASN, p.peerASN, p.dynamicASN, formatIP(p.peerAddress), p.sourceAddress ? formatIP(p.sourceAddress) : '', p.peerPort, p.holdTime, p.keepaliveTime, p.connectTime, p.routerID ? formatIP(p.routerID) : '', pw, p.ebgpMultiHop, p.enableGracefulRestart]);
}

export class BgpManager {
  private readonly sessions = new Map<string, Running>();

  constructor(private readonly opts: ManagerOptions) {}

  /** Peers for this node, and the routes each should have. */
  apply(peers: readonly Peer[], routes: ReadonlyMap<string, readonly Route[]>): void {
    const want = new Map(peers.map((p) => [p.name, p]));
    for (const [name, r] of this.sessions) {
      const p = want.get(name);
      if (!p || peerFingerprint(p) !== r.fingerprint) {
        r.session.stop();
        this.sessions.delete(name);
        this.opts.logger.info('bgp: session removed', { peer: name, reason: p ? 'peer changed' : 'peer no longer selects this node' });
      }
    }
    for (const p of peers) {
      if (!this.sessions.has(p.name)) {
        const s = this.create(p);
        if (!s) continue;
        this.sessions.set(p.name, { session: s, fingerprint: peerFingerprint(p) });
        s.start();
      }
      this.sessions.get(p.name)?.session.setAdvertisements(routes.get(p.name) ?? []);
    }
  }

  private create(p: Peer): BgpSession | undefined {
    const password = p.password.kind === 'plain' ? p.password.value : p.password.kind === 'secret' ? p.password.value : undefined;
    if (p.password.kind === 'secret' && password === undefined) {
      this.opts.logger.warn('bgp: the password Secret is missing; not connecting', { peer: p.name, secret: `${p.password.namespace}/${p.password.name}` });
      return undefined;
    }
    let transport: Transport = tcpTransport;
    const ttl = p.ebgpMultiHop ? 255 : undefined;
    if (password !== undefined || ttl !== undefined) {
      if (!this.opts.native) {
        this.opts.logger.error('bgp: this peer needs the native addon (TCP-MD5 or TTL), which is unavailable', { peer: p.name, cause: this.opts.nativeError ?? 'not loaded' });
        return undefined;
      }
      transport = nativeTcpTransport(this.opts.native, { ...(password !== undefined ? { md5Key: password } : {}), ...(ttl !== undefined ? { ttl } : {}) });
    }
    const routerId = p.routerID ? formatIP(p.routerID) : this.opts.defaultRouterId;
    if (!routerId) {
      this.opts.logger.error('bgp: no router ID (set routerID on the BGPPeer, or give the node an IPv4 address)', { peer: p.name });
      return undefined;
    }
    const families = [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }];
    return new BgpSession({
      name: p.name,
      peerAddress: p.peerAddress as IP,
      peerPort: p.peerPort,
      ...(p.sourceAddress ? { localAddress: formatIP(p.sourceAddress) } : {}),
      transport,
      clock: this.opts.clock,
      logger: this.opts.logger,
      fsm: {
        myAsn: p.myASN,
        ...(p.peerASN !== undefined ? { peerAsn: p.peerASN } : {}),
        ...(p.dynamicASN !== undefined ? { dynamicAsn: p.dynamicASN } : {}),
        routerId,
        holdTime: p.holdTime,
        ...(p.keepaliveTime > 0 ? { keepaliveTime: p.keepaliveTime } : {}),
        connectRetryTime: p.connectTime,
        capabilities: {
          multiprotocol: families,
          routeRefresh: true,
          extendedMessage: false,
          fourOctetAs: p.myASN,
          other: [],
          ...(p.enableGracefulRestart ? { gracefulRestart: { restarting: false, restartTime: 120, families: families.map((f) => ({ ...f, forwardingPreserved: true })) } } : {}),
        },
      },
    });
  }

  states(): Map<string, BgpSession> {
    return new Map([...this.sessions].map(([n, r]) => [n, r.session]));
  }

  stopAll(): void {
    for (const r of this.sessions.values()) r.session.stop();
    this.sessions.clear();
  }
}
