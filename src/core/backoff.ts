/**
 * The one retry-delay policy: jittered exponential backoff with the random source injected.
 * Every retry loop (informer relist, Event writes, work queue, leader election, BGP connect
 * and listen, Layer 2 socket reopen) takes its delays from here with its own numbers.
 */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Fraction of the delay added at random, 0..1 (client-go's jitter); default 0.2. */
  readonly jitter?: number;
}

/** The delay before retry number `attempt` (0-based): base doubling per attempt, capped, jittered. */
export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt));
  const jitter = opts.jitter ?? 0.2;
  return Math.min(opts.maxMs, Math.round(exp * (1 + jitter * random())));
}

/** A fixed period with up to `fraction` of it added at random (client-go's wait.Jitter). */
export function jittered(periodMs: number, fraction: number, random: () => number): number {
  return periodMs + Math.round(periodMs * fraction * random());
}
