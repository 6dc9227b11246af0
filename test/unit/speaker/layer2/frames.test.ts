/**
 * parseFrame: whole received frames, written by hand, dispatched by EtherType to the ARP and
 * NDP codecs (their own tests cover the fields and the bytes).
 */
import { expect } from 'chai';
import {
  describePacket,
  parseFrame,
  type FrameDropReason,
  type Layer2Packet,
} from '../../../../speaker/layer2/frames.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const ARP_BODY = '0001 0800 06 04 0001 020000000002 c0000202 000000000000 c000020a';
// NS from 2001:db8::2 for 2001:db8::a with its source link-layer address; checksum 0x1c15.
const NS_BODY = `60000000 0020 3a ff 20010db8000000000000000000000002 ff0200000000000000000001ff00000a
                 87 00 1c15 00000000 20010db800000000000000000000000a 0101 020000000002`;

describe('layer2: parseFrame', () => {
  const good: { name: string; frame: string; describe: string }[] = [
    {
      name: 'ARP',
      frame: `ffffffffffff 020000000002 0806 ${ARP_BODY}`,
      describe: 'ARP who-has 192.0.2.10 from 192.0.2.2',
    },
    {
      name: 'ARP padded to 60 bytes',
      frame: `ffffffffffff 020000000002 0806 ${ARP_BODY} ${'00'.repeat(18)}`,
      describe: 'ARP who-has 192.0.2.10 from 192.0.2.2',
    },
    {
      name: 'ARP under an 802.1Q tag',
      frame: `ffffffffffff 020000000002 8100 0064 0806 ${ARP_BODY}`,
      describe: 'ARP who-has 192.0.2.10 from 192.0.2.2',
    },
    { name: 'NS', frame: `3333ff00000a 020000000002 86dd ${NS_BODY}`, describe: 'NS for 2001:db8::a from 2001:db8::2' },
    {
      name: 'NS under an 802.1Q tag',
      frame: `3333ff00000a 020000000002 8100 0064 86dd ${NS_BODY}`,
      describe: 'NS for 2001:db8::a from 2001:db8::2',
    },
  ];
  for (const tc of good) {
    it(`parses ${tc.name}`, () => {
      const r = parseFrame(hex(tc.frame));
      if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
      expect(describePacket(r.packet)).to.equal(tc.describe);
    });
  }

  it('takes the NS source MAC from the Ethernet header, past a tag', () => {
    const r = parseFrame(hex(`3333ff00000a 020000000077 8100 0064 86dd ${NS_BODY}`));
    expect(r.ok && r.packet.kind === 'ns' ? r.packet.srcMac.toString('hex') : r).to.equal('020000000077');
  });

  const bad: { name: string; frame: string; reason: FrameDropReason }[] = [
    { name: 'a runt', frame: 'ffffffffffff 0200', reason: 'runtFrame' },
    { name: 'IPv4', frame: 'ffffffffffff 020000000002 0800 45000014', reason: 'unsupportedEthertype' },
    { name: 'LLDP', frame: '0180c200000e 020000000002 88cc 0207', reason: 'unsupportedEthertype' },
    { name: 'short ARP', frame: 'ffffffffffff 020000000002 0806 0001 0800 06 04', reason: 'shortArp' },
    {
      name: 'NS with hop limit 64',
      frame: `3333ff00000a 020000000002 86dd ${NS_BODY.replace('3a ff', '3a 40')}`,
      reason: 'badHopLimit',
    },
    {
      name: 'NS with a bad checksum',
      frame: `3333ff00000a 020000000002 86dd ${NS_BODY.replace('1c15', '1c16')}`,
      reason: 'badChecksum',
    },
  ];
  for (const tc of bad) {
    it(`drops ${tc.name}: ${tc.reason}`, () => {
      const r = parseFrame(hex(tc.frame));
      expect(r.ok ? 'ok' : r.reason).to.equal(tc.reason);
    });
  }

  const described: { p: Layer2Packet; want: string }[] = [
    {
      p: {
        kind: 'arp',
        op: 2,
        senderMac: hex('020000000002'),
        senderIP: { family: 'IPv4', value: 0xc000020an },
        targetMac: hex('020000000001'),
        targetIP: { family: 'IPv4', value: 0xc0000201n },
      },
      want: 'ARP is-at 192.0.2.1 from 192.0.2.10',
    },
    {
      p: {
        kind: 'arp',
        op: 9,
        senderMac: hex('020000000002'),
        senderIP: { family: 'IPv4', value: 0n },
        targetMac: hex('000000000000'),
        targetIP: { family: 'IPv4', value: 0xc0000201n },
      },
      want: 'ARP op 9 192.0.2.1 from 0.0.0.0',
    },
  ];
  for (const tc of described) it(`describes ${tc.want}`, () => expect(describePacket(tc.p)).to.equal(tc.want));
});
