/**
 * Herald's Layer 2 engine (speaker/layer2/engine.ts: interface selection, AF_PACKET sockets,
 * netlink link events, responder, announcer) in a namespace, for tests. argv[2] is a JSON
 * object { "<ip>": ["<interface>", ...] } (an empty list lets the engine choose, as with an
 * L2Advertisement without `interfaces`). Like the speaker, it decides again whenever the
 * engine says something changed. argv[3], optional, is either a JSON array of interface globs
 * to exclude (the speaker's --l2-exclude-interfaces; the default list without) or an object
 * `{ "arpFilter": false, "excludeInterfaces": [...] }`: arpFilter false leaves every ARP
 * request to the engine (the kernel filter by owned address is never narrowed; for
 * bench/layer2-flood.ts's reference). Prints JSON lines: one when ready (owned interfaces and
 * any failure), `{ "log": … }` for each engine log record, and the counters every 100 ms
 * while they change.
 */
import { systemClock } from '../../src/core/clock.js';
import type { LogFields, Logger } from '../../src/core/logger.js';
import { parseIP } from '../../src/net/ip.js';
import { loadNative } from '../../native/index.js';
import { L2Engine } from '../../speaker/layer2/engine.js';
import { NetlinkLinks } from '../../speaker/layer2/links.js';

const out = (o: unknown): boolean => process.stdout.write(`${JSON.stringify(o)}\n`);
const lineLogger = (base: LogFields = {}): Logger => {
  const at = (level: string) => (message: string, fields?: LogFields) =>
    out({ log: message, level, ...base, ...fields });
  return {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: () => undefined,
    child: (f) => lineLogger({ ...base, ...f }),
  };
};

const want = Object.entries(JSON.parse(process.argv[2] ?? '{}') as Record<string, string[]>).map(
  ([ip, interfaces]) => ({ ip: parseIP(ip), interfaces }),
);
const argv3 = JSON.parse(process.argv[3] ?? '{}') as string[] | { arpFilter?: boolean; excludeInterfaces?: string[] };
const extra = Array.isArray(argv3) ? { excludeInterfaces: argv3 } : argv3;
const excludeInterfaces = extra.excludeInterfaces;
const loaded = loadNative();
const native =
  'arpFilter' in extra && extra.arpFilter === false
    ? {
        ...loaded,
        PacketSocket: class extends loaded.PacketSocket {
          override setArpTargets(): boolean {
            return false;
          }
        },
      }
    : loaded;
const logger = lineLogger();
const links = new NetlinkLinks({ native, logger });
await links.start();
const decide = (): void => {
  const r = engine.setOwned(want);
  out({
    owned: Object.fromEntries(engine.owns()),
    failed: Object.fromEntries(r.failed),
    deferred: Object.fromEntries(r.deferred),
    taken: r.taken,
    released: r.released,
  });
};
const engine: L2Engine = new L2Engine({
  native,
  links,
  clock: systemClock(),
  logger,
  ...(excludeInterfaces ? { excludeInterfaces } : {}),
  onChange: () => setImmediate(decide),
});
const r = engine.setOwned(want);
out({ ready: true, owned: Object.fromEntries(engine.owns()), failed: Object.fromEntries(r.failed) });
let last = '';
setInterval(() => {
  const now = JSON.stringify({ counters: engine.counters, sockets: engine.socketCounters() });
  if (now !== last) process.stdout.write(`${now}\n`);
  last = now;
}, 100);
