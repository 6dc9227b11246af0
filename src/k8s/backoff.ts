/** Jittered exponential backoff, with the random source injected. */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly maxMs: number;
  /** Fraction of the delay added at random, 0..1 (client-go's jitter). */
  readonly jitter?: number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt));
  const jitter = opts.jitter ?? 0.2;
  return Math.min(opts.maxMs, Math.round(exp * (1 + jitter * random())));
}
