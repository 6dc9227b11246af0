/**
 * One BGP session: drives the pure FSM (fsm.ts) over a Transport with an injected Clock, and
 * turns `setAdvertisements(all)` into packed UPDATEs carrying only the difference
 * (session-routes.ts). After every (re)connect it sends everything, then End-of-RIB. The
 * driver performs the FSM's actions and feeds it events; it decides nothing itself.
 */
import type { TimerHandle } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { formatIP } from '../../src/net/ip.js';
import { decode, encode } from './codec.js';
import { Framer } from './framer.js';
import {
  INITIAL,
  describeDown,
  transition,
  type DownReason,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  type FsmStateName,
  type Timer,
} from './fsm.js';
import {
  MAX_EXTENDED_MESSAGE,
  MAX_MESSAGE,
  decodeErrorKind,
  treatAsWithdraw,
  type BgpMessage,
  type CodecOptions,
} from './messages.js';
import type { Negotiated } from './negotiate.js';
import { notificationName, type CeaseSubcode } from './notification.js';
import { CollisionCandidate, type CandidateResult } from './collision.js';
import { Dialer, noAnswer } from './dialer.js';
import { emptyStats, openMessage, type SessionOptions, type SessionStats } from './session-options.js';
import { SessionRoutes, type RoutesLink } from './session-routes.js';
import type { Route } from './rib-out.js';
import type { Connection } from './transport.js';

export type { Route } from './rib-out.js';
export type { SessionOptions, SessionStats } from './session-options.js';

/** The event each timer raises when it expires. */
const TIMER_EVENTS: Readonly<Record<Timer, FsmEvent>> = {
  connectRetry: { type: 'ConnectRetryTimerExpires' },
  hold: { type: 'HoldTimerExpires' },
  keepalive: { type: 'KeepaliveTimerExpires' },
  idleHold: { type: 'IdleHoldTimerExpires' },
};

export class BgpSession {
  private fsm: FsmState = INITIAL;
  private readonly cfg: FsmConfig;
  private conn: Connection | undefined;
  private framer = new Framer();
  private readonly timers = new Map<Timer, TimerHandle>();
  private stopped = true;
  private readonly routes: SessionRoutes;
  /** Whether the current connection is one we opened (for collision resolution, §6.8). */
  private initiatedLocally = false;
  /** A connection the peer opened while we already had one (§6.8), until its OPEN decides. */
  private candidate: CollisionCandidate | undefined;
  private restarting: boolean;
  private codec: CodecOptions = { fourOctetAs: true, maxMessageSize: MAX_MESSAGE };
  /** Outgoing connects, one at a time. */
  private readonly dialer: Dialer;
  private lastError = '';
  private establishedAt: number | undefined;
  private readonly listeners: ((state: FsmStateName, reason?: DownReason) => void)[] = [];
  readonly stats: SessionStats = emptyStats();
  private readonly log: Logger;

  constructor(private readonly opts: SessionOptions) {
    this.log = opts.logger.child({ peer: opts.name, peerAddress: formatIP(opts.peerAddress) });
    this.cfg = { ...opts.fsm, random: opts.fsm.random ?? opts.random ?? Math.random };
    this.restarting = opts.restarted ?? false;
    this.routes = new SessionRoutes({
      myAsn: opts.fsm.myAsn,
      peerFamily: opts.peerAddress.family,
      ...(opts.nextHopV4 ? { nextHopV4: opts.nextHopV4 } : {}),
      ...(opts.nextHopV6 ? { nextHopV6: opts.nextHopV6 } : {}),
      log: this.log,
      stats: this.stats,
    });
    this.dialer = new Dialer(opts.transport, {
      host: formatIP(opts.peerAddress),
      port: opts.peerPort ?? 179,
      ...(opts.localAddress ? { localAddress: opts.localAddress } : {}),
      timeoutMs: opts.connectTimeoutMs ?? 5000,
    });
  }

  state(): FsmStateName {
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

  /** Every state change; `reason` when the session went down. */
  onStateChange(fn: (state: FsmStateName, reason?: DownReason) => void): void {
    this.listeners.push(fn);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.fire({ type: 'ManualStart' });
  }

  /**
   * Sends Cease (Administrative Shutdown, or `cease`) and closes. With `graceful`, when both
   * sides negotiated graceful restart, the connection is closed without a NOTIFICATION
   * instead, so the peer keeps our routes for the restart time (RFC 4724 §4.2): for a speaker
   * that is restarting, not one going away.
   */
  stop(opts: { graceful?: boolean; cease?: CeaseSubcode } = {}): void {
    this.stopped = true;
    this.candidate?.reject();
    this.candidate = undefined;
    if (
      opts.graceful &&
      this.fsm.name === 'Established' &&
      this.fsm.negotiated?.peerGracefulRestart &&
      this.cfg.capabilities.gracefulRestart
    ) {
      this.log.info('closing without Cease so the peer keeps our routes (graceful restart)', {
        event: 'gracefulClose',
      });
      this.conn?.destroy();
      this.conn = undefined;
    }
    this.fire({ type: 'ManualStop', ...(opts.cease !== undefined ? { cease: opts.cease } : {}) });
  }

  /** The whole set of routes this peer should have; only the difference is sent. */
  setAdvertisements(routes: readonly Route[]): void {
    this.routes.setDesired(routes);
    const link = this.link();
    if (link) this.routes.sync(link, false);
  }

  /**
   * A TCP connection the peer opened to our listener. Refused while stopped or Idle (§8.2.2);
   * taken as the session's connection in Connect/Active; otherwise it is a collision (§6.8),
   * decided when its OPEN arrives.
   */
  accept(conn: Connection): void {
    if (this.stopped || this.fsm.name === 'Idle') {
      this.log.debug('refusing an incoming connection while idle');
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

  /** The Established connection, for the routes. */
  private link(): RoutesLink | undefined {
    const n = this.fsm.negotiated;
    if (this.fsm.name !== 'Established' || !n || !this.conn) return undefined;
    return { negotiated: n, codec: this.codec, localAddress: this.conn.localAddress, send: (m) => this.send(m) };
  }

  /** A second connection while this one is past Active: §6.8 decides when its OPEN arrives. */
  private second(conn: Connection, initiatedLocally: boolean): void {
    this.candidate?.reject();
    this.candidate = new CollisionCandidate(conn, initiatedLocally, {
      fsm: this.cfg,
      clock: this.opts.clock,
      log: this.log,
      open: () => openMessage(this.cfg, this.restarting),
      existing: () => ({
        state: this.fsm.name,
        initiatedLocally: this.initiatedLocally,
        ...(this.fsm.negotiated ? { negotiated: this.fsm.negotiated } : {}),
      }),
      decided: (r) => this.collisionDecided(r),
    });
  }

  /**
   * The second connection won: the FSM closes the current one and waits in OpenSent; the
   * winner becomes the session's connection and its OPEN, already in hand, is delivered.
   */
  private collisionDecided(r: CandidateResult): void {
    this.candidate = undefined;
    if (r.kind === 'rejected') return;
    this.fire({ type: 'ConnectionReplaced' });
    if (this.fsm.name !== 'OpenSent') {
      r.conn.destroy();
      return;
    }
    this.adopt(r.conn, r.initiatedLocally, r.framer);
    this.fire({ type: 'BGPOpen', open: r.open });
    for (const raw of r.rest) if (!this.handle(r.conn, raw)) return;
  }

  private fire(e: FsmEvent): void {
    const before = this.fsm.name;
    const t = transition(this.fsm, e, this.cfg);
    this.fsm = t.state;
    for (const a of t.actions) this.perform(a);
    if (this.fsm.name !== before) {
      this.log.debug('state changed', { event: 'stateChanged', from: before, to: this.fsm.name, fsmEvent: e.type });
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
        this.send(openMessage(this.cfg, this.restarting));
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
        const event = TIMER_EVENTS[a.timer];
        this.timers.set(
          a.timer,
          this.opts.clock.setTimeout(() => this.fire(event), a.ms),
        );
        break;
      }
      case 'stopTimer':
        this.timers.get(a.timer)?.cancel();
        this.timers.delete(a.timer);
        break;
      case 'established': {
        this.establishedAt = this.opts.clock.now();
        this.stats.establishedTransitions++;
        this.codec = {
          fourOctetAs: a.negotiated.fourOctetAs,
          maxMessageSize: a.negotiated.extendedMessage ? MAX_EXTENDED_MESSAGE : MAX_MESSAGE,
        };
        this.framer.setMaxSize(this.codec.maxMessageSize);
        this.log.info('session established', {
          event: 'sessionEstablished',
          peerAs: a.negotiated.peerAs,
          holdTime: a.negotiated.holdTime,
          families: a.negotiated.families.map((f) => `${f.afi}/${f.safi}`),
          initiatedLocally: this.initiatedLocally,
        });
        this.restarting = false;
        this.routes.reset();
        const link = this.link();
        if (link) this.routes.sync(link, true);
        break;
      }
      case 'replaced':
        this.log.info('the peer restarted (graceful restart); its new connection replaces the old one', {
          event: 'peerRestarted',
        });
        this.routes.reset();
        this.establishedAt = undefined;
        break;
      case 'down':
        this.lastError = describeDown(a.reason);
        this.establishedAt = undefined;
        this.routes.reset();
        if (a.reason.kind !== 'stopped')
          this.log.warn('session down', {
            event: 'sessionDown',
            reason: this.lastError,
            ...(a.reason.kind === 'peerNotification'
              ? { notification: notificationName(a.reason.code, a.reason.subcode) }
              : {}),
          });
        for (const l of this.listeners) l(this.fsm.name, a.reason);
        break;
    }
  }

  /**
   * Aborts the connect in flight, if any. On the way back to Connect (the retry timer fired
   * before the peer answered) that attempt failed, and is reported (the FSM counts it).
   */
  private abandonConnect(): void {
    if (!this.dialer.abandon()) return;
    if (this.fsm.name === 'Connect' && !this.stopped) {
      this.lastError = noAnswer(
        `connect to ${this.dialer.target.host} port ${this.dialer.target.port}: no answer before the next attempt`,
        this.opts.tcpMd5 === true,
      );
    }
  }

  private async connect(): Promise<void> {
    this.abandonConnect();
    const r = await this.dialer.dial();
    if (r.kind === 'aborted') return;
    if (r.kind === 'failed') {
      if (this.fsm.name !== 'Connect' && this.fsm.name !== 'Active') return;
      this.lastError = r.noAnswer ? noAnswer(r.error, this.opts.tcpMd5 === true) : r.error;
      this.log.debug('connect failed', { event: 'connectFailed', error: this.lastError });
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
      if (kind === 'internal')
        this.log.error('BGP decoder defect; resetting the session', {
          event: 'decoderDefect',
          reason: r.error.reason,
          kind,
          message: raw.toString('hex').slice(0, 512),
        });
      else
        this.log.warn('malformed message from peer', {
          event: 'malformedMessage',
          reason: r.error.reason,
          code: r.error.code,
          subcode: r.error.subcode,
          kind,
          in: r.error.message,
        });
      this.fire(
        r.error.message === 'update'
          ? { type: 'UpdateMsgErr', error: r.error }
          : { type: 'MessageError', error: r.error },
      );
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
      case 'update': {
        this.stats.updatesReceived++;
        const withdraw = treatAsWithdraw(m);
        if (withdraw) this.log.debug('peer UPDATE treated as withdraw', { reason: withdraw.reason });
        this.fire({ type: 'UpdateMsg' });
        break;
      }
      case 'notification':
        this.stats.notificationsReceived++;
        this.log.warn('peer sent NOTIFICATION', {
          event: 'notificationReceived',
          code: m.code,
          subcode: m.subcode,
          notification: notificationName(m.code, m.subcode),
        });
        this.fire({ type: 'NotifMsg', code: m.code, subcode: m.subcode });
        return false;
      case 'routeRefresh': {
        const link = this.link();
        if (link) this.routes.refresh(link, m.afi, m.safi);
        break;
      }
    }
    return this.conn === conn;
  }

  private send(m: BgpMessage): void {
    if (!this.conn) return;
    this.conn.write(encode(m, this.codec));
  }
}
