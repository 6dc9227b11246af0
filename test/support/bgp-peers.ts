/** Helpers for BGP interop tests: the Herald driver process and BIRD in namespaces. */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './crds.js';
import { eventually } from './apiserver.js';
import type { Netns } from './netns.js';

export interface DriverEvent {
  event: string;
  state?: string;
  reason?: string;
  stats?: Record<string, number>;
  lastError?: string;
}

export class HeraldDriver {
  readonly events: DriverEvent[] = [];
  private readonly proc: ChildProcess;

  constructor(net: Netns, ns: string, nodeArgs: readonly string[] = []) {
    this.proc = net.spawn(
      ns,
      process.execPath,
      [...nodeArgs, '--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'bgp-driver.ts')],
      { cwd: REPO_ROOT },
    );
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      try {
        this.events.push(JSON.parse(l) as DriverEvent);
      } catch {
        // not ours
      }
    });
    this.proc.stderr!.on('data', (d: Buffer) => process.stderr.write(`[driver ${ns}] ${d.toString()}`));
  }

  /** Dies without a word (no Cease), like a crashed speaker. */
  kill(): void {
    this.proc.kill('SIGKILL');
  }

  pid(): number {
    return this.proc.pid ?? 0;
  }

  exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  send(cmd: Record<string, unknown>): void {
    this.proc.stdin!.write(`${JSON.stringify(cmd)}\n`);
  }

  state(): string | undefined {
    return [...this.events].reverse().find((e) => e.event === 'state')?.state;
  }

  waitState(state: string, timeoutMs = 20_000): Promise<true> {
    return eventually(() => this.state() === state || undefined, `Herald session ${state}`, timeoutMs, 20);
  }
}

export class Bird {
  readonly dir: string;
  readonly ctl: string;

  constructor(
    private readonly net: Netns,
    private readonly ns: string,
    config: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'herald-bird-'));
    this.ctl = join(this.dir, 'bird.ctl');
    writeFileSync(join(this.dir, 'bird.conf'), config);
    net.spawn(ns, 'bird', ['-f', '-c', join(this.dir, 'bird.conf'), '-s', this.ctl, '-P', join(this.dir, 'bird.pid')]);
  }

  birdc(...args: string[]): string {
    return this.net.exec(this.ns, ['birdc', '-s', this.ctl, ...args]);
  }

  async ready(): Promise<void> {
    await eventually(
      () => {
        try {
          return this.birdc('show', 'status').includes('Daemon is up') || undefined;
        } catch {
          return undefined;
        }
      },
      'BIRD to start',
      10_000,
      50,
    );
  }

  protocolState(name: string): string {
    const line = this.birdc('show', 'protocols', name)
      .split('\n')
      .find((l) => l.startsWith(name));
    return line ?? '';
  }

  /** `show route all` for a table, as text. */
  routes(table: string): string {
    return this.birdc('show', 'route', 'all', 'table', table);
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Shuts BIRD down (`birdc down`) and removes its files; a BIRD already gone is fine (the namespace teardown kills what is left). */
  stop(): void {
    try {
      this.birdc('down');
    } catch {
      // already gone
    }
    this.cleanup();
  }
}

/** gobgpd.toml for a passive router (hold 9 s) with one neighbor and the given families. */
export function gobgpdConfig(o: {
  as: number;
  routerId: string;
  local: string;
  neighbor: string;
  peerAs: number;
  families: readonly ('ipv4' | 'ipv6')[];
}): string {
  const afiSafis = o.families
    .map((f) => `  [[neighbors.afi-safis]]\n    [neighbors.afi-safis.config]\n      afi-safi-name = "${f}-unicast"\n`)
    .join('');
  return `[global.config]
  as = ${o.as}
  router-id = "${o.routerId}"
  port = 179
  local-address-list = ["${o.local}"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "${o.neighbor}"
    peer-as = ${o.peerAs}
  [neighbors.transport.config]
    passive-mode = true
  [neighbors.timers.config]
    hold-time = 9
    keepalive-interval = 3
${afiSafis}`;
}
