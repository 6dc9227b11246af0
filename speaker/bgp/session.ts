/**
 * One BGP session: drives the pure FSM over a Transport with an injected Clock, keeps the
 * adj-RIB-out, and turns `setAdvertisements(all)` into packed UPDATEs carrying only the
 * difference. After every (re)connect it sends everything, then End-of-RIB.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { formatCIDR, type CIDR } from '../../src/net/cidr.js';
import { formatIP, tryParseIP, type IP } from '../../src/net/ip.js';
import { backoffDelay } from '../../src/k8s/backoff.js';
import { decode, encode } from './codec.js';
import { Framer } from './framer.js';
import { INITIAL, transition, type FsmAction, type FsmConfig, type FsmEvent, type FsmState, type Negotiated, type Timer } from './fsm.js';
import { AFI_IPV4, AFI_IPV6, AS_SEQUENCE, AS_TRANS, MAX_EXTENDED_MESSAGE, MAX_MESSAGE, type CodecOptions, type LargeCommunity, type PathAttributes } from './messages.js';
import { endOfRib, packAnnouncements, packWithdrawals } from './packer.js';
import type { Connection, Transport } from './transport.js';

export interface Route {
  readonly prefix: CIDR;
  readonly communities?: readonly number[];
  readonly largeCommunities?: readonly LargeCommunity[];
  /** Sent to iBGP peers only; 100 when not given. */
  readonly localPref?: number;
}

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
}

interface Desired {
  readonly route: Route;
  readonly key: string;
}

export class BgpSession {
  private fsm: FsmState = INITIAL;
  private conn: Connection | undefined;
  private framer = new Framer();
  private readonly timers = new Map<Timer, TimerHandle>();
  private restartTimer: TimerHandle | undefined;
  private stopped = true;
  private desired = new Map<string, Desired>();
  /** What the peer has from us: prefix -> attribute key. */
  private sent = new Map<string, string>();
  private codec: CodecOptions = { fourOctetAs: true, maxMessageSize: MAX_MESSAGE };
  private failures = 0;
  private lastError = '';
  private establishedAt: number | undefined;
  private readonly listeners: ((state: string, reason?: string) => void)[] = [];
  readonly stats: SessionStats = { updatesSent: 0, updatesReceived: 0, keepalivesSent: 0, keepalivesReceived: 0, notificationsSent: 0, notificationsReceived: 0, prefixesAnnounced: 0, establishedTransitions: 0 };
  private readonly log: Logger;

  constructor(private readonly opts: SessionOptions) {
    this.log = opts.logger.child({ peer: opts.name, peerAddress: formatIP(opts.peerAddress) });
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

  /** Sends Cease and closes. */
  stop(): void {
    this.stopped = true;
    this.restartTimer?.cancel();
    this.fire({ type: 'ManualStop' });
  }

  /** The whole set of routes this peer should have; only the difference is sent. */
  setAdvertisements(routes: readonly Route[]): void {
    const next = new Map<string, Desired>();
    for (const r of routes) next.set(formatCIDR(r.prefix), { route: r, key: this.attrKey(r) });
    this.desired = next;
    if (this.fsm.name === 'Established') this.sync(false);
  }

  private attrKey(r: Route): string {
    return JSON.stringify([r.prefix.family, [...(r.communities ?? [])].sort((a, b) => a - b), [...(r.largeCommunities ?? [])].map((l) => l.join(':')).sort(), r.localPref ?? null]);
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
        this.conn?.destroy();
        this.conn = undefined;
        break;
      case 'sendOpen':
        this.send({ type: 'open', version: 4, myAs: this.opts.fsm.myAsn > 0xffff ? AS_TRANS : this.opts.fsm.myAsn, holdTime: this.opts.fsm.holdTime, bgpId: this.opts.fsm.routerId, capabilities: this.opts.fsm.capabilities });
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
        this.log.info('bgp session established', { peerAs: a.negotiated.peerAs, holdTime: a.negotiated.holdTime, families: a.negotiated.families.map((f) => `${f.afi}/${f.safi}`) });
        this.sent.clear();
        this.sync(true);
        break;
      case 'down':
        this.lastError = a.reason;
        this.establishedAt = undefined;
        this.sent.clear();
        this.stats.prefixesAnnounced = 0;
        if (a.reason !== 'stopped') this.log.warn('bgp session down', { reason: a.reason });
        this.failures++;
        for (const l of this.listeners) l(this.fsm.name, a.reason);
        if (!this.stopped) {
          // Automatic restart (§8.1.1 AutomaticStart) after a jittered, growing delay.
          const delay = backoffDelay(this.failures, { baseMs: 500, maxMs: Math.max(1000, this.opts.fsm.connectRetryTime * 1000) }, this.opts.random ?? Math.random);
          this.restartTimer = this.opts.clock.setTimeout(() => {
            if (!this.stopped) this.fire({ type: 'ManualStart' });
          }, delay);
        }
        break;
    }
  }

  private async connect(): Promise<void> {
    this.framer = new Framer();
    try {
      const conn = await this.opts.transport.connect({
        host: formatIP(this.opts.peerAddress),
        port: this.opts.peerPort ?? 179,
        ...(this.opts.localAddress ? { localAddress: this.opts.localAddress } : {}),
        timeoutMs: this.opts.connectTimeoutMs ?? 5000,
      });
      if (this.stopped || (this.fsm.name !== 'Connect' && this.fsm.name !== 'Active')) {
        conn.destroy();
        return;
      }
      this.conn = conn;
      conn.onData((d) => this.receive(conn, d));
      conn.onClose((err) => {
        if (this.conn !== conn) return;
        this.conn = undefined;
        this.fire({ type: 'TcpConnectionFails' });
        if (err) this.lastError = errorMessage(err);
      });
      this.fire({ type: 'TcpConnected' });
    } catch (err) {
      this.lastError = errorMessage(err);
      this.log.debug('bgp connect failed', { error: this.lastError });
      this.fire({ type: 'TcpConnectionFails' });
    }
  }

  private receive(conn: Connection, data: Buffer): void {
    if (this.conn !== conn) return;
    const framed = this.framer.push(data);
    for (const raw of framed.messages) {
      const r = decode(raw, this.codec);
      if (!r.ok) {
        this.log.warn('malformed message from peer', { reason: r.error.reason, code: r.error.code, subcode: r.error.subcode });
        this.fire({ type: raw[18] === 2 ? 'UpdateMsgErr' : 'MessageError', error: r.error });
        return;
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
          return;
        case 'routeRefresh':
          if (this.fsm.name === 'Established') {
            this.sent.clear();
            this.sync(true);
          }
          break;
      }
      if (this.conn !== conn) return;
    }
    if (framed.error) this.fire({ type: 'MessageError', error: framed.error });
  }

  private send(m: Parameters<typeof encode>[0]): void {
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
    const families = new Set(n.families.map((f) => f.afi));
    const myAsn = this.opts.fsm.myAsn;
    const asPath: PathAttributes = n.ibgp
      ? { asPath: [] }
      : n.fourOctetAs || myAsn <= 0xffff
        ? { asPath: [{ type: AS_SEQUENCE, asns: [myAsn] }] }
        : { asPath: [{ type: AS_SEQUENCE, asns: [AS_TRANS] }], as4Path: [{ type: AS_SEQUENCE, asns: [myAsn] }] };
    // Withdraw what is gone or whose attributes changed (changed ones are re-announced below).
    const withdraw: CIDR[] = [];
    for (const [key, attrKey] of this.sent) {
      const d = this.desired.get(key);
      if (!d) withdraw.push(parseKey(key));
      else if (d.key !== attrKey) this.sent.delete(key);
    }
    for (const p of withdraw) this.sent.delete(formatCIDR(p));
    const groups = new Map<string, Route[]>();
    for (const [key, d] of this.desired) {
      if (this.sent.get(key) === d.key) continue;
      const afi = d.route.prefix.family === 'IPv4' ? AFI_IPV4 : AFI_IPV6;
      if (!families.has(afi)) continue;
      const g = groups.get(d.key) ?? [];
      g.push(d.route);
      groups.set(d.key, g);
    }
    for (const fam of ['IPv4', 'IPv6'] as const) {
      const ws = withdraw.filter((p) => p.family === fam);
      for (const u of packWithdrawals(ws, this.codec)) {
        this.send(u);
        this.stats.updatesSent++;
      }
    }
    for (const routes of groups.values()) {
      const first = routes[0]!;
      const nh = this.nextHopFor(first.prefix.family);
      if (!nh) {
        this.log.warn('no next hop for this family on this session; prefixes not announced', { family: first.prefix.family, prefixes: routes.length });
        continue;
      }
      const attrs: PathAttributes = {
        origin: 0,
        ...asPath,
        ...(n.ibgp ? { localPref: first.localPref ?? 100 } : {}),
        ...(first.communities && first.communities.length > 0 ? { communities: [...first.communities].sort((a, b) => a - b) } : {}),
        ...(first.largeCommunities && first.largeCommunities.length > 0 ? { largeCommunities: [...first.largeCommunities] } : {}),
      };
      for (const u of packAnnouncements(routes.map((r) => r.prefix), attrs, [nh], this.codec)) {
        this.send(u);
        this.stats.updatesSent++;
      }
      for (const r of routes) this.sent.set(formatCIDR(r.prefix), this.attrKey(r));
    }
    this.stats.prefixesAnnounced = this.sent.size;
    if (full) {
      for (const f of n.families) {
        this.send(endOfRib(f.afi));
        this.stats.updatesSent++;
      }
    }
  }
}

function parseKey(key: string): CIDR {
  const [addr, len] = key.split('/');
  const ip = tryParseIP(addr!)!;
  return { family: ip.family, base: ip.value, prefixLength: Number(len) };
}
