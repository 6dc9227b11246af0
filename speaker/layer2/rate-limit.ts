/**
 * Replies per asker, limited (pure): a token bucket per source (the asker's MAC), so one
 * host flooding ARP/NDP requests for our IPs cannot make the speaker flood the LAN with
 * replies, and the other hosts keep being answered. The table of sources is bounded; the
 * least recently seen source is forgotten first. Time comes in as an argument.
 */
export interface RateLimitOptions {
  /** Replies a second to one source, sustained. */
  readonly perSecond: number;
  /** Replies one source may get at once. */
  readonly burst: number;
  /** Sources remembered at most. */
  readonly maxSources: number;
}

export const DEFAULT_REPLY_LIMIT: RateLimitOptions = { perSecond: 100, burst: 50, maxSources: 4096 };

interface Bucket {
  tokens: number;
  at: number;
}

export class ReplyLimiter {
  /** Insertion order is recency order (a seen source is moved to the end). */
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly opts: RateLimitOptions = DEFAULT_REPLY_LIMIT) {
    if (!(opts.perSecond > 0) || !(opts.burst >= 1) || !(opts.maxSources >= 1))
      throw new RangeError('reply limit: perSecond > 0, burst >= 1 and maxSources >= 1');
  }

  /** Whether a reply to `source` may go out at `nowMs` (and takes a token if so). */
  allow(source: string, nowMs: number): boolean {
    let b = this.buckets.get(source);
    if (b) {
      this.buckets.delete(source);
      b.tokens = Math.min(this.opts.burst, b.tokens + ((nowMs - b.at) * this.opts.perSecond) / 1000);
      b.at = nowMs;
    } else {
      b = { tokens: this.opts.burst, at: nowMs };
      if (this.buckets.size >= this.opts.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(source, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  sources(): number {
    return this.buckets.size;
  }
}
