/**
 * A Layer 2 takeover of many IPs at once (issue 22): Herald's engine in a node namespace takes
 * `--ips` IPv4 addresses from 198.18.0.0/15 over in one decision, as a failover does, and
 * tcpdump on the other end of the veth (a client namespace) captures every gratuitous ARP.
 * Printed for the paced engine (`--rate` frames a second per interface, the speaker's
 * --l2-announce-rate) and, in the same run, for the reference: the same engine unpaced (every
 * announcement at once, as before pacing; its send rate is the socket's raw rate):
 *   - frames a second at most in any 100 ms window (kernel timestamps of the capture);
 *   - the time from the takeover until every IP's first announcement was seen, and the
 *     bound the engine stated for it;
 *   - frames captured, frames sent (the engine's counters), frames lost on the way, and
 *     the time until the last repeat was seen.
 *
 *   sudo npx tsx bench/layer2-takeover.ts [--ips 10000] [--rate 2000]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Netns } from '../lab/netns.js';
import { parseIP } from '../src/net/ip.js';
import { REPO_ROOT } from '../test/support/crds.js';
import { startTcpdump } from '../test/support/tcpdump.js';
import { arg } from './support/common.js';

const FIRST_IP = '198.18.1.0';
const WINDOW_MS = 100;

interface Frame {
  /** Kernel capture time, ms since the epoch. */
  readonly at: number;
  readonly senderIP: number;
}

/** ARP frames sent from `mac` in a classic pcap file (microsecond timestamps, either byte order). */
function readArpFrames(file: string, mac: string): Frame[] {
  const b = readFileSync(file);
  const le = b.readUInt32LE(0) === 0xa1b2c3d4;
  const u32 = (o: number): number => (le ? b.readUInt32LE(o) : b.readUInt32BE(o));
  const want = Buffer.from(mac.replace(/:/g, ''), 'hex');
  const out: Frame[] = [];
  for (let o = 24; o + 16 <= b.length;) {
    const sec = u32(o);
    const usec = u32(o + 4);
    const len = u32(o + 8);
    const f = b.subarray(o + 16, o + 16 + len);
    o += 16 + len;
    if (f.length < 42 || f.readUInt16BE(12) !== 0x0806 || !f.subarray(6, 12).equals(want)) continue;
    out.push({ at: sec * 1000 + usec / 1000, senderIP: f.readUInt32BE(28) });
  }
  return out;
}

/** The most frames in any closed window of `ms` (frames in capture order, so in time order). */
function maxInWindow(frames: readonly Frame[], ms: number): number {
  let best = 0;
  let j = 0;
  for (let i = 0; i < frames.length; i++) {
    while (j < frames.length && frames[j]!.at - frames[i]!.at <= ms) j++;
    best = Math.max(best, j - i);
  }
  return best;
}

interface Phase {
  readonly label: string;
  readonly peakPerSecond: number;
  readonly peakSentPerSecond: number;
  readonly capturedSent: number;
  readonly allFirstMs: number;
  readonly seenIPs: number;
  readonly captured: number;
  readonly sent: number;
  readonly lastMs: number;
  readonly boundMs: number | undefined;
  readonly setOwnedMs: number;
  readonly kernelDrops: string;
  readonly sendFailures: number;
}

async function phase(
  net: Netns,
  nodes: { node: string; cli: string; nodeIf: string; cliIf: string },
  ips: number,
  rate: number | null,
  dir: string,
): Promise<Phase> {
  const mac = net.exec(nodes.node, ['cat', `/sys/class/net/${nodes.nodeIf}/address`]).trim();
  const file = join(dir, `${rate ?? 'unpaced'}.pcap`);
  // -B: a 64 MiB capture buffer, so the unpaced burst is not lost in tcpdump's own socket.
  // --immediate-mode: no frame waits in a half-filled ring block that a SIGINT would discard.
  const dump = await startTcpdump(nodes.cli, [
    '-i',
    nodes.cliIf,
    '-n',
    '--immediate-mode',
    '-s',
    '64',
    '-B',
    '65536',
    '-w',
    file,
    'arp',
  ]);
  // The node's side too, outgoing only: stamped as the frames leave (the client's stamps are
  // taken when its side of the veth processes them, which the kernel may do in batches).
  const sentFile = join(dir, `${rate ?? 'unpaced'}-sent.pcap`);
  const sentDump = await startTcpdump(nodes.node, [
    '-i',
    nodes.nodeIf,
    '-Q',
    'out',
    '-n',
    '--immediate-mode',
    '-s',
    '64',
    '-B',
    '65536',
    '-w',
    sentFile,
    'arp',
  ]);
  const engine = net.spawn(
    nodes.node,
    process.execPath,
    [
      '--import',
      'tsx',
      join(REPO_ROOT, 'bench', 'support', 'l2-takeover-engine.ts'),
      JSON.stringify({ first: FIRST_IP, count: ips, rate }),
    ],
    { cwd: REPO_ROOT },
  );
  engine.stderr!.resume();
  let took: { at: number; setOwnedMs: number; taken: number; bound: { allFirstWithinMs?: number } | null } | undefined;
  const idle = await new Promise<{ at: number; counters: { gratuitous: number }; sendFailures: number }>(
    (resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the engine did not finish announcing within 10 minutes')),
        600_000,
      );
      createInterface({ input: engine.stdout! }).on('line', (l) => {
        const m = JSON.parse(l) as {
          ready?: boolean;
          took?: typeof took;
          idle?: { at: number; counters: { gratuitous: number }; sendFailures: number };
          log?: string;
        };
        if (m.ready) engine.stdin!.write('take\n');
        if (m.took) took = m.took;
        if (m.log) process.stderr.write(`${l}\n`);
        if (m.idle) {
          clearTimeout(timer);
          resolve(m.idle);
        }
      });
      engine.once('exit', (code) => reject(new Error(`the engine exited (${code}) before it was done`)));
    },
  );
  engine.kill('SIGTERM');
  // Let tcpdump read the last frames (it writes them out on SIGINT).
  await new Promise((r) => setTimeout(r, 1000));
  await dump.stop();
  await sentDump.stop();
  if (!took || took.taken !== ips) throw new Error(`the engine took ${took?.taken ?? 0} of ${ips} IPs`);
  const frames = readArpFrames(file, mac);
  const sentFrames = readArpFrames(sentFile, mac);
  const base = Number(parseIP(FIRST_IP).value);
  const firstSeen = new Map<number, number>();
  for (const f of frames)
    if (f.senderIP >= base && f.senderIP < base + ips && !firstSeen.has(f.senderIP)) firstSeen.set(f.senderIP, f.at);
  const dropped = /(\d+) packets? dropped by kernel/.exec(dump.stderr());
  const t0 = took.at;
  return {
    label: rate === null ? 'unpaced (reference)' : `paced, ${rate} frames/s`,
    peakPerSecond: (maxInWindow(frames, WINDOW_MS) * 1000) / WINDOW_MS,
    peakSentPerSecond: (maxInWindow(sentFrames, WINDOW_MS) * 1000) / WINDOW_MS,
    capturedSent: sentFrames.length,
    allFirstMs: Math.max(...firstSeen.values()) - t0,
    seenIPs: firstSeen.size,
    captured: frames.length,
    // Each IPv4 announcement is two frames (request and reply forms).
    sent: idle.counters.gratuitous * 2,
    lastMs: (frames.at(-1)?.at ?? t0) - t0,
    boundMs: took.bound?.allFirstWithinMs,
    setOwnedMs: took.setOwnedMs,
    kernelDrops: dropped?.[1] ?? '?',
    sendFailures: idle.sendFailures,
  };
}

async function main(): Promise<void> {
  const ips = arg('ips', 10_000);
  const rate = arg('rate', 2000);
  const net = new Netns('bto');
  const dir = mkdtempSync(join(tmpdir(), 'herald-bto-'));
  const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const loadBefore = load();
  const cleanup = async (): Promise<void> => {
    await net.teardown();
    rmSync(dir, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const)
    process.once(sig, () => void cleanup().finally(() => process.exit(130)));
  try {
    const node = net.add('node');
    const cli = net.add('cli');
    const { aIf, bIf } = net.link(node, ['198.18.0.1/15'], cli, ['198.18.0.2/15']);
    const nodes = { node, cli, nodeIf: aIf, cliIf: bIf };
    const ref = await phase(net, nodes, ips, null, dir);
    const paced = await phase(net, nodes, ips, rate, dir);
    const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
    const line = (p: Phase): string[] => [
      `  ${p.label}:`,
      `    frames/s at most in any ${WINDOW_MS} ms window  ${fmt(p.peakPerSecond)} as received (client side); ${fmt(p.peakSentPerSecond)} as sent (node side, ${fmt(p.capturedSent)} frames captured there)`,
      `    every IP's first announcement seen after    ${fmt(p.allFirstMs)} ms (${fmt(p.seenIPs)}/${fmt(ips)} IPs seen)${p.boundMs !== undefined ? `; bound: setOwned ${fmt(p.setOwnedMs)} ms + the ${fmt(p.boundMs)} ms the engine stated after it` : ''}`,
      `    frames captured ${fmt(p.captured)} of ${fmt(p.sent)} sent (lost ${fmt(p.sent - p.captured)}; tcpdump kernel drops ${p.kernelDrops}; send errors ${p.sendFailures}); last frame after ${fmt(p.lastMs)} ms; setOwned took ${fmt(p.setOwnedMs)} ms`,
    ];
    const lines = [
      `herald bench layer2-takeover (node ${process.version}; ${fmt(ips)} IPv4 taken over at once on one veth; load average ${loadBefore} before, ${load()} after)`,
      ...line(ref),
      ...line(paced),
      `  ratio paced/unpaced: peak frames/s received ${(paced.peakPerSecond / ref.peakPerSecond).toFixed(3)}x, sent ${(paced.peakSentPerSecond / ref.peakSentPerSecond).toFixed(3)}x   time to every first announcement ${(paced.allFirstMs / ref.allFirstMs).toFixed(1)}x`,
      `  paced: time to every first announcement / (setOwned + stated bound) ${paced.boundMs ? (paced.allFirstMs / (paced.setOwnedMs + paced.boundMs)).toFixed(3) : '-'}   expected (frames - burst) / rate: ${fmt(((2 * ips - Math.ceil(rate / 10)) / rate) * 1000)} ms`,
      `  paced: the bucket allows at most ${fmt(Math.ceil(rate / 10) + (rate * WINDOW_MS) / 1000)} frames in ${WINDOW_MS} ms (burst + rate × window) = ${fmt((Math.ceil(rate / 10) + (rate * WINDOW_MS) / 1000) * (1000 / WINDOW_MS))} frames/s`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await cleanup();
  }
}

await main();
