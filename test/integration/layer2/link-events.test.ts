/**
 * Layer 2 through real link events on the node's own interface (not the far end): the link
 * going down and up (a short flap and a long outage), the interface deleted and created
 * again with a new ifindex and MAC, an MTU change. After each, a client that has no cached
 * entry (arping and ndisc6 send their own solicitations) must get its answer from the
 * node's current MAC. Before the addon re-armed reading after a socket error, the first
 * link flap ended reception for good.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { REPO_ROOT } from '../../support/crds.js';
import { run, useNetns, type Netns } from '../../support/netns.js';

type Line = Record<string, unknown>;

/** Runs a command in a namespace without blocking the event loop (the engine's lines keep flowing). */
function inNs(ns: string, args: string[], timeoutMs = 10_000): Promise<{ out: string; code: number }> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ out, code: code ?? -1 });
    });
  });
}

describe("layer2 engine through link events on the node's own interface (netns, arping, ndisc6)", function () {
  this.timeout(60_000);
  const netns = useNetns(this, ['arping', 'ndisc6']);

  const V4 = '192.0.2.10';
  const V6 = '2001:db8::a';

  async function setup(
    net: Netns,
  ): Promise<{ node: string; client: string; nodeIf: string; clientIf: string; lines: Line[] }> {
    const node = net.add('n');
    const client = net.add('c');
    const { aIf, bIf } = net.link(node, ['192.0.2.1/24', '2001:db8::1/64'], client, ['192.0.2.2/24', '2001:db8::2/64']);
    const p = net.spawn(
      node,
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'l2-engine.ts'), JSON.stringify({ [V4]: [], [V6]: [] })],
      { cwd: REPO_ROOT },
    );
    const lines: Line[] = [];
    createInterface({ input: p.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Line));
    p.stderr!.on('data', (d: Buffer) => process.stderr.write(`[l2-engine] ${d.toString()}`));
    const ready = await eventually(() => lines.find((l) => l['ready']), 'the engine', 20_000);
    expect(ready['owned']).to.deep.equal({ [V4]: [aIf], [V6]: [aIf] });
    return { node, client, nodeIf: aIf, clientIf: bIf, lines };
  }

  const macOf = (net: Netns, ns: string, ifname: string): string =>
    net
      .exec(ns, ['cat', `/sys/class/net/${ifname}/address`])
      .trim()
      .toUpperCase();

  /** A fresh client (no neighbour entry) asks for both IPs: each answer must carry `mac`. */
  async function answeredBy(client: string, clientIf: string, mac: string): Promise<void> {
    await inNs(client, ['ip', 'neigh', 'flush', 'dev', clientIf]);
    // The client's own link comes back with the node's: wait until it can send (carrier).
    await eventually(
      async () => (await inNs(client, ['cat', `/sys/class/net/${clientIf}/carrier`])).out.trim() === '1',
      'carrier on the client link',
    );
    const arp = await inNs(client, ['arping', '-c', '2', '-w', '3', '-I', clientIf, V4]);
    expect(arp.out.toUpperCase(), arp.out).to.include(`[${mac}]`);
    const nd = await inNs(client, ['ndisc6', '-1', '-r', '3', '-w', '1000', V6, clientIf]);
    expect(nd.out.toUpperCase(), nd.out).to.include(mac);
  }

  const logged = (lines: Line[], event: string, from = 0): Line | undefined =>
    lines.slice(from).find((l) => l['event'] === event);

  it('keeps answering after a short flap of its own link, and announces again at once', async () => {
    const net = netns();
    const s = await setup(net);
    const mac = macOf(net, s.node, s.nodeIf);
    await answeredBy(s.client, s.clientIf, mac);
    const mark = s.lines.length;
    net.exec(s.node, ['ip', 'link', 'set', s.nodeIf, 'down']);
    net.exec(s.node, ['ip', 'link', 'set', s.nodeIf, 'up']);
    await eventually(() => logged(s.lines, 'linkUp', mark), 'the engine to see the link up');
    await eventually(() => logged(s.lines, 'reannounce', mark), 'the owned IPs announced again');
    await answeredBy(s.client, s.clientIf, mac);
  });

  it('after a long outage of its own link gives its IPs up, then takes them again and answers', async () => {
    const net = netns();
    const s = await setup(net);
    const mac = macOf(net, s.node, s.nodeIf);
    const mark = s.lines.length;
    net.exec(s.node, ['ip', 'link', 'set', s.nodeIf, 'down']);
    // Longer than the grace time: another node could have taken the IPs over.
    const released = await eventually(
      () => s.lines.slice(mark).find((l) => Array.isArray(l['released']) && (l['released'] as string[]).length === 2),
      'the IPs given up while the link is down',
    );
    expect((released['deferred'] as Record<string, { reason: string }>)[V4]?.reason).to.equal('linkDown');
    net.exec(s.node, ['ip', 'link', 'set', s.nodeIf, 'up']);
    const upAt = s.lines.length;
    await eventually(
      () =>
        s.lines
          .slice(upAt)
          .find((l) => (l['deferred'] as Record<string, { reason: string }> | undefined)?.[V4]?.reason === 'rejoining'),
      'nothing taken while rejoining',
    );
    await eventually(
      () => s.lines.slice(upAt).find((l) => Array.isArray(l['taken']) && (l['taken'] as string[]).length === 2),
      'the IPs taken again after the hold',
      10_000,
    );
    await answeredBy(s.client, s.clientIf, mac);
  });

  it('reopens its socket when the interface is deleted and created again (new ifindex and MAC)', async () => {
    const net = netns();
    const s = await setup(net);
    const mark = s.lines.length;
    // Deleting one end of a veth removes both; make the pair again under the same names.
    net.exec(s.node, ['ip', 'link', 'del', s.nodeIf]);
    await eventually(() => logged(s.lines, 'linkRemoved', mark), 'the engine to see the interface go');
    const tmpA = `${net.prefix}ra`;
    const tmpB = `${net.prefix}rb`;
    run('ip', ['link', 'add', tmpA, 'type', 'veth', 'peer', 'name', tmpB]);
    run('ip', ['link', 'set', tmpA, 'netns', s.node, 'name', s.nodeIf]);
    run('ip', ['link', 'set', tmpB, 'netns', s.client, 'name', s.clientIf]);
    for (const [ns, ifc, addrs] of [
      [s.node, s.nodeIf, ['192.0.2.1/24', '2001:db8::1/64']],
      [s.client, s.clientIf, ['192.0.2.2/24', '2001:db8::2/64']],
    ] as const) {
      for (const a of addrs) net.exec(ns, ['ip', 'addr', 'add', a, 'dev', ifc, ...(a.includes(':') ? ['nodad'] : [])]);
      net.exec(ns, ['ip', 'link', 'set', ifc, 'up']);
    }
    const mac = macOf(net, s.node, s.nodeIf);
    await eventually(
      () => s.lines.slice(mark).find((l) => l['event'] === 'listening'),
      'a socket on the new interface',
      10_000,
    );
    await eventually(
      () =>
        s.lines
          .slice(mark)
          .find(
            (l) =>
              (l['owned'] as Record<string, string[]> | undefined)?.[V4]?.length === 1 &&
              (l['owned'] as Record<string, string[]>)[V6]?.length === 1,
          ),
      'both IPs owned on the new interface',
      10_000,
    );
    await answeredBy(s.client, s.clientIf, mac);
  });

  it('keeps answering through an MTU change', async () => {
    const net = netns();
    const s = await setup(net);
    const mac = macOf(net, s.node, s.nodeIf);
    const mark = s.lines.length;
    net.exec(s.node, ['ip', 'link', 'set', s.nodeIf, 'mtu', '1400']);
    await eventually(() => logged(s.lines, 'linkMtu', mark), 'the engine to see the MTU change');
    await answeredBy(s.client, s.clientIf, mac);
  });
});
