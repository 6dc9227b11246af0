/**
 * Runs inside one lab node's network namespace and plays the node's kubelet runtime and
 * kube-proxy (userspace mode): the lab writes the node's whole desired state as one JSON line
 * on stdin, and the agent makes it so —
 *   pods: each Pod's addresses on `lo` and a tiny HTTP server on each of its ports answering
 *         with the Pod's name;
 *   vips: the Service addresses this node accepts traffic for (the lab lists only those the
 *         node announces) on `lo`, each port proxied to the Service's endpoints in turn.
 * It answers on stdout with one JSON line per change: {"ready":["ns/pod",...]}. Logs go to
 * stderr. Usage: node-agent <node-name>.
 */
import { spawnSync } from 'node:child_process';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

interface PodSpec {
  readonly key: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly ports: readonly number[];
}
interface VipSpec {
  readonly ip: string;
  readonly port: number;
  readonly endpoints: readonly { readonly ip: string; readonly port: number }[];
}
interface Desired {
  readonly pods: readonly PodSpec[];
  readonly vips: readonly VipSpec[];
}

const node = process.argv[2] ?? 'node';
const log = (msg: string, extra: Record<string, unknown> = {}): void => {
  process.stderr.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: 'info', component: 'node-agent', node, message: msg, ...extra })}\n`,
  );
};
const hostBits = (ip: string): string => `${ip}/${ip.includes(':') ? 128 : 32}`;

const addresses = new Set<string>();
function setAddresses(want: ReadonlySet<string>): void {
  for (const ip of want) {
    if (addresses.has(ip)) continue;
    const r = spawnSync('ip', ['addr', 'replace', hostBits(ip), 'dev', 'lo', ...(ip.includes(':') ? ['nodad'] : [])], {
      encoding: 'utf8',
    });
    if (r.status === 0) addresses.add(ip);
    else log('could not add an address to lo', { ip, error: r.stderr.trim() });
  }
  for (const ip of [...addresses]) {
    if (want.has(ip)) continue;
    spawnSync('ip', ['addr', 'del', hostBits(ip), 'dev', 'lo']);
    addresses.delete(ip);
  }
}

/** Listeners by `ip|port`, with what they serve. */
const podServers = new Map<string, { server: HttpServer; pod: string }>();
const proxies = new Map<string, { server: Server; vip: VipSpec; next: number }>();
const listenKey = (ip: string, port: number): string => `${ip}|${port}`;

function listen(server: Server | HttpServer, ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    server.once('error', (err) => {
      log('could not listen', { ip, port, error: (err as Error).message });
      resolve(false);
    });
    server.listen(port, ip, () => resolve(true));
  });
}

function proxyConnection(entry: { vip: VipSpec; next: number }, client: Socket, tried = 0): void {
  const eps = entry.vip.endpoints;
  if (eps.length === 0 || tried >= eps.length) {
    client.destroy();
    return;
  }
  const ep = eps[entry.next++ % eps.length]!;
  const upstream = createConnection({ host: ep.ip, port: ep.port });
  let connected = false;
  upstream.once('connect', () => {
    connected = true;
    client.pipe(upstream).pipe(client);
  });
  upstream.on('error', () => {
    if (!connected) proxyConnection(entry, client, tried + 1);
    else client.destroy();
  });
  client.on('error', () => upstream.destroy());
  client.on('close', () => upstream.destroy());
}

/** Applies the desired state; false when some listener could not be opened (retried). */
async function apply(d: Desired): Promise<boolean> {
  let complete = true;
  setAddresses(new Set([...d.pods.flatMap((p) => p.ips), ...d.vips.map((v) => v.ip)]));
  const wantPods = new Map<string, PodSpec>();
  for (const p of d.pods) for (const ip of p.ips) for (const port of p.ports) wantPods.set(listenKey(ip, port), p);
  for (const [k, s] of podServers) {
    if (wantPods.get(k)?.key === s.pod) continue;
    s.server.close();
    podServers.delete(k);
  }
  const ready = new Set(d.pods.map((p) => p.key));
  for (const [k, p] of wantPods) {
    if (podServers.has(k)) continue;
    const [ip, port] = k.split('|') as [string, string];
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end(`${p.name}\n`);
    });
    if (await listen(server, ip, Number(port))) {
      podServers.set(k, { server, pod: p.key });
      log('pod listening', { pod: p.key, ip, port: Number(port) });
    } else {
      ready.delete(p.key);
      complete = false;
    }
  }
  const wantVips = new Map(d.vips.map((v) => [listenKey(v.ip, v.port), v]));
  for (const [k, p] of proxies) {
    const v = wantVips.get(k);
    if (v) p.vip = v;
    else {
      p.server.close();
      proxies.delete(k);
      log('service address released', { ip: p.vip.ip, port: p.vip.port });
    }
  }
  for (const [k, v] of wantVips) {
    if (proxies.has(k)) continue;
    const entry = { server: createServer(), vip: v, next: 0 };
    entry.server.on('connection', (c: Socket) => proxyConnection(entry, c));
    if (await listen(entry.server, v.ip, v.port)) {
      proxies.set(k, entry);
      log('service address accepted', { ip: v.ip, port: v.port, endpoints: v.endpoints.length });
    } else complete = false;
  }
  process.stdout.write(`${JSON.stringify({ ready: [...ready].sort() })}\n`);
  return complete;
}

// One state at a time, the newest wins; a state that could not be fully applied (a listener
// refused) is tried again shortly.
let pending: Desired | undefined;
let running = false;
let retry: NodeJS.Timeout | undefined;
async function drain(): Promise<void> {
  if (running) return;
  running = true;
  if (retry) clearTimeout(retry);
  retry = undefined;
  let last: Desired | undefined;
  let complete = true;
  while (pending) {
    last = pending;
    pending = undefined;
    complete = await apply(last);
  }
  running = false;
  if (!complete && last) {
    const again = last;
    retry = setTimeout(() => {
      pending ??= again;
      void drain();
    }, 500);
  }
}
createInterface({ input: process.stdin }).on('line', (line) => {
  try {
    pending = JSON.parse(line) as Desired;
    void drain();
  } catch (err) {
    log('bad input line', { error: (err as Error).message });
  }
});
process.stdin.on('end', () => process.exit(0));
log('node agent started');
