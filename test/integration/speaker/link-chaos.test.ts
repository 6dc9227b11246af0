/**
 * Link chaos on real packets: three speakers (test/support/speaker-cluster.ts) answer for
 * four Layer 2 Service IPs while the test flaps links at random, one at a time — a node's
 * own eth0 (what a cable pull or NIC reset looks like to the speaker) or its bridge-side
 * port (what the rest of the LAN sees as the node vanishing) — for short and long outages,
 * and the client keeps asking for every IP with arping. tcpdump on the client records every
 * ARP frame. Then:
 *   - every gratuitous ARP and every ARP reply for a Service IP came from a node that was
 *     that IP's owner (the election over the nodes whose links were both up) at some moment
 *     of the few seconds before it (membership needs that long to notice a change);
 *   - once the links are left alone, each IP is answered by exactly its owner.
 * Seeded (HERALD_CHAOS_SEED replays a run; a failure prints the seed).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { electOwner } from '../../../speaker/election.js';
import { ENDPOINT_SLICES, EVENTS, SERVICES, heraldResource, type KubeObject } from '../../../src/k8s/index.js';
import { eventually } from '../../support/apiserver.js';
import type { KubeCluster } from '../../support/kube-cluster.js';
import { canUseNetns, type Netns } from '../../support/netns.js';
import { readPcapTimed } from '../../support/pcap.js';
import { SpeakerCluster } from '../../support/speaker-cluster.js';
import { startTcpdump, type Tcpdump } from '../../support/tcpdump.js';
import { requireTool } from '../../support/tools.js';

const NS = 'herald-system';
const NODE_IPS: Record<string, string> = { 'node-a': '192.0.2.1', 'node-b': '192.0.2.2', 'node-c': '192.0.2.3' };
const NODES = Object.keys(NODE_IPS);
const FLAPS = 50;
/** How long after a link change a node may still (or already) act on the old (or new) ownership. */
const SETTLE_WINDOW_MS = 4000;

/** A small seeded generator (Park–Miller), so a run can be replayed. */
function seeded(seed: number): () => number {
  let s = seed % 2147483647 || 1;
  return () => {
    s = (s * 16807) % 2147483647;
    return (s - 1) / 2147483646;
  };
}

/** An address no one holds: the client's last ARP request, to know the capture has caught up. */
const MARKER_IP = '192.0.2.199';
/** The chaos itself: how long a link stays down or up (a scenario, not a synchronisation). */
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Layer 2 link chaos: 3 nodes, 50 random link flaps, every announcement from the owner (netns, arping, tcpdump)', function () {
  this.timeout(600_000);
  const e = new SpeakerCluster(NS, NODE_IPS);
  let net: Netns;
  let c: KubeCluster;
  let dir = '';
  let dump: Tcpdump | undefined;

  before(async function () {
    requireTool(this, 'bird');
    requireTool(this, 'arping');
    requireTool(this, 'tcpdump');
    if (!canUseNetns()) {
      if (process.env['CI'] === 'true') throw new Error('netns tests need root');
      this.skip();
    }
    await e.start();
    [net, c] = [e.net!, e.c!];
    dir = mkdtempSync(join(tmpdir(), 'herald-chaos-'));
  });

  afterEach(function () {
    // The speakers' logs of a failed run, for whoever replays it.
    if (this.currentTest?.state !== 'failed') return;
    for (const n of NODES) writeFileSync(join(tmpdir(), `herald-chaos-${n}.log`), e.logs[n] ?? '');
    process.stderr.write(`      speaker logs: ${join(tmpdir(), 'herald-chaos-<node>.log')}\n`);
  });

  after(async () => {
    dump?.proc.kill('SIGKILL');
    await e.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every IP answered by its owner only, and never announces from a non-owner', async () => {
    const seed = Number(process.env['HERALD_CHAOS_SEED'] ?? Date.now() % 1_000_000);
    const random = seeded(seed);
    const label = `link chaos seed ${seed} (HERALD_CHAOS_SEED=${seed} replays it)`;
    const client = net.name('cli');
    const macToNode = new Map(NODES.map((n) => [e.macs[n]!, n]));

    // Four Services in the L2 pool, endpoints everywhere (any node may own them).
    const ips: string[] = [];
    for (let i = 0; i < 4; i++) {
      const name = `chaos-${i}`;
      await c.client.create(SERVICES, {
        metadata: { name, namespace: 'default' },
        spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80 }] },
      });
      await c.client.create(ENDPOINT_SLICES, {
        metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        endpoints: NODES.map((n) => ({ addresses: [NODE_IPS[n]!], nodeName: n, conditions: { ready: true } })),
        ports: [{ port: 80 }],
      } as KubeObject);
      ips.push(
        await eventually(
          async () =>
            (
              (await c.client.get(SERVICES, 'default', name))['status'] as {
                loadBalancer?: { ingress?: { ip: string }[] };
              }
            ).loadBalancer?.ingress?.[0]?.ip,
          `${name} to get an address`,
        ),
      );
    }
    const ownerOf = (ip: string, up: ReadonlySet<string>): string | undefined =>
      electOwner(
        ip,
        NODES.filter((n) => up.has(n)).map((node) => ({ node, weight: 0 })),
      ).owner;

    /** arping from the client: the MACs that answered, upper case. */
    const ask = (ip: string, count = 1): Promise<string[]> =>
      new Promise((resolve) => {
        const p = spawn(
          'ip',
          ['netns', 'exec', client, 'arping', '-c', String(count), '-w', String(count + 1), '-I', 'eth0', ip],
          { stdio: ['ignore', 'pipe', 'ignore'] },
        );
        let out = '';
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.on('close', () =>
          resolve([...new Set([...out.toUpperCase().matchAll(/\[([0-9A-F:]{17})\]/g)].map((m) => m[1]!))]),
        );
      });
    const answeredOnlyBy = async (ip: string, node: string): Promise<boolean> => {
      const macs = await ask(ip, 2);
      return macs.length === 1 && macToNode.get(macs[0]!) === node;
    };

    // Before the chaos: every IP is answered by its owner only.
    for (const ip of ips)
      await eventually(
        () => answeredOnlyBy(ip, ownerOf(ip, new Set(NODES))!),
        `${ip} answered by its owner only (${label})`,
        60_000,
        200,
      );

    const pcap = join(dir, 'client.pcap');
    dump = await startTcpdump(client, ['-U', '-n', '-i', 'eth0', '-w', pcap, 'arp']);

    // The probes: the client keeps asking for every IP (its neighbour table flushed each round).
    let probing = true;
    let rounds = 0;
    const prober = (async () => {
      while (probing) {
        await new Promise<void>((r) =>
          spawn('ip', ['netns', 'exec', client, 'ip', 'neigh', 'flush', 'dev', 'eth0']).on('close', () => r()),
        );
        await Promise.all(ips.map((ip) => ask(ip)));
        rounds++;
      }
    })();

    // Ground truth: when each node's links (own and bridge side) were up.
    const down = new Map<string, Set<'own' | 'bridge'>>(NODES.map((n) => [n, new Set()]));
    const history: { at: number; up: Set<string> }[] = [{ at: Date.now(), up: new Set(NODES) }];
    const record = (): void =>
      void history.push({ at: Date.now(), up: new Set(NODES.filter((n) => down.get(n)!.size === 0)) });
    const flaps: string[] = [];
    for (let i = 0; i < FLAPS; i++) {
      const node = NODES[Math.floor(random() * NODES.length)]!;
      const side = random() < 0.5 ? 'own' : 'bridge';
      const [ns, ifname] = side === 'own' ? [net.name(node.replace('node-', 'n')), 'eth0'] : [e.lanNs, e.ports[node]!];
      // Short flaps (no one notices) and outages long enough for another node to take over.
      const outage = random() < 0.4 ? 100 + random() * 300 : 700 + random() * 1100;
      flaps.push(`${node} ${side} ${Math.round(outage)} ms`);
      net.exec(ns, ['ip', 'link', 'set', ifname, 'down']);
      down.get(node)!.add(side);
      record();
      await pause(outage);
      net.exec(ns, ['ip', 'link', 'set', ifname, 'up']);
      down.get(node)!.delete(side);
      record();
      await pause(300 + random() * 1200);
    }
    const chaosEnd = Date.now();

    // Left alone: each IP answered by exactly its owner, everyone up.
    for (const ip of ips)
      await eventually(
        () => answeredOnlyBy(ip, ownerOf(ip, new Set(NODES))!),
        `${ip} answered by its owner only after the chaos (${label}; flaps: ${flaps.join(', ')})`,
        30_000,
        200,
      );
    probing = false;
    await prober;
    // tcpdump -U writes each packet as it reads it, in order: once a marker ARP the client sends
    // after the last probe is in the file, every packet before it is too.
    await ask(MARKER_IP);
    await eventually(
      () =>
        readPcapTimed(pcap).some(
          ({ frame }) => frame.readUInt16BE(12) === 0x0806 && frame.subarray(38, 42).join('.') === MARKER_IP,
        ) || undefined,
      'the marker ARP in the capture',
    );
    await dump.stop();

    // Every gratuitous ARP and ARP reply for a Service IP: from an owner of that IP within the window before it.
    const upAt = (t: number): Set<string> => [...history].reverse().find((h) => h.at <= t)?.up ?? new Set(NODES);
    const ownersNear = (ip: string, t: number): Set<string> => {
      const owners = new Set<string>();
      const o = ownerOf(ip, upAt(t - SETTLE_WINDOW_MS));
      if (o) owners.add(o);
      for (const h of history)
        if (h.at > t - SETTLE_WINDOW_MS && h.at <= t) {
          const x = ownerOf(ip, h.up);
          if (x) owners.add(x);
        }
      return owners;
    };
    const bad: string[] = [];
    let gratuitous = 0;
    let replies = 0;
    for (const { ms, frame } of readPcapTimed(pcap)) {
      if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0806) continue;
      const op = frame.readUInt16BE(20);
      const senderMac = [...frame.subarray(22, 28)]
        .map((b) => b.toString(16).padStart(2, '0'))
        .join(':')
        .toUpperCase();
      const senderIp = [...frame.subarray(28, 32)].join('.');
      const targetIp = [...frame.subarray(38, 42)].join('.');
      if (!ips.includes(senderIp)) continue;
      const isGratuitous = senderIp === targetIp;
      if (!isGratuitous && op !== 2) continue;
      if (isGratuitous) gratuitous++;
      else replies++;
      const node = macToNode.get(senderMac) ?? senderMac;
      const owners = ownersNear(senderIp, ms);
      if (!owners.has(node))
        bad.push(
          `${new Date(ms).toISOString()} ${isGratuitous ? 'gratuitous ARP' : 'reply'} for ${senderIp} from ${node} (owners then: ${[...owners].join(', ') || 'none'})`,
        );
    }
    process.stderr.write(
      `      ${label}: ${FLAPS} flaps in ${Math.round((chaosEnd - history[0]!.at) / 1000)} s, ${rounds} probe rounds, ${gratuitous} gratuitous ARPs and ${replies} replies checked\n`,
    );
    expect(bad, `${label}; flaps: ${flaps.join(', ')}`).to.deep.equal([]);
    // Only true things were said: a node cut off wrote no Warning about interfaces (they all
    // exist), and every ServiceL2Status names the interface really answered on.
    const warnings = (await c.client.list(EVENTS, { namespace: 'default' })).items.filter(
      (ev) => ev['type'] === 'Warning' && String(ev['reason']).startsWith('announce'),
    );
    expect(
      warnings.map((ev) => ev['message']),
      label,
    ).to.deep.equal([]);
    const statuses = (await c.client.list(heraldResource('ServiceL2Status'), { namespace: NS })).items.map(
      (o) => o['status'] as { interfaces?: { name: string }[] } | undefined,
    );
    expect(statuses.length).to.be.greaterThan(0);
    for (const st of statuses) expect(st?.interfaces, label).to.deep.equal([{ name: 'eth0' }]);
    expect(gratuitous, 'gratuitous ARPs captured').to.be.greaterThan(0);
    expect(replies, 'replies captured').to.be.greaterThan(0);
  });
});
