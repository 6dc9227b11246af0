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
    const p = netns().spawn(
      ns,
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'packet-probe.ts'), ifname],
      { cwd: REPO_ROOT },
    );
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
    const arp = await eventually(
      () => pa.lines.find((l) => typeof l['frame'] === 'string' && (l['frame'] as string).slice(24, 28) === '0806'),
      'the ARP request at the probe',
    );
    const frame = Buffer.from(arp['frame'] as string, 'hex');
    expect(frame.readUInt16BE(20)).to.equal(1); // ARP opcode request
    expect([...frame.subarray(38, 42)].join('.')).to.equal('192.0.2.9');
    expect(
      pa.lines
        .filter((l) => typeof l['frame'] === 'string')
        .every((l) => ['0806', '86dd'].includes((l['frame'] as string).slice(24, 28))),
    ).to.equal(true);
    // Send a frame from b's side and see it arrive at a.
    const pb = probe(b, bIf);
    await eventually(() => pb.lines.some((l) => l['ready']) || undefined, 'probe b ready');
    const before = pa.lines.length;
    // Broadcast gratuitous ARP reply for 192.0.2.77 from 02:00:00:00:00:77 (built by hand).
    const garp =
      'ffffffffffff' +
      '020000000077' +
      '0806' +
      '0001 0800 06 04 0002'.replace(/ /g, '') +
      '020000000077' +
      'c000024d' +
      'ffffffffffff' +
      'c000024d';
    pb.send(garp);
    const got = await eventually(() => pa.lines.slice(before).find((l) => l['frame'] === garp), 'the sent frame at a');
    expect(got).to.not.equal(undefined);
  });

  it('reports the socket error of a link going down and keeps receiving once it is up again', async () => {
    const a = netns().add('a');
    const b = netns().add('b');
    const { aIf, bIf } = netns().link(a, ['192.0.2.1/24'], b, ['192.0.2.2/24']);
    const pa = probe(a, aIf);
    await eventually(() => pa.lines.some((l) => l['ready']) || undefined, 'probe ready');
    netns().exec(a, ['ip', 'link', 'set', aIf, 'down']);
    const err = await eventually(() => pa.lines.find((l) => typeof l['error'] === 'string'), 'the socket error');
    expect(err['error']).to.equal('Network is down');
    netns().exec(a, ['ip', 'link', 'set', aIf, 'up']);
    await eventually(
      () =>
        netns()
          .exec(b, ['cat', `/sys/class/net/${bIf}/carrier`])
          .trim() === '1' || undefined,
      'carrier',
    );
    const before = pa.lines.length;
    void netns().spawn(b, 'arping', ['-c', '2', '-w', '2', '-I', bIf, '192.0.2.9']);
    await eventually(
      () =>
        pa.lines
          .slice(before)
          .find((l) => typeof l['frame'] === 'string' && (l['frame'] as string).slice(24, 28) === '0806'),
      'an ARP request received after the link came back',
    );
  });

  it('follows links through netlink: down, up, MTU, addresses, deleted and created again', async () => {
    const a = netns().add('a');
    const b = netns().add('b');
    const { aIf } = netns().link(a, ['192.0.2.1/24'], b, ['192.0.2.2/24']);
    const p = netns().spawn(
      a,
      process.execPath,
      ['--import', 'tsx', join(REPO_ROOT, 'test', 'support', 'netlink-probe.ts')],
      { cwd: REPO_ROOT },
    );
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: p.stdout! }).on('line', (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
    p.stderr!.on('data', (d: Buffer) => process.stderr.write(`[netlink] ${d.toString()}`));
    const ready = await eventually(() => lines.find((l) => l['ready']), 'the first dump');
    expect(
      (ready['links'] as { name: string; up: boolean; mtu: number }[]).map((l) => [l.name, l.up, l.mtu]),
    ).to.deep.equal([[aIf, true, 1500]]);
    const seen = (kind: string, from: number): Promise<Record<string, unknown>> =>
      eventually(() => lines.slice(from).find((l) => l['kind'] === kind && l['name'] === aIf), `${kind} ${aIf}`);
    let mark = lines.length;
    netns().exec(a, ['ip', 'link', 'set', aIf, 'down']);
    expect((await seen('down', mark))['up']).to.equal(false);
    mark = lines.length;
    netns().exec(a, ['ip', 'link', 'set', aIf, 'up']);
    expect((await seen('up', mark))['up']).to.equal(true);
    mark = lines.length;
    netns().exec(a, ['ip', 'link', 'set', aIf, 'mtu', '1400']);
    expect((await seen('mtu', mark))['mtu']).to.equal(1400);
    mark = lines.length;
    netns().exec(a, ['ip', 'addr', 'add', '198.51.100.1/24', 'dev', aIf]);
    expect((await seen('addresses', mark))['addrs']).to.equal(2);
    mark = lines.length;
    netns().exec(a, ['ip', 'link', 'del', aIf]);
    await seen('removed', mark);
    mark = lines.length;
    netns().exec(a, ['ip', 'link', 'add', aIf, 'type', 'veth', 'peer', 'name', 'vz0']);
    await seen('added', mark);
  });
});
