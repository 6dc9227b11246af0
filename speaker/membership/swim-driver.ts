/**
 * Runs the SWIM detector over UDP between speakers (port 7946 by default), every datagram
 * authenticated with HMAC-SHA256 under the memberlist Secret's key; unauthenticated or
 * malformed datagrams are dropped and counted, never believed.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import { Swim, type MemberState, type Send, type SwimMessage } from './swim.js';
import { decodeDatagram, encodeDatagram } from './swim-codec.js';

export interface SwimDriverOptions {
  readonly node: string;
  readonly key: Buffer;
  readonly port?: number;
  /**
   * The local address to bind (IPv4 or IPv6), so that several members can share one network
   * namespace on distinct addresses (bench/swim-real.ts); all addresses ('::') by default.
   */
  readonly bindAddress?: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  /** The UDP address of a member's speaker (its node's InternalIP). */
  readonly addressOf: (node: string) => string | undefined;
  readonly onChange: () => void;
  /** Told of every change in this member's judgement of another, at monotonic ms `now` (for measurements). */
  readonly onTransition?: (member: string, state: MemberState, now: number) => void;
}

/** How the dual-stack socket names an address: IPv4 through its v4-mapped form. */
const mapped = (addr: string): string => (addr.includes(':') ? addr : `::ffff:${addr}`);

export class SwimMembership {
  private readonly swim: Swim;
  private socket: Socket | undefined;
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** Datagrams sent, received and dropped; `sentBytes` is the UDP payload sent (no IP/UDP headers). */
  readonly counters = { sent: 0, sentBytes: 0, received: 0, rejected: 0 };

  constructor(private readonly opts: SwimDriverOptions) {
    this.swim = new Swim({
      self: opts.node,
      random: opts.random ?? Math.random,
      ...(opts.onTransition ? { onTransition: opts.onTransition } : {}),
    });
  }

  private sign(m: SwimMessage): Buffer {
    return encodeDatagram(m, this.opts.key);
  }

  private verify(data: Buffer): SwimMessage | undefined {
    const r = decodeDatagram(data, this.opts.key);
    return r.ok ? r.message : undefined;
  }

  private send(sends: readonly Send[]): void {
    for (const s of sends) {
      const addr = this.opts.addressOf(s.to);
      if (!addr || !this.socket) continue;
      // A dual-stack IPv6 socket reaches IPv4 peers through their v4-mapped addresses.
      const data = this.sign(s.message);
      this.socket.send(data, this.opts.port ?? 7946, mapped(addr));
      this.counters.sent++;
      this.counters.sentBytes += data.length;
    }
  }

  async start(): Promise<void> {
    const socket = createSocket({ type: 'udp6', ipv6Only: false, reuseAddr: true });
    socket.on('message', (data) => {
      const m = this.verify(data);
      if (!m) {
        this.counters.rejected++;
        return;
      }
      this.counters.received++;
      const r = this.swim.receive(m, this.opts.clock.monotonic());
      this.send(r.sends);
      if (r.changed) this.changed();
      // A message can bring a deadline forward (gossip about a new suspect).
      this.schedule();
    });
    socket.on('error', (err) =>
      this.opts.logger.warn('membership socket error', { event: 'socketError', error: err.message }),
    );
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.opts.port ?? 7946, this.opts.bindAddress ? mapped(this.opts.bindAddress) : '::', () =>
        resolve(),
      );
    });
    this.socket = socket;
    this.startedAt = this.opts.clock.monotonic();
    this.loop();
  }

  private lastAlive = '';
  private startedAt = 0;

  /** Whether the detector has heard (or given up on) every member since it started: until then its live set is not yet meaningful. */
  converged(): boolean {
    return this.socket !== undefined && this.swim.converged(this.startedAt, this.opts.clock.monotonic());
  }

  /** Whether the detector has heard from `node` (or judged it) at all: not still 'unknown'. */
  knows(node: string): boolean {
    const st = this.swim.stateOf(node);
    return st !== undefined && st !== 'unknown';
  }

  private changed(): void {
    const now = [...this.swim.alive()].sort().join(',');
    if (now === this.lastAlive) return;
    this.lastAlive = now;
    this.opts.logger.info('speaker membership', { event: 'membersChanged', alive: now });
    this.opts.onChange();
  }

  private loop(): void {
    if (this.stopped) return;
    const r = this.swim.tick(this.opts.clock.monotonic());
    this.send(r.sends);
    if (r.changed) this.changed();
    this.schedule();
  }

  /** Wakes at the protocol's next deadline (not on a fixed poll: an idle node stays idle). */
  private schedule(): void {
    if (this.stopped) return;
    this.timer?.cancel();
    const now = this.opts.clock.monotonic();
    this.timer = this.opts.clock.setTimeout(() => this.loop(), Math.max(1, this.swim.nextDeadline(now) - now));
  }

  /** The nodes that may run speakers. */
  setMembers(nodes: readonly string[]): void {
    this.swim.setKnown(nodes);
  }

  alive(): Set<string> {
    return this.swim.alive();
  }

  /** This node's own link was down from `since` until now: failures seen meanwhile were its own (see Swim.forgive). */
  forgive(since: number): void {
    const now = this.opts.clock.monotonic();
    this.opts.logger.info('own link back; members suspected while it was down are given a fresh probe', {
      event: 'membershipForgive',
      downForMs: Math.round(now - since),
    });
    if (this.swim.forgive(since, now)) this.changed();
    this.schedule();
  }

  /** Whether every member has been heard from directly since `since` (monotonic ms). */
  heardFromAllSince(since: number): boolean {
    return this.swim.heardFromAllSince(since);
  }

  /** Known dead or gone (not merely not heard from yet). */
  isDead(node: string): boolean {
    const st = this.swim.stateOf(node);
    return st === 'dead' || st === 'left';
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.timer?.cancel();
    this.send(this.swim.leave());
    const s = this.socket;
    this.socket = undefined;
    // Let the leave datagrams go out before closing.
    setImmediate(() => s?.close());
  }
}
