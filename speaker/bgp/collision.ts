/**
 * Connection collision detection (RFC 4271 §6.8): when a session already has a connection
 * and a second one appears (the peer connected to our listener, or our own connect
 * completed after we took the peer's), the second runs its own OpenSent until the peer's
 * OPEN names the peer's BGP Identifier; then one of the two is closed with Cease
 * "Connection Collision Resolution" (RFC 4486 subcode 7). The second connection runs the same
 * pure FSM as the session (fsm.ts), so its OpenSent is the session's OpenSent.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { decode, encode } from './codec.js';
import { Framer } from './framer.js';
import {
  INITIAL,
  describeDown,
  transition,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  type FsmStateName,
} from './fsm.js';
import { DEFAULT_CODEC, type BgpMessage, type OpenMessage } from './messages.js';
import type { Negotiated } from './negotiate.js';
import type { Connection } from './transport.js';

function idValue(id: string): number {
  return id.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/**
 * Whose connection survives a collision: the one opened by the side with the higher BGP
 * Identifier (§6.8, compared as unsigned integers); equal Identifiers (possible for eBGP,
 * RFC 6286 §2.3): the side with the larger AS number.
 */
export function collisionWinner(localId: string, remoteId: string, myAs: number, peerAs: number): 'local' | 'remote' {
  const l = idValue(localId);
  const r = idValue(remoteId);
  if (l !== r) return l > r ? 'local' : 'remote';
  return myAs > peerAs ? 'local' : 'remote';
}

export interface ExistingConnection {
  readonly state: FsmStateName;
  readonly initiatedLocally: boolean;
  readonly negotiated?: Negotiated;
}

/**
 * Keep the new connection or the existing one? `open` is the OPEN received on the new one.
 * An Established session is kept (§6.8), unless the peer restarted: same Identifier and a
 * graceful-restart capability in the new OPEN (RFC 4724 §4.2), when the new one replaces it.
 */
export function keepNewConnection(
  existing: ExistingConnection,
  newInitiatedLocally: boolean,
  open: OpenMessage,
  cfg: FsmConfig,
  peerAs: number,
): boolean {
  if (existing.state === 'Established') {
    return open.capabilities.gracefulRestart !== undefined && existing.negotiated?.peerId === open.bgpId;
  }
  if (existing.state !== 'OpenSent' && existing.state !== 'OpenConfirm') return true;
  const localWins = collisionWinner(cfg.routerId, open.bgpId, cfg.myAsn, peerAs) === 'local';
  if (newInitiatedLocally === localWins) return true;
  if (existing.initiatedLocally === localWins) return false;
  // Both opened by the same side (the peer gave up on its first): the newer one.
  return true;
}

export type CandidateResult =
  | { readonly kind: 'rejected' }
  | {
      readonly kind: 'won';
      readonly conn: Connection;
      readonly framer: Framer;
      readonly open: OpenMessage;
      readonly rest: readonly Buffer[];
      readonly initiatedLocally: boolean;
    };

export interface CandidateDeps {
  readonly fsm: FsmConfig;
  readonly clock: Clock;
  readonly log: Logger;
  /** The OPEN we send. */
  readonly open: () => OpenMessage;
  /** The session's current connection, at the moment the peer's OPEN arrives. */
  readonly existing: () => ExistingConnection;
  readonly decided: (r: CandidateResult) => void;
}

/**
 * The second connection of a collision: the FSM from TcpConnected to OpenSent, until the
 * peer's OPEN decides. If it wins, the session takes the connection and the OPEN (its own FSM
 * goes through OpenSent again with them); otherwise the FSM's actions close it.
 */
export class CollisionCandidate {
  private readonly framer = new Framer();
  private state: FsmState;
  private hold: TimerHandle | undefined;
  private done = false;

  constructor(
    private readonly conn: Connection,
    private readonly initiatedLocally: boolean,
    private readonly deps: CandidateDeps,
  ) {
    conn.onData((d) => this.receive(d));
    conn.onClose(() => this.finish({ kind: 'rejected' }));
    // A connection that just came up: the FSM's Active + TcpConnected, which sends our OPEN.
    this.state = { ...INITIAL, name: 'Active' };
    this.fire({ type: 'TcpConnected' });
  }

  /** Closes it with Cease/collision (the session went away or another connection replaced it). */
  reject(): void {
    this.fire({ type: 'OpenCollisionDump' });
  }

  private fire(e: FsmEvent): void {
    if (this.done) return;
    const t = transition(this.state, e, this.deps.fsm);
    this.state = t.state;
    for (const a of t.actions) this.perform(a);
  }

  private perform(a: FsmAction): void {
    switch (a.type) {
      case 'sendOpen':
        this.send(this.deps.open());
        break;
      case 'sendNotification':
        this.send({ type: 'notification', code: a.code, subcode: a.subcode, data: a.data ?? Buffer.alloc(0) });
        break;
      case 'startTimer':
        // Only the hold timer matters here: this connection never retries or restarts.
        if (a.timer !== 'hold') break;
        this.hold?.cancel();
        this.hold = this.deps.clock.setTimeout(() => this.fire({ type: 'HoldTimerExpires' }), a.ms);
        break;
      case 'stopTimer':
        if (a.timer === 'hold') this.hold?.cancel();
        break;
      case 'down':
        this.deps.log.info('closing a colliding connection', {
          event: 'collision',
          reason: describeDown(a.reason),
          initiatedLocally: this.initiatedLocally,
        });
        break;
      case 'drop':
        this.conn.destroy();
        this.finish({ kind: 'rejected' });
        break;
      default:
        // connect, keepalives and established never happen before the OPEN decides.
        break;
    }
  }

  private send(m: BgpMessage): void {
    this.conn.write(encode(m, DEFAULT_CODEC));
  }

  private finish(r: CandidateResult): void {
    if (this.done) return;
    this.done = true;
    this.hold?.cancel();
    this.deps.decided(r);
  }

  private receive(data: Buffer): void {
    if (this.done) return;
    const framed = this.framer.push(data);
    const [first, ...rest] = framed.messages;
    if (!first) {
      if (framed.error) this.fire({ type: 'MessageError', error: framed.error });
      return;
    }
    const r = decode(first, DEFAULT_CODEC);
    if (!r.ok)
      return this.fire(
        r.error.message === 'update'
          ? { type: 'UpdateMsgErr', error: r.error }
          : { type: 'MessageError', error: r.error },
      );
    const m = r.message;
    if (m.type !== 'open') {
      return this.fire(
        m.type === 'keepalive'
          ? { type: 'KeepAliveMsg' }
          : m.type === 'notification'
            ? { type: 'NotifMsg', code: m.code, subcode: m.subcode }
            : { type: 'UpdateMsg' },
      );
    }
    // The OPEN is checked as OpenSent checks it; only an acceptable one takes part in §6.8.
    const checked = transition(this.state, { type: 'BGPOpen', open: m }, this.deps.fsm);
    if (!checked.state.negotiated) {
      this.state = checked.state;
      for (const a of checked.actions) this.perform(a);
      return;
    }
    if (
      !keepNewConnection(this.deps.existing(), this.initiatedLocally, m, this.deps.fsm, checked.state.negotiated.peerAs)
    )
      return this.fire({ type: 'OpenCollisionDump' });
    this.done = true;
    this.hold?.cancel();
    this.deps.decided({
      kind: 'won',
      conn: this.conn,
      framer: this.framer,
      open: m,
      rest,
      initiatedLocally: this.initiatedLocally,
    });
  }
}
