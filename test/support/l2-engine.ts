/**
 * Herald's Layer 2 engine (speaker/layer2/engine.ts: interface selection, AF_PACKET sockets,
 * responder, announcer) in a namespace, for tests. argv[2] is a JSON object
 * { "<ip>": ["<interface>", ...] } (an empty list lets the engine choose, as with an
 * L2Advertisement without `interfaces`). Prints one JSON line when ready (owned interfaces
 * and any failure), then the counters every 100 ms while they change.
 */
import { systemClock } from '../../src/core/clock.js';
import { nullLogger } from '../../src/core/logger.js';
import { loadNative } from '../../native/index.js';
import { L2Engine } from '../../speaker/layer2/engine.js';

const want = new Map(Object.entries(JSON.parse(process.argv[2] ?? '{}') as Record<string, string[]>));
const engine = new L2Engine({ native: loadNative(), clock: systemClock(), logger: nullLogger });
const r = engine.setOwned(want);
process.stdout.write(`${JSON.stringify({ ready: true, owned: Object.fromEntries([...engine.owns()].map(([ip, ifs]) => [ip, ifs])), failed: Object.fromEntries(r.failed) })}\n`);
let last = '';
setInterval(() => {
  const now = JSON.stringify({ counters: engine.counters });
  if (now !== last) process.stdout.write(`${now}\n`);
  last = now;
}, 100);
