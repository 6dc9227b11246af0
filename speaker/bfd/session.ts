/**
 * The driver of one BFD session (RFC 5880 asynchronous mode): keeps the §6.8.1 state
 * variables, sends periodic Control packets with §6.8.7 jitter, runs the Detection Time
 * (§6.8.4), the Poll Sequence for interval changes (§6.5, §6.8.3), and feeds valid packets
 * to the pure state machine. Time comes from the injected Clock; packets go out through
 * `send`. The engine has already demultiplexed and TTL-checked each packet.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { INITIAL, transition, type FsmAction, type FsmState } from './fsm.js';
import { authTypeName, diagName, encodeControl, type BfdState, type ControlPacket } from './packet.js';

/** §6.8.3: while not Up, bfd.DesiredMinTxInterval is at least one second. */
export const SLOW_TX_MS = 1000;
/** §6.8.7: periodic packets are never closer than 75 % of the interval. */
const MIN_GAP = 0.75;
/** A timer that fires this much before its deadline is re-armed for the rest. */
const EARLY_MS = 0.05;

export interface BfdTimers {
  /** bfd.DesiredMinTxInterval once Up (MetalLB transmitInterval), ms. */
  readonly desiredMinTxMs: number;
  /** bfd.RequiredMinRxInterval (MetalLB receiveInterval), ms. */
  readonly requiredMinRxMs: number;
  /** bfd.DetectMult (MetalLB detectMultiplier). */
  readonly detectMult: number;
  /** §6.1 Passive role (MetalLB passiveMode): send nothing until the peer has sent. */
  readonly passive: boolean;
}

export interface BfdSessionOptions {
  readonly localDiscr: number;
  readonly timers: BfdTimers;
  readonly clock: Clock;
  /** Uniform in [0, 1), for the transmit jitter. */
  readonly random: () => number;
  readonly logger: Logger;
  readonly send: (packet: Buffer) => void;
  readonly onChange?: (state: BfdState, diag: number) => void;
}

export interface BfdSessionStats {
  packetsSent: number;
  packetsReceived: number;
  packetsDiscarded: number;
  upTransitions: number;
  downTransitions: number;
}

/**
 * §6.8.7: the interval reduced by a random 0–25 %; with a Detect Mult of 1, by 10–25 %, so
 * that one late packet never reaches the Detection Time.
 */
export function jitteredInterval(intervalMs: number, detectMult: number, random: () => number): number {
  const r = random();
  return detectMult === 1 ? intervalMs * (0.75 + 0.15 * r) : intervalMs * (0.75 + 0.25 * r);
}

/** What the two sides agreed, per §6.8.2–§6.8.4. */
export interface Negotiated {
  /** The interval we transmit at (before jitter). */
  readonly txMs: number;
  /** How long we wait in silence before declaring the peer down. */
  readonly detectMs: number;
  readonly remoteDesiredMinTxMs: number;
  readonly remoteRequiredMinRxMs: number;
  readonly remoteDetectMult: number;
}

export class BfdSession {
  private fsm: FsmState = INITIAL;
  private remoteDiscr = 0;
  private remoteState: BfdState = 'Down';
  private remoteDemand = false;
  /** §6.8.1: initialised to 1 µs. */
  private remoteMinRxMs = 0.001;
  private remoteDesiredTxMs = 0;
  private remoteDetectMult = 0;
  private remoteDiag = 0;
  private advertisedTxMs: number;
  private polling = false;
  private txTimer: TimerHandle | undefined;
  /** Monotonic ms: the deadline of the last periodic packet, and when the last one went out. */
  private lastDue: number | undefined;
  private lastPeriodicAt: number | undefined;
  private detectTimer: TimerHandle | undefined;
  private closed = false;
  private readonly toldAuth = new Set<number>();
  readonly stats: BfdSessionStats = {
    packetsSent: 0,
    packetsReceived: 0,
    packetsDiscarded: 0,
    upTransitions: 0,
    downTransitions: 0,
  };

  constructor(private readonly opts: BfdSessionOptions) {
    this.advertisedTxMs = Math.max(SLOW_TX_MS, opts.timers.desiredMinTxMs);
  }

  state(): BfdState {
    return this.fsm.name;
  }

  /** bfd.LocalDiag: why the session last went down (0 when Up). */
  diag(): number {
    return this.fsm.diag;
  }

  /** The diagnostic the peer last sent. */
  remoteDiagnostic(): number {
    return this.remoteDiag;
  }

  negotiated(): Negotiated | undefined {
    if (this.remoteDiscr === 0) return undefined;
    return {
      txMs: this.txIntervalMs(),
      detectMs: this.detectTimeMs(),
      remoteDesiredMinTxMs: this.remoteDesiredTxMs,
      remoteRequiredMinRxMs: this.remoteMinRxMs,
      remoteDetectMult: this.remoteDetectMult,
    };
  }

  start(): void {
    if (this.closed) return;
    this.apply(transition(this.fsm, { type: 'Enable' }));
  }

  /** §6.8.16: AdminDown (sent to the peer at once, so it sees no failure); keeps sending until close(). */
  stop(): void {
    this.apply(transition(this.fsm, { type: 'AdminDown' }));
  }

  /** Stops every timer; nothing is sent any more. */
  close(): void {
    this.closed = true;
    this.txTimer?.cancel();
    this.detectTimer?.cancel();
    this.txTimer = undefined;
    this.detectTimer = undefined;
  }

  /** A Control packet the engine matched to this session (§6.8.6, after the TTL check). */
  receive(p: ControlPacket): void {
    if (this.closed) return;
    if (p.auth) {
      this.stats.packetsDiscarded++;
      if (!this.toldAuth.has(p.auth.type)) {
        this.toldAuth.add(p.auth.type);
        this.opts.logger.error(
          `the peer authenticates its packets (${authTypeName(p.auth.type)}), but BFDProfile has no authentication: its packets are discarded (RFC 5880 §6.7) and the session stays down`,
          { event: 'bfdAuthMismatch' },
        );
      }
      return;
    }
    if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== this.opts.localDiscr) {
      this.stats.packetsDiscarded++;
      return;
    }
    this.stats.packetsReceived++;
    const oldTx = this.txIntervalMs();
    this.remoteDiscr = p.myDiscriminator;
    this.remoteState = p.state;
    this.remoteDemand = p.demand;
    this.remoteMinRxMs = p.requiredMinRxMs;
    this.remoteDesiredTxMs = p.desiredMinTxMs;
    this.remoteDetectMult = p.detectMult;
    this.remoteDiag = p.diag;
    if (p.final) this.polling = false;
    if (this.fsm.name !== 'AdminDown') this.armDetect();
    this.apply(transition(this.fsm, { type: 'Recv', remoteState: p.state }));
    if (p.poll) this.sendPacket({ final: true });
    if (this.txIntervalMs() !== oldTx || !this.txTimer) this.schedule();
  }

  private txIntervalMs(): number {
    return Math.max(this.advertisedTxMs, this.remoteMinRxMs);
  }

  /** §6.8.4 (asynchronous mode). */
  private detectTimeMs(): number {
    return this.remoteDetectMult * Math.max(this.opts.timers.requiredMinRxMs, this.remoteDesiredTxMs);
  }

  private armDetect(): void {
    this.detectTimer?.cancel();
    const ms = this.detectTimeMs();
    this.detectTimer = this.opts.clock.setTimeout(() => {
      this.detectTimer = undefined;
      this.apply(transition(this.fsm, { type: 'DetectTimeout' }));
    }, ms);
  }

  private apply(t: { state: FsmState; actions: readonly FsmAction[] }): void {
    const before = this.fsm.name;
    this.fsm = t.state;
    // §6.8.3: the slow rate while not Up; a change is announced with a Poll Sequence.
    const tx =
      this.fsm.name === 'Up' ? this.opts.timers.desiredMinTxMs : Math.max(SLOW_TX_MS, this.opts.timers.desiredMinTxMs);
    if (tx !== this.advertisedTxMs) {
      this.advertisedTxMs = tx;
      if (this.remoteDiscr !== 0 && this.fsm.name !== 'AdminDown') this.polling = true;
    }
    for (const a of t.actions) {
      switch (a.type) {
        case 'forgetRemote':
          this.remoteDiscr = 0;
          this.remoteState = 'Down';
          this.remoteMinRxMs = 0.001;
          this.polling = false;
          break;
        case 'up':
          this.stats.upTransitions++;
          this.opts.logger.info('BFD session up', {
            event: 'bfdUp',
            txMs: this.txIntervalMs(),
            detectMs: this.detectTimeMs(),
          });
          break;
        case 'down':
          this.stats.downTransitions++;
          this.opts.logger.warn('BFD session down', {
            event: 'bfdDown',
            diag: diagName(a.diag),
            remoteDiag: diagName(this.remoteDiag),
          });
          break;
        case 'sendNow':
          break;
      }
    }
    if (t.actions.some((a) => a.type === 'sendNow')) this.sendPacket({});
    else if (t.actions.some((a) => a.type === 'forgetRemote')) this.schedule();
    if (before !== this.fsm.name) this.opts.onChange?.(this.fsm.name, this.fsm.diag);
  }

  /** Whether periodic packets are due at all (§6.8.7). */
  private periodic(): boolean {
    if (this.closed) return false;
    if (this.opts.timers.passive && this.remoteDiscr === 0) return false;
    if (this.remoteMinRxMs === 0) return false;
    if (this.remoteDemand && this.fsm.name === 'Up' && this.remoteState === 'Up' && !this.polling) return false;
    return true;
  }

  /**
   * Arms the next periodic packet. Deadlines are anchored on the previous deadline, not on
   * when the timer really fired, so a late wake-up (a busy machine) is caught up on the next
   * packet instead of stretching every interval; but never sooner than 75 % of the interval
   * after the last periodic packet (§6.8.7), and never before the deadline (timers may fire a
   * little early).
   */
  private schedule(): void {
    this.txTimer?.cancel();
    this.txTimer = undefined;
    if (!this.periodic()) return;
    const now = this.opts.clock.monotonic();
    const interval = this.txIntervalMs();
    const anchor = this.lastDue ?? now;
    let due = anchor + jitteredInterval(interval, this.opts.timers.detectMult, this.opts.random);
    if (this.lastPeriodicAt !== undefined) due = Math.max(due, this.lastPeriodicAt + MIN_GAP * interval);
    this.arm(Math.max(due, now));
  }

  private arm(due: number): void {
    this.txTimer = this.opts.clock.setTimeout(
      () => {
        this.txTimer = undefined;
        if (this.opts.clock.monotonic() < due - EARLY_MS) {
          this.arm(due);
          return;
        }
        this.lastDue = due;
        this.sendPacket({ periodic: true });
      },
      Math.max(0, due - this.opts.clock.monotonic()),
    );
  }

  /** `periodic`: from the timer; `final`: a reply to a Poll, outside the schedule; otherwise a state change, which restarts the schedule. */
  private sendPacket(o: { final?: boolean; periodic?: boolean }): void {
    if (this.closed) return;
    const now = this.opts.clock.monotonic();
    if (o.periodic) this.lastPeriodicAt = now;
    else if (!o.final) {
      this.lastDue = now;
      this.lastPeriodicAt = now;
    }
    const mayStart = !(this.opts.timers.passive && this.remoteDiscr === 0);
    if (mayStart || o.final) {
      const packet = encodeControl({
        diag: this.fsm.diag,
        state: this.fsm.name,
        poll: this.polling && !o.final,
        final: o.final ?? false,
        detectMult: this.opts.timers.detectMult,
        myDiscriminator: this.opts.localDiscr,
        yourDiscriminator: this.remoteDiscr,
        desiredMinTxMs: this.advertisedTxMs,
        requiredMinRxMs: this.opts.timers.requiredMinRxMs,
        // No Echo function (RFC 5880 §6.4): zero tells the peer not to send echo packets.
        requiredMinEchoRxMs: 0,
      });
      this.stats.packetsSent++;
      this.opts.send(packet);
    }
    if (!o.final || !this.txTimer) this.schedule();
  }
}
