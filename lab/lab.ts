/**
 * `herald lab`: a bare-metal cluster in miniature on one Linux machine. The embedded API
 * server (RBAC enforced), the controller and one speaker per node namespace run as separate
 * processes with the ServiceAccounts of manifests/; node namespaces sit on a bridged LAN with
 * a BIRD router and a client; demo "pods" answer HTTP with their node's name. A live table
 * shows each Service, its IPs, mode, announcing nodes and a real curl from the client.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { applyObjects, startApiServer, type ApiServer } from './apiserver/index.js';
import { canUseNetns, Netns } from './netns.js';
import { KubeClient, ENDPOINT_SLICES, NODES, SERVICES, heraldResource, type KubeObject } from '../src/k8s/index.js';
import { loadManifests } from '../src/cli/validate.js';
import { runScenario, type ScenarioName, type ScenarioResult } from './scenarios.js';

export type { ScenarioName, ScenarioResult } from './scenarios.js';

export const LAB_PREFIX = 'hl';

export interface LabOptions {
  readonly root: string;
  readonly nodes: number;
  readonly stateDir: string;
  readonly port: number;
  readonly scenario?: ScenarioName;
  readonly out: NodeJS.WritableStream;
  readonly stop: Promise<void>;
  /** Print the table this many times then stop (tests); forever when undefined. */
  readonly rounds?: number;
  /**
   * Come up, wait until every demo Service answers (or `onceTimeoutMs`, default 180 s),
   * print once, run the scenario, clean up; the result says whether all of it worked.
   */
  readonly once?: boolean;
  readonly onceTimeoutMs?: number;
  /** Machine-readable output on `out` (one JSON document per table); messages go to `err`. */
  readonly json?: boolean;
  readonly err?: NodeJS.WritableStream;
}

/** One line of the table: a Service address, who announces it, and a real curl through it. */
export interface LabRow {
  readonly service: string;
  readonly ip: string;
  readonly pool: string;
  readonly mode: string;
  readonly announcedBy: readonly string[];
  readonly curl: { readonly ok: boolean; readonly node?: string; readonly ms?: number };
}


export interface LabResult {
  readonly ok: boolean;
  readonly services: readonly LabRow[];
  readonly scenario?: ScenarioResult;
}

export function labPreflight(): string | undefined {
  if (process.platform !== 'linux') return 'herald lab needs Linux (network namespaces)';
  if (process.getuid?.() !== 0) return 'herald lab needs root: it creates network namespaces, veth pairs and a bridge (run it with sudo)';
  if (!canUseNetns()) return 'herald lab needs the "ip" command with network namespace support (iproute2)';
  for (const tool of ['bird', 'birdc', 'curl']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `herald lab needs "${tool}" (Debian: apt-get install bird2 curl)`;
  return undefined;
}

/** The file where the lab notes the processes it starts outside namespaces too. */
const PIDS = 'pids';

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * Removes every namespace and process of a previous lab (`herald lab down`, or before a
 * start): namespaces with the lab's prefix (their processes first), and processes it noted in
 * the state directory that still run with that directory on their command line.
 */
export function labDown(stateDir: string): number {
  const pidFile = join(stateDir, PIDS);
  if (existsSync(pidFile)) {
    for (const pid of readFileSync(pidFile, 'utf8').split('\n').map(Number).filter((n) => n > 0)) {
      if (cmdline(pid).includes(stateDir)) spawnSync('kill', ['-9', String(pid)]);
    }
    rmSync(pidFile, { force: true });
  }
  const left = Netns.existing(LAB_PREFIX);
  Netns.removeAll(left);
  rmSync(join(stateDir, 'api.sock'), { force: true });
  return left.length;
}

const LAN = '192.0.2';
const ROUTER = `${LAN}.254`;
const CLIENT = `${LAN}.200`;

function kustomize(root: string): Record<string, unknown>[] {
  const r = spawnSync('kubectl', ['kustomize', join(root, 'manifests')], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown>);
}

export async function runLab(o: LabOptions): Promise<LabResult> {
  const say = (line: string): void => {
    (o.json ? (o.err ?? process.stderr) : o.out).write(`${line}\n`);
  };
  let result: LabResult = { ok: false, services: [] };
  const cleaned = labDown(o.stateDir);
  if (cleaned > 0) say(`removed ${cleaned} namespaces left by an earlier lab`);
  mkdirSync(o.stateDir, { recursive: true });
  const sock = join(o.stateDir, 'api.sock');
  const server: ApiServer = await startApiServer({ port: o.port, enforceRbac: true, unixSocket: sock });
  const net = new Netns(LAB_PREFIX);
  const procs: { name: string; proc: ChildProcess }[] = [];
  const node = (i: number): string => `node-${String.fromCharCode(97 + i)}`;
  // Every process logs to a file in the state directory (and never blocks on a full pipe).
  const logTo = (name: string, proc: ChildProcess): ChildProcess => {
    const file = createWriteStream(join(o.stateDir, `${name.replace(/\s+/g, '-')}.log`));
    proc.stdout?.pipe(file);
    proc.stderr?.pipe(file);
    if (proc.pid) appendFileSync(join(o.stateDir, PIDS), `${proc.pid}\n`);
    return proc;
  };
  try {
    // The API: CRDs and manifests/ (namespace, RBAC, service accounts), like kubectl apply -k.
    const rendered = kustomize(o.root);
    const { objects } = await loadManifests([join(o.root, 'crds')]);
    const results = applyObjects(server.core, rendered.length > 0 ? rendered : objects.map((x) => x.object));
    const bad = results.filter((r) => !r.ok);
    for (const b of bad) say(`  could not apply ${b.ref}: ${b.message}`);
    if (rendered.length === 0) applyObjects(server.core, [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'herald-system' } }]);
    const kubeconfig = join(o.stateDir, 'kubeconfig');
    server.writeKubeconfig(kubeconfig);
    const admin = KubeClient.fromString(server.kubeconfig());

    // The network: a bridge, a router running BIRD, a client, the nodes.
    const lan = net.add('lan');
    net.bridge(lan);
    const router = net.add('rtr');
    net.attach(lan, router, [`${ROUTER}/24`, '2001:db8::254/64']);
    net.exec(router, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const client = net.add('cli');
    net.attach(lan, client, [`${CLIENT}/24`, '2001:db8::200/64']);
    net.exec(client, ['ip', 'route', 'add', 'default', 'via', ROUTER]);
    const nodes = Array.from({ length: o.nodes }, (_, i) => node(i));
    const birdDir = join(o.stateDir, 'bird');
    mkdirSync(birdDir, { recursive: true });
    writeFileSync(join(birdDir, 'bird.conf'), `router id ${ROUTER};
protocol device {}
protocol kernel { ipv4 { export all; }; merge paths on; }
template bgp speakers { local ${ROUTER} as 64512; passive on; hold time 9; ipv4 { import all; export none; }; }
${nodes.map((n, i) => `protocol bgp ${n.replace('-', '_')} from speakers { neighbor ${LAN}.${i + 1} as 64513; }`).join('\n')}
`);
    procs.push({ name: 'bird', proc: logTo('bird', net.spawn(router, 'bird', ['-f', '-c', join(birdDir, 'bird.conf'), '-s', join(birdDir, 'bird.ctl'), '-P', join(birdDir, 'bird.pid')])) });

    // The controller, as its ServiceAccount, in the host namespace (loopback only).
    const controllerKc = join(o.stateDir, 'controller.kubeconfig');
    server.writeKubeconfig(controllerKc, server.serviceAccountToken('herald-system', 'herald-controller'), 'herald-system');
    procs.push({ name: 'controller', proc: logTo('controller', net.spawnHost(process.execPath, [join(o.root, 'bin', 'herald.js'), 'controller', '--kubeconfig', controllerKc, '--leader-elect', '--metrics-port', '0', '--metrics-host', '127.0.0.1', '--log-level', 'warn'])) });

    const speakerKc = join(o.stateDir, 'speaker.kubeconfig');
    const port = new URL(server.url).port;
    writeFileSync(speakerKc, server.kubeconfig(server.serviceAccountToken('herald-system', 'herald-speaker'), 'herald-system').replace(`127.0.0.1:${port}`, '127.0.0.1:6443'), { mode: 0o600 });
    for (const [i, n] of nodes.entries()) {
      const ns = net.add(n);
      net.attach(lan, ns, [`${LAN}.${i + 1}/24`, `2001:db8::${i + 1}/64`]);
      // Service IPs live on lo so the node's "pod" receives their traffic; only Herald answers ARP for them.
      net.exec(ns, ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']);
      await admin.create(NODES, { metadata: { name: n, labels: { 'kubernetes.io/hostname': n } }, status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: `${LAN}.${i + 1}` }] } });
      procs.push({ name: `${n} forwarder`, proc: logTo(`${n} forwarder`, net.spawn(ns, process.execPath, ['--import', 'tsx', join(o.root, 'lab', 'ns-forwarder.ts'), '6443', sock], { cwd: o.root })) });
      procs.push({ name: `${n} pod`, proc: logTo(`${n} pod`, net.spawn(ns, process.execPath, ['--import', 'tsx', join(o.root, 'lab', 'demo-pod.ts'), n, '80'], { cwd: o.root })) });
      procs.push({ name: `${n} speaker`, proc: logTo(`${n} speaker`, net.spawn(ns, process.execPath, [join(o.root, 'bin', 'herald.js'), 'speaker', '--kubeconfig', speakerKc, '--node', n, '--metrics-port', '7473', '--metrics-host', '127.0.0.1', '--log-level', 'warn'], { cwd: o.root })) });
    }

    // Sample configuration and demo Services with one ready endpoint per node.
    const H = (name: string, spec: Record<string, unknown>): KubeObject => ({ metadata: { name, namespace: 'herald-system' }, spec }) as KubeObject;
    await admin.create(heraldResource('IPAddressPool'), H('lan-v4', { addresses: [`${LAN}.64/28`] }));
    await admin.create(heraldResource('IPAddressPool'), H('lan-v6', { addresses: ['2001:db8::64:0/124'], autoAssign: false }));
    await admin.create(heraldResource('IPAddressPool'), H('routed-v4', { addresses: ['203.0.113.0/28'], autoAssign: false }));
    await admin.create(heraldResource('L2Advertisement'), H('lan', { ipAddressPools: ['lan-v4', 'lan-v6'] }));
    await admin.create(heraldResource('BGPAdvertisement'), H('routed', { ipAddressPools: ['routed-v4'] }));
    await admin.create(heraldResource('BGPPeer'), H('router', { myASN: 64513, peerASN: 64512, peerAddress: ROUTER, holdTime: '9s' }));
    const demo = [
      { name: 'web-l2', pool: 'lan-v4', mode: 'L2', family: 'IPv4' },
      { name: 'web-l2-v6', pool: 'lan-v6', mode: 'L2', family: 'IPv6' },
      { name: 'web-bgp', pool: 'routed-v4', mode: 'BGP', family: 'IPv4' },
    ];
    for (const d of demo) {
      await admin.create(SERVICES, { metadata: { name: d.name, namespace: 'default', annotations: { 'herald.dev/address-pool': d.pool } }, spec: { type: 'LoadBalancer', ipFamilies: [d.family], selector: { app: d.name }, ports: [{ name: 'http', port: 80 }] } });
      await admin.create(ENDPOINT_SLICES, { metadata: { name: `${d.name}-pods`, namespace: 'default', labels: { 'kubernetes.io/service-name': d.name } }, addressType: d.family, endpoints: nodes.map((n, i) => ({ addresses: [d.family === 'IPv4' ? `${LAN}.${i + 1}` : `2001:db8::${i + 1}`], nodeName: n, conditions: { ready: true } })), ports: [{ name: 'http', port: 80 }] } as KubeObject);
    }

    say(`herald lab: API ${server.url}, ${o.nodes} nodes, router ${ROUTER} (BIRD AS 64512), client ${CLIENT}`);
    say(`  kubectl: KUBECONFIG=${kubeconfig} kubectl get svc,ipaddresspools -A`);
    say('  Ctrl-C stops the lab and removes everything it created');

    const ipsOnLo = new Set<string>();
    let stopped = false;
    void o.stop.then(() => (stopped = true));
    const observe = async (): Promise<LabRow[]> => {
      const svcs = (await admin.list(SERVICES)).items.filter((s) => (s['spec'] as { type?: string }).type === 'LoadBalancer');
      // Keep every node's lo in step with the service IPs.
      for (const s of svcs) {
        for (const ing of ((s['status'] as { loadBalancer?: { ingress?: { ip: string }[] } }).loadBalancer?.ingress ?? [])) {
          if (ipsOnLo.has(ing.ip)) continue;
          ipsOnLo.add(ing.ip);
          for (const n of nodes) spawnSync('ip', ['netns', 'exec', net.name(n), 'ip', 'addr', 'add', `${ing.ip}/${ing.ip.includes(':') ? 128 : 32}`, 'dev', 'lo', ...(ing.ip.includes(':') ? ['nodad'] : [])]);
        }
      }
      const l2 = (await admin.list(heraldResource('ServiceL2Status'), { namespace: 'herald-system' })).items;
      const bgp = (await admin.list(heraldResource('ServiceBGPStatus'), { namespace: 'herald-system' })).items;
      const of = (x: KubeObject): { serviceName?: string; serviceNamespace?: string; node?: string } => (x['status'] as { serviceName?: string; node?: string } | undefined) ?? {};
      const rows: LabRow[] = [];
      for (const s of svcs) {
        const name = s.metadata.name;
        const ips = ((s['status'] as { loadBalancer?: { ingress?: { ip: string }[] } }).loadBalancer?.ingress ?? []).map((i) => i.ip);
        const by = [...l2, ...bgp].filter((x) => of(x).serviceName === name).map((x) => of(x).node ?? '').sort();
        const mode = bgp.some((x) => of(x).serviceName === name) ? 'BGP' : l2.some((x) => of(x).serviceName === name) ? 'L2' : '-';
        for (const ip of ips.length > 0 ? ips : ['<pending>']) {
          let curl: LabRow['curl'] = { ok: false };
          if (ip !== '<pending>') {
            const t = Date.now();
            const r = spawnSync('ip', ['netns', 'exec', client, 'curl', '-s', '-m', '1', `http://${ip.includes(':') ? `[${ip}]` : ip}/`], { encoding: 'utf8' });
            if (r.status === 0) curl = { ok: true, node: r.stdout.trim(), ms: Date.now() - t };
          }
          rows.push({ service: `default/${name}`, ip, pool: s.metadata.annotations?.['herald.dev/ip-allocated-from-pool'] ?? '-', mode, announcedBy: by, curl });
        }
      }
      return rows;
    };
    const print = (rows: readonly LabRow[], scenario?: ScenarioResult): void => {
      if (o.json) {
        o.out.write(`${JSON.stringify({ time: new Date().toISOString(), allReachable: allServed(rows, demo.length), services: rows, ...(scenario ? { scenario } : {}) })}\n`);
        return;
      }
      const cells = [['SERVICE', 'IP', 'POOL', 'MODE', 'ANNOUNCED BY', 'CURL FROM CLIENT'], ...rows.map((r) => [r.service, r.ip, r.pool, r.mode, r.announcedBy.join(',') || '-', r.curl.ok ? `${r.curl.node ?? ''} (${r.curl.ms ?? 0} ms)` : r.ip === '<pending>' ? '-' : 'no answer'])];
      const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
      say(`\n${new Date().toISOString()}`);
      for (const r of cells) say(r.map((c, i) => c.padEnd(widths[i]!)).join('  '));
    };
    const startScenario = (): Promise<ScenarioResult> | undefined => (o.scenario ? runScenario(o.scenario, { client, admin, procs, say, birdctl: join(birdDir, 'bird.ctl'), nodeIp: (n) => `${LAN}.${nodes.indexOf(n) + 1}`, nodes }) : undefined);
    if (o.once) {
      // The table is the cluster before the scenario; the scenario then reports on its own.
      const deadline = Date.now() + (o.onceTimeoutMs ?? 180_000);
      let rows = await observe();
      while (!stopped && !allServed(rows, demo.length, nodes.length) && Date.now() < deadline) {
        await Promise.race([new Promise((r) => setTimeout(r, 1000)), o.stop]);
        rows = await observe();
      }
      const scenario = allServed(rows, demo.length, nodes.length) && !stopped ? await startScenario() : undefined;
      result = { ok: allServed(rows, demo.length, nodes.length) && (scenario?.ok ?? true), services: rows, ...(scenario ? { scenario } : {}) };
      print(rows, scenario);
    } else {
      const scenarioDone = startScenario();
      for (let round = 0; !stopped && (o.rounds === undefined || round < o.rounds); round++) {
        const rows = await observe();
        result = { ok: allServed(rows, demo.length), services: rows };
        print(rows);
        await Promise.race([new Promise((r) => setTimeout(r, 2000)), o.stop]);
      }
      const scenario = await scenarioDone;
      if (scenario) result = { ...result, scenario };
    }
  } finally {
    void logTo;
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await net.teardown();
    await server.stop();
    rmSync(join(o.stateDir, PIDS), { force: true });
    say('herald lab: stopped and cleaned up');
  }
  return result;
}

/** Every demo Service has an address that answered the client's curl and known announcers. */
function allServed(rows: readonly LabRow[], services: number, bgpNodes = 1): boolean {
  // Served means answered through a node that announces it (the client's neighbour entry may
  // briefly point at a node that answered while the speakers were still finding each other);
  // --once also waits for a BGP Service to be announced by `bgpNodes` nodes (every node: the
  // demo's has externalTrafficPolicy Cluster).
  const served = (r: LabRow): boolean => r.curl.ok && r.mode !== '-' && r.announcedBy.includes(r.curl.node ?? '') && (r.mode !== 'BGP' || r.announcedBy.length >= bgpNodes);
  const ok = new Set(rows.filter(served).map((r) => r.service));
  return ok.size >= services && rows.every((r) => served(r) || !r.service.startsWith('default/web-'));
}
