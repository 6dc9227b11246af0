/**
 * Connection collision detection (RFC 4271 §6.8): when a session already has a connection
 * and a second one appears (the peer connected to our listener, or our own connect
 * completed after we took the peer's), the second runs its own OpenSent until the peer's
 * OPEN names the peer's BGP Identifier; then one of the two is closed with Cease
 * "Connection Collision Resolution" (RFC 4486 subcode 7).
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { decode, encode } from './codec.js';
import { Framer } from './framer.js';
import { LARGE_HOLD_TIME, negotiate, type FsmConfig, type FsmStateName, type Negotiated } from './fsm.js';
import { CEASE_COLLISION_RESOLUTION, DEFAULT_CODEC, ERR_CEASE, ERR_FSM, ERR_HOLD_TIMER_EXPIRED, type BgpMessage, type OpenMessage } from './messages.js';
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
export function keepNewConnection(existing: ExistingConnection, newInitiatedLocally: boolean, open: OpenMessage, cfg: FsmConfig, peerAs: number): boolean {
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
  | { readonly kind: 'won'; readonly conn: Connection; readonly framer: Framer; readonly open: OpenMessage; readonly rest: readonly Buffer[]; readonly initiatedLocally: boolean };

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

/** The second connection of a collision, in its own OpenSent until the peer's OPEN decides. */
export class CollisionCandidate {
  private readonly framer = new Framer();
  private readonly hold: TimerHandle;
  private done = false;

  constructor(
    private readonly conn: Connection,
    private readonly initiatedLocally: boolean,
    private readonly deps: CandidateDeps,
  ) {
    conn.onData((d) => this.receive(d));
    conn.onClose(() => this.finish({ kind: 'rejected' }));
    this.hold = deps.clock.setTimeout(() => this.close(ERR_HOLD_TIMER_EXPIRED, 0, 'hold timer expired waiting for OPEN'), LARGE_HOLD_TIME * 1000);
    this.send(deps.open());
  }

  /** Closes it with Cease/collision (the session went away or another connection replaced it). */
  reject(): void {
    this.close(ERR_CEASE, CEASE_COLLISION_RESOLUTION, 'replaced');
  }

  private send(m: BgpMessage): void {
    this.conn.write(encode(m, DEFAULT_CODEC));
  }

  private close(code: number, subcode: number, reason: string): void {
    if (this.done) return;
    this.deps.log.info('bgp: closing a colliding connection', { reason, initiatedLocally: this.initiatedLocally });
    this.send({ type: 'notification', code, subcode, data: Buffer.alloc(0) });
    this.conn.destroy();
    this.finish({ kind: 'rejected' });
  }

  private finish(r: CandidateResult): void {
    if (this.done) return;
    this.done = true;
    this.hold.cancel();
    this.deps.decided(r);
  }

  private receive(data: Buffer): void {
    if (this.done) return;
    const framed = this.framer.push(data);
    const [first, ...rest] = framed.messages;
    if (!first) {
      if (framed.error) this.close(framed.error.code, framed.error.subcode, framed.error.reason);
      return;
    }
    const r = decode(first, DEFAULT_CODEC);
    if (!r.ok) return this.close(r.error.code, r.error.subcode, r.error.reason);
    if (r.message.type !== 'open') return this.close(ERR_FSM, 1, `${r.message.type} before OPEN`);
    const open = r.message;
    const n = negotiate(open, this.deps.fsm);
    if (!n.ok) return this.close(n.code, n.subcode, n.reason);
    if (!keepNewConnection(this.deps.existing(), this.initiatedLocally, open, this.deps.fsm, n.negotiated.peerAs)) {
      return this.close(ERR_CEASE, CEASE_COLLISION_RESOLUTION, 'the existing connection wins the collision');
    }
    this.done = true;
    this.hold.cancel();
    this.deps.decided({ kind: 'won', conn: this.conn, framer: this.framer, open, rest, initiatedLocally: this.initiatedLocally });
  }
}
