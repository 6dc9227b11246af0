/**
 * One AF_PACKET socket per interface the Layer 2 engine answers on, kept alive through
 * everything a link can do. A socket error (ENETDOWN while the link is down) is logged and
 * reading goes on (the addon re-arms it); an interface deleted and created again (new
 * ifindex) gets a new socket; a socket that fails to open is retried with backoff; and a
 * watchdog reopens a socket whose receive queue holds frames that are not being read.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { backoffDelay } from '../../src/core/backoff.js';
import type { NativeAddon, PacketSocketHandle } from '../../native/index.js';
import type { Iface } from './links.js';

export const WATCHDOG_INTERVAL_MS = 1000;
const REOPEN_BACKOFF = { baseMs: 500, maxMs: 30_000, jitter: 0.2 };

export interface LinkSocket {
  readonly name: string;
  readonly index: number;
  readonly sock: PacketSocketHandle;
  /** Multicast groups joined (hex MACs), joined again on a new socket. */
  readonly groups: Set<string>;
}

export interface LinkSocketsOptions {
  readonly native: Pick<NativeAddon, 'PacketSocket'>;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  /** The node's links now. */
  readonly interfaces: () => readonly Iface[];
  /** A frame arrived on `name`. */
  readonly onFrame: (name: string, sock: PacketSocketHandle, frame: Buffer) => void;
  /** A socket was (re)opened on `name` after having been closed or failing: announce again there. */
  readonly onReopened: (name: string) => void;
}

interface Watch {
  received: number;
  queued: number;
  drops: number;
}

export class LinkSockets {
  private readonly open = new Map<string, LinkSocket>();
  private readonly failing = new Map<string, { attempt: number; timer: TimerHandle }>();
  private readonly watch = new Map<string, Watch>();
  /** Per interface: the IPv4 addresses ARP requests may ask for (the kernel filter), as a key to skip no-op updates. */
  private readonly arpTargets = new Map<string, { list: number[]; key: string; applied?: string }>();
  private watchdog: TimerHandle | undefined;
  private closed = false;
  /** kernelDrops: frames the kernel dropped on a full receive queue (read by the watchdog each second). */
  readonly counters = { reopened: 0, socketErrors: 0, stalls: 0, kernelDrops: 0 };

  constructor(private readonly opts: LinkSocketsOptions) {}

  get(name: string): LinkSocket | undefined {
    return this.open.get(name);
  }

  /** Opens a socket on `iface` unless one is open on its current ifindex; undefined when it cannot (retried later). */
  ensure(iface: Iface): LinkSocket | undefined {
    const have = this.open.get(iface.name);
    if (have && have.index === iface.index) return have;
    if (have) this.drop(iface.name, `ifindex changed from ${have.index} to ${iface.index}`);
    if (this.failing.has(iface.name)) return undefined;
    return this.tryOpen(iface.name, iface.index, have?.groups ?? new Set());
  }

  private tryOpen(name: string, index: number, groups: ReadonlySet<string>): LinkSocket | undefined {
    try {
      const sock = new this.opts.native.PacketSocket(name, { arp: true, ndp: true, arpRequestsOnly: true });
      const entry: LinkSocket = { name, index: sock.ifindex, sock, groups: new Set() };
      sock.start(
        (frame) => this.opts.onFrame(name, sock, frame),
        (message) => this.onSocketError(name, message),
      );
      for (const g of groups) this.join(entry, g);
      this.open.set(name, entry);
      this.applyArpTargets(name);
      this.failing.delete(name);
      this.opts.logger.info('listening', { event: 'listening', interface: name, ifindex: entry.index });
      this.armWatchdog();
      return entry;
    } catch (err) {
      const attempt = (this.failing.get(name)?.attempt ?? -1) + 1;
      const delay = backoffDelay(attempt, REOPEN_BACKOFF, this.opts.random ?? Math.random);
      this.opts.logger.error('cannot open the interface, will retry', {
        event: 'interfaceOpenFailed',
        interface: name,
        ifindex: index,
        retryInMs: delay,
        error: errorMessage(err),
      });
      const timer = this.opts.clock.setTimeout(() => {
        const f = this.failing.get(name);
        if (!f || this.closed) return;
        const iface = this.opts.interfaces().find((i) => i.name === name);
        if (!iface) {
          // Gone meanwhile: a new link notification will ask again.
          this.failing.delete(name);
          return;
        }
        const s = this.tryOpen(name, iface.index, groups);
        if (s) this.opts.onReopened(name);
      }, delay);
      this.failing.set(name, { attempt, timer });
      return undefined;
    }
  }

  private join(s: LinkSocket, groupHex: string): void {
    if (s.groups.has(groupHex)) return;
    try {
      s.sock.addMembership(Buffer.from(groupHex, 'hex'));
      s.groups.add(groupHex);
    } catch (err) {
      this.opts.logger.warn('cannot join a multicast group', {
        event: 'multicastJoinFailed',
        interface: s.name,
        group: groupHex,
        error: errorMessage(err),
      });
    }
  }

  /**
   * Only ARP requests for `targets` (IPv4 numbers) reach the engine from `name`: a flood of
   * requests for other hosts' addresses stays in the kernel (and cannot fill the socket's
   * queue). Kept across reopening.
   */
  setArpTargets(name: string, targets: readonly number[]): void {
    const list = [...targets].sort((a, b) => a - b);
    const key = list.join(',');
    const had = this.arpTargets.get(name);
    if (had?.key === key) return;
    this.arpTargets.set(name, { list, key, ...(had?.applied !== undefined ? { applied: had.applied } : {}) });
    this.applyArpTargets(name);
  }

  private applyArpTargets(name: string): void {
    const s = this.open.get(name);
    const t = this.arpTargets.get(name);
    if (!s || !t || t.applied === `${s.index}|${t.key}`) return;
    try {
      s.sock.setArpTargets(t.list);
      t.applied = `${s.index}|${t.key}`;
    } catch (err) {
      this.opts.logger.warn('cannot narrow the kernel filter; every ARP request reaches the speaker', {
        event: 'filterFailed',
        interface: name,
        error: errorMessage(err),
      });
    }
  }

  /** Receives frames sent to this multicast MAC on `name` (kept across reopening). */
  addMembership(name: string, mac: Buffer): void {
    const s = this.open.get(name);
    if (s) this.join(s, mac.toString('hex'));
  }

  private onSocketError(name: string, message: string): void {
    this.counters.socketErrors++;
    this.opts.logger.info('socket reported an error; reading goes on', {
      event: 'socketError',
      interface: name,
      error: message,
    });
  }

  /** Closes the socket on `name` (the interface went away). */
  drop(name: string, why: string): void {
    const s = this.open.get(name);
    const f = this.failing.get(name);
    f?.timer.cancel();
    this.failing.delete(name);
    this.watch.delete(name);
    if (!s) return;
    this.open.delete(name);
    const t = this.arpTargets.get(name);
    if (t) delete t.applied;
    s.sock.close();
    this.opts.logger.info('closed the socket', {
      event: 'socketClosed',
      interface: name,
      ifindex: s.index,
      reason: why,
    });
  }

  /** Closes sockets on interfaces not in `keep`. */
  retain(keep: ReadonlySet<string>): void {
    for (const name of [...this.open.keys(), ...this.failing.keys()])
      if (!keep.has(name)) this.drop(name, 'no longer selected');
  }

  /**
   * A socket whose kernel queue held frames at two checks in a row while it handed none to
   * JavaScript has stopped delivering: it is reopened.
   */
  checkStalls(): void {
    for (const [name, s] of [...this.open]) {
      const st = s.sock.stats();
      const prev = this.watch.get(name);
      this.watch.set(name, { received: st.received, queued: st.queued, drops: st.drops });
      this.counters.kernelDrops += st.drops - (prev?.drops ?? 0);
      if (!prev || st.queued === 0 || prev.queued === 0 || st.received !== prev.received) continue;
      this.counters.stalls++;
      this.opts.logger.warn('socket stopped delivering frames; reopening it', {
        event: 'socketStalled',
        interface: name,
        queuedBytes: st.queued,
      });
      const groups = new Set(s.groups);
      this.drop(name, 'stalled');
      const iface = this.opts.interfaces().find((i) => i.name === name);
      if (iface && this.tryOpen(name, iface.index, groups)) {
        this.counters.reopened++;
        this.opts.onReopened(name);
      }
    }
  }

  private armWatchdog(): void {
    if (this.watchdog || this.closed) return;
    this.watchdog = this.opts.clock.setTimeout(() => {
      this.watchdog = undefined;
      if (this.closed || this.open.size === 0) return;
      this.checkStalls();
      this.armWatchdog();
    }, WATCHDOG_INTERVAL_MS);
  }

  names(): string[] {
    return [...this.open.keys()];
  }

  close(): void {
    this.closed = true;
    this.watchdog?.cancel();
    this.watchdog = undefined;
    for (const name of [...this.open.keys(), ...this.failing.keys()]) this.drop(name, 'shutting down');
  }
}
