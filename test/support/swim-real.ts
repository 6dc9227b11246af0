/**
 * A SWIM cluster of real UDP endpoints: member i is the speaker's driver (swim-driver.ts, real
 * clock, HMAC-signed datagrams) bound to `${subnet}${i + 1}` in namespace i % namespaces; the
 * namespaces hang off one bridge. Each namespace's members share one process
 * (test/support/swim-member-host.ts), except those named `alone`, which get a process each so
 * that killing it (SIGKILL) is a real crash: no leave, the socket just goes. `loss` drops
 * that share of the SWIM datagrams at random in each namespace's nftables output hook, so every
 * datagram faces it exactly once, whether it goes to another namespace or stays in its own.
 * (`tc ... netem` would do, but the kernels of these machines are built without sch_netem.)
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { MemberState } from '../../speaker/membership/swim.js';
import { REPO_ROOT } from './crds.js';
import { Netns, run } from './netns.js';
import type { HostConfig, HostReport } from './swim-member-host.js';

export interface RealSwimOptions {
  /** Namespace prefix, unique to the caller (other suites run at the same time). */
  readonly prefix: string;
  readonly members: number;
  readonly namespaces: number;
  /** Member i's address is `${subnet}${i + 1}` (in a /24). */
  readonly subnet: string;
  /** Members hosted alone in a process of their own: the ones that can be killed. */
  readonly alone: readonly string[];
  /** The share of datagrams dropped, 0..1 (nftables `numgen random`, in steps of 0.0001). */
  readonly loss?: number;
  readonly port?: number;
  /** How long the processes may take to bind their sockets (tsx compiles at start). */
  readonly startTimeoutMs?: number;
}

/** One member's judgement of another changing, at epoch ms (comparable across processes). */
export interface RealTransition {
  readonly at: number;
  readonly observer: string;
  readonly member: string;
  readonly state: MemberState;
}

interface Host {
  readonly ns: string;
  readonly names: readonly string[];
  readonly proc: ChildProcess;
  ready: boolean;
  readonly reports: HostReport[];
  /** The last report of a host that was killed. */
  final?: HostReport;
}

const TABLE = 'swimloss';

/** nft commands that count every SWIM datagram sent, drop `loss` of them at random (counted again), and count ICMP unreachables sent. */
function lossRules(port: number, loss: number): string[][] {
  const per10k = Math.round(loss * 10_000);
  if (!(per10k >= 0 && per10k <= 10_000)) throw new Error(`loss ${loss} is not within 0..1`);
  return [
    ['add', 'table', 'inet', TABLE],
    ['add', 'chain', 'inet', TABLE, 'out', '{ type filter hook output priority 0; policy accept; }'],
    [
      'add',
      'rule',
      'inet',
      TABLE,
      'out',
      'udp',
      'dport',
      String(port),
      'counter',
      'numgen',
      'random',
      'mod',
      '10000',
      '<',
      String(per10k),
      'counter',
      'drop',
    ],
    // What the kernel answers for a crashed member whose address stays up: port unreachable.
    ['add', 'rule', 'inet', TABLE, 'out', 'icmp', 'type', 'destination-unreachable', 'counter'],
  ];
}

export const realMemberName = (i: number): string => `node-${i}`;

const epochNow = (): number => performance.timeOrigin + performance.now();

async function waitFor(what: () => boolean, label: string, timeoutMs: number): Promise<void> {
  const t = performance.now();
  while (!what()) {
    if (performance.now() - t > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class RealSwimCluster {
  readonly names: readonly string[];
  readonly namespaces: readonly string[] = [];
  readonly transitions: RealTransition[] = [];
  readonly killedAt = new Map<string, number>();
  private readonly hosts: Host[] = [];
  private readonly views = new Map<string, Map<string, MemberState>>();
  private readonly net: Netns;

  private constructor(private readonly opts: RealSwimOptions) {
    this.net = new Netns(opts.prefix);
    this.names = Array.from({ length: opts.members }, (_, i) => realMemberName(i));
  }

  /** Builds the namespaces and starts every member (not probing yet: see go()). Tears down what it built if anything fails. */
  static async start(opts: RealSwimOptions): Promise<RealSwimCluster> {
    if (opts.members > 254) throw new Error('at most 254 members fit the /24');
    const c = new RealSwimCluster(opts);
    try {
      await c.build();
      return c;
    } catch (err) {
      await c.teardown();
      throw err;
    }
  }

  private async build(): Promise<void> {
    const o = this.opts;
    const br = this.net.add('br');
    this.net.bridge(br);
    const address = (i: number): string => `${o.subnet}${i + 1}`;
    const members = this.names.map((name, i) => ({ name, address: address(i) }));
    const key = randomBytes(32).toString('hex');
    for (let j = 0; j < o.namespaces; j++) {
      const ns = this.net.add(`n${j}`);
      (this.namespaces as string[]).push(ns);
      const mine = this.names.filter((_, i) => i % o.namespaces === j);
      this.net.attach(
        br,
        ns,
        mine.map((n) => `${address(this.names.indexOf(n))}/24`),
      );
      for (const cmd of lossRules(o.port ?? 7946, o.loss ?? 0)) this.net.exec(ns, ['nft', ...cmd]);
      const groups = [
        mine.filter((n) => !o.alone.includes(n)),
        ...mine.filter((n) => o.alone.includes(n)).map((n) => [n]),
      ];
      for (const group of groups) {
        if (group.length === 0) continue;
        const cfg: HostConfig = { key, port: o.port ?? 7946, members, host: group };
        const proc = this.net.spawn(
          ns,
          process.execPath,
          ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'swim-member-host.ts'), JSON.stringify(cfg)],
          { cwd: REPO_ROOT },
        );
        const host: Host = { ns, names: group, proc, ready: false, reports: [] };
        this.hosts.push(host);
        proc.stderr!.on('data', (d: Buffer) =>
          process.stderr.write(`[${group.length === 1 ? group[0] : ns}] ${d.toString()}`),
        );
        createInterface({ input: proc.stdout! }).on('line', (line) => this.line(host, line));
      }
    }
    await waitFor(
      () => {
        const dead = this.hosts.find((h) => h.proc.exitCode !== null);
        if (dead)
          throw new Error(
            `the member process for ${dead.names.join(', ')} exited (${dead.proc.exitCode}) before binding`,
          );
        return this.hosts.every((h) => h.ready);
      },
      'every member to bind its socket',
      o.startTimeoutMs ?? 120_000,
    );
  }

  private line(host: Host, line: string): void {
    const o = JSON.parse(line) as { ready?: boolean; tr?: [number, string, string, MemberState]; report?: HostReport };
    if (o.ready) host.ready = true;
    if (o.report) host.reports.push(o.report);
    if (o.tr) {
      const [at, observer, member, state] = o.tr;
      this.transitions.push({ at, observer, member, state });
      let v = this.views.get(observer);
      if (!v) this.views.set(observer, (v = new Map()));
      v.set(member, state);
    }
  }

  private send(host: Host, cmd: string): void {
    host.proc.stdin!.write(`${JSON.stringify({ cmd })}\n`);
  }

  private live(): Host[] {
    return this.hosts.filter((h) => h.final === undefined && h.proc.exitCode === null && h.proc.signalCode === null);
  }

  /** Every member learns who the members are and starts probing. Returns when (epoch ms). */
  go(): number {
    for (const h of this.hosts) this.send(h, 'go');
    return epochNow();
  }

  /** `observer`'s judgement of `member`, as last reported ('unknown': never heard from). */
  view(observer: string, member: string): MemberState | 'unknown' {
    return this.views.get(observer)?.get(member) ?? 'unknown';
  }

  isKilled(name: string): boolean {
    return this.killedAt.has(name);
  }

  /** Every running member holds every other running member alive. */
  allAlive(): boolean {
    const running = this.names.filter((n) => !this.isKilled(n));
    return running.every((o) => running.every((m) => m === o || this.view(o, m) === 'alive'));
  }

  /** Running members that do not (yet) hold `member` alive. */
  notAliveAt(member: string): string[] {
    return this.names.filter((o) => o !== member && !this.isKilled(o) && this.view(o, member) !== 'alive');
  }

  /** Starts a measuring window in every running process (event-loop delay, CPU). */
  mark(): void {
    for (const h of this.live()) this.send(h, 'mark');
  }

  private async reportOf(h: Host): Promise<HostReport> {
    const before = h.reports.length;
    this.send(h, 'report');
    await waitFor(() => h.reports.length > before, `a report from ${h.names.join(', ')}`, 30_000);
    return h.reports.at(-1)!;
  }

  /** Each process's report: running ones now, killed ones as they were just before the kill. */
  async reports(): Promise<{ names: readonly string[]; report: HostReport }[]> {
    const out: { names: readonly string[]; report: HostReport }[] = [];
    for (const h of this.hosts) out.push({ names: h.names, report: h.final ?? (await this.reportOf(h)) });
    return out;
  }

  /**
   * Crashes a member hosted alone: its counters are read, then its process gets SIGKILL (no
   * leave is sent). Returns the kill time (epoch ms).
   */
  async kill(name: string): Promise<number> {
    const h = this.hosts.find((x) => x.names.length === 1 && x.names[0] === name);
    if (!h) throw new Error(`${name} is not hosted alone (name it in 'alone')`);
    const final = await this.reportOf(h);
    const at = epochNow();
    h.proc.kill('SIGKILL');
    h.final = final;
    this.killedAt.set(name, at);
    await waitFor(() => h.proc.exitCode !== null || h.proc.signalCode !== null, `${name}'s process to exit`, 10_000);
    return at;
  }

  /** Bytes sent by every namespace's eth0 and lo (frames: Ethernet, IP and UDP headers, ARP; after netem's drops). */
  interfaceTxBytes(): number {
    let total = 0;
    for (const ns of this.namespaces) {
      const links = JSON.parse(run('ip', ['-n', ns, '-j', '-s', 'link', 'show'])) as {
        ifname: string;
        stats64?: { tx?: { bytes?: number } };
      }[];
      for (const l of links) if (l.ifname === 'eth0' || l.ifname === 'lo') total += l.stats64?.tx?.bytes ?? 0;
    }
    return total;
  }

  /** Over every namespace since the start: SWIM datagrams sent and dropped by the loss rule, ICMP unreachables sent (packets, IP bytes). */
  datagramsDropped(): { sent: number; dropped: number; unreachables: number; unreachableBytes: number } {
    const sum = { sent: 0, dropped: 0, unreachables: 0, unreachableBytes: 0 };
    for (const ns of this.namespaces) {
      const counts = [
        ...this.net.exec(ns, ['nft', 'list', 'table', 'inet', TABLE]).matchAll(/counter packets (\d+) bytes (\d+)/g),
      ].map((m) => [Number(m[1]), Number(m[2])] as const);
      if (counts.length !== 3)
        throw new Error(`${ns}: expected three counters in table ${TABLE}, got ${counts.length}`);
      sum.sent += counts[0]![0];
      sum.dropped += counts[1]![0];
      sum.unreachables += counts[2]![0];
      sum.unreachableBytes += counts[2]![1];
    }
    return sum;
  }

  /** Kills every process and deletes every namespace (safe to call twice). */
  async teardown(): Promise<void> {
    await this.net.teardown();
    await waitFor(
      () => this.hosts.every((h) => h.proc.exitCode !== null || h.proc.signalCode !== null),
      'every member process to exit',
      10_000,
    );
  }

  /** Whether anything this cluster created is left: namespaces with its prefix, or running processes. */
  leftovers(): string[] {
    const procs = this.hosts
      .filter((h) => h.proc.exitCode === null && h.proc.signalCode === null)
      .map((h) => `process of ${h.names.join(',')}`);
    return [...Netns.existing(this.opts.prefix), ...procs];
  }
}
