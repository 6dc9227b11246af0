/**
 * One BGP session: drives the pure FSM over a Transport with an injected Clock, keeps the
 * adj-RIB-out, and turns `setAdvertisements(all)` into packed UPDATEs carrying only the
 * difference. After every (re)connect it sends everything, then End-of-RIB.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { formatIP, tryParseIP, type IP } from '../../src/net/ip.js';
import { backoffDelay } from '../../src/k8s/backoff.js';
import { decode, encode } from './codec.js';
import { Framer } from './framer.js';
import { INITIAL, LARGE_HOLD_TIME, transition, type FsmAction, type FsmConfig, type FsmEvent, type FsmState, type Negotiated, type Timer } from './fsm.js';
import { AFI_IPV4, AS_TRANS, CEASE_COLLISION_RESOLUTION, ERR_CEASE, MAX_EXTENDED_MESSAGE, MAX_MESSAGE, decodeErrorKind, type BgpMessage, type CodecOptions, type OpenMessage } from './messages.js';
import { AdjRibOut, type Route } from './rib-out.js';
import { CollisionCandidate, type CandidateResult } from './collision.js';
import { Dialer, noAnswer } from './dialer.js';
import { endOfRib } from './packer.js';
import type { Connection, Transport } from './transport.js';

export type { Route } from './rib-out.js';

export interface SessionOptions {
  readonly name: string;
  readonly peerAddress: IP;
  readonly peerPort?: number;
  readonly localAddress?: string;
  readonly fsm: FsmConfig;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  /** Next hops to announce; default: the session's local address for its family. */
  readonly nextHopV4?: IP;
  readonly nextHopV6?: IP;
  readonly connectTimeoutMs?: number;
  /**
   * This speaker has just restarted: the first OPEN sets the graceful-restart Restart State
   * bit (RFC 4724 §3), so a peer keeping our stale routes need not wait for our End-of-RIB.
   */
  readonly restarted?: boolean;
  /** The transport signs with a TCP-MD5 password: unanswered connects say a mismatch is silent (check both sides). */
  readonly tcpMd5?: boolean;
}

export interface SessionStats {
  updatesSent: number;
  updatesReceived: number;
  keepalivesSent: number;
  keepalivesReceived: number;
  notificationsSent: number;
  notificationsReceived: number;
  prefixesAnnounced: number;
  establishedTransitions: number;
  /** Messages refused as malformed (the peer's fault) and decoder defects (Herald's): both reset the session. */
  malformedReceived: number;
  decoderInternalErrors: number;
}

export class BgpSession {
  private fsm: FsmState = INITIAL;
  private conn: Connection | undefined;
  private framer = new Framer();
  private readonly timers = new Map<Timer, TimerHandle>();
  private restartTimer: TimerHandle | undefined;
  private stopped = true;
  private readonly rib = new AdjRibOut();
  /** Whether the current connection is one we opened (for collision resolution, §6.8). */
  private initiatedLocally = false;
  /** A connection the peer opened while we already had one (§6.8), until its OPEN decides. */
  private candidate: CollisionCandidate | undefined;
  private restarting: boolean;
  private codec: CodecOptions = { fourOctetAs: true, maxMessageSize: MAX_MESSAGE };
  /** Failed connects and lost sessions since the last Established: the retry backoff grows with it. */
  private failures = 0;
  /** Outgoing connects, one at a time. */
  private readonly dialer: Dialer;
  private lastError = '';
  private establishedAt: number | undefined;
  private readonly listeners: ((state: string, reason?: string) => void)[] = [];
  readonly stats: SessionStats = { updatesSent: 0, updatesReceived: 0, keepalivesSent: 0, keepalivesReceived: 0, notificationsSent: 0, notificationsReceived: 0, prefixesAnnounced: 0, establishedTransitions: 0, malformedReceived: 0, decoderInternalErrors: 0 };
  private readonly log: Logger;

  constructor(private readonly opts: SessionOptions) {
    this.log = opts.logger.child({ peer: opts.name, peerAddress: formatIP(opts.peerAddress) });
    this.restarting = opts.restarted ?? false;
    this.dialer = new Dialer(opts.transport, {
      host: formatIP(opts.peerAddress),
      port: opts.peerPort ?? 179,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      timeoutMs: opts.connectTimeoutMs ?? 5000,
    });
  }

  state(): string {
    return this.fsm.name;
  }

  lastErrorMessage(): string {
    return this.lastError;
  }

  negotiated(): Negotiated | undefined {
    return this.fsm.negotiated;
  }

  establishedSince(): number | undefined {
    return this.establishedAt;
  }

  onStateChange(fn: (state: string, reason?: string) => void): void {
    this.listeners.push(fn);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.fire({ type: 'ManualStart' });
  }

  /**
   * Sends Cease and closes. With `graceful`, when both sides negotiated graceful restart, the
   * connection is closed without a NOTIFICATION instead, so the peer keeps our routes for the
   * restart time (RFC 4724 §4.2): for a speaker that is restarting, not one going away.
   */
  stop(opts: { graceful?: boolean } = {}): void {
    this.stopped = true;
    this.restartTimer?.cancel();
    this.candidate?.reject();
    this.candidate = undefined;
    if (opts.graceful && this.fsm.name === 'Established' && this.fsm.negotiated?.peerGracefulRestart && this.opts.fsm.capabilities.gracefulRestart) {
      this.log.info('bgp: closing without Cease so the peer keeps our routes (graceful restart)');
      this.conn?.destroy();
      this.conn = undefined;
    }
    this.fire({ type: 'ManualStop' });
  }

  /** The whole set of routes this peer should have; only the difference is sent. */
  setAdvertisements(routes: readonly Route[]): void {
    this.rib.setDesired(routes);
    if (this.fsm.name === 'Established') this.sync(false);
  }

  /**
   * A TCP connection the peer opened to our listener. Refused while stopped or Idle (§8.2.2);
   * taken as the session's connection in Connect/Active; otherwise it is a collision (§6.8),
   * decided when its OPEN arrives.
   */
  accept(conn: Connection): void {
    if (this.stopped || this.fsm.name === 'Idle') {
      this.log.debug('bgp: refusing an incoming connection while idle');
      conn.destroy();
      return;
    }
    if (this.fsm.name === 'Connect' || this.fsm.name === 'Active') {
      this.adopt(conn, false, new Framer());
      this.fire({ type: 'TcpConnected' });
      return;
    }
    this.second(conn, false);
  }

  /** A second connection while this one is past Active: §6.8 decides when its OPEN arrives. */
  private second(conn: Connection, initiatedLocally: boolean): void {
    this.candidate?.reject();
    this.candidate = new CollisionCandidate(conn, initiatedLocally, {
      fsm: this.opts.fsm,
      clock: this.opts.clock,
      log: this.log,
      open: () => this.openMessage(),
      existing: () => ({ state: this.fsm.name, initiatedLocally: this.initiatedLocally, ...(this.fsm.negotiated ? { negotiated: this.fsm.negotiated } : {}) }),
      decided: (r) => this.collisionDecided(r),
    });
  }

  /**
   * The second connection won: the current one is closed (Cease/collision, or silently when
   * an Established session is replaced by the restarted peer's new one) and the winner, whose
   * own FSM is in OpenSent with the peer's OPEN in hand, becomes the session's connection.
   */
  private collisionDecided(r: CandidateResult): void {
    this.candidate = undefined;
    if (r.kind === 'rejected') return;
    const before = this.fsm.name;
    if (before === 'Established') {
      this.log.info('bgp: the peer restarted (graceful restart); its new connection replaces the old one');
      this.rib.reset();
      this.establishedAt = undefined;
    } else if (this.conn) {
      this.send({ type: 'notification', code: ERR_CEASE, subcode: CEASE_COLLISION_RESOLUTION, data: Buffer.alloc(0) });
      this.stats.notificationsSent++;
    }
    this.conn?.destroy();
    this.conn = undefined;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    this.fsm = { name: 'OpenSent', connectRetryCounter: this.fsm.connectRetryCounter };
    this.adopt(r.conn, r.initiatedLocally, r.framer);
    this.perform({ type: 'startTimer', timer: 'hold', seconds: LARGE_HOLD_TIME });
    if (before !== 'OpenSent') for (const l of this.listeners) l('OpenSent');
    this.fire({ type: 'BGPOpen', open: r.open });
    for (const raw of r.rest) if (!this.handle(r.conn, raw)) return;
  }

  private openMessage(): OpenMessage {
    const caps = this.opts.fsm.capabilities;
    const gr = caps.gracefulRestart ? { gracefulRestart: { ...caps.gracefulRestart, restarting: this.restarting } } : {};
    return { type: 'open', version: 4, myAs: this.opts.fsm.myAsn > 0xffff ? AS_TRANS : this.opts.fsm.myAsn, holdTime: this.opts.fsm.holdTime, bgpId: this.opts.fsm.routerId, capabilities: { ...caps, ...gr } };
  }

  private fire(e: FsmEvent): void {
    const before = this.fsm.name;
    const t = transition(this.fsm, e, this.opts.fsm);
    this.fsm = t.state;
    for (const a of t.actions) this.perform(a);
    if (this.fsm.name !== before) {
      this.log.debug('bgp state', { from: before, to: this.fsm.name, event: e.type });
      for (const l of this.listeners) l(this.fsm.name);
    }
  }

  private perform(a: FsmAction): void {
    switch (a.type) {
      case 'connect':
        void this.connect();
        break;
      case 'drop':
        this.abandonConnect();
        this.conn?.destroy();
        this.conn = undefined;
        if (this.fsm.name === 'Idle') {
          this.candidate?.reject();
          this.candidate = undefined;
        }
        break;
      case 'sendOpen':
        this.send(this.openMessage());
        break;
      case 'sendKeepalive':
        this.send({ type: 'keepalive' });
        this.stats.keepalivesSent++;
        break;
      case 'sendNotification':
        this.send({ type: 'notification', code: a.code, subcode: a.subcode, data: a.data ?? Buffer.alloc(0) });
        this.stats.notificationsSent++;
        break;
      case 'startTimer': {
        this.timers.get(a.timer)?.cancel();
        let ms = a.seconds * 1000;
        if (a.timer === 'connectRetry') ms = backoffDelay(this.failures, { baseMs: 500, maxMs: Math.max(1000, a.seconds * 1000) }, this.opts.random ?? Math.random);
        const event: FsmEvent['type'] = a.timer === 'connectRetry' ? 'ConnectRetryTimerExpires' : a.timer === 'hold' ? 'HoldTimerExpires' : 'KeepaliveTimerExpires';
        this.timers.set(a.timer, this.opts.clock.setTimeout(() => this.fire({ type: event } as FsmEvent), ms));
        break;
      }
      case 'stopTimer':
        this.timers.get(a.timer)?.cancel();
        this.timers.delete(a.timer);
        break;
      case 'established':
        this.failures = 0;
        this.establishedAt = this.opts.clock.now();
        this.stats.establishedTransitions++;
        this.codec = { fourOctetAs: a.negotiated.fourOctetAs, maxMessageSize: a.negotiated.extendedMessage ? MAX_EXTENDED_MESSAGE : MAX_MESSAGE };
        this.framer.setMaxSize(this.codec.maxMessageSize);
        this.log.info('bgp session established', { peerAs: a.negotiated.peerAs, holdTime: a.negotiated.holdTime, families: a.negotiated.families.map((f) => `${f.afi}/${f.safi}`), initiatedLocally: this.initiatedLocally });
        this.restarting = false;
        this.rib.reset();
        this.sync(true);
        break;
      case 'down':
        this.lastError = a.reason;
        this.establishedAt = undefined;
        this.rib.reset();
        this.stats.prefixesAnnounced = 0;
        if (a.reason !== 'stopped') this.log.warn('bgp session down', { reason: a.reason });
        this.failures++;
        for (const l of this.listeners) l(this.fsm.name, a.reason);
        if (!this.stopped) {
          // Automatic restart (§8.1.1 AutomaticStart) after a jittered, growing delay.
          // A passive session only waits in Active, so it goes back there at once.
          const delay = this.opts.fsm.passive ? 0 : backoffDelay(this.failures, { baseMs: 500, maxMs: Math.max(1000, this.opts.fsm.connectRetryTime * 1000) }, this.opts.random ?? Math.random);
          this.restartTimer = this.opts.clock.setTimeout(() => {
            if (!this.stopped) this.fire({ type: 'ManualStart' });
          }, delay);
        }
        break;
    }
  }

  /**
   * Aborts the connect in flight, if any. On the way back to Connect (the retry timer fired
   * before the peer answered) that attempt failed: it is counted, so the next delay grows,
   * and reported.
   */
  private abandonConnect(): void {
    if (!this.dialer.abandon()) return;
    if (this.fsm.name === 'Connect' && !this.stopped) {
      this.lastError = noAnswer(`connect to ${this.dialer.target.host} port ${this.dialer.target.port}: no answer before the next attempt`, this.opts.tcpMd5 === true);
      this.failures++;
    }
  }

  private async connect(): Promise<void> {
    this.abandonConnect();
    const r = await this.dialer.dial();
    if (r.kind === 'aborted') return;
    if (r.kind === 'failed') {
      if (this.fsm.name !== 'Connect' && this.fsm.name !== 'Active') return;
      this.lastError = r.noAnswer ? noAnswer(r.error, this.opts.tcpMd5 === true) : r.error;
      this.failures++;
      this.log.debug('bgp connect failed', { error: this.lastError });
      this.fire({ type: 'TcpConnectionFails' });
      return;
    }
    const conn = r.conn;
    if (!this.stopped && (this.fsm.name === 'OpenSent' || this.fsm.name === 'OpenConfirm') && !this.initiatedLocally) {
      // We took the peer's connection while ours was in flight: both race to OPEN (§6.8).
      this.second(conn, true);
      return;
    }
    if (this.stopped || (this.fsm.name !== 'Connect' && this.fsm.name !== 'Active')) {
      conn.destroy();
      return;
    }
    this.adopt(conn, true, new Framer());
    this.fire({ type: 'TcpConnected' });
  }

  private adopt(conn: Connection, initiatedLocally: boolean, framer: Framer): void {
    this.conn = conn;
    this.framer = framer;
    this.initiatedLocally = initiatedLocally;
    conn.onData((d) => this.receive(conn, d));
    conn.onClose((err) => {
      if (this.conn !== conn) return;
      this.conn = undefined;
      this.fire({ type: 'TcpConnectionFails' });
      if (err) this.lastError = errorMessage(err);
    });
  }

  private receive(conn: Connection, data: Buffer): void {
    if (this.conn !== conn) return;
    const framed = this.framer.push(data);
    for (const raw of framed.messages) if (!this.handle(conn, raw)) return;
    if (framed.error) this.fire({ type: 'MessageError', error: framed.error });
  }

  /** One framed message; false when the connection is gone and the rest must be dropped. */
  private handle(conn: Connection, raw: Buffer): boolean {
    const r = decode(raw, this.codec);
    if (!r.ok) {
      const kind = decodeErrorKind(r.error);
      if (kind === 'internal') this.stats.decoderInternalErrors++;
      else this.stats.malformedReceived++;
      if (kind === 'internal') this.log.error('BGP decoder defect; resetting the session', { reason: r.error.reason, kind, message: raw.toString('hex').slice(0, 512) });
      else this.log.warn('malformed message from peer', { reason: r.error.reason, code: r.error.code, subcode: r.error.subcode, kind });
      this.fire({ type: raw[18] === 2 ? 'UpdateMsgErr' : 'MessageError', error: r.error });
      return false;
    }
    const m = r.message;
    switch (m.type) {
      case 'open':
        this.fire({ type: 'BGPOpen', open: m });
        break;
      case 'keepalive':
        this.stats.keepalivesReceived++;
        this.fire({ type: 'KeepAliveMsg' });
        break;
      case 'update':
        this.stats.updatesReceived++;
        if (m.treatAsWithdraw) this.log.debug('peer UPDATE treated as withdraw', { reason: m.treatAsWithdraw });
        this.fire({ type: 'UpdateMsg' });
        break;
      case 'notification':
        this.stats.notificationsReceived++;
        this.log.warn('peer sent NOTIFICATION', { code: m.code, subcode: m.subcode });
        this.fire({ type: 'NotifMsg', code: m.code, subcode: m.subcode });
        return false;
      case 'routeRefresh':
        this.refresh(m.afi, m.safi);
        break;
    }
    return this.conn === conn;
  }

  /** ROUTE-REFRESH (RFC 2918 §4): that family's routes again, then its End-of-RIB; the other family is left alone. */
  private refresh(afi: number, safi: number): void {
    if (this.fsm.name !== 'Established') return;
    if (!this.fsm.negotiated?.families.some((f) => f.afi === afi && f.safi === safi)) {
      this.log.info('bgp: ignoring a ROUTE-REFRESH for a family this session did not negotiate', { afi, safi });
      return;
    }
    this.rib.refresh(afi === AFI_IPV4 ? 'IPv4' : 'IPv6');
    this.sync(false);
    this.send(endOfRib(afi));
    this.stats.updatesSent++;
  }

  private send(m: BgpMessage): void {
    if (!this.conn) return;
    this.conn.write(encode(m, this.codec));
  }

  private nextHopFor(family: 'IPv4' | 'IPv6'): IP | undefined {
    if (family === 'IPv4' && this.opts.nextHopV4) return this.opts.nextHopV4;
    if (family === 'IPv6' && this.opts.nextHopV6) return this.opts.nextHopV6;
    const local = tryParseIP((this.conn?.localAddress ?? '').replace(/^::ffff:/, ''));
    return local?.family === family ? local : undefined;
  }

  /** Sends the difference between desired and sent; with `full`, also End-of-RIB. */
  private sync(full: boolean): void {
    const n = this.fsm.negotiated;
    if (!n || !this.conn) return;
    const updates = this.rib.diff({
      negotiated: n,
      myAsn: this.opts.fsm.myAsn,
      // IPv4 over an IPv6 session (dualStackAddressFamily) travels in MP_REACH_NLRI (RFC 4760).
      codec: { ...this.codec, ipv4ViaMp: this.opts.peerAddress.family === 'IPv6' },
      nextHop: (f) => this.nextHopFor(f),
      unannounceable: (family, prefixes) => this.log.warn('no next hop for this family on this session; prefixes not announced', { family, prefixes }),
    }, full);
    for (const u of updates) {
      this.send(u);
      this.stats.updatesSent++;
    }
    this.stats.prefixesAnnounced = this.rib.sentCount();
  }
}
