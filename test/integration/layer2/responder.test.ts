/**
 * Real packets: Herald's responder in one namespace answers arping (ARP) and ndisc6 (NDP)
 * from another for addresses the kernel there does not hold, with its own MAC, and stays
 * silent for addresses it does not own.
 */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { REPO_ROOT } from '../../support/crds.js';
import { useNetns } from '../../support/netns.js';
import { spawnSync } from 'node:child_process';

describe('layer2 responder on real packets (netns, arping, ndisc6)', function () {
  this.timeout(30_000);

  const netns = useNetns(this, ['arping', 'ndisc6']);

  it('answers ARP and NS for owned IPs with its MAC, and nothing else', async () => {
    const node = netns().add('n');
    const client = netns().add('c');
    const { aIf, bIf } = netns().link(node, ['192.0.2.1/24', '2001:db8::1/64'], client, [
      '192.0.2.2/24',
      '2001:db8::2/64',
    ]);
    const p = netns().spawn(
      node,
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'l2-responder.ts'), aIf, '192.0.2.10', '2001:db8::a'],
      { cwd: REPO_ROOT },
    );
    const lines: Record<string, string | boolean>[] = [];
    createInterface({ input: p.stdout! }).on('line', (l) =>
      lines.push(JSON.parse(l) as Record<string, string | boolean>),
    );
    p.stderr!.on('data', (d: Buffer) => process.stderr.write(`[responder] ${d.toString()}`));
    const ready = await eventually(() => lines.find((l) => l['ready']), 'responder ready');
    const mac = String(ready['mac']).toUpperCase();
    const inNs = (args: string[]): { out: string; code: number } => {
      const r = spawnSync('ip', ['netns', 'exec', client, ...args], { encoding: 'utf8', timeout: 10_000 });
      return { out: `${r.stdout}${r.stderr}`, code: r.status ?? -1 };
    };
    const arp = inNs(['arping', '-c', '1', '-w', '2', '-I', bIf, '192.0.2.10']);
    expect(arp.out.toUpperCase()).to.include(`[${mac}]`);
    expect(arp.code).to.equal(0);
    const nd = inNs(['ndisc6', '-1', '-r', '2', '-w', '1000', '2001:db8::a', bIf]);
    expect(nd.out.toUpperCase()).to.include(mac);
    // (spawnSync held this event loop: the responder's lines are read now.)
    await eventually(
      () =>
        (lines.some((l) => l['answered'] === '192.0.2.10') && lines.some((l) => l['answered'] === '2001:db8::a')) ||
        undefined,
      'the responder to report both answers',
    );
    const none = inNs(['arping', '-c', '1', '-w', '1', '-I', bIf, '192.0.2.11']);
    expect(none.code).to.not.equal(0);
    await eventually(
      () => lines.some((l) => l['noAnswer'] === 'notOwned') || undefined,
      'the decision for a foreign IP',
    );
  });
});
