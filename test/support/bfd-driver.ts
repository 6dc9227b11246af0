/**
 * Runs Herald's BgpManager for one BGPPeer (with a bfdProfile when a profile is given) inside
 * a network namespace, as the speaker does, for BFD and BGP interop tests. Commands are JSON
 * lines on stdin:
 * {"cmd":"start","peer":{BGPPeer spec},"profile":{BFDProfile spec},"routes":["203.0.113.1/32"]},
 * {"cmd":"delete"} (the BGPPeer is deleted: the manager applies no peers) and
 * {"cmd":"stop"} (a graceful shutdown: BFD AdminDown, then BGP Cease; exits).
 * Every 20 ms a change of the BGP state or BFD status goes out as a JSON line on stdout.
 */
import { createInterface } from 'node:readline';
import { loadNative } from '../../native/index.js';
import { parseConfig } from '../../src/config/parse.js';
import { systemClock } from '../../src/core/clock.js';
import { RecordingLogger } from '../../src/core/logger.js';
import { parseCIDR } from '../../src/net/cidr.js';
import { parseIP } from '../../src/net/ip.js';
import { BgpManager } from '../../speaker/bgp/manager.js';

const H = 'herald.dev/v1beta1';
const logger = new RecordingLogger();
const manager = new BgpManager({
  clock: systemClock(),
  logger,
  native: loadNative(),
  listen: false,
  nodeAddresses: () => ({ v4: parseIP('192.0.2.1') }),
});
let last = '';
let logged = 0;

const timer = setInterval(() => {
  const s = manager.states().get('router');
  const text = JSON.stringify({ bgp: s?.state(), bfd: manager.bfd.status('router') ?? null });
  // Log lines that tell why (BFD and BGP transitions), for the test's assertions.
  for (const r of logger.records.slice(logged))
    if (r.level !== 'debug') process.stdout.write(`${JSON.stringify({ log: r.message, fields: r.fields })}\n`);
  logged = logger.records.length;
  if (text === last) return;
  last = text;
  process.stdout.write(
    `${JSON.stringify({ at: performance.now(), ...(JSON.parse(text) as object), stats: manager.bfd.sessions().get('router') ?? null })}\n`,
  );
}, 20);

const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  const msg = JSON.parse(line) as {
    cmd: string;
    peer?: Record<string, unknown>;
    profile?: Record<string, unknown>;
    routes?: string[];
  };
  if (msg.cmd === 'start') {
    const parsed = parseConfig([
      ...(msg.profile
        ? [
            {
              apiVersion: H,
              kind: 'BFDProfile',
              metadata: { name: 'profile', namespace: 'herald-system' },
              spec: msg.profile,
            },
          ]
        : []),
      {
        apiVersion: H,
        kind: 'BGPPeer',
        metadata: { name: 'router', namespace: 'herald-system' },
        spec: { ...(msg.profile ? { bfdProfile: 'profile' } : {}), ...msg.peer },
      },
    ]);
    if (parsed.errors.length > 0) process.stderr.write(`${parsed.errors.map((e) => e.message).join('\n')}\n`);
    manager.apply(
      [...parsed.config.peers.values()],
      new Map([['router', (msg.routes ?? []).map((p) => ({ prefix: parseCIDR(p) }))]]),
      parsed.config.bfdProfiles,
    );
  } else if (msg.cmd === 'delete') {
    manager.apply([], new Map());
  } else if (msg.cmd === 'stop') {
    manager.stopAll();
    clearInterval(timer);
    // No exit timer: with stdin closed the process ends by itself once the AdminDown and the
    // Cease have been sent and the sockets have closed.
    commands.close();
    process.stdin.destroy();
  }
});
