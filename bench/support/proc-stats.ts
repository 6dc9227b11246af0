/**
 * Memory and CPU of a running process from /proc (Linux): resident set size from
 * /proc/PID/status (VmRSS), CPU time from /proc/PID/stat (utime + stime, in clock ticks).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** Clock ticks per second (sysconf(_SC_CLK_TCK)); 100 on every Linux seen. */
export function clockTicks(): number {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
}

/** VmRSS in bytes. */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** VmHWM (the peak RSS so far) in bytes. */
export function peakRssBytes(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM for pid ${pid}`);
  return Number(m[1]) * 1024;
}

/** utime + stime of the process (all its threads), in clock ticks. */
export function cpuTicks(pid: number): number {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces and parentheses: fields count from the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): utime is field 14, stime field 15.
  return Number(rest[11]) + Number(rest[12]);
}

/** The pids of a process's direct children (every thread's list). */
export function childPids(pid: number): number[] {
  const out = new Set<number>();
  try {
    for (const line of spawnSync('ls', [`/proc/${pid}/task`], { encoding: 'utf8' }).stdout.split('\n')) {
      if (!line.trim()) continue;
      const kids = readFileSync(`/proc/${pid}/task/${line.trim()}/children`, 'utf8').trim();
      for (const k of kids.split(' ')) if (k) out.add(Number(k));
    }
  } catch {
    // the process ended
  }
  return [...out];
}

/** CPU use of several processes over the same window, as a percentage of one core each. */
export async function cpuPercent(pids: readonly number[], windowMs: number, hz: number): Promise<number[]> {
  const before = pids.map(cpuTicks);
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, windowMs));
  const secs = (performance.now() - t0) / 1000;
  return pids.map((p, i) => ((cpuTicks(p) - before[i]!) / hz / secs) * 100);
}
