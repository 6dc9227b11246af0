/**
 * Layer 2 under a flood: Herald's engine owns 192.0.2.10 on a node; a client asks for it
 * every 10 ms (bench/support/arp-prober.ts: its own AF_PACKET socket, each request from a
 * different sender address so replies match requests, timed in its own process); an attacker namespace sends a bounded flood (bench/support/
 * l2-flood.ts: malformed ARP, requests and solicitations for addresses nobody owns, and one
 * frame in ten asking for the VIP from one MAC). Printed for the quiet reference phase and
 * the flood phase of the same run: client requests answered, reply latency p50/p99 (as the
 * client process sees it), the engine's CPU and RSS, and the replies the flooding MAC got
 * (the per-asker limit). Each run is made twice, with the kernel ARP filter by owned address
 * (PacketSocket.setArpTargets, as the speaker runs) and without it (every ARP request reaches
 * the engine), each time a quiet reference and then a flood per rate. The flood comes from
 * `--flooders` processes sending rate/flooders each (one process cannot send 50k frames/s on
 * a loaded 2-core machine); the rate reached is printed.
 *
 *   sudo npx tsx bench/layer2-flood.ts [--rate 50000] [--rate2 150000] [--seconds 10] [--flooders 3] [--filter 2]
 *   (--rate2 0: one rate only; --filter 1: with the filter only, 0: without only, 2: both)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Netns } from '../lab/netns.js';
import { REPO_ROOT } from '../test/support/crds.js';
import { arg, sleep, until } from './support/common.js';

const VIP = '192.0.2.10';
const TICKS_PER_SECOND = 100; // USER_HZ, the unit of /proc/PID/stat's times

/** CPU time (seconds) and RSS (MB) of the node process inside `ns`. */
function usage(ns: string): { cpu: number; rssMb: number } {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((p) => p.trim() !== '');
  for (const pid of pids) {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'node') continue;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpu = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND; // utime, stime
    const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { cpu, rssMb: Number(rss?.[1] ?? 0) / 1024 };
  }
  throw new Error(`no node process in ${ns}`);
}

interface Probe {
  asked: number;
  answered: number;
  p50: number;
  p99: number;
}

/** One engine (with or without the kernel filter) and its client: the quiet reference, then a flood per rate. */
async function run(
  net: Netns,
  nodes: { node: string; cli: string; atk: string },
  filter: boolean,
  rates: number[],
  seconds: number,
  flooders: number,
): Promise<string[]> {
  const { node, cli, atk } = nodes;
  const engine = net.spawn(
    node,
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'test', 'support', 'l2-engine.ts'),
      JSON.stringify({ [VIP]: ['eth0'] }),
      JSON.stringify({ arpFilter: filter }),
    ],
    { cwd: REPO_ROOT },
  );
  const prober = net.spawn(
    cli,
    process.execPath,
    ['--import', 'tsx', join(REPO_ROOT, 'bench', 'support', 'arp-prober.ts'), 'eth0', VIP],
    { cwd: REPO_ROOT },
  );
  try {
    let counters: Record<string, number> = {};
    await new Promise<void>((resolve) =>
      createInterface({ input: engine.stdout! }).on('line', (l) => {
        const m = JSON.parse(l) as {
          ready?: boolean;
          counters?: Record<string, number>;
          sockets?: Record<string, number>;
        };
        if (m.ready) resolve();
        if (m.counters) counters = { ...m.counters, ...m.sockets };
      }),
    );
    // The client (bench/support/arp-prober.ts): a request every 10 ms, replies timed in its own process.
    const reports: Probe[] = [];
    await new Promise<void>((resolve) =>
      createInterface({ input: prober.stdout! }).on('line', (l) => {
        const m = JSON.parse(l) as { ready?: boolean } & Probe;
        if (m.ready) resolve();
        else reports.push(m);
      }),
    );
    const report = async (): Promise<Probe> => {
      const n = reports.length;
      prober.stdin!.write('report\n');
      while (reports.length === n) await sleep(10);
      return reports[n]!;
    };
    /** `rate` frames a second from `flooders` processes; resolves with the frames sent and the rate reached. */
    const flood = async (rate: number, ms: number): Promise<{ sent: number; rate: number }> => {
      const results = await Promise.all(
        Array.from({ length: flooders }, () => {
          const f = net.spawn(
            atk,
            process.execPath,
            [
              '--import',
              'tsx',
              join(REPO_ROOT, 'bench', 'support', 'l2-flood.ts'),
              'eth0',
              String(rate / flooders),
              String(ms / 1000),
              VIP,
            ],
            { cwd: REPO_ROOT },
          );
          return new Promise<{ sent: number; seconds: number }>((resolve) =>
            createInterface({ input: f.stdout! }).on('line', (l) => {
              const m = JSON.parse(l) as { sent?: number; seconds?: number };
              if (m.sent !== undefined) resolve({ sent: m.sent, seconds: m.seconds ?? ms / 1000 });
            }),
          );
        }),
      );
      const sent = results.reduce((a, r) => a + r.sent, 0);
      return { sent, rate: Math.round(sent / Math.max(...results.map((r) => r.seconds))) };
    };
    const phase = async (name: string, ms: number, rate: number): Promise<string> => {
      await report();
      const from = performance.now();
      const u0 = usage(node);
      const c0 = { ...counters };
      let floodResult = '';
      if (rate > 0) {
        const f = await flood(rate, ms);
        floodResult = `; flood: ${f.sent} frames at ${f.rate}/s from ${flooders} processes`;
      } else await sleep(ms);
      await sleep(1300); // the last replies and the engine's counters (kernel drops are read each second)
      const u1 = usage(node);
      const to = performance.now();
      const r = await report();
      const limited = (counters['rateLimited'] ?? 0) - (c0['rateLimited'] ?? 0);
      const answers = (counters['answers'] ?? 0) - (c0['answers'] ?? 0);
      return [
        `  ${name.padEnd(34)} client answered ${r.answered}/${r.asked} (lost ${(100 * (1 - r.answered / Math.max(1, r.asked))).toFixed(1)} %)   latency p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms`,
        `  ${''.padEnd(34)} engine CPU ${((100 * (u1.cpu - u0.cpu)) / ((to - from) / 1000)).toFixed(1)} % of a core, RSS ${u1.rssMb.toFixed(0)} MB; answers ${answers}, held back by the per-asker limit ${limited}, dropped by the kernel on a full socket queue ${(counters['kernelDrops'] ?? 0) - (c0['kernelDrops'] ?? 0)}${floodResult}`,
      ].join('\n');
    };
    const label = filter ? 'filter on' : 'filter off';
    const out = [await phase(`${label}, quiet (reference)`, 5000, 0)];
    for (const rate of rates) out.push(await phase(`${label}, flood ${rate}/s for ${seconds} s`, seconds * 1000, rate));
    return out;
  } finally {
    engine.kill('SIGTERM');
    prober.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const rates = [arg('rate', 50_000), arg('rate2', 150_000)].filter((r) => r > 0);
  const seconds = arg('seconds', 10);
  const flooders = arg('flooders', 3);
  const filter = arg('filter', 2);
  const net = new Netns('bfl');
  try {
    const lan = net.add('lan');
    net.bridge(lan);
    const node = net.add('node');
    net.attach(lan, node, ['192.0.2.1/24']);
    const cli = net.add('cli');
    net.attach(lan, cli, ['192.0.2.200/24']);
    const atk = net.add('atk');
    net.attach(lan, atk, ['192.0.2.250/24']);
    const lines: string[] = [];
    for (const on of filter === 2 ? [true, false] : [filter === 1]) {
      lines.push(...(await run(net, { node, cli, atk }, on, rates, seconds, flooders)));
      // The engine of this run is gone before the next one starts.
      await until(
        () => spawnSync('ip', ['netns', 'pids', node], { encoding: 'utf8' }).stdout.trim() === '',
        'the engine to exit',
        10_000,
      );
    }
    process.stdout.write(
      `herald bench layer2-flood (node ${process.version}; the machine is shared with other jobs)\n${lines.join('\n')}\n`,
    );
  } finally {
    await net.teardown();
  }
}

await main();
