/**
 * Runs one Herald BGP session inside a network namespace for interop tests. Commands come
 * as JSON lines on stdin ({"cmd":"start",...} / {"cmd":"set","routes":[...]} / {"cmd":"stop"}),
 * state changes and stats go out as JSON lines on stdout.
 */
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { describeDown } from '../../speaker/bgp/fsm.js';
import { BgpListener } from '../../speaker/bgp/listener.js';
import { BgpSession, type Route } from '../../speaker/bgp/session.js';
import { nativeTcpTransport, tcpTransport, type Connection, type Transport } from '../../speaker/bgp/transport.js';
import { loadNative } from '../../native/index.js';
import { systemClock } from '../../src/core/clock.js';
import { nullLogger } from '../../src/core/logger.js';
import { parseCIDR } from '../../src/net/cidr.js';
import { parseIP } from '../../src/net/ip.js';

interface StartCmd {
  cmd: 'start';
  peerAddress: string;
  peerPort?: number;
  localAddress?: string;
  myAsn: number;
  peerAsn?: number;
  dynamicAsn?: 'internal' | 'external';
  routerId: string;
  holdTime: number;
  families: ('IPv4' | 'IPv6')[];
  gracefulRestart?: number;
  md5Key?: string;
  /** Advertise extended messages (RFC 8654), as the speaker does. */
  extendedMessage?: boolean;
  /** IP TTL / hop limit of the session's packets (what ebgpMultiHop sets: 255). */
  ttl?: number;
  /** Never connect out; wait on the listener. */
  passive?: boolean;
  /** Also accept the peer's connections on peerPort (collision detection). */
  listen?: boolean;
  /** The listener's address (default `::`). */
  listenHost?: string;
  nextHopV4?: string;
  nextHopV6?: string;
  /** The first OPEN sets the graceful-restart Restart State bit. */
  restarted?: boolean;
}

const out = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

/**
 * The session's connections, ours and accepted: a stop exits once they have all closed, that
 * is once the Cease (or the graceful close) is on the wire, not after a guessed delay.
 */
const open = new Set<Connection>();
let stopping = false;
const exitWhenClosed = (): void => {
  if (stopping && open.size === 0) process.exit(0);
};
const track = (conn: Connection): Connection => {
  open.add(conn);
  conn.onClose(() => {
    open.delete(conn);
    exitWhenClosed();
  });
  return conn;
};
const tracked = (t: Transport): Transport => ({ connect: async (o) => track(await t.connect(o)) });

let session: BgpSession | undefined;
let routes: Route[] = [];
let listener: BgpListener | undefined;
// Nothing reads the log here; a recording logger would grow the heap with every flap.
const logger = nullLogger;
const clock = systemClock();

createInterface({ input: process.stdin }).on('line', (line) => {
  const msg = JSON.parse(line) as { cmd: string } & Record<string, unknown>;
  if (msg.cmd === 'start') {
    const c = msg as unknown as StartCmd;
    session = new BgpSession({
      name: 'peer',
      peerAddress: parseIP(c.peerAddress),
      ...(c.peerPort ? { peerPort: c.peerPort } : {}),
      ...(c.localAddress ? { localAddress: c.localAddress } : {}),
      transport: tracked(
        c.md5Key || c.ttl
          ? nativeTcpTransport(loadNative(), {
              ...(c.md5Key ? { md5Key: c.md5Key } : {}),
              ...(c.ttl ? { ttl: c.ttl } : {}),
            })
          : tcpTransport,
      ),
      clock,
      logger,
      ...(c.nextHopV4 ? { nextHopV4: parseIP(c.nextHopV4) } : {}),
      ...(c.nextHopV6 ? { nextHopV6: parseIP(c.nextHopV6) } : {}),
      ...(c.restarted ? { restarted: true } : {}),
      ...(c.md5Key ? { tcpMd5: true } : {}),
      fsm: {
        ...(c.passive ? { passive: true } : {}),
        myAsn: c.myAsn,
        ...(c.peerAsn !== undefined ? { peerAsn: c.peerAsn } : {}),
        ...(c.dynamicAsn ? { dynamicAsn: c.dynamicAsn } : {}),
        routerId: c.routerId,
        holdTime: c.holdTime,
        connectRetryTime: 2,
        capabilities: {
          multiprotocol: c.families.map((f) => ({ afi: f === 'IPv4' ? 1 : 2, safi: 1 })),
          routeRefresh: true,
          extendedMessage: c.extendedMessage === true,
          fourOctetAs: c.myAsn,
          other: [],
          ...(c.gracefulRestart
            ? {
                gracefulRestart: {
                  restarting: false,
                  restartTime: c.gracefulRestart,
                  families: c.families.map((f) => ({ afi: f === 'IPv4' ? 1 : 2, safi: 1, forwardingPreserved: true })),
                },
              }
            : {}),
        },
      },
    });
    session.onStateChange((state, reason) => out({ event: 'state', state, reason: reason && describeDown(reason) }));
    session.start();
    if (c.passive || c.listen) {
      const s = session;
      listener = new BgpListener({
        port: c.peerPort ?? 179,
        ...(c.listenHost ? { host: c.listenHost } : {}),
        logger,
        clock,
        onChange: () => out({ event: 'listener', lastError: listener?.failure() }),
        ...(c.md5Key || c.ttl ? { native: loadNative() } : {}),
        onConnection: (remote, conn) => {
          if (remote !== c.peerAddress) return false;
          s.accept(track(conn));
          return true;
        },
      });
      if (c.md5Key) listener.setKeys(new Map([[c.peerAddress, c.md5Key]]));
      if (c.ttl) listener.setTtl(c.ttl);
      void listener.start().then(() => out({ event: 'listening', lastError: listener?.failure() }));
    }
  } else if (msg.cmd === 'set' && session) {
    routes = (
      msg['routes'] as {
        prefix: string;
        communities?: number[];
        largeCommunities?: [number, number, number][];
        localPref?: number;
      }[]
    ).map((r): Route => ({
      prefix: parseCIDR(r.prefix),
      ...(r.communities ? { communities: r.communities } : {}),
      ...(r.largeCommunities ? { largeCommunities: r.largeCommunities } : {}),
      ...(r.localPref !== undefined ? { localPref: r.localPref } : {}),
    }));
    session.setAdvertisements(routes);
    out({ event: 'set', count: routes.length, stats: session.stats });
  } else if (msg.cmd === 'range' && session) {
    // Host routes counted up from a base address (benches: 100k prefixes without 100k JSON objects).
    routes = [];
    for (const r of msg['ranges'] as { base: string; count: number }[]) {
      const base = parseIP(r.base);
      const bits = base.family === 'IPv4' ? 32 : 128;
      for (let i = 0; i < r.count; i++)
        routes.push({ prefix: { family: base.family, base: base.value + BigInt(i), prefixLength: bits } });
    }
    session.setAdvertisements(routes);
    out({ event: 'set', count: routes.length, stats: session.stats });
  } else if (msg.cmd === 'remove' && session) {
    const gone = parseCIDR(msg['prefix'] as string);
    routes = routes.filter(
      (r) =>
        !(
          r.prefix.family === gone.family &&
          r.prefix.base === gone.base &&
          r.prefix.prefixLength === gone.prefixLength
        ),
    );
    session.setAdvertisements(routes);
    out({ event: 'removed', prefix: msg['prefix'] });
  } else if (msg.cmd === 'stats' && session) {
    out({
      event: 'stats',
      state: session.state(),
      stats: session.stats,
      lastError: session.lastErrorMessage(),
      listenerError: listener?.failure(),
    });
  } else if (msg.cmd === 'health') {
    // Soak checks: what the process holds once settled (forced GC when run with --expose-gc).
    (globalThis as { gc?: () => void }).gc?.();
    const resources: Record<string, number> = {};
    for (const r of process.getActiveResourcesInfo()) resources[r] = (resources[r] ?? 0) + 1;
    const m = process.memoryUsage();
    out({
      event: 'health',
      resources,
      fds: readdirSync('/proc/self/fd').length,
      rss: m.rss,
      heapUsed: m.heapUsed,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      state: session?.state(),
      stats: session?.stats,
    });
  } else if (msg.cmd === 'stop') {
    stopping = true;
    listener?.close();
    session?.stop({ graceful: msg['graceful'] === true });
    exitWhenClosed();
  }
});
