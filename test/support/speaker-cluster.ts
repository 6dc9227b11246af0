/**
 * The end-to-end speaker fixture: the embedded API server, the controller in process, a
 * bridged LAN in its own namespace with a BIRD router (AS 65001, one passive session per
 * node), a client namespace, and one `herald speaker` process per node namespace reaching
 * the API through lab/ns-forwarder.ts. Pools `lan` (L2, 192.0.2.64/28) and `routed` (BGP,
 * 203.0.113.0/28) and the BGPPeer `router` exist from the start. `stop()` removes whatever
 * `start()` got to create, even when it failed halfway.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Controller } from '../../controller/controller.js';
import { systemClock } from '../../src/core/clock.js';
import { RecordingLogger } from '../../src/core/logger.js';
import { NAMESPACES, NODES, heraldResource, type KubeObject } from '../../src/k8s/index.js';
import { createMetricsRegistry } from '../../src/metrics.js';
import { type KubeCluster, startKubeCluster } from './kube-cluster.js';
import { Bird } from './bgp-peers.js';
import { birdConf, type BirdConfOptions, type BirdNeighbor } from './bird-conf.js';
import { REPO_ROOT } from './crds.js';
import { canUseNetns, Netns } from './netns.js';
import { startHoldingProxy, type HoldingProxy } from './holding-proxy.js';
import { requireTool } from './tools.js';

export class SpeakerCluster {
  net: Netns | undefined;
  c: KubeCluster | undefined;
  bird: Bird | undefined;
  /** The namespace holding the LAN bridge (attach more hosts to it). */
  lanNs = '';
  /** Per node: its eth0 MAC (upper case), its bridge port, its speaker process, and everything the speaker wrote to stderr (its log). */
  readonly macs: Record<string, string> = {};
  readonly ports: Record<string, string> = {};
  readonly speakers: Record<string, ChildProcess> = {};
  readonly logs: Record<string, string> = {};
  /** Per node: the process forwarding its 127.0.0.1:6443 to the API server (stop it to cut the node off the API). */
  readonly forwarders: Record<string, ChildProcess> = {};
  /** With `holdingProxy`: the proxy between the speakers and the API server (hold their requests with it). */
  proxy: HoldingProxy | undefined;
  private dir: string | undefined;
  private controller: Controller | undefined;

  constructor(
    private readonly ns: string,
    private readonly nodeIps: Readonly<Record<string, string>>,
    /**
     * `wrap`: a command the speaker runs under (e.g. setpriv with the DaemonSet's privileges);
     * `bird`: the router's `protocol bfd` (see birdConf) and options for its session to every node (e.g. `{ bfd: true }`);
     * `holdingProxy`: the speakers reach the API server through test/support/holding-proxy.ts (`proxy`), the controller directly.
     */
    private readonly opts: {
      readonly wrap?: readonly string[];
      readonly bird?: { readonly bfd?: BirdConfOptions['bfd']; readonly neighbor?: Partial<BirdNeighbor> };
      readonly holdingProxy?: boolean;
    } = {},
  ) {}

  /** The namespace of a node. */
  nodeNs(name: string): string {
    return this.net!.name(name.replace('node-', 'n'));
  }

  /** Starts (or, after it died, starts again) the speaker of a node, under `wrap` if given, with `args` added; its log goes to `logs`. */
  spawnSpeaker(name: string, wrap = this.opts.wrap, args: readonly string[] = []): ChildProcess {
    const kc = join(this.dir!, `${name}.kubeconfig`);
    const cmd = [
      ...(wrap ?? []),
      process.execPath,
      join(REPO_ROOT, 'bin', 'herald.js'),
      'speaker',
      '--kubeconfig',
      kc,
      '--node',
      name,
      '--metrics-port',
      '7473',
      '--metrics-host',
      '127.0.0.1',
      '--metrics-secure=false',
      '--log-level',
      'info',
      ...args,
    ];
    const p = (this.speakers[name] = this.net!.spawn(this.nodeNs(name), cmd[0]!, cmd.slice(1), { cwd: REPO_ROOT }));
    this.logs[name] ??= '';
    p.stderr!.on('data', (d: Buffer) => {
      this.logs[name] += d.toString();
      if (process.env['HERALD_TEST_VERBOSE']) process.stderr.write(`[${name}] ${d.toString()}`);
    });
    return p;
  }

  async start(): Promise<void> {
    const dir = (this.dir = mkdtempSync(join(tmpdir(), 'herald-e2e-')));
    const sock = join(dir, 'api.sock');
    const c = (this.c = await startKubeCluster({ herald: true, unixSocket: sock }));
    const proxySock = join(dir, 'proxy.sock');
    if (this.opts.holdingProxy) this.proxy = await startHoldingProxy(c.kc, undefined, { unixSocket: proxySock });
    const net = (this.net = new Netns());
    const lan = net.add('lan');
    this.lanNs = lan;
    net.bridge(lan);
    const router = net.add('rtr');
    net.attach(lan, router, ['192.0.2.254/24']);
    const client = net.add('cli');
    net.attach(lan, client, ['192.0.2.200/24']);
    await c.client.create(NAMESPACES, { metadata: { name: this.ns } });
    const neighbors = Object.entries(this.nodeIps).map(([name, ip]) => ({
      name,
      address: ip,
      as: 65000,
      local: '192.0.2.254',
      ...this.opts.bird?.neighbor,
    }));
    this.bird = new Bird(
      net,
      router,
      birdConf({
        routerId: '192.0.2.254',
        as: 65001,
        neighbors,
        ...(this.opts.bird?.bfd ? { bfd: this.opts.bird.bfd } : {}),
      }),
    );
    await this.bird.ready();
    for (const [name, ip] of Object.entries(this.nodeIps)) {
      const ns = net.add(name.replace('node-', 'n'));
      this.ports[name] = net.attach(lan, ns, [`${ip}/24`]);
      this.macs[name] = net.exec(ns, ['cat', '/sys/class/net/eth0/address']).trim().toUpperCase();
      await c.client.create(NODES, {
        metadata: { name, labels: { 'kubernetes.io/hostname': name } },
        status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: ip }] },
      });
      this.forwarders[name] = net.spawn(
        ns,
        process.execPath,
        ['--import', 'tsx', join(REPO_ROOT, 'lab', 'ns-forwarder.ts'), '6443', this.proxy ? proxySock : sock],
        { cwd: REPO_ROOT },
      );
      const kc = join(dir, `${name}.kubeconfig`);
      if (this.proxy) writeFileSync(kc, this.proxy.kubeconfig());
      else c.writeKubeconfig(kc);
      const port = new URL(this.proxy?.url ?? c.url).port;
      writeFileSync(kc, readFileSync(kc, 'utf8').replace(`127.0.0.1:${port}`, '127.0.0.1:6443'));
      this.spawnSpeaker(name);
    }
    const pool = heraldResource('IPAddressPool');
    await c.client.create(pool, {
      metadata: { name: 'lan', namespace: this.ns },
      spec: { addresses: ['192.0.2.64/28'] },
    } as KubeObject);
    await c.client.create(pool, {
      metadata: { name: 'routed', namespace: this.ns },
      spec: { addresses: ['203.0.113.0/28'] },
    } as KubeObject);
    await c.client.create(heraldResource('L2Advertisement'), {
      metadata: { name: 'lan', namespace: this.ns },
      spec: { ipAddressPools: ['lan'] },
    } as KubeObject);
    await c.client.create(heraldResource('BGPAdvertisement'), {
      metadata: { name: 'routed', namespace: this.ns },
      spec: { ipAddressPools: ['routed'] },
    } as KubeObject);
    await c.client.create(heraldResource('BGPPeer'), {
      metadata: { name: 'router', namespace: this.ns },
      spec: { myASN: 65000, peerASN: 65001, peerAddress: '192.0.2.254', holdTime: '9s' },
    } as KubeObject);
    this.controller = new Controller({
      client: c.client,
      clock: systemClock(),
      logger: new RecordingLogger(),
      registry: createMetricsRegistry({ defaultMetrics: false }),
      namespace: this.ns,
      poolStatusDelayMs: 10,
    });
    await this.controller.start();
  }

  async stop(): Promise<void> {
    await this.controller?.stop();
    await this.net?.teardown();
    await this.proxy?.close();
    this.bird?.cleanup();
    await this.c?.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Declares a suite's SpeakerCluster: started before its tests (the tools it needs must be
 * installed, and network namespaces need root: under CI both are failures, not skips) and
 * stopped after them, even when a test failed.
 */
export function useSpeakerCluster(
  ns: string,
  nodeIps: Record<string, string>,
  opts?: ConstructorParameters<typeof SpeakerCluster>[2],
  tools: readonly string[] = ['bird'],
): SpeakerCluster {
  const e = new SpeakerCluster(ns, nodeIps, opts);
  before(async function () {
    for (const t of tools) requireTool(this, t);
    if (!canUseNetns()) {
      if (process.env['CI'] === 'true') throw new Error('netns tests need root');
      this.skip();
    }
    await e.start();
  });
  after(() => e.stop());
  return e;
}
