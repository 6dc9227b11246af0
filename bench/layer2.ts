/**
 * Layer 2 figures on real packets, in network namespaces:
 *  1. ARP reply RTT seen by arping (N probes) against Herald's responder and, in the same
 *     run, against the kernel answering for an address configured on the interface;
 *  2. failover: T trials of SIGKILLing the owner's speaker (3 speakers, controller, embedded
 *     API server) -> the first gratuitous ARP from the new owner seen by tcpdump in the
 *     client namespace;
 *  3. link-up: F flaps of the owner's own eth0, short and long -> the first correct ARP
 *     answer at a client (bench/layer2-linkup.ts).
 *
 *   sudo npx tsx bench/layer2.ts [--probes 200] [--trials 20] [--flaps 20] [--only rtt|failover|linkup]
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Controller } from '../controller/controller.js';
import { electOwner } from '../speaker/election.js';
import { applyObjects, startApiServer } from '../lab/apiserver/index.js';
import { Netns } from '../lab/netns.js';
import { systemClock } from '../src/core/clock.js';
import { RecordingLogger } from '../src/core/logger.js';
import {
  ENDPOINT_SLICES,
  KubeClient,
  NAMESPACES,
  NODES,
  SERVICES,
  heraldResource,
  type KubeObject,
} from '../src/k8s/index.js';
import { createMetricsRegistry } from '../src/metrics.js';
import { loadCrds, REPO_ROOT } from '../test/support/crds.js';
import { startTcpdump } from '../test/support/tcpdump.js';
import { arg, pct, sleep } from './support/common.js';
import { linkUpBench } from './layer2-linkup.js';

/** One arping per probe (its interval is whole seconds): each prints the reply's RTT. */
function arpingRtts(ns: string, ip: string, probes: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < probes; i++) {
    const r = spawnSync('ip', ['netns', 'exec', ns, 'arping', '-c', '1', '-w', '1', '-I', 'eth0', ip], {
      encoding: 'utf8',
    });
    const m = / ([\d.]+)ms/.exec(r.stdout);
    if (m) out.push(Number(m[1]));
  }
  return out;
}

async function rttBench(probes: number): Promise<string[]> {
  const net = new Netns('bl2');
  try {
    const lan = net.add('lan');
    net.bridge(lan);
    const node = net.add('node');
    net.attach(lan, node, ['192.0.2.1/24', '192.0.2.20/24']);
    const client = net.add('cli');
    net.attach(lan, client, ['192.0.2.200/24']);
    net.exec(node, ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1']);
    const responder = net.spawn(
      node,
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'l2-responder.ts'), 'eth0', '192.0.2.10'],
      { cwd: REPO_ROOT },
    );
    await new Promise<void>((resolve) =>
      createInterface({ input: responder.stdout! }).on('line', (l) => (l.includes('"ready"') ? resolve() : undefined)),
    );
    const herald = arpingRtts(client, '192.0.2.10', probes);
    const kernel = arpingRtts(client, '192.0.2.20', probes);
    const line = (name: string, xs: number[]): string =>
      `  ${name.padEnd(22)} replies ${String(xs.length).padStart(4)}/${probes}   p50 ${pct(xs, 50).toFixed(3)} ms   p99 ${pct(xs, 99).toFixed(3)} ms`;
    return [
      'ARP reply RTT seen by arping (client namespace -> node namespace over a bridge):',
      line('Herald responder', herald),
      line('kernel (reference)', kernel),
      `  ratio p50 ${(pct(herald, 50) / pct(kernel, 50)).toFixed(2)}x   p99 ${(pct(herald, 99) / pct(kernel, 99)).toFixed(2)}x`,
    ];
  } finally {
    await net.teardown();
  }
}

async function failoverBench(trials: number): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bl2-'));
  const sock = join(dir, 'api.sock');
  const server = await startApiServer({ unixSocket: sock });
  const net = new Netns('bfo');
  const client = KubeClient.fromString(server.kubeconfig());
  const nodes = ['node-a', 'node-b', 'node-c'];
  const speakers = new Map<string, ChildProcess>();
  let controller: Controller | undefined;
  try {
    applyObjects(
      server.core,
      loadCrds().map((c) => {
        const o: Record<string, unknown> = { ...c };
        delete o['file'];
        return o;
      }),
    );
    await client.create(NAMESPACES, { metadata: { name: 'herald-system' } });
    const lan = net.add('lan');
    net.bridge(lan);
    const cli = net.add('cli');
    net.attach(lan, cli, ['192.0.2.200/24']);
    const kc = join(dir, 'kc');
    writeFileSync(kc, server.kubeconfig().replace(`127.0.0.1:${new URL(server.url).port}`, '127.0.0.1:6443'));
    const macs = new Map<string, string>();
    const start = (n: string): void => {
      const p = net.spawn(
        net.name(n),
        process.execPath,
        [
          join(REPO_ROOT, 'bin', 'herald.js'),
          'speaker',
          '--kubeconfig',
          kc,
          '--node',
          n,
          '--metrics-port',
          '0',
          '--metrics-host',
          '127.0.0.1',
          '--log-level',
          'error',
        ],
        { cwd: REPO_ROOT },
      );
      p.stdout!.resume();
      p.stderr!.resume();
      speakers.set(n, p);
    };
    for (const [i, n] of nodes.entries()) {
      const ns = net.add(n);
      net.attach(lan, ns, [`192.0.2.${i + 1}/24`]);
      macs.set(net.exec(ns, ['cat', '/sys/class/net/eth0/address']).trim(), n);
      await client.create(NODES, {
        metadata: { name: n },
        status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${i + 1}` }] },
      });
      net
        .spawn(ns, process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'lab', 'ns-forwarder.ts'), '6443', sock], {
          cwd: REPO_ROOT,
        })
        .stdout!.resume();
      start(n);
    }
    await client.create(heraldResource('IPAddressPool'), {
      metadata: { name: 'lan', namespace: 'herald-system' },
      spec: { addresses: ['192.0.2.64/28'] },
    } as KubeObject);
    await client.create(heraldResource('L2Advertisement'), {
      metadata: { name: 'lan', namespace: 'herald-system' },
      spec: {},
    } as KubeObject);
    controller = new Controller({
      client,
      clock: systemClock(),
      logger: new RecordingLogger(),
      registry: createMetricsRegistry({ defaultMetrics: false }),
      namespace: 'herald-system',
    });
    await controller.start();
    await client.create(SERVICES, {
      metadata: { name: 'web', namespace: 'default' },
      spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
    });
    await client.create(ENDPOINT_SLICES, {
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: nodes.map((n, i) => ({ addresses: [`192.0.2.${i + 1}`], nodeName: n, conditions: { ready: true } })),
      ports: [{ port: 80 }],
    } as KubeObject);
    let ip: string | undefined;
    while (!ip) {
      ip = (
        (await client.get(SERVICES, 'default', 'web'))['status'] as { loadBalancer?: { ingress?: { ip: string }[] } }
      ).loadBalancer?.ingress?.[0]?.ip;
      if (!ip) await sleep(100);
    }
    const times: number[] = [];
    for (let t = 0; t < trials; t++) {
      // Settled: all three speakers up and exactly the elected owner reporting the Service.
      const owner = electOwner(
        ip,
        nodes.map((node) => ({ node, weight: 0 })),
      ).owner!;
      let settled = false;
      for (let i = 0; i < 300 && !settled; i++) {
        const st = (await client.list(heraldResource('ServiceL2Status'), { namespace: 'herald-system' })).items.map(
          (o) => (o['status'] as { node?: string } | undefined)?.node,
        );
        settled = st.length === 1 && st[0] === owner;
        if (!settled) await sleep(100);
      }
      if (!settled) continue;
      await sleep(1500); // past the owner's own announcement repeats' start
      const tcpdump = (await startTcpdump(cli, ['-l', '-n', '-e', '-tt', '-i', 'eth0', 'arp'])).proc;
      const killedAt = Date.now() / 1000;
      speakers.get(owner)!.kill('SIGKILL');
      const seen = await new Promise<number | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), 10_000);
        createInterface({ input: tcpdump.stdout! }).on('line', (l) => {
          // A broadcast ARP about the service IP from another node's MAC: the new owner's announcement.
          const m = /^([\d.]+) ([0-9a-f:]{17}) > ff:ff:ff:ff:ff:ff/.exec(l);
          if (!m) return;
          const from = macs.get(m[2]!);
          if (from && from !== owner && l.includes(` ${ip}`) && Number(m[1]) >= killedAt) {
            clearTimeout(timer);
            resolve(Number(m[1]) - killedAt);
          }
        });
      });
      tcpdump.kill();
      if (seen !== undefined) times.push(seen * 1000);
      start(owner);
    }
    return [
      `failover (SIGKILL the owner -> first gratuitous ARP from the new owner at the client), ${times.length}/${trials} trials:`,
      `  p50 ${pct(times, 50).toFixed(0)} ms   p99 ${pct(times, 99).toFixed(0)} ms   min ${Math.min(...times).toFixed(0)} ms   max ${Math.max(...times).toFixed(0)} ms`,
    ];
  } finally {
    await controller?.stop();
    await net.teardown();
    client.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const probes = arg('probes', 200);
const trials = arg('trials', 20);
const flaps = arg('flaps', 20);
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
const lines = [
  `herald bench layer2 (node ${process.version})`,
  ...(!only || only === 'rtt' ? await rttBench(probes) : []),
  ...(!only || only === 'failover' ? await failoverBench(trials) : []),
  ...(!only || only === 'linkup' ? await linkUpBench(flaps) : []),
];
process.stdout.write(`${lines.join('\n')}\n`);
