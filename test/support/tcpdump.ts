/**
 * tcpdump in a network namespace, returned only once it says "listening on" (the capture is
 * open; a packet sent after that is seen), never after a guessed sleep.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface Tcpdump {
  readonly proc: ChildProcess;
  /** Everything tcpdump wrote to stderr so far (its banner, its counts on exit). */
  stderr(): string;
  /** SIGINT (tcpdump flushes and prints its counts), then waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts `tcpdump ARGS` in namespace `ns`. stdout is a pipe (for `-l` line output) unless
 * the caller writes a file with `-w`.
 */
export function startTcpdump(ns: string, args: readonly string[], timeoutMs = 10_000): Promise<Tcpdump> {
  const proc = spawn('ip', ['netns', 'exec', ns, 'tcpdump', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const closed = new Promise<void>((r) => proc.once('close', () => r()));
  const dump: Tcpdump = {
    proc,
    stderr: () => err,
    stop: async () => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGINT');
      await closed;
    },
  };
  return new Promise<Tcpdump>((resolve, reject) => {
    const deadline = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`tcpdump in ${ns} did not start listening within ${timeoutMs} ms: ${err.trim()}`));
    }, timeoutMs);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('listening on')) {
        clearTimeout(deadline);
        resolve(dump);
      }
    });
    proc.once('close', (code, signal) => {
      clearTimeout(deadline);
      reject(new Error(`tcpdump in ${ns} exited (${signal ?? code}) before listening: ${err.trim()}`));
    });
  });
}
