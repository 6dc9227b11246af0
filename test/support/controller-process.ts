/** `herald controller` as a child process against a test cluster: start, read its log, kill it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './crds.js';

export interface ControllerProcess {
  readonly proc: ChildProcess;
  /** Everything it wrote so far (stdout and stderr). */
  log(): string;
  /** Sends the signal and resolves with the exit code (or signal name) and how long it took. */
  kill(signal: NodeJS.Signals): Promise<{ exit: number | string; ms: number }>;
  /** Resolves when it exits by itself. */
  readonly exited: Promise<number | string>;
}

export function spawnController(
  kubeconfig: string,
  args: readonly string[] = [],
  env: Record<string, string> = {},
): ControllerProcess {
  const proc = spawn(
    process.execPath,
    [
      join(REPO_ROOT, 'bin', 'herald.js'),
      'controller',
      '--kubeconfig',
      kubeconfig,
      '--metrics-port',
      '0',
      '--metrics-host',
      '127.0.0.1',
      '--namespace',
      'herald-system',
      ...(args.includes('--log-level') ? [] : ['--log-level', 'debug']),
      ...args,
    ],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    proc.once('exit', (code, sig) => resolve(code ?? sig ?? -1)),
  );
  return {
    proc,
    log: () => out,
    exited,
    kill: async (signal) => {
      const t0 = Date.now();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      const exit = await exited;
      return { exit, ms: Date.now() - t0 };
    },
  };
}
