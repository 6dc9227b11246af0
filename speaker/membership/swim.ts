/**
 * A SWIM-style failure detector (Das, Gupta, Motivala 2002) as a pure state machine: the
 * driver feeds it time and received messages and performs the sends it returns. Each
 * protocol period one member is probed directly; without an ack in time, `indirect` others
 * probe it for us; still nothing by the end of the period and it is suspect; a suspect that
 * does not refute (by raising its incarnation) within the suspicion timeout is dead.
 * Membership changes ride on every message. A member is alive only once heard from.
 *
 * Two departures from the paper, both found by simulating 1,000 and 5,000 members
 * (bench/swim-sim.ts): only a member with its own evidence (its probe failed) runs the
 * suspicion timer, and it pings the suspect each period with the suspicion, so one lost ack
 * is refuted in one round trip instead of racing the gossip to every member (gossip that a
 * member is suspect marks it suspect, still counted alive, until 'dead' or a refutation
 * arrives). And each update is piggy-backed a bounded number of times, fewest-sent first
 * (retransmitMult * ceil(log10(n + 1)), as memberlist), so an idle cluster sends small datagrams.
 * Per message the work is O(1) in the number of members (no scan of the member list).
 */

export type MemberState = 'alive' | 'suspect' | 'dead' | 'left';

export interface Update {
  readonly name: string;
  readonly state: MemberState;
  readonly incarnation: number;
}

export type SwimMessage =
  | { readonly type: 'ping'; readonly seq: number; readonly from: string; readonly updates: readonly Update[] }
  | { readonly type: 'ack'; readonly seq: number; readonly from: string; readonly updates: readonly Update[] }
  | {
      readonly type: 'pingReq';
      readonly seq: number;
      readonly from: string;
      readonly target: string;
      readonly updates: readonly Update[];
    }
  /** An ack relayed back to the member that asked for an indirect probe. */
  | {
      readonly type: 'indirectAck';
      readonly seq: number;
      readonly from: string;
      readonly target: string;
      readonly updates: readonly Update[];
    };

export interface Send {
  readonly to: string;
  readonly message: SwimMessage;
}

export interface SwimOptions {
  readonly self: string;
  readonly periodMs?: number;
  readonly ackTimeoutMs?: number;
  readonly suspicionMs?: number;
  readonly indirect?: number;
  /** Each update is piggy-backed this many times ceil(log10(members + 1)) (default 4). */
  readonly retransmitMult?: number;
  /** Random source for the probe order and indirect helpers. */
  readonly random: () => number;
  /** Told of every change in the judgement of a member (for logs, metrics and the simulator). */
  readonly onTransition?: (member: string, state: MemberState, now: number) => void;
}

interface Member {
  state: MemberState | 'unknown';
  incarnation: number;
  since: number;
  /** When a message from the member itself last arrived (-Infinity: never). */
  heardAt: number;
}

/**
 * Updates waiting to be piggy-backed, by how often each was sent already. News of a failure
 * or a refutation (anything but a first 'alive') goes before the 'alive' news of start-up, so
 * a death is not queued behind thousands of members being met for the first time.
 */
class GossipQueue {
  private readonly buckets: Map<string, Update>[][] = [[], []];
  private readonly where = new Map<string, [number, number]>();

  private static urgency(u: Update): number {
    return u.state !== 'alive' || u.incarnation > 0 ? 0 : 1;
  }

  /** Queues `u`, replacing older news about the same member. */
  add(u: Update): void {
    this.forget(u.name);
    const c = GossipQueue.urgency(u);
    (this.buckets[c]![0] ??= new Map()).set(u.name, u);
    this.where.set(u.name, [c, 0]);
  }

  forget(name: string): void {
    const w = this.where.get(name);
    if (w) this.buckets[w[0]]![w[1]]!.delete(name);
    this.where.delete(name);
  }

  /** Up to `max` updates, urgent and fewest sent first; each counts as sent once more, and goes after `limit` sends. */
  take(max: number, limit: number): Update[] {
    const picked: [number, number, Update][] = [];
    for (let c = 0; c < 2; c++) {
      const byCount = this.buckets[c]!;
      for (let b = 0; b < byCount.length && picked.length < max; b++) {
        for (const u of byCount[b]?.values() ?? []) {
          if (picked.length >= max) break;
          picked.push([c, b, u]);
        }
      }
    }
    // Moved only after picking, so one message never carries (and counts) the same update twice.
    for (const [c, b, u] of picked) {
      this.buckets[c]![b]!.delete(u.name);
      if (b + 1 >= limit) this.where.delete(u.name);
      else {
        (this.buckets[c]![b + 1] ??= new Map()).set(u.name, u);
        this.where.set(u.name, [c, b + 1]);
      }
    }
    return picked.map(([, , u]) => u);
  }
}

interface Probe {
  readonly target: string;
  readonly seq: number;
  readonly sentAt: number;
  indirectSent: boolean;
}

export class Swim {
  private readonly members = new Map<string, Member>();
  /** Members this one suspects on its own evidence, and when each is dead unless it refutes. */
  private readonly suspicions = new Map<string, number>();
  private names: string[] = [];
  private incarnation = 0;
  private seq = 0;
  private order: string[] = [];
  private probe: Probe | undefined;
  private periodStart = -Infinity;
  /** Relays we do for others: our seq -> who asked and their seq. */
  private readonly relays = new Map<number, { requester: string; seq: number; target: string }>();
  private readonly queue = new GossipQueue();
  private readonly periodMs: number;
  private readonly ackTimeoutMs: number;
  private readonly suspicionMs: number;
  private readonly indirect: number;

  constructor(private readonly opts: SwimOptions) {
    this.periodMs = opts.periodMs ?? 200;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 80;
    this.suspicionMs = opts.suspicionMs ?? 400;
    this.indirect = opts.indirect ?? 2;
    this.retransmitMult = opts.retransmitMult ?? 4;
  }

  private readonly retransmitMult: number;

  /** The members there could be (the nodes that run speakers); others are forgotten. */
  setKnown(names: readonly string[]): void {
    const known = new Set(names);
    known.delete(this.opts.self);
    for (const n of known)
      if (!this.members.has(n)) this.members.set(n, { state: 'unknown', incarnation: 0, since: 0, heardAt: -Infinity });
    for (const n of this.members.keys()) {
      if (known.has(n)) continue;
      this.members.delete(n);
      this.suspicions.delete(n);
      this.queue.forget(n);
    }
    this.names = [...this.members.keys()];
  }

  alive(): Set<string> {
    const out = new Set<string>([this.opts.self]);
    for (const [n, m] of this.members) if (m.state === 'alive' || m.state === 'suspect') out.add(n);
    return out;
  }

  /**
   * Whether this member's view can be trusted yet: every known member has been heard from or
   * probed without answer, or a whole probe round plus the suspicion time has passed since
   * `since` (a member that never answers stays 'unknown').
   */
  converged(since: number, now: number): boolean {
    if ([...this.members.values()].every((m) => m.state !== 'unknown')) return true;
    return now - since >= (this.members.size + 1) * this.periodMs + this.ackTimeoutMs + this.suspicionMs;
  }

  /**
   * This member's own link was down from `since` until `now`: the probes that failed then
   * failed for its own reason. Members it suspected or declared dead meanwhile are alive
   * again (a fresh probe decides), and the probe in flight is dropped. Returns whether the
   * live set changed.
   */
  forgive(since: number, now: number): boolean {
    let changed = false;
    for (const m of this.members.values()) {
      if ((m.state !== 'suspect' && m.state !== 'dead') || m.since < since) continue;
      changed ||= m.state === 'dead';
      m.state = 'alive';
      m.since = now;
    }
    this.suspicions.clear();
    this.probe = undefined;
    return changed;
  }

  /** Whether every member (but those that left) has been heard from directly at or after `since`. */
  heardFromAllSince(since: number): boolean {
    return [...this.members.values()].every((m) => m.state === 'left' || m.heardAt >= since);
  }

  stateOf(name: string): MemberState | 'unknown' | undefined {
    return name === this.opts.self ? 'alive' : this.members.get(name)?.state;
  }

  /** This member's own news first, then up to 16 queued updates (plus `about`, news for the recipient). */
  private gossip(about?: Update): Update[] {
    const limit = this.retransmitMult * Math.max(1, Math.ceil(Math.log10(this.members.size + 2)));
    const own: Update = { name: this.opts.self, state: 'alive', incarnation: this.incarnation };
    const rest = this.queue.take(16, limit);
    return about ? [own, about, ...rest.filter((u) => u.name !== about.name)] : [own, ...rest];
  }

  private note(u: Update): void {
    if (u.name !== this.opts.self) this.queue.add(u);
  }

  private set(name: string, state: MemberState, incarnation: number, now: number): boolean {
    const m = this.members.get(name);
    if (!m) return false;
    if (m.state === state && m.incarnation === incarnation) return false;
    m.state = state;
    m.incarnation = incarnation;
    m.since = now;
    if (state !== 'suspect') this.suspicions.delete(name);
    this.note({ name, state, incarnation });
    this.opts.onTransition?.(name, state, now);
    return true;
  }

  /** Applies gossip; returns true when the live set may have changed. */
  private apply(updates: readonly Update[], now: number): boolean {
    let changed = false;
    for (const u of updates) {
      if (u.name === this.opts.self) {
        // Someone suspects us, or believes us dead or gone (we restarted): refute with a higher incarnation.
        // The refutation rides first on every datagram we send (gossip() puts our own news first).
        if (u.state !== 'alive' && u.incarnation >= this.incarnation) this.incarnation = u.incarnation + 1;
        continue;
      }
      const m = this.members.get(u.name);
      if (!m) continue;
      const newer = u.incarnation > m.incarnation;
      const same = u.incarnation === m.incarnation;
      // Gossip that it failed, at the incarnation we just heard it at ourselves, is older news
      // than our own evidence: believing it would flip the member dead and alive again (the
      // member refutes with a higher incarnation as soon as the gossip reaches it).
      if (same && u.state !== 'alive' && u.state !== 'left' && now - m.heardAt < this.suspicionMs) continue;
      if (u.state === 'alive' && (newer || m.state === 'unknown'))
        changed = this.set(u.name, 'alive', u.incarnation, now) || changed;
      else if (u.state === 'suspect' && (newer || (same && m.state === 'alive')))
        changed = this.set(u.name, 'suspect', u.incarnation, now) || changed;
      else if ((u.state === 'dead' || u.state === 'left') && (newer || same) && m.state !== u.state)
        changed = this.set(u.name, u.state, u.incarnation, now) || changed;
    }
    return changed;
  }

  /** Hearing anything from a member directly proves it alive at its incarnation. */
  private heard(name: string, now: number): boolean {
    const m = this.members.get(name);
    if (!m) return false;
    m.heardAt = now;
    if (m.state === 'alive') return false;
    return this.set(name, 'alive', m.incarnation, now);
  }

  private nextTarget(): string | undefined {
    for (let pass = 0; pass < 2; pass++) {
      while (this.order.length > 0) {
        const n = this.order.pop()!;
        const m = this.members.get(n);
        if (m && m.state !== 'left') return n;
      }
      // A new round: every member once, in a fresh random order.
      this.order = [...this.names];
      for (let i = this.order.length - 1; i > 0; i--) {
        const j = Math.floor(this.opts.random() * (i + 1));
        [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
      }
    }
    return undefined;
  }

  /** Up to `count` distinct live members other than `target`, sampled (not a scan of all members). */
  private helpers(target: string, count: number): string[] {
    const out = new Set<string>();
    for (let tries = 0; tries < count * 8 && out.size < count && this.names.length > 0; tries++) {
      const n = this.names[Math.floor(this.opts.random() * this.names.length)]!;
      if (n !== target && this.members.get(n)?.state === 'alive') out.add(n);
    }
    return [...out];
  }

  /**
   * When tick() next has something to do (a probe period ending, an ack timing out, a suspect
   * expiring): the driver sleeps until then instead of polling. Never before `now`.
   */
  nextDeadline(now: number): number {
    let at = this.periodStart + this.periodMs;
    const p = this.probe;
    if (p && !p.indirectSent) at = Math.min(at, p.sentAt + this.ackTimeoutMs);
    for (const deadline of this.suspicions.values()) at = Math.min(at, deadline);
    return Math.max(at, now);
  }

  /** Advances time; returns the messages to send and whether the live set changed. */
  tick(now: number): { sends: Send[]; changed: boolean } {
    const sends: Send[] = [];
    let changed = false;
    // Members suspected on our own evidence that did not refute in time are dead.
    for (const [n, deadline] of this.suspicions) {
      const m = this.members.get(n);
      if (m?.state === 'suspect' && now >= deadline) changed = this.set(n, 'dead', m.incarnation, now) || changed;
      else if (m?.state !== 'suspect') this.suspicions.delete(n);
    }
    const p = this.probe;
    if (p && !p.indirectSent && now - p.sentAt >= this.ackTimeoutMs) {
      p.indirectSent = true;
      for (const h of this.helpers(p.target, this.indirect)) {
        sends.push({
          to: h,
          message: { type: 'pingReq', seq: p.seq, from: this.opts.self, target: p.target, updates: this.gossip() },
        });
      }
    }
    if (now - this.periodStart >= this.periodMs) {
      if (p) {
        // No ack, direct or indirect, within the period.
        const m = this.members.get(p.target);
        if (m && (m.state === 'alive' || (m.state === 'suspect' && !this.suspicions.has(p.target)))) {
          changed = this.set(p.target, 'suspect', m.incarnation, now) || changed;
          this.suspicions.set(p.target, now + this.suspicionMs);
        }
        this.probe = undefined;
      }
      this.periodStart = now;
      // Tell each member we suspect that we do, directly: one answer refutes it.
      for (const n of this.suspicions.keys()) {
        const m = this.members.get(n);
        if (!m || m.state !== 'suspect') continue;
        sends.push({
          to: n,
          message: {
            type: 'ping',
            seq: ++this.seq,
            from: this.opts.self,
            updates: this.gossip({ name: n, state: 'suspect', incarnation: m.incarnation }),
          },
        });
      }
      const target = this.nextTarget();
      if (target) {
        this.probe = { target, seq: ++this.seq, sentAt: now, indirectSent: false };
        sends.push({
          to: target,
          message: { type: 'ping', seq: this.seq, from: this.opts.self, updates: this.gossip() },
        });
      }
    }
    return { sends, changed };
  }

  receive(msg: SwimMessage, now: number): { sends: Send[]; changed: boolean } {
    const sends: Send[] = [];
    let changed = this.apply(msg.updates, now);
    const leaving = msg.updates.some((u) => u.name === msg.from && u.state === 'left');
    if (!leaving) changed = this.heard(msg.from, now) || changed;
    switch (msg.type) {
      case 'ping':
        if (leaving) break;
        sends.push({
          to: msg.from,
          message: { type: 'ack', seq: msg.seq, from: this.opts.self, updates: this.gossip() },
        });
        break;
      case 'pingReq': {
        const seq = ++this.seq;
        this.relays.set(seq, { requester: msg.from, seq: msg.seq, target: msg.target });
        sends.push({ to: msg.target, message: { type: 'ping', seq, from: this.opts.self, updates: this.gossip() } });
        break;
      }
      case 'ack': {
        const relay = this.relays.get(msg.seq);
        if (relay) {
          this.relays.delete(msg.seq);
          sends.push({
            to: relay.requester,
            message: {
              type: 'indirectAck',
              seq: relay.seq,
              from: this.opts.self,
              target: relay.target,
              updates: this.gossip(),
            },
          });
        }
        if (this.probe && this.probe.seq === msg.seq && this.probe.target === msg.from) this.probe = undefined;
        break;
      }
      case 'indirectAck':
        if (this.probe && this.probe.seq === msg.seq && this.probe.target === msg.target) {
          this.probe = undefined;
          changed = this.heard(msg.target, now) || changed;
        }
        break;
    }
    return { sends, changed };
  }

  /** A clean leave: tell every member, so they stop counting on us at once. */
  leave(): Send[] {
    this.incarnation++;
    const u: Update = { name: this.opts.self, state: 'left', incarnation: this.incarnation };
    return [...this.members.keys()].map((to) => ({
      to,
      message: { type: 'ping', seq: ++this.seq, from: this.opts.self, updates: [u] },
    }));
  }
}
