/** Helpers for BFD and BGP interop tests: Herald's BgpManager in a namespace (bfd-driver.ts), and FRR's bfdd. */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './crds.js';
import { eventually } from './apiserver.js';
import type { Netns } from './netns.js';

export interface BfdDriverStatus {
  readonly at: number;
  readonly bgp?: string;
  readonly bfd: {
    state?: string;
    diagnostic?: string;
    error?: string;
    negotiated?: {
      txMs: number;
      detectMs: number;
      remoteDesiredMinTxMs: number;
      remoteRequiredMinRxMs: number;
      remoteDetectMult: number;
    };
  } | null;
}

export class BfdDriver {
  readonly statuses: BfdDriverStatus[] = [];
  readonly logs: { log: string; fields: Record<string, unknown> }[] = [];
  private readonly proc: ChildProcess;

  constructor(net: Netns, ns: string) {
    this.proc = net.spawn(
      ns,
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'bfd-driver.ts')],
      { cwd: REPO_ROOT },
    );
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      try {
        const o = JSON.parse(l) as BfdDriverStatus & { log?: string; fields?: Record<string, unknown> };
        if (o.log !== undefined) this.logs.push({ log: o.log, fields: o.fields ?? {} });
        else this.statuses.push(o);
      } catch {
        // not ours
      }
    });
    this.proc.stderr!.on('data', (d: Buffer) => process.stderr.write(`[bfd-driver ${ns}] ${d.toString()}`));
  }

  /** `profile`: the BFDProfile spec (the peer then names it); without one, no BFD. */
  start(peer: Record<string, unknown>, profile: Record<string, unknown> | undefined, routes: string[] = []): void {
    this.proc.stdin!.write(`${JSON.stringify({ cmd: 'start', peer, ...(profile ? { profile } : {}), routes })}\n`);
  }

  /** The BGPPeer is deleted: the manager applies an empty peer list. */
  deletePeer(): void {
    this.proc.stdin!.write(`${JSON.stringify({ cmd: 'delete' })}\n`);
  }

  /** A graceful shutdown (AdminDown, Cease); resolves when the process has exited. */
  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.proc.once('exit', () => resolve()));
    this.proc.stdin!.write(`${JSON.stringify({ cmd: 'stop' })}\n`);
    await exited;
  }

  /** Dies without a word, like a crashed speaker or a node losing power. */
  kill(): void {
    this.proc.kill('SIGKILL');
  }

  last(): BfdDriverStatus | undefined {
    return this.statuses.at(-1);
  }

  wait(what: string, fn: (s: BfdDriverStatus) => boolean, timeoutMs = 15_000): Promise<BfdDriverStatus> {
    return eventually(
      () => {
        const s = this.last();
        return s && fn(s) ? s : undefined;
      },
      what,
      timeoutMs,
      10,
    );
  }
}

export interface FrrBfdPeer {
  readonly status: string;
  readonly diagnostic: string;
  readonly 'remote-diagnostic': string;
  readonly 'receive-interval': number;
  readonly 'transmit-interval': number;
  readonly 'detect-multiplier': number;
  readonly 'remote-receive-interval': number;
  readonly 'remote-transmit-interval': number;
  readonly 'remote-detect-multiplier': number;
  readonly multihop: boolean;
}

/** FRR's bfdd alone in `ns` (no zebra, no bgpd), with the given `bfd` configuration block; returns a reader of its one peer. */
export class FrrBfdd {
  private proc: ChildProcess | undefined;

  constructor(
    private readonly net: Netns,
    private readonly ns: string,
    private readonly dir: string,
    config: string,
  ) {
    writeFileSync(join(dir, 'frr.conf'), `hostname r\n${config}`);
    // bfdd drops to the frr user: it must be able to write its pid file and sockets here.
    chmodSync(dir, 0o777);
  }

  async start(): Promise<void> {
    this.proc = this.net.spawn(this.ns, '/usr/lib/frr/bfdd', [
      '-f',
      join(this.dir, 'frr.conf'),
      '-i',
      join(this.dir, 'bfdd.pid'),
      '--vty_socket',
      this.dir,
      '-P',
      '0',
      '--bfdctl',
      join(this.dir, 'bfdd.sock'),
      '-z',
      join(this.dir, 'zserv.api'),
    ]);
    await eventually(
      () => {
        try {
          return this.peers().length > 0 || undefined;
        } catch {
          return undefined;
        }
      },
      'FRR bfdd to start',
      15_000,
      50,
    );
  }

  kill(): void {
    this.proc?.kill('SIGKILL');
  }

  peers(): FrrBfdPeer[] {
    return JSON.parse(
      this.net.exec(this.ns, ['vtysh', '--vty_socket', this.dir, '-c', 'show bfd peers json']),
    ) as FrrBfdPeer[];
  }

  peer(): FrrBfdPeer {
    const p = this.peers()[0];
    if (!p) throw new Error('FRR bfdd has no peer');
    return p;
  }

  wait(what: string, fn: (p: FrrBfdPeer) => boolean, timeoutMs = 15_000): Promise<FrrBfdPeer> {
    return eventually(
      () => {
        const p = this.peer();
        return fn(p) ? p : undefined;
      },
      what,
      timeoutMs,
      20,
    );
  }
}
