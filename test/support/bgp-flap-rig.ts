/**
 * A Herald BGP session (test/support/bgp-driver.ts, run with --expose-gc) against BIRD 2 over
 * IPv6 in two namespaces, for soak and fault tests: the session is flapped by BIRD (protocol
 * disable/enable, a clean restart, kill -9), and the driver reports what it holds after each
 * flap (active handles by type, open fds, memory after a forced GC). Routes are /128s counted
 * up from 2001:db8:100:: (documentation range); BIRD's table count says whether all are back.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from './apiserver.js';
import { HeraldDriver, type DriverEvent } from './bgp-peers.js';
import { birdConf } from './bird-conf.js';
import type { Netns } from './netns.js';

export type FlapKind = 'disable' | 'restart' | 'kill';

/** What the driver process holds (its 'health' reply). */
export interface Health {
  readonly resources: Record<string, number>;
  readonly fds: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
}

const ROUTE_BASE = '2001:db8:100::';

function birdConfig(holdTime: number): string {
  return birdConf({
    routerId: '192.0.2.254',
    as: 65001,
    log: true,
    neighbors: [{ address: '2001:db8::1', as: 65000, local: '2001:db8::2', holdTime, channels: { ipv6: {} } }],
  });
}

export class BgpFlapRig {
  private dir = '';
  private bird: ChildProcess | undefined;
  private h = '';
  private r = '';
  driver: HeraldDriver | undefined;

  constructor(
    private readonly net: Netns,
    private routes: number,
    private readonly holdTime = 9,
  ) {}

  private get ctl(): string {
    return join(this.dir, 'bird.ctl');
  }

  birdc(...args: string[]): string {
    const p = spawnSync('ip', ['netns', 'exec', this.r, 'birdc', '-s', this.ctl, ...args], { encoding: 'utf8' });
    return `${p.stdout}${p.stderr}`;
  }

  /** Routes in BIRD's master6 table (0 while BIRD is down). */
  routeCount(): number {
    const m = /(\d+) of \d+ routes/.exec(this.birdc('show', 'route', 'table', 'master6', 'count'));
    return m ? Number(m[1]) : 0;
  }

  established(): boolean {
    return /^herald\s.*\sEstablished/m.test(this.birdc('show', 'protocols', 'herald'));
  }

  private async startBird(): Promise<void> {
    this.bird = this.net.spawn(this.r, 'bird', [
      '-f',
      '-c',
      join(this.dir, 'bird.conf'),
      '-s',
      this.ctl,
      '-P',
      join(this.dir, 'bird.pid'),
    ]);
    await eventually(
      () => this.birdc('show', 'status').includes('Daemon is up') || undefined,
      'BIRD to start',
      10_000,
      50,
    );
  }

  private async birdExited(): Promise<void> {
    const b = this.bird!;
    await eventually(() => b.exitCode !== null || b.signalCode !== null || undefined, 'BIRD to exit', 10_000, 20);
  }

  async start(nodeArgs: readonly string[] = ['--expose-gc']): Promise<void> {
    this.h = this.net.add('h');
    this.r = this.net.add('r');
    this.net.link(this.h, ['2001:db8::1/64'], this.r, ['2001:db8::2/64']);
    this.dir = mkdtempSync(join(tmpdir(), 'herald-soak-bird-'));
    writeFileSync(join(this.dir, 'bird.conf'), birdConfig(this.holdTime));
    await this.startBird();
    this.driver = new HeraldDriver(this.net, this.h, nodeArgs);
    this.driver.send({
      cmd: 'start',
      peerAddress: '2001:db8::2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: this.holdTime,
      families: ['IPv6'],
    });
    this.driver.send({ cmd: 'range', ranges: [{ base: ROUTE_BASE, count: this.routes }] });
    await this.allRoutes(60_000);
  }

  /** Waits until BIRD has the session Established and every route; returns the ms it took. */
  async allRoutes(timeoutMs = 30_000): Promise<number> {
    const t0 = performance.now();
    await eventually(
      () => (this.routeCount() === this.routes && this.established()) || undefined,
      `all ${this.routes} routes at BIRD`,
      timeoutMs,
      50,
    );
    return performance.now() - t0;
  }

  /**
   * One flap, ended when the session is down at BIRD (disable: the protocol is down; restart
   * and kill: BIRD is gone), then undone. The caller waits for the routes with allRoutes().
   */
  async flap(kind: FlapKind): Promise<void> {
    if (kind === 'disable') {
      this.birdc('disable', 'herald');
      await eventually(() => this.routeCount() === 0 || undefined, 'BIRD to drop the routes', 10_000, 20);
      this.birdc('enable', 'herald');
      return;
    }
    if (kind === 'restart') this.birdc('down');
    else this.bird!.kill('SIGKILL');
    await this.birdExited();
    await this.startBird();
  }

  /** Kills BIRD while the session is sending `more` new routes (mid-UPDATE), then restarts it. */
  async killMidUpdate(more: number): Promise<{ seenBeforeKill: number }> {
    this.driver!.send({ cmd: 'range', ranges: [{ base: ROUTE_BASE, count: this.routes + more }] });
    // Kill as soon as BIRD has some but not all of the new routes.
    let seen = 0;
    await eventually(
      () => {
        seen = this.routeCount();
        return seen > this.routes || undefined;
      },
      'the first new routes at BIRD',
      10_000,
      5,
    );
    this.bird!.kill('SIGKILL');
    await this.birdExited();
    this.routes += more;
    await this.startBird();
    return { seenBeforeKill: seen };
  }

  async health(): Promise<Health> {
    const d = this.driver!;
    const before = d.events.length;
    d.send({ cmd: 'health' });
    const e = await eventually(
      () => d.events.slice(before).find((x: DriverEvent) => x.event === 'health'),
      'the driver health reply',
      10_000,
      10,
    );
    return e as unknown as Health;
  }

  /** The driver's pid (for /proc); `ip netns exec` execs node in place. */
  driverPid(): number {
    return this.driver!.pid();
  }

  cleanup(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}
