/**
 * promtool, built from its Go module at the pinned version by scripts/go-tool.sh (once per
 * machine, flock'd, under /var/cache/herald-tools). Locally a machine without Go skips the
 * suites that need it; under CI it fails.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './crds.js';

export interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[], cwd = REPO_ROOT): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Call in a before() hook with a timeout long enough for a first build (minutes). */
export async function requirePromtool(ctx: Mocha.Context): Promise<string> {
  const r = await run('sh', [join(REPO_ROOT, 'scripts', 'go-tool.sh'), 'promtool']);
  if (r.code === 0) return r.stdout.trim();
  const why = `scripts/go-tool.sh promtool failed (exit ${String(r.code)}): ${r.stderr.trim()}`;
  if (process.env['CI'] === 'true') throw new Error(why);
  ctx.skip();
}
