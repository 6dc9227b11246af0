/**
 * The interface exclusion list on real packets: Herald's Layer 2 engine in a node namespace
 * with two links, one renamed `lxc…` as Cilium names its pod-side veths. With the default
 * list the lxc link gets no ARP answer and the other does; with a custom list that excludes
 * the other link instead, the answers swap. An advertisement naming an excluded link still
 * answers there.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { REPO_ROOT } from '../../support/crds.js';
import { useNetns, type Netns } from '../../support/netns.js';

interface Rig {
  readonly net: Netns;
  readonly node: string;
  /** The client namespace behind the lxc link, and its interface. */
  readonly lxcPeer: { ns: string; ifname: string };
  readonly ethPeer: { ns: string; ifname: string };
  readonly lxcMac: string;
  readonly ethMac: string;
}

function rig(net: Netns): Rig {
  const node = net.add('xn');
  const a = net.add('xa');
  const b = net.add('xb');
  const la = net.link(node, ['192.0.2.1/25'], a, ['192.0.2.2/25']);
  const lb = net.link(node, ['198.51.100.1/24'], b, ['198.51.100.2/24']);
  net.exec(node, ['ip', 'link', 'set', la.aIf, 'down']);
  net.exec(node, ['ip', 'link', 'set', la.aIf, 'name', 'lxc1a2b']);
  net.exec(node, ['ip', 'link', 'set', 'lxc1a2b', 'up']);
  const macOf = (ifname: string): string =>
    net
      .exec(node, ['cat', `/sys/class/net/${ifname}/address`])
      .trim()
      .toUpperCase();
  return {
    net,
    node,
    lxcPeer: { ns: a, ifname: la.bIf },
    ethPeer: { ns: b, ifname: lb.bIf },
    lxcMac: macOf('lxc1a2b'),
    ethMac: macOf(lb.aIf),
  };
}

async function startEngine(
  r: Rig,
  owned: Record<string, string[]>,
  exclude?: string[],
): Promise<Record<string, unknown>> {
  const args = [
    '--import',
    'tsx',
    join(REPO_ROOT, 'test', 'support', 'l2-engine.ts'),
    JSON.stringify(owned),
    ...(exclude ? [JSON.stringify(exclude)] : []),
  ];
  const p = r.net.spawn(r.node, process.execPath, args, { cwd: REPO_ROOT });
  const lines: Record<string, unknown>[] = [];
  createInterface({ input: p.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
  p.stderr!.on('data', (d: Buffer) => process.stderr.write(`[l2-engine] ${d.toString()}`));
  return eventually(() => lines.find((l) => l['ready']), 'the engine', 20_000);
}

function arping(peer: { ns: string; ifname: string }, ip: string): { out: string; code: number } {
  const r = spawnSync('ip', ['netns', 'exec', peer.ns, 'arping', '-c', '2', '-w', '2', '-I', peer.ifname, ip], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { out: `${r.stdout}${r.stderr}`.toUpperCase(), code: r.status ?? -1 };
}

function answered(r: { out: string; code: number }, mac: string): void {
  expect(r.code, r.out).to.equal(0);
  expect(r.out).to.include(`[${mac}]`);
}

function silent(r: { out: string; code: number }): void {
  expect(r.code, r.out).to.not.equal(0);
  expect(r.out).to.include('RECEIVED 0 RESPONSE');
}

describe('layer2 engine: excluded interfaces get no ARP answers (netns, arping)', function () {
  this.timeout(60_000);
  const netns = useNetns(this, ['arping']);

  it("by default Cilium's lxc* link is passed over, even when its subnet holds the IP; a named one still answers", async () => {
    const r = rig(netns());
    const ready = await startEngine(r, { '203.0.113.10': [], '192.0.2.20': [], '203.0.113.11': ['lxc1a2b'] });
    const eth = Object.values(ready['owned'] as Record<string, string[]>)[0]!;
    expect(ready['owned']).to.deep.equal({ '203.0.113.10': eth, '192.0.2.20': eth, '203.0.113.11': ['lxc1a2b'] });
    expect(eth).to.not.include('lxc1a2b');
    silent(arping(r.lxcPeer, '203.0.113.10'));
    silent(arping(r.lxcPeer, '192.0.2.20'));
    answered(arping(r.ethPeer, '203.0.113.10'), r.ethMac);
    answered(arping(r.lxcPeer, '203.0.113.11'), r.lxcMac);
  });

  it('a custom list replaces the defaults: the lxc link answers, the excluded one does not', async () => {
    const r = rig(netns());
    const ready = await startEngine(r, { '203.0.113.10': [] }, ['va*']);
    expect(ready['owned']).to.deep.equal({ '203.0.113.10': ['lxc1a2b'] });
    answered(arping(r.lxcPeer, '203.0.113.10'), r.lxcMac);
    silent(arping(r.ethPeer, '203.0.113.10'));
  });
});
