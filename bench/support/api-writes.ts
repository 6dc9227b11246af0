/**
 * API writes counted by the embedded API server running as bench/support/apiserver-process.ts:
 * SIGUSR2 makes it print `counts <JSON>`, writes by `verb resource ua=... fieldManager=...`.
 */
import type { ChildProcess } from 'node:child_process';
import { createInterface, type Interface } from 'node:readline';

export class ApiWrites {
  private readonly lines: Interface;
  private waiting: ((counts: Record<string, number>) => void) | undefined;

  constructor(private readonly api: ChildProcess) {
    this.lines = createInterface({ input: api.stdout! });
    this.lines.on('line', (l) => {
      if (!l.startsWith('counts ') || !this.waiting) return;
      const w = this.waiting;
      this.waiting = undefined;
      w(JSON.parse(l.slice('counts '.length)) as Record<string, number>);
    });
  }

  /** Writes so far whose key contains `ua=<agent>`, in total and by `verb resource`. */
  async by(agent: string): Promise<{ total: number; byKind: Map<string, number> }> {
    const counts = await new Promise<Record<string, number>>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the API server did not print its write counts')), 10_000);
      this.waiting = (c) => {
        clearTimeout(t);
        resolve(c);
      };
      this.api.kill('SIGUSR2');
    });
    const byKind = new Map<string, number>();
    let total = 0;
    for (const [k, v] of Object.entries(counts)) {
      if (!k.includes(` ua=${agent}`)) continue;
      const kind = k.slice(0, k.indexOf(' ua='));
      byKind.set(kind, (byKind.get(kind) ?? 0) + v);
      total += v;
    }
    return { total, byKind };
  }
}
