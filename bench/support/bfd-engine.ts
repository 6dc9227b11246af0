/**
 * One Herald BFD engine with N single-hop sessions, for bench/bfd.ts, run inside a namespace:
 * session i goes from <self>.i to <peer>.i. Every sent packet's time is kept per session, so
 * the gaps between packets can be compared with the negotiated interval (jitter, lateness).
 * stdin commands (JSON lines): mark (start a measuring window), report (print it), stop.
 *
 *   node --import tsx bench/support/bfd-engine.ts --self 198.18.0. --peer 198.18.1. --n 100 --tx 100 --mult 3
 */
import { createInterface } from 'node:readline';
import { loadNative } from '../../native/index.js';
import { systemClock } from '../../src/core/clock.js';
import { nullLogger } from '../../src/core/logger.js';
import { BfdEngine } from '../../speaker/bfd/engine.js';
import { nativeBfdSockets, type BfdSockets } from '../../speaker/bfd/sockets.js';
import { pct } from './common.js';

const opt = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : dflt;
};
const self = opt('self', '198.18.0.');
const peer = opt('peer', '198.18.1.');
const n = Number(opt('n', '100'));
const tx = Number(opt('tx', '100'));
const mult = Number(opt('mult', '3'));

const base = nativeBfdSockets(loadNative());
const lastSent = new Map<string, number>();
let ratios: number[] = [];
// Wraps the sender so each packet's time is recorded per peer.
const sockets: BfdSockets = {
  receiver: base.receiver,
  sender: (family, o) => {
    const s = base.sender(family, o);
    return {
      send: (d, addr, port) => {
        const now = performance.now();
        const prev = lastSent.get(addr);
        lastSent.set(addr, now);
        const key = `s${addr.slice(peer.length)}`;
        const nominal = engine.get(key)?.negotiated()?.txMs;
        if (prev !== undefined && nominal !== undefined && engine.get(key)?.state() === 'Up')
          ratios.push((now - prev) / nominal);
        s.send(d, addr, port);
      },
      close: () => s.close(),
    };
  },
};
const engine = new BfdEngine({ sockets, clock: systemClock(), random: Math.random, logger: nullLogger });
for (let i = 1; i <= n; i++) {
  const r = engine.add(
    {
      key: `s${i}`,
      peerAddress: `${peer}${i}`,
      localAddress: `${self}${i}`,
      multiHop: false,
      minimumTtl: 254,
      timers: { desiredMinTxMs: tx, requiredMinRxMs: tx, detectMult: mult, passive: false },
    },
    () => undefined,
  );
  if (typeof r === 'string') throw new Error(r);
}

let markCpu = process.cpuUsage();
let markAt = performance.now();
let markDowns = 0;
const downs = (): number => engine.keys().reduce((a, k) => a + (engine.get(k)?.stats.downTransitions ?? 0), 0);
const status = (): void => {
  const up = engine.keys().filter((k) => engine.get(k)?.state() === 'Up').length;
  process.stdout.write(`${JSON.stringify({ up })}\n`);
};
const timer = setInterval(status, 200);

const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const cmd = (JSON.parse(line) as { cmd: string }).cmd;
  if (cmd === 'mark') {
    ratios = [];
    markCpu = process.cpuUsage();
    markAt = performance.now();
    markDowns = downs();
  } else if (cmd === 'report') {
    const cpu = process.cpuUsage(markCpu);
    const wall = performance.now() - markAt;
    const lo = mult === 1 ? 0.75 : 0.75;
    const hi = mult === 1 ? 0.9 : 1.0;
    process.stdout.write(
      `${JSON.stringify({
        report: true,
        cpuPct: ((cpu.user + cpu.system) / 1000 / wall) * 100,
        packets: ratios.length,
        p1: pct(ratios, 1),
        p50: pct(ratios, 50),
        p99: pct(ratios, 99),
        max: Math.max(...ratios),
        min: Math.min(...ratios),
        outside: ratios.filter((r) => r < lo - 0.005 || r > hi + 0.005).length,
        late: ratios.filter((r) => r > 1.05).length,
        downs: downs() - markDowns,
      })}\n`,
    );
  } else if (cmd === 'stop') {
    clearInterval(timer);
    engine.stopAll();
    // No exit timer: with stdin closed the process ends once the AdminDowns are sent and the sockets closed.
    commands.close();
    process.stdin.destroy();
  }
});
