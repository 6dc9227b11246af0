/**
 * The BGP sessions of one node, from BGPPeer objects: opened, closed and reconfigured as the
 * peers and their node selectors change, without touching unchanged sessions; each gets its
 * whole route set on every change.
 */
import type { Clock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import type { BfdProfile, Peer } from '../../src/config/model.js';
import { formatIP, type IP } from '../../src/net/ip.js';
import type { NativeAddon } from '../../native/index.js';
import { createBfdBinding, type BgpBfdBinding } from '../bfd/binding.js';
import type { BfdSockets } from '../bfd/sockets.js';
import { BgpListener } from './listener.js';
import { CEASE_SUBCODE } from './notification.js';
import { BgpSession, type Route } from './session.js';
import { nativeTcpTransport, tcpTransport, type Transport } from './transport.js';

export interface ManagerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** For TCP-MD5 and TTL; without it, peers with a password cannot connect (reported). */
  readonly native?: NativeAddon;
  readonly nativeError?: string;
  /**
   * This node's addresses, read when a session is made: the IPv4 one is the router ID of
   * peers that set none; both are next hops for the other family on dual-stack sessions.
   */
  readonly nodeAddresses?: () => { readonly v4?: IP; readonly v6?: IP };
  /**
   * Accept routers' connections on the peers' ports (needed by passive peers; active peers
   * also accept, with collision detection). Default true; `host` for tests.
   */
  readonly listen?: boolean | { readonly host: string };
  /** Told when something changes outside apply() (a listener failed, or works again after failing). */
  readonly onChange?: () => void;
  /** BFD's UDP sockets (tests); by default the native addon's. */
  readonly bfdSockets?: BfdSockets;
  /** How sessions without TCP-MD5 or TTL connect; default plain TCP (tests pass a fake). */
  readonly transport?: Transport;
  /** Jitter of the listeners' retry backoff; default Math.random. */
  readonly random?: () => number;
}

/** Sessions created this soon after start set the graceful-restart Restart State bit. */
const RESTART_WINDOW_MS = 120_000;
/** The IP TTL of sessions with ebgpMultiHop: the router may be many hops away, and GTSM (RFC 5082) routers accept it. */
const MULTIHOP_TTL = 255;

interface Running {
  readonly session: BgpSession;
  readonly fingerprint: string;
}

function passwordOf(p: Peer): string | undefined {
  return p.password.kind === 'plain' ? p.password.value : p.password.kind === 'secret' ? p.password.value : undefined;
}

export function peerFingerprint(p: Peer): string {
  const pw =
    p.password.kind === 'none'
      ? ''
      : p.password.kind === 'plain'
        ? `p:${p.password.value}`
        : `s:${p.password.value ?? ''}`;
  return JSON.stringify([
    p.myASN,
    p.peerASN,
    p.dynamicASN,
    formatIP(p.peerAddress),
    p.sourceAddress ? formatIP(p.sourceAddress) : '',
    p.peerPort,
    p.holdTime,
    p.keepaliveTime,
    p.connectTime,
    p.routerID ? formatIP(p.routerID) : '',
    pw,
    p.ebgpMultiHop,
    p.enableGracefulRestart,
    p.passive,
    p.dualStackAddressFamily,
  ]);
}

export class BgpManager {
  private readonly sessions = new Map<string, Running>();
  private readonly listeners = new Map<number, BgpListener>();
  private readonly startedAt: number;
  private peers: readonly Peer[] = [];
  /** Peers that cannot have a session, and why. */
  private readonly failed = new Map<string, string>();

  /** BFD sessions of the peers with a bfdProfile; BFD Down resets the BGP session. */
  readonly bfd: BgpBfdBinding;

  constructor(private readonly opts: ManagerOptions) {
    this.startedAt = opts.clock.monotonic();
    const resetBgp = (peer: string, reason: string): void => {
      const s = this.sessions.get(peer)?.session;
      if (!s) return;
      opts.logger.warn('resetting the session, its routes are withdrawn', { event: 'sessionReset', peer, reason });
      s.stop();
      s.start();
    };
    this.bfd = createBfdBinding({
      ...opts,
      logger: opts.logger.child({ component: 'bfd' }),
      resetBgp,
      ...(opts.bfdSockets ? { sockets: opts.bfdSockets } : {}),
    });
  }

  /** Peers for this node, and the routes each should have; BFD runs for peers whose bfdProfile is in `bfdProfiles`. */
  apply(
    peers: readonly Peer[],
    routes: ReadonlyMap<string, readonly Route[]>,
    bfdProfiles: ReadonlyMap<string, BfdProfile> = new Map(),
  ): void {
    const want = new Map(peers.map((p) => [p.name, p]));
    for (const [name, r] of this.sessions) {
      const p = want.get(name);
      if (!p || peerFingerprint(p) !== r.fingerprint) {
        // A BGPPeer deleted (or no longer selecting this node) tells the router so: Cease
        // "Peer De-configured" (RFC 4486); a changed one is closed with "Other Configuration
        // Change" and opened again with its new settings.
        r.session.stop({ cease: p ? CEASE_SUBCODE.otherConfigurationChange : CEASE_SUBCODE.peerDeconfigured });
        this.sessions.delete(name);
        this.opts.logger.info('session removed', {
          event: 'sessionRemoved',
          peer: name,
          reason: p ? 'peer changed' : 'peer no longer selects this node',
        });
      }
    }
    const before = new Map(this.failed);
    this.failed.clear();
    for (const p of peers) {
      if (!this.sessions.has(p.name)) {
        const s = this.create(p);
        if (typeof s === 'string') {
          this.failed.set(p.name, s);
          if (before.get(p.name) !== s)
            this.opts.logger.error('cannot open a session to this peer', {
              event: 'sessionUnavailable',
              peer: p.name,
              cause: s,
            });
          continue;
        }
        this.sessions.set(p.name, { session: s, fingerprint: peerFingerprint(p) });
        s.start();
      }
      this.sessions.get(p.name)?.session.setAdvertisements(routes.get(p.name) ?? []);
    }
    this.peers = peers;
    this.applyListeners(peers);
    this.bfd.apply(peers, bfdProfiles);
  }

  /** One listener per peer port, with the TCP-MD5 keys of that port's peers, and TTL 255 when one of them has ebgpMultiHop. */
  private applyListeners(peers: readonly Peer[]): void {
    if (this.opts.listen === false) return;
    const host = typeof this.opts.listen === 'object' ? this.opts.listen.host : undefined;
    const ports = new Set(peers.map((p) => p.peerPort));
    for (const [port, l] of this.listeners) {
      if (ports.has(port)) continue;
      l.close();
      this.listeners.delete(port);
    }
    for (const port of ports) {
      let l = this.listeners.get(port);
      if (!l) {
        l = new BgpListener({
          port,
          ...(host ? { host } : {}),
          logger: this.opts.logger,
          clock: this.opts.clock,
          ...(this.opts.random ? { random: this.opts.random } : {}),
          ...(this.opts.native ? { native: this.opts.native } : {}),
          peers: () => this.peers.filter((p) => p.peerPort === port).map((p) => p.name),
          onChange: () => this.opts.onChange?.(),
          onConnection: (remote, conn) => this.incoming(port, remote, conn),
        });
        this.listeners.set(port, l);
        void l.start();
      }
      const keys = new Map<string, string>();
      for (const p of peers) {
        const pw = passwordOf(p);
        if (p.peerPort === port && pw !== undefined) keys.set(formatIP(p.peerAddress), pw);
      }
      l.setKeys(keys);
      l.setTtl(peers.some((p) => p.peerPort === port && p.ebgpMultiHop) ? MULTIHOP_TTL : undefined);
    }
  }

  private incoming(port: number, remote: string, conn: Parameters<BgpSession['accept']>[0]): boolean {
    const p = this.peers.find((x) => x.peerPort === port && formatIP(x.peerAddress) === remote);
    const s = p ? this.sessions.get(p.name)?.session : undefined;
    if (!s) return false;
    s.accept(conn);
    return true;
  }

  /**
   * Peers of this node that cannot announce, and why: no session could be made (a missing
   * password Secret, no native addon for TCP-MD5 or TTL, no router ID), or a passive peer
   * whose port cannot be listened on.
   */
  failures(): ReadonlyMap<string, string> {
    const out = new Map(this.failed);
    for (const p of this.peers) {
      const why = p.passive ? this.listeners.get(p.peerPort)?.failure() : undefined;
      if (why && !out.has(p.name)) out.set(p.name, why);
    }
    return out;
  }

  /**
   * What each peer's BGPSessionState shows as lastError: why it has no session; for a passive
   * peer, why its port cannot be listened on; for an active one, its session's last error
   * and, while its port cannot be listened on, that too (its connections to us fail, ours
   * to it still work).
   */
  lastErrors(): Map<string, string> {
    const out = new Map(this.failed);
    for (const p of this.peers) {
      if (out.has(p.name)) continue;
      const listen = this.listeners.get(p.peerPort)?.failure();
      const own = this.sessions.get(p.name)?.session.lastErrorMessage() ?? '';
      const why =
        listen && p.passive
          ? listen
          : listen
            ? [own, `${listen} (the peer's connections to this node fail; this node's connections to it still work)`]
                .filter((x) => x)
                .join('; ')
            : own;
      if (why) out.set(p.name, why);
    }
    return out;
  }

  /** The session, or why there cannot be one. */
  private create(p: Peer): BgpSession | string {
    const password = passwordOf(p);
    if (p.password.kind === 'secret' && password === undefined) {
      return `the password Secret ${p.password.namespace}/${p.password.name} is missing (or has no "password" key)`;
    }
    let transport: Transport = this.opts.transport ?? tcpTransport;
    const ttl = p.ebgpMultiHop ? MULTIHOP_TTL : undefined;
    if (password !== undefined || ttl !== undefined) {
      if (!this.opts.native) {
        return `the peer needs TCP-MD5 or a TTL, which need Herald's native addon: ${this.opts.nativeError ?? 'not loaded'}`;
      }
      transport = nativeTcpTransport(this.opts.native, {
        ...(password !== undefined ? { md5Key: password } : {}),
        ...(ttl !== undefined ? { ttl } : {}),
      });
    }
    const addrs = this.opts.nodeAddresses?.();
    const routerId = p.routerID ? formatIP(p.routerID) : addrs?.v4 ? formatIP(addrs.v4) : undefined;
    if (!routerId) {
      return 'no router ID: set routerID on the BGPPeer, or give the node an IPv4 address';
    }
    // The session's own family, and with dualStackAddressFamily the other one too (RFC 4760).
    const v4 = p.peerAddress.family === 'IPv4';
    const families = p.dualStackAddressFamily
      ? [
          { afi: 1, safi: 1 },
          { afi: 2, safi: 1 },
        ]
      : [{ afi: v4 ? 1 : 2, safi: 1 }];
    const other = p.dualStackAddressFamily ? (v4 ? addrs?.v6 : addrs?.v4) : undefined;
    if (p.dualStackAddressFamily && !other)
      this.opts.logger.warn(
        'dualStackAddressFamily is set but this node has no address of the other family for the next hop',
        { event: 'noNextHopFamily', peer: p.name },
      );
    return new BgpSession({
      name: p.name,
      peerAddress: p.peerAddress as IP,
      peerPort: p.peerPort,
      ...(p.sourceAddress ? { localAddress: formatIP(p.sourceAddress) } : {}),
      transport,
      clock: this.opts.clock,
      logger: this.opts.logger,
      ...(other ? (v4 ? { nextHopV6: other } : { nextHopV4: other }) : {}),
      restarted: this.opts.clock.monotonic() - this.startedAt < RESTART_WINDOW_MS,
      ...(password !== undefined ? { tcpMd5: true } : {}),
      fsm: {
        passive: p.passive,
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
          // RFC 8654: up to 65535-byte messages where the router agrees (fewer UPDATEs).
          extendedMessage: true,
          fourOctetAs: p.myASN,
          other: [],
          ...(p.enableGracefulRestart
            ? {
                gracefulRestart: {
                  restarting: false,
                  restartTime: 120,
                  families: families.map((f) => ({ ...f, forwardingPreserved: true })),
                },
              }
            : {}),
        },
      },
    });
  }

  states(): Map<string, BgpSession> {
    return new Map([...this.sessions].map(([n, r]) => [n, r.session]));
  }

  /**
   * Closes every session: with Cease, or with `graceful` (a restarting speaker) silently where
   * graceful restart was negotiated, so the routers keep the routes for the restart time.
   */
  stopAll(opts: { graceful?: boolean } = {}): void {
    this.bfd.stopAll();
    for (const r of this.sessions.values()) r.session.stop(opts);
    this.sessions.clear();
    for (const l of this.listeners.values()) l.close();
    this.listeners.clear();
  }
}
