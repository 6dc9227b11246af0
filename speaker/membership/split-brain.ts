/**
 * Split-brain guard (pure): a speaker that sees fewer than half of the members it last saw
 * alive together stops answering for Layer 2 IPs, so the two sides of a partition never
 * both claim an address. The reference count follows membership down only after it has been
 * stable for `settleMs` (a node really removed), and up at once. Off below `minMembers`.
 */
export interface GuardOptions {
  readonly settleMs?: number;
  readonly minMembers?: number;
}

export class SplitBrainGuard {
  private reference = 0;
  private lastCount = 0;
  private stableSince = 0;

  constructor(private readonly opts: GuardOptions = {}) {}

  /**
   * Feeds the live count at `now`; returns whether Layer 2 announcing is allowed, and why not.
   * `isolated` names this node's own link that is down: the others did not go away, this node
   * is cut off, so the reference does not follow the count down while it lasts.
   */
  check(alive: number, now: number, isolated?: string): { allowed: true } | { allowed: false; reason: string } {
    if (isolated !== undefined) {
      this.lastCount = alive;
      this.stableSince = now;
      if (alive < this.reference)
        return {
          allowed: false,
          reason: `this node's link ${isolated} is down: it sees ${alive} of the ${this.reference} speakers and announces nothing until the link is back`,
        };
    }
    if (alive !== this.lastCount) {
      this.lastCount = alive;
      this.stableSince = now;
    }
    if (alive >= this.reference) this.reference = alive;
    else if (now - this.stableSince >= (this.opts.settleMs ?? 30_000)) this.reference = alive;
    if (this.reference < (this.opts.minMembers ?? 3)) return { allowed: true };
    if (alive * 2 < this.reference)
      return {
        allowed: false,
        reason: `sees ${alive} of the ${this.reference} speakers it last saw alive: a partition minority stops announcing`,
      };
    return { allowed: true };
  }
}
