/**
 * Herald's Layer 2 codec against frames captured from Linux, arping and ndisc6
 * (test/fixtures/frames/README.md): each decodes as what it is, and Herald's answers to the
 * ARP request and the Neighbor Solicitation are byte for byte the kernel's own replies.
 */
import { join } from 'node:path';
import { expect } from 'chai';
import { formatIP, parseIP } from '../../../../src/net/ip.js';
import { parseMAC } from '../../../../src/net/mac.js';
import { parseFrame, type Layer2Packet } from '../../../../speaker/layer2/frames.js';
import { decide } from '../../../../speaker/layer2/responder.js';
import { REPO_ROOT } from '../../../support/crds.js';
import { readPcap } from '../../../support/pcap.js';

const NODE_MAC = parseMAC('02:00:00:00:00:01');
const CLIENT_MAC = parseMAC('02:00:00:00:00:02');
const frames = readPcap(join(REPO_ROOT, 'test', 'fixtures', 'frames', 'linux-arp-ndp.pcap'));

function packet(i: number): Layer2Packet {
  const r = parseFrame(frames[i]!);
  if (!r.ok) throw new Error(`frame ${i + 1}: ${r.reason} ${r.detail}`);
  return r.packet;
}

/** The node owns the addresses the kernel answered for, on its interface. */
const owned = new Map([
  ['192.0.2.1', new Set(['eth0'])],
  ['2001:db8::1', new Set(['eth0'])],
  ['2001:db8::3', new Set(['eth0'])],
]);

describe('layer2: codec against captured Linux frames', () => {
  it('holds the nine frames of the capture', () => {
    expect(frames.length).to.equal(9);
  });

  it('decodes the ARP request and answers it exactly as the Linux kernel did', () => {
    const p = packet(0);
    expect(p).to.include({ kind: 'arp', op: 1 });
    if (p.kind !== 'arp') return;
    expect(formatIP(p.senderIP)).to.equal('192.0.2.2');
    expect(formatIP(p.targetIP)).to.equal('192.0.2.1');
    expect(p.senderMac.equals(CLIENT_MAC)).to.equal(true);
    const a = decide({ received: parseFrame(frames[0]!), ifname: 'eth0', mac: NODE_MAC, owned });
    expect(a.answer && a.kind).to.equal('arpReply');
    if (!a.answer) return;
    expect(a.frame.toString('hex')).to.equal(frames[1]!.toString('hex'));
  });

  it("decodes the kernel's ARP reply as an answer, not a question", () => {
    expect(packet(1)).to.include({ kind: 'arp', op: 2 });
    expect(decide({ received: parseFrame(frames[1]!), ifname: 'eth0', mac: NODE_MAC, owned })).to.deep.include({
      answer: false,
      reason: 'notARequest',
    });
  });

  it('decodes both gratuitous forms (arping -U request, -A reply) as announcements', () => {
    for (const i of [2, 3]) {
      const p = packet(i);
      if (p.kind !== 'arp') throw new Error('not ARP');
      expect(formatIP(p.senderIP)).to.equal('192.0.2.2');
      expect(formatIP(p.targetIP)).to.equal('192.0.2.2');
      const a = decide({
        received: parseFrame(frames[i]!),
        ifname: 'eth0',
        mac: NODE_MAC,
        owned: new Map([['192.0.2.2', new Set(['eth0'])]]),
      });
      expect(a.answer, `frame ${i + 1}`).to.equal(false);
    }
    expect(
      decide({
        received: parseFrame(frames[2]!),
        ifname: 'eth0',
        mac: NODE_MAC,
        owned: new Map([['192.0.2.2', new Set(['eth0'])]]),
      }),
    ).to.deep.include({ answer: false, reason: 'gratuitous' });
  });

  it('drops router solicitations with a reason (they are not neighbour questions)', () => {
    for (const i of [4, 7]) {
      const r = parseFrame(frames[i]!);
      expect(r.ok, `frame ${i + 1}`).to.equal(false);
      if (!r.ok) expect(r.reason).to.equal('notNeighborSolicitation');
    }
  });

  it('decodes the Neighbor Solicitation and answers it exactly as the Linux kernel did', () => {
    const p = packet(5);
    expect(p.kind).to.equal('ns');
    if (p.kind !== 'ns') return;
    expect(formatIP(p.target)).to.equal('2001:db8::1');
    expect(formatIP(p.srcIP)).to.equal('fe80::ff:fe00:2');
    expect(formatIP(p.dstIP)).to.equal('ff02::1:ff00:1');
    expect(p.hopLimit).to.equal(255);
    expect(p.sourceLinkAddress?.equals(CLIENT_MAC)).to.equal(true);
    const a = decide({ received: parseFrame(frames[5]!), ifname: 'eth0', mac: NODE_MAC, owned });
    expect(a.answer && a.kind).to.equal('solicitedAdvertisement');
    if (!a.answer) return;
    expect(a.frame.toString('hex')).to.equal(frames[6]!.toString('hex'));
  });

  it('decodes the DAD probe from :: with its nonce option, and answers an owned target to all-nodes', () => {
    const p = packet(8);
    if (p.kind !== 'ns') throw new Error('not NS');
    expect(p.srcIP.value).to.equal(0n);
    expect(formatIP(p.target)).to.equal('2001:db8::3');
    expect(p.sourceLinkAddress).to.equal(undefined);
    const a = decide({ received: parseFrame(frames[8]!), ifname: 'eth0', mac: NODE_MAC, owned });
    expect(a.answer && a.kind).to.equal('dadProbe');
    if (!a.answer) return;
    // To ff02::1 at 33:33:00:00:00:01, from our MAC.
    expect(a.frame.subarray(0, 12).toString('hex')).to.equal('333300000001' + '020000000001');
    expect(formatIP(a.ip)).to.equal(formatIP(parseIP('2001:db8::3')));
  });
});
