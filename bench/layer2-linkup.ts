/**
 * Time from a node's own link coming back up to the first correct ARP answer at a client,
 * with three speakers (test/support/speaker-cluster.ts). The client asks for the Service IP
 * every 10 ms through an AF_PACKET socket (test/support/packet-probe.ts: no neighbour cache,
 * no arping interval floor) and notes which MAC answers when. Two kinds of flap of the
 * owner's eth0:
 *   - short (200 ms, under the 500 ms grace and the failure-detection time): nobody else takes over; the figure
 *     is link-up -> the owner's answer;
 *   - long (2 s): another node takes the IP over while it is down; the figures are link-up ->
 *     the first answer from any node (the client is served again) and link-up -> the elected
 *     owner answering again (back to where it was before the outage).
 */
import { createInterface } from 'node:readline';
import { electOwner } from '../speaker/election.js';
import { buildArp } from '../speaker/layer2/arp.js';
import { ENDPOINT_SLICES, SERVICES, type KubeObject } from '../src/k8s/index.js';
import { parseIP } from '../src/net/ip.js';
import { parseMAC } from '../src/net/mac.js';
import { REPO_ROOT } from '../test/support/crds.js';
import { SpeakerCluster } from '../test/support/speaker-cluster.js';
import { join } from 'node:path';
import { pct, sleep } from './support/common.js';

const NODE_IPS: Record<string, string> = { 'node-a': '192.0.2.1', 'node-b': '192.0.2.2', 'node-c': '192.0.2.3' };
const CLIENT_MAC = '02:00:00:00:02:c8';

export async function linkUpBench(flaps: number): Promise<string[]> {
  const e = new SpeakerCluster('herald-system', NODE_IPS);
  try {
    await e.start();
    const net = e.net!;
    const c = e.c!;
    const nodes = Object.keys(NODE_IPS);
    await c.client.create(SERVICES, {
      metadata: { name: 'web', namespace: 'default' },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    await c.client.create(ENDPOINT_SLICES, {
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: nodes.map((n) => ({ addresses: [NODE_IPS[n]!], nodeName: n, conditions: { ready: true } })),
      ports: [{ port: 80 }],
    } as KubeObject);
    let ip: string | undefined;
    while (!ip) {
      ip = (
        (await c.client.get(SERVICES, 'default', 'web'))['status'] as { loadBalancer?: { ingress?: { ip: string }[] } }
      ).loadBalancer?.ingress?.[0]?.ip;
      if (!ip) await sleep(100);
    }
    const owner = electOwner(
      ip,
      nodes.map((node) => ({ node, weight: 0 })),
    ).owner!;
    const ownerNs = net.name(owner.replace('node-', 'n'));
    const macToNode = new Map(nodes.map((n) => [e.macs[n]!.toLowerCase(), n]));

    // The prober: one who-has every 10 ms; answers noted with the time they arrived.
    const cli = net.name('cli');
    const probe = net.spawn(
      cli,
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'packet-probe.ts'), 'eth0'],
      { cwd: REPO_ROOT },
    );
    const answers: { at: number; node: string }[] = [];
    await new Promise<void>((resolve) =>
      createInterface({ input: probe.stdout! }).on('line', (l) => {
        const m = JSON.parse(l) as { ready?: boolean; frame?: string };
        if (m.ready) resolve();
        if (!m.frame) return;
        const f = Buffer.from(m.frame, 'hex');
        if (
          f.length < 42 ||
          f.readUInt16BE(12) !== 0x0806 ||
          f.readUInt16BE(20) !== 2 ||
          [...f.subarray(28, 32)].join('.') !== ip
        )
          return;
        const mac = [...f.subarray(22, 28)].map((b) => b.toString(16).padStart(2, '0')).join(':');
        answers.push({ at: performance.now(), node: macToNode.get(mac) ?? mac });
      }),
    );
    const request = buildArp({
      op: 1,
      ethDst: Buffer.alloc(6, 0xff),
      senderMac: parseMAC(CLIENT_MAC),
      senderIP: parseIP('192.0.2.200'),
      targetMac: Buffer.alloc(6),
      targetIP: parseIP(ip),
    }).toString('hex');
    const asking = setInterval(() => probe.stdin!.write(`${request}\n`), 10);

    const firstAfter = async (
      t: number,
      who: (node: string) => boolean,
      timeoutMs = 15_000,
    ): Promise<number | undefined> => {
      const end = performance.now() + timeoutMs;
      for (;;) {
        const a = answers.find((x) => x.at >= t && who(x.node));
        if (a) return a.at - t;
        if (performance.now() > end) return undefined;
        await sleep(5);
      }
    };
    /** Settled: for the last 500 ms only the owner answered. */
    const settled = async (): Promise<void> => {
      for (;;) {
        const since = performance.now() - 500;
        const recent = answers.filter((a) => a.at >= since);
        if (recent.length > 20 && recent.every((a) => a.node === owner)) return;
        await sleep(100);
      }
    };

    const short: number[] = [];
    const longAny: number[] = [];
    const longOwner: number[] = [];
    let lost = 0;
    for (let i = 0; i < flaps; i++) {
      await settled();
      net.exec(ownerNs, ['ip', 'link', 'set', 'eth0', 'down']);
      await sleep(200);
      net.exec(ownerNs, ['ip', 'link', 'set', 'eth0', 'up']);
      const up = performance.now();
      const t = await firstAfter(up, (n) => n === owner);
      if (t === undefined) lost++;
      else short.push(t);
    }
    for (let i = 0; i < flaps; i++) {
      await settled();
      net.exec(ownerNs, ['ip', 'link', 'set', 'eth0', 'down']);
      // Until another node answers: it took the IP over.
      await firstAfter(performance.now(), (n) => n !== owner);
      await sleep(2000);
      net.exec(ownerNs, ['ip', 'link', 'set', 'eth0', 'up']);
      const up = performance.now();
      const any = await firstAfter(up, () => true);
      const back = await firstAfter(up, (n) => n === owner);
      if (any === undefined || back === undefined) lost++;
      else {
        longAny.push(any);
        longOwner.push(back);
      }
    }
    clearInterval(asking);
    const fmt = (xs: number[]): string =>
      `p50 ${pct(xs, 50).toFixed(0)} ms   p99 ${pct(xs, 99).toFixed(0)} ms   max ${Math.max(...xs).toFixed(0)} ms`;
    return [
      `link-up -> first correct ARP answer at a client asking every 10 ms (3 speakers, the owner's own eth0 flapped), ${flaps} flaps each:`,
      `  short flap (200 ms), the owner answers again:            ${fmt(short)}`,
      `  long outage (2 s, another node took over), any answer:   ${fmt(longAny)}`,
      `  long outage, the elected owner answers again:            ${fmt(longOwner)}`,
      `  flaps without an answer within 15 s: ${lost}`,
    ];
  } finally {
    await e.stop();
  }
}
