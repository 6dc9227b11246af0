/**
 * Throwaway network namespaces for tests and the lab: created with unique names, connected
 * by veth pairs or a bridge, torn down (processes killed first) even when something fails.
 * Documentation addresses only; nothing is attached to the host's own interfaces.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

export function canUseNetns(): boolean {
  return process.getuid?.() === 0 && spawnSync('ip', ['netns', 'list']).status === 0;
}

export class Netns {
  private readonly created: string[] = [];
  private readonly procs: ChildProcess[] = [];
  private seq = 0;

  /** `prefix` keeps names short (interface names are limited to 15 characters). */
  constructor(readonly prefix = `h${process.pid % 100000}`) {}

  /** Namespaces whose names start with `prefix-` (leftovers of a crashed run). */
  static existing(prefix: string): string[] {
    return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter((n) => n.startsWith(`${prefix}-`));
  }

  /** Kills what runs in the namespaces and deletes them. */
  static removeAll(names: readonly string[]): void {
    for (const ns of names) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((x) => x.trim() !== '');
      for (const pid of pids) spawnSync('kill', ['-9', pid]);
    }
    for (const ns of names) spawnSync('ip', ['netns', 'del', ns]);
  }

  /** The namespace name for a role. */
  name(role: string): string {
    return `${this.prefix}-${role}`;
  }

  add(role: string): string {
    const name = this.name(role);
    spawnSync('ip', ['netns', 'del', name]);
    run('ip', ['netns', 'add', name]);
    this.created.push(name);
    this.exec(name, ['ip', 'link', 'set', 'lo', 'up']);
    return name;
  }

  exec(ns: string, args: string[]): string {
    return run('ip', ['netns', 'exec', ns, ...args]);
  }

  /** A veth pair between two namespaces, with addresses (CIDR notation) on each end. */
  link(a: string, aAddrs: string[], b: string, bAddrs: string[]): { aIf: string; bIf: string } {
    const n = this.seq++;
    const aIf = `va${n}`;
    const bIf = `vb${n}`;
    run('ip', ['link', 'add', `${this.prefix}${aIf}`, 'type', 'veth', 'peer', 'name', `${this.prefix}${bIf}`]);
    run('ip', ['link', 'set', `${this.prefix}${aIf}`, 'netns', a, 'name', aIf]);
    run('ip', ['link', 'set', `${this.prefix}${bIf}`, 'netns', b, 'name', bIf]);
    for (const [ns, ifc, addrs] of [
      [a, aIf, aAddrs],
      [b, bIf, bAddrs],
    ] as const) {
      for (const addr of addrs)
        this.exec(ns, ['ip', 'addr', 'add', addr, 'dev', ifc, ...(addr.includes(':') ? ['nodad'] : [])]);
      this.exec(ns, ['ip', 'link', 'set', ifc, 'up']);
    }
    return { aIf, bIf };
  }

  /** A Linux bridge inside `ns` (the LAN); returns its name. */
  bridge(ns: string): string {
    this.exec(ns, ['ip', 'link', 'add', 'br0', 'type', 'bridge']);
    this.exec(ns, ['ip', 'link', 'set', 'br0', 'up']);
    return 'br0';
  }

  /** Plugs `ns` into the bridge in `brNs` with a veth named `eth0` on its side; returns the bridge port. */
  attach(brNs: string, ns: string, addrs: string[]): string {
    const n = this.seq++;
    run('ip', ['link', 'add', `${this.prefix}p${n}`, 'type', 'veth', 'peer', 'name', `${this.prefix}q${n}`]);
    run('ip', ['link', 'set', `${this.prefix}p${n}`, 'netns', brNs, 'name', `p${n}`]);
    run('ip', ['link', 'set', `${this.prefix}q${n}`, 'netns', ns, 'name', 'eth0']);
    this.exec(brNs, ['ip', 'link', 'set', `p${n}`, 'master', 'br0']);
    this.exec(brNs, ['ip', 'link', 'set', `p${n}`, 'up']);
    for (const addr of addrs)
      this.exec(ns, ['ip', 'addr', 'add', addr, 'dev', 'eth0', ...(addr.includes(':') ? ['nodad'] : [])]);
    this.exec(ns, ['ip', 'link', 'set', 'eth0', 'up']);
    return `p${n}`;
  }

  /** Starts a long-running process inside a namespace; killed at teardown. */
  spawn(ns: string, cmd: string, args: string[], opts: { cwd?: string } = {}): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', ns, cmd, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(opts.cwd ? { cwd: opts.cwd } : {}),
    });
    this.procs.push(p);
    return p;
  }

  /** A long-running process in the host namespace (loopback only); killed at teardown. */
  spawnHost(cmd: string, args: string[]): ChildProcess {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.procs.push(p);
    return p;
  }

  async teardown(): Promise<void> {
    for (const p of this.procs) if (p.exitCode === null) p.kill('SIGKILL');
    for (const ns of this.created) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
        .stdout.split('\n')
        .filter((x) => x.trim() !== '');
      for (const pid of pids) spawnSync('kill', ['-9', pid]);
    }
    await new Promise((r) => setTimeout(r, 20));
    for (const ns of this.created) spawnSync('ip', ['netns', 'del', ns]);
    this.created.length = 0;
  }
}
