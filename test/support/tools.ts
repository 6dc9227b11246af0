/** Finds external tools; under CI a missing tool is a failure, never a skip. */
import { spawnSync } from 'node:child_process';

export function hasTool(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

/** Call in a before() hook: skips the suite locally, fails it under CI. */
export function requireTool(ctx: Mocha.Context, name: string): void {
  if (hasTool(name)) return;
  if (process.env['CI'] === 'true')
    throw new Error(`${name} is not installed; CI must install it (scripts/install-deps.sh)`);
  ctx.skip();
}
