/** Polling with a deadline for benches (a bench must not hang). */

/** Polls until `what` holds, every `everyMs`; throws after `timeoutMs`. Returns the seconds waited. */
export async function until(what: () => boolean | Promise<boolean>, label: string, timeoutMs: number, everyMs = 20): Promise<number> {
  const t = performance.now();
  while (!(await what())) {
    if (performance.now() - t > timeoutMs) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return (performance.now() - t) / 1000;
}
