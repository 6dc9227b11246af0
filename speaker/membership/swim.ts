/**
 * A SWIM-style failure detector (Das, Gupta, Motivala 2002) as a pure state machine: the
 * driver feeds it time and received messages and performs the sends it returns. Each
 * protocol period one member is probed directly; without an ack in time, `indirect` others
 * probe it for us; still nothing by the end of the period and it is suspect; a suspect that
 * does not refute (by raising its incarnation) within the suspicion timeout is dead.
 * Membership changes ride on every message. A member is alive only once heard from.
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
  | { readonly type: 'pingReq'; readonly seq: number; readonly from: string; readonly target: string; readonly updates: readonly Update[] }
  /** An ack relayed back to the member that asked for an indirect probe. */
  | { readonly type: 'indirectAck'; readonly seq: number; readonly from: string; readonly target: string; readonly updates: readonly Update[] };

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
  /** Random source for the probe order and indirect helpers. */
  readonly random: () => number;
}

interface Member {
  state: MemberState | 'unknown';
  incarnation: number;
  since: number;
  /** When a message from the member itself last arrived (-Infinity: never). */
  heardAt: number;
}

interface Probe {
  readonly target: string;
  readonly seq: number;
  readonly sentAt: number;
  indirectSent: boolean;
}

export class Swim {
  private readonly members = new Map<string, Member>();
  private incarnation = 0;
  private seq = 0;
  private order: string[] = [];
  private probe: Probe | undefined;
  private periodStart = -Infinity;
  /** Relays we do for others: our seq -> who asked and their seq. */
  private readonly relays = new Map<number, { requester: string; seq: number; target: string }>();
  private readonly recent: Update[] = [];
  private readonly periodMs: number;
  private readonly ackTimeoutMs: number;
  private readonly suspicionMs: number;
  private readonly indirect: number;

  constructor(private readonly opts: SwimOptions) {
    this.periodMs = opts.periodMs ?? 200;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? 80;
    this.suspicionMs = opts.suspicionMs ?? 400;
    this.indirect = opts.indirect ?? 2;
  }

  /** The members there could be (the nodes that run speakers); others are forgotten. */
  setKnown(names: readonly string[]): void {
    for (const n of names) if (n !== this.opts.self && !this.members.has(n)) this.members.set(n, { state: 'unknown', incarnation: 0, since: 0, heardAt: -Infinity });
    for (const n of [...this.members.keys()]) if (!names.includes(n)) this.members.delete(n);
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

  private gossip(): Update[] {
    return [{ name: this.opts.self, state: 'alive', incarnation: this.incarnation }, ...this.recent.slice(-16)];
  }

  private note(u: Update): void {
    this.recent.push(u);
    if (this.recent.length > 64) this.recent.splice(0, this.recent.length - 64);
  }

  private set(name: string, state: MemberState, incarnation: number, now: number): boolean {
    const m = this.members.get(name);
    if (!m) return false;
    if (m.state === state && m.incarnation === incarnation) return false;
    m.state = state;
    m.incarnation = incarnation;
    m.since = now;
    this.note({ name, state, incarnation });
    return true;
  }

  /** Applies gossip; returns true when the live set may have changed. */
  private apply(updates: readonly Update[], now: number): boolean {
    let changed = false;
    for (const u of updates) {
      if (u.name === this.opts.self) {
        // Someone suspects us, or believes us dead or gone (we restarted): refute with a higher incarnation.
        if (u.state !== 'alive' && u.incarnation >= this.incarnation) {
          this.incarnation = u.incarnation + 1;
          this.note({ name: this.opts.self, state: 'alive', incarnation: this.incarnation });
        }
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
      if (u.state === 'alive' && (newer || (m.state === 'unknown'))) changed = this.set(u.name, 'alive', u.incarnation, now) || changed;
      else if (u.state === 'suspect' && (newer || (same && m.state === 'alive'))) changed = this.set(u.name, 'suspect', u.incarnation, now) || changed;
      else if ((u.state === 'dead' || u.state === 'left') && (newer || same) && m.state !== u.state) changed = this.set(u.name, u.state, u.incarnation, now) || changed;
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
    const candidates = [...this.members].filter(([, m]) => m.state !== 'left').map(([n]) => n);
    if (candidates.length === 0) return undefined;
    this.order = this.order.filter((n) => candidates.includes(n));
    if (this.order.length === 0) {
      this.order = [...candidates];
      for (let i = this.order.length - 1; i > 0; i--) {
        const j = Math.floor(this.opts.random() * (i + 1));
        [this.order[i], this.order[j]] = [this.order[j]!, this.order[i]!];
      }
    }
    return this.order.shift();
  }

  /**
   * When tick() next has something to do (a probe period ending, an ack timing out, a suspect
   * expiring): the driver sleeps until then instead of polling. Never before `now`.
   */
  nextDeadline(now: number): number {
    let at = this.periodStart + this.periodMs;
    const p = this.probe;
    if (p && !p.indirectSent) at = Math.min(at, p.sentAt + this.ackTimeoutMs);
    for (const m of this.members.values()) if (m.state === 'suspect') at = Math.min(at, m.since + this.suspicionMs);
    return Math.max(at, now);
  }

  /** Advances time; returns the messages to send and whether the live set changed. */
  tick(now: number): { sends: Send[]; changed: boolean } {
    const sends: Send[] = [];
    let changed = false;
    // Suspects that did not refute in time are dead.
    for (const [n, m] of this.members) {
      if (m.state === 'suspect' && now - m.since >= this.suspicionMs) changed = this.set(n, 'dead', m.incarnation, now) || changed;
    }
    const p = this.probe;
    if (p && !p.indirectSent && now - p.sentAt >= this.ackTimeoutMs) {
      p.indirectSent = true;
      const helpers = [...this.members].filter(([n, m]) => n !== p.target && m.state === 'alive').map(([n]) => n);
      for (let i = 0; i < this.indirect && helpers.length > 0; i++) {
        const h = helpers.splice(Math.floor(this.opts.random() * helpers.length), 1)[0]!;
        sends.push({ to: h, message: { type: 'pingReq', seq: p.seq, from: this.opts.self, target: p.target, updates: this.gossip() } });
      }
    }
    if (now - this.periodStart >= this.periodMs) {
      if (p) {
        // No ack, direct or indirect, within the period.
        const m = this.members.get(p.target);
        if (m && m.state === 'alive') changed = this.set(p.target, 'suspect', m.incarnation, now) || changed;
        this.probe = undefined;
      }
      this.periodStart = now;
      const target = this.nextTarget();
      if (target) {
        this.probe = { target, seq: ++this.seq, sentAt: now, indirectSent: false };
        sends.push({ to: target, message: { type: 'ping', seq: this.seq, from: this.opts.self, updates: this.gossip() } });
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
        sends.push({ to: msg.from, message: { type: 'ack', seq: msg.seq, from: this.opts.self, updates: this.gossip() } });
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
          sends.push({ to: relay.requester, message: { type: 'indirectAck', seq: relay.seq, from: this.opts.self, target: relay.target, updates: this.gossip() } });
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
    return [...this.members.keys()].map((to) => ({ to, message: { type: 'ping', seq: ++this.seq, from: this.opts.self, updates: [u] } }));
  }
}
