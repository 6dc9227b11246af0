/** Waiting for a controller to have done all it will for now, by a polled condition with a deadline. */
import { eventually } from './apiserver.js';

/**
 * Resolves once the controller says it is idle (nothing queued or in flight) and the API
 * server's resourceVersion has not moved over `polls` looks in a row: its own writes have come
 * back through its informers without starting more work.
 */
export async function controllerSettled(
  ctl: { isIdle(): boolean },
  currentRv: () => string | number | Promise<string | number>,
  opts: { polls?: number; everyMs?: number; timeoutMs?: number } = {},
): Promise<void> {
  let last: string | number | undefined;
  let stable = 0;
  await eventually(
    async () => {
      const rv = await currentRv();
      stable = ctl.isIdle() && rv === last ? stable + 1 : 0;
      last = rv;
      return stable >= (opts.polls ?? 3);
    },
    'the controller to settle',
    opts.timeoutMs ?? 20_000,
    opts.everyMs ?? 15,
  );
}
