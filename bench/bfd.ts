/**
 * bench/bfd (issue #17): two Herald BFD engines in two namespaces joined by a veth, N
 * single-hop sessions between them at T ms × 3 (default 100 sessions × 100 ms). Prints, for an
 * idle window and for a window with the machine's cores kept busy by CPU burners: the CPU each
 * engine uses (% of one core), and the transmit loop's timing: every gap between two packets of
 * a session divided by the negotiated interval (RFC 5880 §6.8.7 wants 0.75-1.0, 0.75-0.9 with
 * a Detect Mult of 1), p1/p50/p99/max, how many fell outside, how many were late (> 1.05), and
 * session flaps (a flap is a false failure report).
 *
 * Addresses: 198.18.0.0/15 (RFC 2544, benchmarks only).
 *
 *   sudo npx tsx bench/bfd.ts [--sessions 100] [--interval 100] [--mult 3] [--seconds 10] [--burners 2]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Netns } from '../lab/netns.js';
import { REPO_ROOT } from '../test/support/crds.js';
import { arg, sleep, until } from './support/common.js';
import { clockTicks, cpuTicks } from './support/proc-stats.js';

interface Report {
  cpuPct: number;
  packets: number;
  p1: number;
  p50: number;
  p99: number;
  max: number;
  min: number;
  outside: number;
  late: number;
  downs: number;
}

const n = arg('sessions', 100);
const interval = arg('interval', 100);
const mult = arg('mult', 3);
const seconds = arg('seconds', 10);
const burners = arg('burners', 2);

class Engine {
  up = 0;
  private reports: Report[] = [];
  readonly proc: ChildProcess;
  constructor(net: Netns, ns: string, self: string, peer: string) {
    this.proc = net.spawn(
      ns,
      process.execPath,
      [
        '--import',
        'tsx',
        join(REPO_ROOT, 'bench', 'support', 'bfd-engine.ts'),
        '--self',
        self,
        '--peer',
        peer,
        '--n',
        String(n),
        '--tx',
        String(interval),
        '--mult',
        String(mult),
      ],
      { cwd: REPO_ROOT },
    );
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      const o = JSON.parse(l) as { up?: number; report?: boolean } & Report;
      if (o.report) this.reports.push(o);
      else if (o.up !== undefined) this.up = o.up;
    });
    this.proc.stderr!.on('data', (d: Buffer) => process.stderr.write(`[${ns}] ${d.toString()}`));
  }
  cmd(c: string): void {
    this.proc.stdin!.write(`${JSON.stringify({ cmd: c })}\n`);
  }
  async report(): Promise<Report> {
    const before = this.reports.length;
    this.cmd('report');
    await until(() => this.reports.length > before, 'a report', 10_000, 10);
    return this.reports.at(-1)!;
  }
}

async function windowOf(label: string, engines: Engine[], otherPid?: number): Promise<void> {
  for (const e of engines) e.cmd('mark');
  const ticks0 = otherPid ? cpuTicks(otherPid) : 0;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const rs = await Promise.all(engines.map((e) => e.report()));
  if (otherPid)
    console.log(
      `${label.padEnd(8)} FRR bfdd  cpu ${(((cpuTicks(otherPid) - ticks0) / clockTicks() / ((performance.now() - t0) / 1000)) * 100).toFixed(1).padStart(5)} %`,
    );
  console.log(
    `${label.padEnd(8)} load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  for (const [i, r] of rs.entries()) {
    const f = (x: number): string => x.toFixed(3);
    console.log(
      `${label.padEnd(8)} Herald ${i === 0 ? 'A' : 'B'}  cpu ${r.cpuPct.toFixed(1).padStart(5)} %  packets ${String(r.packets).padStart(6)}  gap/interval min ${f(r.min)} p1 ${f(r.p1)} p50 ${f(r.p50)} p99 ${f(r.p99)} max ${f(r.max)}  outside ${r.outside} (${((100 * r.outside) / Math.max(1, r.packets)).toFixed(2)} %)  late ${r.late}  flaps ${r.downs}`,
    );
  }
}

async function main(): Promise<void> {
  const net = new Netns(`hbfd${process.pid % 10000}`);
  const burn: ChildProcess[] = [];
  try {
    const a = net.add('a');
    const b = net.add('b');
    const { aIf, bIf } = net.link(a, [], b, []);
    for (let i = 1; i <= n; i++) {
      net.exec(a, ['ip', 'addr', 'add', `198.18.0.${i}/16`, 'dev', aIf]);
      net.exec(b, ['ip', 'addr', 'add', `198.18.1.${i}/16`, 'dev', bIf]);
    }
    const engines = [new Engine(net, a, '198.18.0.', '198.18.1.'), new Engine(net, b, '198.18.1.', '198.18.0.')];
    const t = await until(() => engines.every((e) => e.up === n), `all ${n} sessions Up`, 60_000, 50);
    console.log(
      `bench/bfd: ${n} sessions × ${interval} ms × ${mult} between two Herald engines over a veth; all Up after ${t.toFixed(2)} s; windows of ${seconds} s; ${burners} CPU burner(s) in the loaded window; ${cpus().length} cores`,
    );
    await sleep(2000);
    await windowOf('idle', engines);
    for (let i = 0; i < burners; i++) burn.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
    await sleep(500);
    await windowOf('loaded', engines);
    for (const p of burn) p.kill('SIGKILL');
    burn.length = 0;
    // Reference in the same run: engine A against FRR's bfdd holding the same 100 sessions.
    engines[1]!.cmd('stop');
    await until(() => engines[1]!.proc.exitCode !== null, 'engine B to stop', 10_000);
    // B's AdminDown takes A's sessions down (no detection timeout needed).
    await until(() => engines[0]!.up === 0, 'engine A to see B go', 10_000, 20);
    const dir = mkdtempSync(join(tmpdir(), 'herald-bench-bfd-'));
    chmodSync(dir, 0o777);
    try {
      const peers = Array.from(
        { length: n },
        (_, k) =>
          ` peer 198.18.0.${k + 1} local-address 198.18.1.${k + 1}\n  receive-interval ${interval}\n  transmit-interval ${interval}\n  detect-multiplier ${mult}\n !\n`,
      ).join('');
      writeFileSync(join(dir, 'frr.conf'), `hostname b\nbfd\n${peers}!\n`);
      net.spawn(b, '/usr/lib/frr/bfdd', [
        '-f',
        join(dir, 'frr.conf'),
        '-i',
        join(dir, 'bfdd.pid'),
        '--vty_socket',
        dir,
        '-P',
        '0',
        '--bfdctl',
        join(dir, 'bfdd.sock'),
        '-z',
        join(dir, 'zserv.api'),
      ]);
      const tf = await until(() => engines[0]!.up === n, `all ${n} sessions Up with FRR`, 60_000, 50);
      console.log(`reference: Herald A against FRR bfdd (same sessions); all Up after ${tf.toFixed(2)} s`);
      await sleep(2000);
      await windowOf('vs FRR', [engines[0]!], Number(readFileSync(join(dir, 'bfdd.pid'), 'utf8').trim()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    engines[0]!.cmd('stop');
    await until(() => engines[0]!.proc.exitCode !== null, 'engine A to stop', 10_000);
  } finally {
    for (const p of burn) p.kill('SIGKILL');
    await net.teardown();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
