/**
 * Interface selection on real packets: Herald's Layer 2 engine on a node with two links
 * answers for each IP only on the interfaces it selected (the advertisement's list, else the
 * links whose subnet holds the IP): arping on an unselected link gets nothing.
 *
 * VLAN sub-interfaces are selected the same way (by name), but cannot be built on these
 * machines: their kernel has neither 802.1Q devices nor bridge VLAN filtering.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { REPO_ROOT } from '../../support/crds.js';
import { useNetns } from '../../support/netns.js';

describe('layer2 engine: only the selected interfaces answer (netns, arping)', function () {
  this.timeout(60_000);
  const netns = useNetns(this, ['arping']);

  it('answers on the named link and on the link whose subnet holds the IP, and is silent elsewhere', async () => {
    const net = netns();
    const node = net.add('n');
    const a = net.add('a');
    const b = net.add('b');
    const la = net.link(node, ['192.0.2.1/25'], a, ['192.0.2.2/25']);
    const lb = net.link(node, ['198.51.100.1/24'], b, ['198.51.100.2/24']);
    const macOf = (ns: string, ifname: string): string =>
      net
        .exec(ns, ['cat', `/sys/class/net/${ifname}/address`])
        .trim()
        .toUpperCase();

    // 203.0.113.10 on the node–a link only (as `interfaces: [va0]` would say);
    // 198.51.100.20 with no list: the link on 198.51.100.0/24, the node–b one.
    const owned = { '203.0.113.10': [la.aIf], '198.51.100.20': [] };
    const p = net.spawn(
      node,
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'l2-engine.ts'), JSON.stringify(owned)],
      { cwd: REPO_ROOT },
    );
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: p.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
    p.stderr!.on('data', (d: Buffer) => process.stderr.write(`[l2-engine] ${d.toString()}`));
    const ready = await eventually(() => lines.find((l) => l['ready']), 'the engine', 20_000);
    expect(ready['owned']).to.deep.equal({ '203.0.113.10': [la.aIf], '198.51.100.20': [lb.aIf] });
    expect(ready['failed']).to.deep.equal({});

    const arping = (ns: string, ifname: string, ip: string): { out: string; code: number } => {
      const r = spawnSync('ip', ['netns', 'exec', ns, 'arping', '-c', '2', '-w', '2', '-I', ifname, ip], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      return { out: `${r.stdout}${r.stderr}`.toUpperCase(), code: r.status ?? -1 };
    };
    const answered = (r: { out: string; code: number }, mac: string): void => {
      expect(r.code, r.out).to.equal(0);
      expect(r.out).to.include(`[${mac}]`);
    };
    const silent = (r: { out: string; code: number }): void => {
      expect(r.code, r.out).to.not.equal(0);
      expect(r.out).to.include('RECEIVED 0 RESPONSE');
    };
    answered(arping(a, la.bIf, '203.0.113.10'), macOf(node, la.aIf));
    silent(arping(b, lb.bIf, '203.0.113.10'));
    answered(arping(b, lb.bIf, '198.51.100.20'), macOf(node, lb.aIf));
    silent(arping(a, la.bIf, '198.51.100.20'));
    // The engine saw requests only on the interfaces it listens on: two answered probes each.
    await eventually(
      () => lines.some((l) => (l['counters'] as { answers?: number } | undefined)?.answers === 4) || undefined,
      'the engine to count 4 answers',
    );
  });
});
