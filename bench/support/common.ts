/** Small helpers every bench uses: options, percentiles, bounded polling, a concurrency pool. */

/** `--name value` from argv as a number, or the default. */
export function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

/** The p-th percentile (nearest rank) of a sample; NaN when it is empty. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls until `what` holds, every `everyMs`; throws after `timeoutMs` (a bench must not hang). Returns the seconds waited. */
export async function until(
  what: () => boolean | Promise<boolean>,
  label: string,
  timeoutMs: number,
  everyMs = 20,
): Promise<number> {
  const t = performance.now();
  while (!(await what())) {
    if (performance.now() - t > timeoutMs) throw new Error(`timed out waiting for ${label}`);
    await sleep(everyMs);
  }
  return (performance.now() - t) / 1000;
}

/** Runs op(0..n-1) with `concurrency` in flight; returns the seconds it took. */
export async function pool(n: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await op(next++);
    }),
  );
  return (performance.now() - t) / 1000;
}
