/**
 * ARP against frames written by hand from the RFC 826 layout:
 *   Ethernet dst(6) src(6) type(2) | hrd(2) pro(2) hln(1) pln(1) op(2) sha(6) spa(4) tha(6) tpa(4)
 */
import { expect } from 'chai';
import {
  arpProbe,
  arpReply,
  buildArp,
  gratuitousArpReply,
  gratuitousArpRequest,
  isGratuitous,
  isProbe,
  parseArp,
  type ArpDropReason,
  type ArpPacket,
} from '../../../../speaker/layer2/arp.js';
import { formatIP, parseIP } from '../../../../src/net/ip.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MAC = hex('02 00 00 00 00 0a');

// who-has 192.0.2.10 tell 192.0.2.2, from 02:00:00:00:00:02 (arping style, tha zero).
const REQUEST = hex('ffffffffffff 020000000002 0806  0001 0800 06 04 0001 020000000002 c0000202 000000000000 c000020a');
// The same request as a NIC delivers it: padded to the 60-byte minimum.
const PADDED = Buffer.concat([REQUEST, Buffer.alloc(60 - REQUEST.length)]);

function parsed(frame: Buffer): ArpPacket {
  const r = parseArp(frame.subarray(14));
  if (!r.ok) throw new Error(r.detail);
  return r.packet;
}

describe('layer2: ARP (RFC 826)', () => {
  const good: { name: string; frame: Buffer; op: number; sha: string; spa: string; tha: string; tpa: string }[] = [
    {
      name: 'a request',
      frame: REQUEST,
      op: 1,
      sha: '020000000002',
      spa: '192.0.2.2',
      tha: '000000000000',
      tpa: '192.0.2.10',
    },
    {
      name: 'a padded request',
      frame: PADDED,
      op: 1,
      sha: '020000000002',
      spa: '192.0.2.2',
      tha: '000000000000',
      tpa: '192.0.2.10',
    },
    {
      name: 'a reply',
      frame: hex('020000000002 02000000000a 0806 0001 0800 06 04 0002 02000000000a c000020a 020000000002 c0000202'),
      op: 2,
      sha: '02000000000a',
      spa: '192.0.2.10',
      tha: '020000000002',
      tpa: '192.0.2.2',
    },
    {
      name: 'a probe',
      frame: hex('ffffffffffff 020000000003 0806 0001 0800 06 04 0001 020000000003 00000000 000000000000 c000020a'),
      op: 1,
      sha: '020000000003',
      spa: '0.0.0.0',
      tha: '000000000000',
      tpa: '192.0.2.10',
    },
  ];
  for (const tc of good) {
    it(`parses ${tc.name}`, () => {
      const p = parsed(tc.frame);
      expect([
        p.op,
        p.senderMac.toString('hex'),
        formatIP(p.senderIP),
        p.targetMac.toString('hex'),
        formatIP(p.targetIP),
      ]).to.deep.equal([tc.op, tc.sha, tc.spa, tc.tha, tc.tpa]);
    });
  }

  const bad: { name: string; payload: string; reason: ArpDropReason }[] = [
    { name: '27 bytes', payload: '0001 0800 06 04 0001 020000000002 c0000202 000000000000 c00002', reason: 'shortArp' },
    {
      name: 'hardware type 6 (IEEE 802)',
      payload: '0006 0800 06 04 0001 020000000002 c0000202 000000000000 c000020a',
      reason: 'notEthernetIPv4',
    },
    {
      name: 'protocol 0x86dd',
      payload: '0001 86dd 06 04 0001 020000000002 c0000202 000000000000 c000020a',
      reason: 'notEthernetIPv4',
    },
    {
      name: 'hln 8',
      payload: '0001 0800 08 04 0001 020000000002 c0000202 000000000000 c000020a',
      reason: 'notEthernetIPv4',
    },
    {
      name: 'pln 16',
      payload: '0001 0800 06 10 0001 020000000002 c0000202 000000000000 c000020a',
      reason: 'notEthernetIPv4',
    },
  ];
  for (const tc of bad) {
    it(`refuses ${tc.name}: ${tc.reason}`, () => {
      const r = parseArp(hex(tc.payload));
      expect(r.ok ? 'ok' : r.reason).to.equal(tc.reason);
    });
  }

  const built: { name: string; frame: () => Buffer; want: string }[] = [
    {
      name: 'the reply to a request: unicast to the asker, fields swapped',
      frame: () => arpReply(parsed(REQUEST), MAC),
      want: '020000000002 02000000000a 0806 0001 0800 06 04 0002 02000000000a c000020a 020000000002 c0000202',
    },
    {
      name: 'the reply to an RFC 5227 probe: target IP 0.0.0.0, unicast to the prober',
      frame: () =>
        arpReply(
          parsed(
            hex('ffffffffffff 020000000003 0806 0001 0800 06 04 0001 020000000003 00000000 000000000000 c000020a'),
          ),
          MAC,
        ),
      want: '020000000003 02000000000a 0806 0001 0800 06 04 0002 02000000000a c000020a 020000000003 00000000',
    },
    {
      name: 'gratuitous request (RFC 5227 announcement): broadcast, spa = tpa, tha zero',
      frame: () => gratuitousArpRequest(parseIP('192.0.2.10'), MAC),
      want: 'ffffffffffff 02000000000a 0806 0001 0800 06 04 0001 02000000000a c000020a 000000000000 c000020a',
    },
    {
      name: 'gratuitous reply (RFC 2002 §4.6): broadcast, spa = tpa, tha = sha',
      frame: () => gratuitousArpReply(parseIP('192.0.2.10'), MAC),
      want: 'ffffffffffff 02000000000a 0806 0001 0800 06 04 0002 02000000000a c000020a 02000000000a c000020a',
    },
    {
      name: 'a probe: spa 0.0.0.0',
      frame: () => arpProbe(parseIP('198.51.100.7'), MAC),
      want: 'ffffffffffff 02000000000a 0806 0001 0800 06 04 0001 02000000000a 00000000 000000000000 c6336407',
    },
    {
      name: 'any op through buildArp',
      frame: () =>
        buildArp({
          op: 3,
          ethDst: hex('020000000002'),
          senderMac: MAC,
          senderIP: parseIP('10.0.0.1'),
          targetMac: hex('020000000002'),
          targetIP: parseIP('10.255.0.254'),
        }),
      want: '020000000002 02000000000a 0806 0001 0800 06 04 0003 02000000000a 0a000001 020000000002 0aff00fe',
    },
  ];
  for (const tc of built)
    it(`builds ${tc.name}`, () => expect(tc.frame().toString('hex')).to.equal(hex(tc.want).toString('hex')));

  it('refuses to build ARP for an IPv6 address', () => {
    expect(() => gratuitousArpRequest(parseIP('2001:db8::a'), MAC)).to.throw(RangeError);
  });

  const kinds: { name: string; p: ArpPacket; gratuitous: boolean; probe: boolean }[] = [
    { name: 'a request', p: parsed(REQUEST), gratuitous: false, probe: false },
    { name: 'a probe', p: parsed(arpProbe(parseIP('192.0.2.10'), MAC)), gratuitous: false, probe: true },
    {
      name: 'an announcement (request form)',
      p: parsed(gratuitousArpRequest(parseIP('192.0.2.10'), MAC)),
      gratuitous: true,
      probe: false,
    },
    {
      name: 'an announcement (reply form)',
      p: parsed(gratuitousArpReply(parseIP('192.0.2.10'), MAC)),
      gratuitous: true,
      probe: false,
    },
  ];
  for (const tc of kinds) {
    it(`classifies ${tc.name}`, () =>
      expect([isGratuitous(tc.p), isProbe(tc.p)]).to.deep.equal([tc.gratuitous, tc.probe]));
  }
});
