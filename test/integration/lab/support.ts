/** Running `herald lab` as a user would, and what it leaves behind. */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../support/crds.js';

/** Processes whose command line mentions `dir`. */
export function processesWith(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir)) out.push(`${pid} ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Link names in the root namespace. */
export function rootLinks(): string[] {
  return (JSON.parse(spawnSync('ip', ['-j', 'link', 'show'], { encoding: 'utf8' }).stdout) as { ifname: string }[])
    .map((l) => l.ifname)
    .sort();
}

export interface HeraldRun {
  readonly done: Promise<{ code: number | null; out: string; err: string }>;
  kill(s: NodeJS.Signals): void;
  stdout(): string;
  stderr(): string;
}

/** `env` is added to this process's environment. */
export function herald(args: string[], env: Record<string, string> = {}): HeraldRun {
  const p = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'herald.js'), ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return {
    done: new Promise((resolve) => p.on('exit', (code) => resolve({ code, out, err }))),
    kill: (s) => p.kill(s),
    stdout: () => out,
    stderr: () => err,
  };
}

/** kubectl against a lab (asynchronous: the lab keeps serving meanwhile). */
export function kubectl(kubeconfig: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn('kubectl', args, { env: { ...process.env, KUBECONFIG: kubeconfig } });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}
