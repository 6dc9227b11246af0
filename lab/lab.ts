/**
 * `herald lab`: a bare-metal cluster in miniature on one Linux machine. The embedded API
 * server (RBAC enforced, with its scheduler, Deployment, ReplicaSet and EndpointSlice
 * controllers) — or, with `kubernetes: 'real'`, etcd, kube-apiserver and
 * kube-controller-manager from scripts/kube-up.sh (lab/cluster-real.ts) —, Herald's controller and one speaker per node namespace run as separate
 * processes with the ServiceAccounts of manifests/; node namespaces sit on a bridged LAN with
 * a real BGP router (BIRD, FRR or GoBGP) and a client; each node runs an agent that plays
 * kubelet and kube-proxy, so Pods answer HTTP with their name. A live table shows each
 * Service, its IPs, mode, announcing nodes, the ARP/NDP answer, a real curl, and why not.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { canUseNetns, Netns } from './netns.js';
import { NODES, SERVICES, heraldResource, type KubeObject, type ResourceType } from '../src/k8s/index.js';
import { startEmbeddedCluster, type LabCluster, type LabKubernetes } from './cluster.js';
import { startRealCluster } from './cluster-real.js';
import { loadManifests } from '../src/cli/validate.js';
import { runScenario, type ScenarioName, type ScenarioResult } from './scenarios.js';
import { labDown, labPrefix, PIDS, PREFIX_FILE } from './names.js';
import { podCidrs, startKubelets, type NodeAgent } from './kubelet.js';
import { formatTable, liveSpeakers, observe, served, type LabRow } from './observe.js';
import { startWebView, type WebState, type WebView } from './web.js';
import { ROUTER_TOOLS, startRouter, syncGobgpFib, type RouterKind } from './routers.js';
import { HERALD_NAMESPACE } from '../src/api/names.js';

export type { ScenarioName, ScenarioResult } from './scenarios.js';
export type { LabRow } from './observe.js';
export { labDown } from './names.js';

export interface LabOptions {
  readonly root: string;
  readonly nodes: number;
  readonly stateDir: string;
  /** Names the lab's namespaces (default: derived from the state directory). */
  readonly name?: string;
  readonly port: number;
  readonly router?: RouterKind;
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
  /** Serve a live picture of the lab on 127.0.0.1 at this port (0: any free port). */
  readonly web?: number;
  /** Log level of the lab's Herald processes (default info). */
  readonly logLevel?: string;
  /** The control plane: Herald's embedded API server (default) or a real one (scripts/kube-up.sh). */
  readonly kubernetes?: LabKubernetes;
}

export interface LabResult {
  readonly ok: boolean;
  readonly services: readonly LabRow[];
  readonly scenario?: ScenarioResult;
}

export function labPreflight(router: RouterKind = 'bird'): string | undefined {
  if (process.platform !== 'linux') return 'herald lab needs Linux (network namespaces)';
  if (process.getuid?.() !== 0)
    return 'herald lab needs root: it creates network namespaces, veth pairs and a bridge (run it with sudo)';
  if (!canUseNetns()) return 'herald lab needs the "ip" command with network namespace support (iproute2)';
  for (const tool of [...ROUTER_TOOLS[router].tools, 'curl', 'arping', 'ndisc6']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `herald lab needs "${tool}" (Debian: apt-get install ${tool === 'arping' ? 'iputils-arping' : tool === 'curl' || tool === 'ndisc6' ? tool : ROUTER_TOOLS[router].apt})`;
  }
  return undefined;
}

const LAN = '192.0.2';
const ROUTER = `${LAN}.254`;
const CLIENT = `${LAN}.200`;
const ROUTER_AS = 64512;
const NODE_AS = 64513;
const HERALD_NS = HERALD_NAMESPACE;
const DEPLOYMENTS: ResourceType = {
  group: 'apps',
  version: 'v1',
  plural: 'deployments',
  kind: 'Deployment',
  namespaced: true,
};
export const DEMO = [
  { name: 'web-l2', pool: 'lan-v4', mode: 'L2', family: 'IPv4' },
  { name: 'web-l2-v6', pool: 'lan-v6', mode: 'L2', family: 'IPv6' },
  { name: 'web-bgp', pool: 'routed-v4', mode: 'BGP', family: 'IPv4' },
] as const;

function kustomize(root: string): Record<string, unknown>[] {
  const r = spawnSync('kubectl', ['kustomize', join(root, 'manifests')], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as Record<string, unknown>);
}

function macOf(ns: string): string {
  const r = spawnSync('ip', ['netns', 'exec', ns, 'cat', '/sys/class/net/eth0/address'], { encoding: 'utf8' });
  return r.stdout.trim().toLowerCase();
}

export async function runLab(o: LabOptions): Promise<LabResult> {
  const say = (line: string): void => {
    (o.json ? (o.err ?? process.stderr) : o.out).write(`${line}\n`);
  };
  const routerKind = o.router ?? 'bird';
  const prefix = labPrefix(o.stateDir, o.name);
  let result: LabResult = { ok: false, services: [] };
  const cleaned = labDown(o.stateDir, o.name);
  if (cleaned.namespaces > 0) say(`removed ${cleaned.namespaces} namespaces left by an earlier lab`);
  mkdirSync(o.stateDir, { recursive: true });
  writeFileSync(join(o.stateDir, PREFIX_FILE), `${prefix}\n`);
  const sock = join(o.stateDir, 'api.sock');
  const clusterLog = (line: string): void =>
    appendFileSync(join(o.stateDir, 'kubelet.log'), `${new Date().toISOString()} ${line}\n`);
  if (o.kubernetes === 'real') say('starting etcd, kube-apiserver and kube-controller-manager (scripts/kube-up.sh)');
  const cluster: LabCluster =
    o.kubernetes === 'real'
      ? await startRealCluster({
          root: o.root,
          stateDir: o.stateDir,
          port: o.port,
          socket: sock,
          heraldNamespace: HERALD_NS,
          log: clusterLog,
        })
      : await startEmbeddedCluster({ port: o.port, socket: sock });
  for (const pid of cluster.pids) appendFileSync(join(o.stateDir, PIDS), `${pid}\n`);
  const apiPort = new URL(cluster.url).port;
  const net = new Netns(prefix);
  const procs: { name: string; proc: ChildProcess }[] = [];
  const node = (i: number): string => `node-${String.fromCharCode(97 + i)}`;
  const logLevel = o.logLevel ?? 'info';
  // Every process logs to a file in the state directory (and never blocks on a full pipe).
  const logTo = (name: string, proc: ChildProcess, stdout = true): ChildProcess => {
    const file = createWriteStream(join(o.stateDir, `${name.replace(/\s+/g, '-')}.log`));
    // Both streams into one file: neither may end it while the other still writes.
    if (stdout) proc.stdout?.pipe(file, { end: false });
    proc.stderr?.pipe(file, { end: false });
    proc.once('exit', () => setTimeout(() => file.end(), 100));
    if (proc.pid) appendFileSync(join(o.stateDir, PIDS), `${proc.pid}\n`);
    return proc;
  };
  let kubelets: { stop(): void } | undefined;
  let fib: { stop(): void } | undefined;
  let web: WebView | undefined;
  try {
    // The API: CRDs and manifests/ (namespace, RBAC, service accounts), like kubectl apply -k.
    const rendered = kustomize(o.root);
    const { objects } = await loadManifests([join(o.root, 'crds')]);
    for (const b of await cluster.apply(
      rendered.length > 0 ? rendered : objects.map((x) => x.object as Record<string, unknown>),
    ))
      say(`  could not apply ${b}`);
    if (rendered.length === 0)
      await cluster.apply([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: HERALD_NS } }]);
    const kubeconfig = join(o.stateDir, 'kubeconfig');
    cluster.writeAdminKubeconfig(kubeconfig);
    const admin = cluster.admin;

    // The network: a bridge, a router, a client, the nodes.
    const lan = net.add('lan');
    net.bridge(lan);
    const router = net.add('rtr');
    net.attach(lan, router, [`${ROUTER}/24`, '2001:db8::254/64']);
    // The router forwards back onto the LAN it came from: no ICMP redirects, or the client
    // would keep sending a Service's traffic straight to whichever node the router once chose.
    net.exec(router, [
      'sysctl',
      '-qw',
      'net.ipv4.ip_forward=1',
      'net.ipv4.conf.all.send_redirects=0',
      'net.ipv4.conf.eth0.send_redirects=0',
    ]);
    const client = net.add('cli');
    net.attach(lan, client, [`${CLIENT}/24`, '2001:db8::200/64']);
    net.exec(client, [
      'sysctl',
      '-qw',
      'net.ipv4.conf.all.accept_redirects=0',
      'net.ipv4.conf.eth0.accept_redirects=0',
      'net.ipv6.conf.all.accept_redirects=0',
      'net.ipv6.conf.eth0.accept_redirects=0',
    ]);
    net.exec(client, ['ip', 'route', 'add', 'default', 'via', ROUTER]);
    const nodes = Array.from({ length: o.nodes }, (_, i) => node(i));
    const nodeIp = (n: string): string => `${LAN}.${nodes.indexOf(n) + 1}`;
    const routerDir = join(o.stateDir, 'router');
    if (routerKind === 'gobgp')
      fib = syncGobgpFib(router, routerDir, (m) =>
        appendFileSync(join(o.stateDir, 'fib.log'), `${new Date().toISOString()} ${m}\n`),
      );
    for (const p of await startRouter(routerKind, {
      net,
      ns: router,
      dir: routerDir,
      address: ROUTER,
      asn: ROUTER_AS,
      neighbors: nodes.map((n) => ({ name: n, address: nodeIp(n), asn: NODE_AS })),
      logTo,
    }))
      procs.push({ name: `router ${routerKind}`, proc: p });

    // The controller, as its ServiceAccount, in the host namespace (loopback only).
    const controllerKc = join(o.stateDir, 'controller.kubeconfig');
    await cluster.writeServiceAccountKubeconfig(controllerKc, HERALD_NS, 'herald-controller');
    procs.push({
      name: 'controller',
      proc: logTo(
        'controller',
        net.spawnHost(process.execPath, [
          join(o.root, 'bin', 'herald.js'),
          'controller',
          '--kubeconfig',
          controllerKc,
          '--leader-elect',
          '--metrics-port',
          '0',
          '--metrics-host',
          '127.0.0.1',
          '--log-level',
          logLevel,
        ]),
      ),
    });

    // Speakers reach the API on their own loopback, at the server's port, through a forwarder.
    const speakerKc = join(o.stateDir, 'speaker.kubeconfig');
    await cluster.writeServiceAccountKubeconfig(speakerKc, HERALD_NS, 'herald-speaker');
    const agents: NodeAgent[] = [];
    const macs = new Map<string, string>();
    for (const [i, n] of nodes.entries()) {
      const ns = net.add(n);
      net.attach(lan, ns, [`${LAN}.${i + 1}/24`, `2001:db8::${i + 1}/64`]);
      // Service and Pod addresses live on lo; only Herald answers ARP/NDP for Service addresses.
      net.exec(ns, ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']);
      macs.set(macOf(ns), n);
      for (const j of nodes.keys()) {
        if (j === i) continue;
        net.exec(ns, ['ip', 'route', 'add', podCidrs(j).v4, 'via', `${LAN}.${j + 1}`]);
        net.exec(ns, ['ip', '-6', 'route', 'add', podCidrs(j).v6, 'via', `2001:db8::${j + 1}`]);
      }
      // As a kubelet registers its Node (the status again through /status: a real server may drop it on create).
      const nodeStatus = {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'herald lab node agent',
            lastHeartbeatTime: new Date().toISOString(),
            lastTransitionTime: new Date().toISOString(),
          },
        ],
        addresses: [
          { type: 'InternalIP', address: `${LAN}.${i + 1}` },
          { type: 'InternalIP', address: `2001:db8::${i + 1}` },
          { type: 'Hostname', address: n },
        ],
        nodeInfo: { kubeletVersion: 'v1.32.0-herald-lab' },
      };
      await admin.create(NODES, {
        metadata: { name: n, labels: { 'kubernetes.io/hostname': n, 'kubernetes.io/os': 'linux' } },
        spec: { podCIDR: podCidrs(i).v4, podCIDRs: [podCidrs(i).v4, podCidrs(i).v6] },
        status: nodeStatus,
      });
      await admin.patch(NODES, undefined, n, { status: nodeStatus }, { status: true });
      procs.push({
        name: `${n} forwarder`,
        proc: logTo(
          `${n} forwarder`,
          net.spawn(ns, process.execPath, ['--import', 'tsx', join(o.root, 'lab', 'ns-forwarder.ts'), apiPort, sock], {
            cwd: o.root,
          }),
        ),
      });
      const agent = logTo(
        `${n} agent`,
        net.spawn(ns, process.execPath, ['--import', 'tsx', join(o.root, 'lab', 'node-agent.ts'), n], { cwd: o.root }),
        false,
      );
      procs.push({ name: `${n} agent`, proc: agent });
      agents.push({ name: n, index: i, lanV4: `${LAN}.${i + 1}`, proc: agent });
      procs.push({
        name: `${n} speaker`,
        proc: logTo(
          `${n} speaker`,
          net.spawn(
            ns,
            process.execPath,
            [
              join(o.root, 'bin', 'herald.js'),
              'speaker',
              '--kubeconfig',
              speakerKc,
              '--node',
              n,
              '--metrics-port',
              '7473',
              '--metrics-host',
              '127.0.0.1',
              '--log-level',
              logLevel,
            ],
            { cwd: o.root },
          ),
        ),
      });
    }
    kubelets = startKubelets(cluster, agents, (line) =>
      appendFileSync(join(o.stateDir, 'kubelet.log'), `${new Date().toISOString()} ${line}\n`),
    );

    // Sample configuration, and the demo Services backed by Deployments (one Pod per node).
    const H = (name: string, spec: Record<string, unknown>): KubeObject =>
      ({ metadata: { name, namespace: HERALD_NS }, spec }) as KubeObject;
    await admin.create(heraldResource('IPAddressPool'), H('lan-v4', { addresses: [`${LAN}.64/28`] }));
    await admin.create(
      heraldResource('IPAddressPool'),
      H('lan-v6', { addresses: ['2001:db8::64:0/124'], autoAssign: false }),
    );
    await admin.create(
      heraldResource('IPAddressPool'),
      H('routed-v4', { addresses: ['203.0.113.0/28'], autoAssign: false }),
    );
    await admin.create(heraldResource('L2Advertisement'), H('lan', { ipAddressPools: ['lan-v4', 'lan-v6'] }));
    await admin.create(heraldResource('BGPAdvertisement'), H('routed', { ipAddressPools: ['routed-v4'] }));
    await admin.create(
      heraldResource('BGPPeer'),
      H('router', { myASN: NODE_AS, peerASN: ROUTER_AS, peerAddress: ROUTER, holdTime: '9s' }),
    );
    for (const d of DEMO) {
      const labels = { app: d.name };
      await admin.create(DEPLOYMENTS, {
        metadata: { name: d.name, namespace: 'default', labels },
        spec: {
          replicas: nodes.length,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [{ name: 'web', image: 'herald/demo-pod', ports: [{ name: 'http', containerPort: 8080 }] }],
            },
          },
        },
      } as KubeObject);
      await admin.create(SERVICES, {
        metadata: { name: d.name, namespace: 'default', annotations: { 'herald.dev/address-pool': d.pool } },
        spec: {
          type: 'LoadBalancer',
          ipFamilies: [d.family],
          selector: labels,
          ports: [{ name: 'http', port: 80, targetPort: 'http' }],
        },
      });
    }

    say(
      `herald lab "${prefix}": API ${cluster.url} (${cluster.kind === 'real' ? 'kube-apiserver' : 'embedded'}), router ${routerKind} ${ROUTER} 2001:db8::254 AS ${ROUTER_AS}, client ${CLIENT} 2001:db8::200`,
    );
    for (const [i, n] of nodes.entries())
      say(`  ${n}: ${LAN}.${i + 1} 2001:db8::${i + 1} AS ${NODE_AS}, pods ${podCidrs(i).v4} ${podCidrs(i).v6}`);
    say(`  kubectl: KUBECONFIG=${kubeconfig} kubectl get svc,pods,ipaddresspools -A`);
    say(`  logs: ${o.stateDir}/*.log; Ctrl-C stops the lab and removes everything it created`);

    let stopped = false;
    void o.stop.then(() => (stopped = true));
    const observeCtx = { view: cluster.view, client, macs, heraldNamespace: HERALD_NS, now: () => Date.now() };
    let latest: LabRow[] = [];
    const look = async (): Promise<LabRow[]> => (latest = await observe(observeCtx));
    if (o.web !== undefined) {
      const picture = (): WebState => {
        const alive = liveSpeakers(observeCtx);
        const sessions = cluster.view
          .list('bgpsessionstates.herald.dev')
          .map((x) => (x['status'] ?? {}) as { node?: string; peer?: string; state?: string });
        return {
          name: prefix,
          time: new Date().toISOString(),
          router: { kind: routerKind, addresses: [ROUTER, '2001:db8::254'], asn: ROUTER_AS },
          client: [CLIENT, '2001:db8::200'],
          nodes: nodes.map((n, i) => ({
            name: n,
            addresses: [`${LAN}.${i + 1}`, `2001:db8::${i + 1}`],
            asn: NODE_AS,
            speakerAlive: alive.has(n),
            sessions: sessions
              .filter((x) => x.node === n)
              .map((x) => ({ peer: x.peer ?? '', state: x.state ?? 'Unknown' })),
          })),
          services: latest,
        };
      };
      web = await startWebView(o.web, picture);
      say(`  web view: ${web.url}`);
    }
    const print = (rows: readonly LabRow[], scenario?: ScenarioResult): void => {
      if (o.json) {
        o.out.write(
          `${JSON.stringify({ time: new Date().toISOString(), allReachable: allServed(rows, nodes.length), services: rows, ...(scenario ? { scenario } : {}) })}\n`,
        );
        return;
      }
      say(`\n${new Date().toISOString()}`);
      for (const line of formatTable(rows)) say(line);
    };
    const startScenario = (): Promise<ScenarioResult> | undefined =>
      o.scenario
        ? runScenario(o.scenario, {
            client,
            admin,
            view: cluster.view,
            procs,
            say,
            routerNs: router,
            nodeIp,
            nodes,
            macs,
          })
        : undefined;
    if (o.once) {
      // The table is the cluster before the scenario; the scenario then reports on its own.
      const deadline = Date.now() + (o.onceTimeoutMs ?? 180_000);
      let rows = await look();
      while (!stopped && !allServed(rows, nodes.length) && Date.now() < deadline) {
        await Promise.race([new Promise((r) => setTimeout(r, 1000)), o.stop]);
        rows = await look();
      }
      const scenario = allServed(rows, nodes.length) && !stopped ? await startScenario() : undefined;
      result = {
        ok: allServed(rows, nodes.length) && (scenario?.ok ?? true),
        services: rows,
        ...(scenario ? { scenario } : {}),
      };
      print(rows, scenario);
    } else {
      const scenarioDone = startScenario();
      for (let round = 0; !stopped && (o.rounds === undefined || round < o.rounds); round++) {
        const rows = await look();
        result = { ok: allServed(rows, nodes.length), services: rows };
        print(rows);
        await Promise.race([new Promise((r) => setTimeout(r, 2000)), o.stop]);
      }
      const scenario = await scenarioDone;
      if (scenario) result = { ...result, scenario };
    }
  } finally {
    kubelets?.stop();
    fib?.stop();
    await web?.stop();
    for (const p of procs) if (p.proc.exitCode === null) p.proc.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    await net.teardown();
    await cluster.stop().catch((err: Error) => say(`herald lab: stopping the control plane: ${err.message}`));
    rmSync(join(o.stateDir, PIDS), { force: true });
    say('herald lab: stopped and cleaned up');
  }
  return result;
}

/**
 * Every demo Service is served (a Pod answered the client's curl, the address is announced,
 * and for Layer 2 the owner's MAC answered a fresh ARP/NDP query); a BGP demo Service is also
 * announced by `bgpNodes` nodes (every node: its externalTrafficPolicy is Cluster).
 */
function allServed(rows: readonly LabRow[], bgpNodes: number): boolean {
  return DEMO.every((d) => {
    const mine = rows.filter((r) => r.service === `default/${d.name}`);
    return mine.length > 0 && mine.every((r) => served(r) && (r.mode !== 'BGP' || r.announcedBy.length >= bgpNodes));
  });
}
