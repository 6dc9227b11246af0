/**
 * The Layer 2 engine on one node: AF_PACKET sockets on the selected interfaces, answering
 * ARP/NDP for the IPs this node owns (through the pure responder), and gratuitous
 * announcements when it takes an IP over. Link events (netlink) keep it answering: a link
 * that comes back after a short flap gets its IPs announced again at once; a link down long
 * enough for another node to have taken its IPs over gives them up, and after it comes back
 * the engine takes nothing new until membership has had time to agree again.
 */
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { errorMessage } from '../../src/core/errors.js';
import type { Logger } from '../../src/core/logger.js';
import { cidrContains, cidrOf } from '../../src/net/cidr.js';
import { formatIP, type IP } from '../../src/net/ip.js';
import type { NativeAddon, PacketSocketHandle } from '../../native/index.js';
import { Announcer, DEFAULT_ANNOUNCE_RATE, type PacingState } from './announcer.js';
import {
  describePacket,
  gratuitousArpReply,
  gratuitousArpRequest,
  multicastMac,
  parseFrame,
  solicitedNode,
  unsolicitedAdvertisement,
} from './frames.js';
import { LinkSockets } from './link-sockets.js';
import type { Iface, LinkChange, LinkSource } from './links.js';
import { DEFAULT_EXCLUDED_INTERFACES, interfaceMatcher } from './interface-filter.js';
import { DEFAULT_REPLY_LIMIT, ReplyLimiter, type RateLimitOptions } from './rate-limit.js';
import { respond } from './responder.js';

/** A link down for less than this keeps its IPs: no other node can have taken them over yet. */
export const DEFAULT_LINK_GRACE_MS = 500;
/** After a longer outage, how long the engine takes no new IP once the link is back (membership converging). */
export const DEFAULT_REJOIN_HOLD_MS = 2000;
/** While a hold lasts, how often membership is asked whether it agrees again. */
const HOLD_CHECK_MS = 100;

export interface L2EngineOptions {
  readonly native: Pick<NativeAddon, 'PacketSocket'>;
  readonly links: LinkSource;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly counters?: { requests: number; answers: number; gratuitous: number; malformed: number; rateLimited: number };
  /** Replies per asker (default DEFAULT_REPLY_LIMIT). */
  readonly replyLimit?: RateLimitOptions;
  /** Something the owner decision depends on changed (links, a grace or hold ending): decide again. */
  readonly onChange?: () => void;
  readonly linkGraceMs?: number;
  /**
   * Whether membership agrees again since `since` (monotonic ms: every member heard from):
   * ends a rejoin hold early. Without it the hold lasts rejoinHoldMs.
   */
  readonly membershipAgreesSince?: (since: number) => boolean;
  /** Random source for the reopen backoff's jitter. */
  readonly random?: () => number;
  readonly rejoinHoldMs?: number;
  /** Interface name globs never chosen unless an advertisement names them (default DEFAULT_EXCLUDED_INTERFACES). */
  readonly excludeInterfaces?: readonly string[];
  /** Announcer timing (tests and benches). */
  readonly announceRepeats?: number;
  readonly announceIntervalMs?: number;
  /** Gratuitous frames a second per interface (default DEFAULT_ANNOUNCE_RATE; Infinity: unpaced, for benches). */
  readonly announceRate?: number;
}

const DEFAULT_EXCLUDED = interfaceMatcher(DEFAULT_EXCLUDED_INTERFACES);

type Selectable = Pick<Iface, 'name' | 'addrs'>;

/**
 * The interfaces to answer on: the advertisement's, else those whose subnet holds the IP,
 * else every one; never, unless the advertisement names it, an excluded one.
 */
export function selectInterfaces(
  ip: IP,
  wanted: readonly string[],
  ifaces: readonly Selectable[],
  excluded: (name: string) => boolean = DEFAULT_EXCLUDED,
): string[] {
  if (wanted.length > 0) return ifaces.filter((i) => wanted.includes(i.name)).map((i) => i.name);
  const candidates = ifaces.filter((i) => !excluded(i.name));
  const onSubnet = candidates.filter((i) =>
    i.addrs.some((a) => a.ip.family === ip.family && cidrContains(cidrOf(a.ip, a.prefix), ip)),
  );
  return (onSubnet.length > 0 ? onSubnet : candidates).map((i) => i.name);
}

/** Why an IP this node should own is not announced, as the speaker reports it. */
export interface NotAnnounced {
  readonly reason: 'noInterface' | 'openFailed' | 'linkDown' | 'rejoining';
  readonly message: string;
}

export interface SetOwnedResult {
  /** IPs newly announced (gratuitous announcements sent). */
  readonly taken: string[];
  readonly released: string[];
  /** Owned IPs that cannot be announced (configuration or system problems: worth an Event). */
  readonly failed: Map<string, NotAnnounced>;
  /** Owned IPs held back by link state (a link down, or back and rejoining): worth a log line. */
  readonly deferred: Map<string, NotAnnounced>;
}

interface LinkTimes {
  /** Monotonic time the link went down (undefined while up). */
  downSince?: number;
  /** Until when, after a long outage, nothing new is taken on it (unless membership agrees earlier). */
  holdUntil?: number;
  /** When the link came back (the hold's start). */
  upAt?: number;
}

/** One IP to own, with the interfaces the advertisement names ([] = choose automatically). */
export interface OwnedIP {
  readonly ip: IP;
  readonly interfaces: readonly string[];
}

export class L2Engine {
  /** IP text -> the interfaces it is answered on. */
  private owned = new Map<string, Set<string>>();
  /** IP text -> the IP, for every owned one. */
  private ownedIPs = new Map<string, IP>();
  private readonly announcer: Announcer;
  private readonly sockets: LinkSockets;
  private readonly times = new Map<string, LinkTimes>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;
  readonly counters;
  private readonly graceMs: number;
  private readonly holdMs: number;
  private readonly limiter: ReplyLimiter;
  private readonly excluded: (name: string) => boolean;

  constructor(private readonly opts: L2EngineOptions) {
    this.excluded = opts.excludeInterfaces ? interfaceMatcher(opts.excludeInterfaces) : DEFAULT_EXCLUDED;
    this.counters = opts.counters ?? { requests: 0, answers: 0, gratuitous: 0, malformed: 0, rateLimited: 0 };
    this.limiter = new ReplyLimiter(opts.replyLimit ?? DEFAULT_REPLY_LIMIT);
    this.graceMs = opts.linkGraceMs ?? DEFAULT_LINK_GRACE_MS;
    this.holdMs = opts.rejoinHoldMs ?? DEFAULT_REJOIN_HOLD_MS;
    this.announcer = new Announcer({
      clock: opts.clock,
      send: (ip, ifname) => this.sendGratuitous(ip, ifname),
      // A gratuitous ARP goes out in both forms (request and reply): two frames.
      frames: (ip) => (ip.family === 'IPv4' ? 2 : 1),
      ratePerSecond: opts.announceRate ?? DEFAULT_ANNOUNCE_RATE,
      ...(opts.announceRepeats !== undefined ? { repeats: opts.announceRepeats } : {}),
      ...(opts.announceIntervalMs !== undefined ? { intervalMs: opts.announceIntervalMs } : {}),
    });
    this.sockets = new LinkSockets({
      native: opts.native,
      clock: opts.clock,
      logger: opts.logger,
      interfaces: () => opts.links.interfaces(),
      ...(opts.random ? { random: opts.random } : {}),
      onFrame: (name, sock, frame) => this.onFrame(name, sock, frame),
      onReopened: (name) => this.announceOn(name, 'socket reopened'),
    });
    opts.links.onChange((changes) => this.onLinks(changes));
  }

  private iface(name: string): Iface | undefined {
    return this.opts.links.interfaces().find((i) => i.name === name);
  }

  private onLinks(changes: readonly LinkChange[]): void {
    const now = this.opts.clock.monotonic();
    for (const c of changes) {
      const log = { event: `link${c.kind[0]!.toUpperCase()}${c.kind.slice(1)}`, interface: c.name, ifindex: c.index };
      if (c.kind === 'removed') {
        this.opts.logger.info('interface removed', log);
        this.sockets.drop(c.name, 'interface removed');
        this.announcer.stopInterface(c.name);
        this.times.set(c.name, { downSince: this.times.get(c.name)?.downSince ?? now });
      } else if (c.kind === 'down') {
        this.opts.logger.info('link down', log);
        this.times.set(c.name, { downSince: now });
        this.wake(now + this.graceMs);
      } else if (c.kind === 'up' || c.kind === 'added' || c.kind === 'recreated') {
        const t = this.times.get(c.name);
        const downFor = t?.downSince !== undefined ? now - t.downSince : 0;
        const iface = this.iface(c.name);
        if (iface?.up === false) {
          this.opts.logger.info(`interface ${c.kind}, link still down`, log);
          continue;
        }
        if (t?.downSince !== undefined && downFor >= this.graceMs) {
          this.times.set(c.name, { holdUntil: now + this.holdMs, upAt: now });
          this.wake(now + HOLD_CHECK_MS);
          this.opts.logger.info('link up after a long outage; taking no new IP until membership agrees again', {
            ...log,
            downForMs: Math.round(downFor),
            holdMs: this.holdMs,
          });
        } else {
          // What it owned is announced again at once; nothing new is taken until membership
          // agrees again (this node's own view may have lost members while its link was down).
          this.times.set(c.name, { holdUntil: now + this.holdMs, upAt: now });
          this.wake(now + HOLD_CHECK_MS);
          this.opts.logger.info('link up', { ...log, downForMs: Math.round(downFor) });
          if (iface && this.isSelected(c.name)) this.sockets.ensure(iface);
          this.announceOn(c.name, 'link up');
        }
      } else this.opts.logger.info(`${c.kind === 'mtu' ? 'MTU' : 'addresses'} changed`, log);
    }
    this.opts.onChange?.();
  }

  private isSelected(name: string): boolean {
    for (const set of this.owned.values()) if (set.has(name)) return true;
    return false;
  }

  /** Calls onChange at `at` (a grace or hold ending), keeping the earliest pending wake-up. */
  private wake(at: number): void {
    if (at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.opts.clock.setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        const now = this.opts.clock.monotonic();
        for (const [name, t] of this.times)
          if (t.holdUntil !== undefined && (t.holdUntil <= now || this.agreedSince(t.upAt))) this.times.delete(name);
        // The next hold check or grace end still ahead.
        const ahead = [...this.times.values()]
          .map((t) =>
            t.holdUntil !== undefined
              ? Math.min(t.holdUntil, now + HOLD_CHECK_MS)
              : t.downSince !== undefined
                ? t.downSince + this.graceMs
                : Infinity,
          )
          .filter((at) => at > now);
        if (ahead.length > 0) this.wake(Math.min(...ahead));
        this.opts.onChange?.();
      },
      Math.max(0, at - this.opts.clock.monotonic()),
    );
  }

  private agreedSince(upAt: number | undefined): boolean {
    return upAt !== undefined && this.opts.membershipAgreesSince?.(upAt) === true;
  }

  /** Owned IPs on `name`: announce them again at once (the link or socket is back). */
  private announceOn(name: string, why: string): void {
    let n = 0;
    for (const [ipText, set] of this.owned) {
      if (!set.has(name)) continue;
      this.announcer.announce(this.ownedIPs.get(ipText)!, name);
      n++;
    }
    if (n > 0) this.opts.logger.info('announcing again', { event: 'reannounce', interface: name, ips: n, reason: why });
  }

  /** Whether `name` can carry an IP now: up, or down for less than the grace time. */
  private usable(name: string, now: number): 'up' | 'flapping' | 'down' | 'rejoining' {
    const i = this.iface(name);
    const t = this.times.get(name);
    if (!i || !i.up) return t?.downSince !== undefined && now - t.downSince < this.graceMs && i ? 'flapping' : 'down';
    if (t?.holdUntil !== undefined && now < t.holdUntil && !this.agreedSince(t.upAt)) return 'rejoining';
    return 'up';
  }

  /**
   * The IPs to own, each with the interfaces the advertisement names ([] = choose). Returns
   * what was taken over, released, and why owned IPs are not announced (all by IP text).
   */
  setOwned(want: Iterable<OwnedIP>): SetOwnedResult {
    const ifaces = this.opts.links.interfaces();
    const now = this.opts.clock.monotonic();
    const next = new Map<string, Set<string>>();
    const ips = new Map<string, IP>();
    const failed = new Map<string, NotAnnounced>();
    const deferred = new Map<string, NotAnnounced>();
    for (const { ip, interfaces: wanted } of want) {
      const ipText = formatIP(ip);
      ips.set(ipText, ip);
      const selected = selectInterfaces(ip, wanted, ifaces, this.excluded);
      if (selected.length === 0) {
        failed.set(ipText, {
          reason: 'noInterface',
          message:
            wanted.length > 0
              ? `none of the interfaces ${wanted.join(', ')} exists`
              : `no interface to answer on: every interface is excluded (${ifaces.map((i) => i.name).join(', ') || 'none'}; see --l2-exclude-interfaces)`,
        });
        continue;
      }
      const had = this.owned.get(ipText);
      const keep = new Set<string>();
      const states = selected.map((n) => [n, this.usable(n, now)] as const);
      for (const [n, st] of states) {
        // Up: answer there. A short flap keeps what it had. Rejoining keeps what it had, takes nothing new.
        if (st === 'up' || ((st === 'flapping' || st === 'rejoining') && had?.has(n))) keep.add(n);
      }
      if (keep.size === 0) {
        const down = states.filter(([, st]) => st === 'down' || st === 'flapping').map(([n]) => n);
        if (down.length === states.length)
          deferred.set(ipText, {
            reason: 'linkDown',
            message: `${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} down`,
          });
        else
          deferred.set(ipText, {
            reason: 'rejoining',
            message: `${states
              .filter(([, st]) => st === 'rejoining')
              .map(([n]) => n)
              .join(', ')} came back after an outage; waiting for membership to agree before taking it`,
          });
        continue;
      }
      next.set(ipText, keep);
    }
    const taken: string[] = [];
    const released: string[] = [];
    for (const [ipText, set] of this.owned) {
      for (const ifname of set)
        if (!next.get(ipText)?.has(ifname)) this.announcer.stop(this.ownedIPs.get(ipText)!, ifname);
      if (!next.has(ipText)) released.push(ipText);
    }
    const previous = this.owned;
    this.owned = next;
    this.ownedIPs = new Map([...next.keys()].map((t) => [t, ips.get(t)!]));
    const inUse = new Set<string>();
    const v4On = new Map<string, number[]>();
    for (const [ipText, set] of next) {
      const ip = ips.get(ipText)!;
      for (const n of set) {
        inUse.add(n);
        if (ip.family !== 'IPv4') continue;
        const list = v4On.get(n);
        if (list) list.push(Number(ip.value));
        else v4On.set(n, [Number(ip.value)]);
      }
    }
    this.sockets.retain(inUse);
    for (const n of inUse) this.sockets.setArpTargets(n, v4On.get(n) ?? []);
    const paced = new Set<string>();
    for (const [ipText, set] of next) {
      const ip = ips.get(ipText)!;
      let opened = 0;
      for (const ifname of set) {
        const iface = ifaces.find((i) => i.name === ifname);
        const s = iface ? this.sockets.ensure(iface) : undefined;
        if (!s) continue;
        opened++;
        if (ip.family === 'IPv6') this.sockets.addMembership(ifname, multicastMac(solicitedNode(ip)));
      }
      if (opened === 0)
        failed.set(ipText, {
          reason: 'openFailed',
          message: `could not open ${[...set].join(', ')} (retrying; see the speaker log)`,
        });
      const before = previous.get(ipText);
      if (!before) taken.push(ipText);
      // Announce on every interface newly carrying it: as soon as its pace allows, then repeated.
      for (const ifname of set) {
        if (before?.has(ifname) || !this.sockets.get(ifname)) continue;
        this.announcer.announce(ip, ifname);
        paced.add(ifname);
      }
    }
    for (const ifname of paced) {
      const b = this.announcer.backlog(ifname);
      if (b.withinMs > 0)
        this.opts.logger.info('gratuitous announcements paced', {
          event: 'announcePaced',
          interface: ifname,
          queued: b.firsts,
          frames: b.frames,
          framesPerSecond: this.announcer.ratePerSecond,
          allFirstWithinMs: b.withinMs,
        });
    }
    return { taken, released, failed, deferred };
  }

  private onFrame(ifname: string, sock: PacketSocketHandle, frame: Buffer): void {
    const parsed = parseFrame(frame);
    if (!parsed.ok) {
      this.counters.malformed++;
      return;
    }
    this.counters.requests++;
    const mac = this.iface(ifname)?.mac;
    if (!mac) return;
    const r = respond(parsed.packet, ifname, mac, { owned: this.owned });
    if (!r.answer) return;
    // One asker flooding requests for our IPs gets its share, not the LAN's.
    if (!this.limiter.allow(frame.subarray(6, 12).toString('hex'), this.opts.clock.monotonic())) {
      this.counters.rateLimited++;
      return;
    }
    try {
      sock.send(r.frame);
      this.counters.answers++;
    } catch (err) {
      this.opts.logger.warn('send failed', {
        event: 'sendFailed',
        interface: ifname,
        request: describePacket(parsed.packet),
        error: errorMessage(err),
      });
    }
  }

  /**
   * Sent only for an IP owned on `ifname` at this moment, and only while that link is up.
   * Returns the frames that went out (what the interface's pace is charged).
   */
  private sendGratuitous(ip: IP, ifname: string): number {
    if (!this.owned.get(formatIP(ip))?.has(ifname)) return 0;
    const s = this.sockets.get(ifname);
    const iface = this.iface(ifname);
    if (!s || !iface?.up) return 0;
    let sent = 0;
    try {
      if (ip.family === 'IPv4') {
        s.sock.send(gratuitousArpRequest(ip, iface.mac));
        sent++;
        s.sock.send(gratuitousArpReply(ip, iface.mac));
        sent++;
      } else {
        s.sock.send(unsolicitedAdvertisement(ip, iface.mac));
        sent++;
      }
      this.counters.gratuitous++;
    } catch (err) {
      this.opts.logger.warn('gratuitous announcement failed', {
        event: 'gratuitousFailed',
        ip: formatIP(ip),
        interface: ifname,
        error: errorMessage(err),
      });
    }
    return sent;
  }

  /** (IP, interface) pairs with gratuitous announcements still to send. */
  announcing(): number {
    return this.announcer.active();
  }

  /** Gratuitous announcements waiting for each interface's pace, and how many went out late for it. */
  pacing(): PacingState {
    return this.announcer.pacing();
  }

  owns(): Map<string, string[]> {
    return new Map([...this.owned].map(([ip, set]) => [ip, [...set].sort()]));
  }

  socketCounters(): LinkSockets['counters'] {
    return this.sockets.counters;
  }

  close(): void {
    this.announcer.stopAll();
    this.timer?.cancel();
    this.sockets.close();
    this.owned.clear();
    this.ownedIPs.clear();
  }
}
