/** The native addon: AF_PACKET receive (with its BPF filter) and send, in network namespaces. */
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { expect } from 'chai';
import { nativeStatus } from '../../../native/index.js';
import { eventually } from '../../support/apiserver.js';
import { REPO_ROOT } from '../../support/crds.js';
import { useNetns } from '../../support/netns.js';

describe('native addon', function () {
  this.timeout(30_000);

  const netns = useNetns(this, ['arping']);

  it('loads (built by npm install)', () => {
    expect(nativeStatus()).to.deep.equal({ ok: true });
  });

  const probe = (ns: string, ifname: string): { lines: Record<string, unknown>[]; send: (hex: string) => void } => {
    const p = netns().spawn(ns, process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'packet-probe.ts'), ifname], { cwd: REPO_ROOT });
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: p.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
    p.stderr!.on('data', (d: Buffer) => process.stderr.write(`[probe] ${d.toString()}`));
    return { lines, send: (hex) => p.stdin!.write(`${hex}\n`) };
  };

  it('receives ARP requests through its filter, not other traffic, and sends whole frames', async () => {
    const a = netns().add('a');
    const b = netns().add('b');
    const { aIf, bIf } = netns().link(a, ['192.0.2.1/24'], b, ['192.0.2.2/24']);
    const pa = probe(a, aIf);
    await eventually(() => pa.lines.some((l) => l['ready']) || undefined, 'probe ready');
    // An ARP request from b for an address nobody has.
    void netns().spawn(b, 'arping', ['-c', '1', '-w', '1', '-I', bIf, '192.0.2.9']);
    const arp = await eventually(() => pa.lines.find((l) => typeof l['frame'] === 'string' && (l['frame'] as string).slice(24, 28) === '0806'), 'the ARP request at the probe');
    const frame = Buffer.from(arp['frame'] as string, 'hex');
    expect(frame.readUInt16BE(20)).to.equal(1); // ARP opcode request
    expect([...frame.subarray(38, 42)].join('.')).to.equal('192.0.2.9');
    expect(pa.lines.filter((l) => typeof l['frame'] === 'string').every((l) => ['0806', '86dd'].includes((l['frame'] as string).slice(24, 28)))).to.equal(true);
    // Send a frame from b's side and see it arrive at a.
    const pb = probe(b, bIf);
    await eventually(() => pb.lines.some((l) => l['ready']) || undefined, 'probe b ready');
    const before = pa.lines.length;
    // Broadcast gratuitous ARP reply for 192.0.2.77 from 02:00:00:00:00:77 (built by hand).
    const garp = 'ffffffffffff' + '020000000077' + '0806' + '0001 0800 06 04 0002'.replace(/ /g, '') + '020000000077' + 'c000024d' + 'ffffffffffff' + 'c000024d';
    pb.send(garp);
    const got = await eventually(() => pa.lines.slice(before).find((l) => l['frame'] === garp), 'the sent frame at a');
    expect(got).to.not.equal(undefined);
  });
});
