/**
 * Herald's Layer 2 engine in a namespace, for bench/layer2-takeover.ts: `l2-takeover-engine.ts
 * '{"first":"198.18.1.0","count":10000,"rate":2000}'` (rate null: unpaced). Once ready it waits
 * for `take` on stdin, then takes `count` consecutive IPv4 addresses over at once (one
 * setOwned, as a failover does) and prints the wall-clock time it started, how long setOwned
 * took, the bound the engine logged, and, when the last repeat is out, the time and the
 * engine's counters. Its own clock is the system clock; the bench compares these times with
 * the capture's kernel timestamps.
 */
import { systemClock } from '../../src/core/clock.js';
import type { LogFields, Logger } from '../../src/core/logger.js';
import { parseIP, type IP } from '../../src/net/ip.js';
import { loadNative } from '../../native/index.js';
import { L2Engine } from '../../speaker/layer2/engine.js';
import { NetlinkLinks } from '../../speaker/layer2/links.js';

const cfg = JSON.parse(process.argv[2] ?? '{}') as { first: string; count: number; rate: number | null };
const out = (o: unknown): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);
const paced: LogFields[] = [];
let sendFailures = 0;
const logger = (base: LogFields = {}): Logger => ({
  error: (m, f) => out({ log: m, level: 'error', ...base, ...f }),
  warn: (m, f) => {
    if (f?.['event'] === 'gratuitousFailed') sendFailures++;
    else out({ log: m, level: 'warn', ...base, ...f });
  },
  info: (_m, f) => {
    if (f?.['event'] === 'announcePaced') paced.push(f);
  },
  debug: () => undefined,
  child: (f) => logger({ ...base, ...f }),
});

const first = parseIP(cfg.first);
const ips: IP[] = Array.from({ length: cfg.count }, (_, i) => ({ ...first, value: first.value + BigInt(i) }));
const native = loadNative();
const links = new NetlinkLinks({ native, logger: logger() });
await links.start();
const engine = new L2Engine({
  native,
  links,
  clock: systemClock(),
  logger: logger(),
  announceRate: cfg.rate ?? Infinity,
});
out({ ready: true });

process.stdin.setEncoding('utf8');
process.stdin.on('data', (d: string) => {
  if (!d.includes('take')) return;
  const at = Date.now();
  const t = performance.now();
  const r = engine.setOwned(ips.map((ip) => ({ ip, interfaces: [] })));
  const setOwnedMs = performance.now() - t;
  out({ took: { at, setOwnedMs, taken: r.taken.length, failed: r.failed.size, bound: paced[0] ?? null } });
  const poll = setInterval(() => {
    if (engine.announcing() > 0) return;
    clearInterval(poll);
    out({ idle: { at: Date.now(), counters: engine.counters, sendFailures } });
  }, 5);
});
