/** The responder decision as a table over hand-written frames, plus the bytes of each kind of answer. */
import { expect } from 'chai';
import { parseFrame } from '../../../../speaker/layer2/frames.js';
import { decide, ownership, respond, type Answer } from '../../../../speaker/layer2/responder.js';
import { parseIP } from '../../../../src/net/ip.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const v6 = (text: string): string => parseIP(text).value.toString(16).padStart(32, '0');
const MAC = hex('02 00 00 00 00 0a');

/** RFC 1071 over hex text, for the solicitations the table makes up. */
function onesComplement(src: string, dst: string, icmp: string): string {
  const all = v6(src) + v6(dst) + (icmp.length / 2).toString(16).padStart(8, '0') + '0000003a' + icmp;
  let sum = 0;
  for (let i = 0; i < all.length; i += 4) {
    sum += parseInt(all.slice(i, i + 4), 16);
    if (sum > 0xffff) sum -= 0xffff;
  }
  return (0xffff - sum).toString(16).padStart(4, '0');
}

function arp(o: { op?: string; sha?: string; spa: string; tpa: string }): Buffer {
  const ip4 = (t: string): string =>
    t
      .split('.')
      .map((n) => Number(n).toString(16).padStart(2, '0'))
      .join('');
  const sha = o.sha ?? '020000000002';
  return hex(
    `ffffffffffff ${sha} 0806 0001 0800 06 04 ${o.op ?? '0001'} ${sha} ${ip4(o.spa)} 000000000000 ${ip4(o.tpa)}`,
  );
}

function ns(o: { src: string; dst?: string; target: string; ethSrc?: string; sll?: string }): Buffer {
  const opt = o.sll ? `0101${o.sll}` : '';
  const dst = o.dst ?? 'ff02::1:ff00:a';
  const sum = onesComplement(o.src, dst, `87000000 00000000 ${v6(o.target)} ${opt}`.replace(/\s+/g, ''));
  const icmp = `8700${sum} 00000000 ${v6(o.target)} ${opt}`.replace(/\s+/g, '');
  const plen = (icmp.length / 2).toString(16).padStart(4, '0');
  return hex(`3333ff00000a ${o.ethSrc ?? '020000000002'} 86dd 60000000 ${plen} 3a ff ${v6(o.src)} ${v6(dst)} ${icmp}`);
}

const OWNED = ownership([
  { ip: parseIP('192.0.2.10'), interfaces: ['eth0'] },
  { ip: parseIP('192.0.2.20'), interfaces: ['eth1', 'eth2'] },
  { ip: parseIP('2001:db8::a'), interfaces: ['eth0'] },
]).owned;

const outcome = (a: Answer): string => (a.answer ? a.kind : a.reason);

describe('layer2: responder decision', () => {
  const cases: { name: string; frame: Buffer; ifname: string; want: string }[] = [
    {
      name: 'ARP who-has an owned IP on its interface',
      frame: arp({ spa: '192.0.2.2', tpa: '192.0.2.10' }),
      ifname: 'eth0',
      want: 'arpReply',
    },
    {
      name: 'ARP who-has an owned IP on its second interface',
      frame: arp({ spa: '192.0.2.2', tpa: '192.0.2.20' }),
      ifname: 'eth2',
      want: 'arpReply',
    },
    {
      name: 'ARP who-has an owned IP on another interface',
      frame: arp({ spa: '192.0.2.2', tpa: '192.0.2.10' }),
      ifname: 'eth1',
      want: 'wrongInterface',
    },
    {
      name: 'ARP who-has an IP not owned',
      frame: arp({ spa: '192.0.2.2', tpa: '192.0.2.11' }),
      ifname: 'eth0',
      want: 'notOwned',
    },
    {
      name: 'ARP reply for an owned IP',
      frame: arp({ op: '0002', spa: '192.0.2.2', tpa: '192.0.2.10' }),
      ifname: 'eth0',
      want: 'notARequest',
    },
    {
      name: 'ARP op 3 (RARP)',
      frame: arp({ op: '0003', spa: '192.0.2.2', tpa: '192.0.2.10' }),
      ifname: 'eth0',
      want: 'notARequest',
    },
    {
      name: 'RFC 5227 probe for an owned IP',
      frame: arp({ spa: '0.0.0.0', tpa: '192.0.2.10' }),
      ifname: 'eth0',
      want: 'probeReply',
    },
    {
      name: 'RFC 5227 probe for an IP not owned',
      frame: arp({ spa: '0.0.0.0', tpa: '192.0.2.11' }),
      ifname: 'eth0',
      want: 'notOwned',
    },
    {
      name: 'another host announcing an owned IP',
      frame: arp({ spa: '192.0.2.10', tpa: '192.0.2.10' }),
      ifname: 'eth0',
      want: 'gratuitous',
    },
    {
      name: 'our own announcement seen again',
      frame: arp({ sha: '02000000000a', spa: '192.0.2.10', tpa: '192.0.2.10' }),
      ifname: 'eth0',
      want: 'ownFrame',
    },
    {
      name: 'our own request seen again',
      frame: arp({ sha: '02000000000a', spa: '192.0.2.1', tpa: '192.0.2.10' }),
      ifname: 'eth0',
      want: 'ownFrame',
    },
    {
      name: 'NS for an owned IP',
      frame: ns({ src: '2001:db8::2', target: '2001:db8::a', sll: '020000000002' }),
      ifname: 'eth0',
      want: 'solicitedAdvertisement',
    },
    {
      name: 'NS for an owned IP on another interface',
      frame: ns({ src: '2001:db8::2', target: '2001:db8::a', sll: '020000000002' }),
      ifname: 'eth1',
      want: 'wrongInterface',
    },
    {
      name: 'NS for an IP not owned',
      frame: ns({ src: '2001:db8::2', target: '2001:db8::b', sll: '020000000002' }),
      ifname: 'eth0',
      want: 'notOwned',
    },
    {
      name: 'DAD NS for an owned IP',
      frame: ns({ src: '::', target: '2001:db8::a' }),
      ifname: 'eth0',
      want: 'dadProbe',
    },
    {
      name: 'DAD NS for an IP not owned',
      frame: ns({ src: '::', target: '2001:db8::b' }),
      ifname: 'eth0',
      want: 'notOwned',
    },
    {
      name: 'our own NS seen again',
      frame: ns({ src: '2001:db8::a', target: '2001:db8::a', ethSrc: '02000000000a' }),
      ifname: 'eth0',
      want: 'ownFrame',
    },
    {
      name: 'NS with hop limit 64',
      frame: Buffer.from(ns({ src: '2001:db8::2', target: '2001:db8::a' }).fill(64, 21, 22)),
      ifname: 'eth0',
      want: 'malformed',
    },
    {
      name: 'ARP who-has from the broadcast MAC',
      frame: arp({ sha: 'ffffffffffff', spa: '192.0.2.2', tpa: '192.0.2.10' }),
      ifname: 'eth0',
      want: 'multicastSender',
    },
    {
      name: 'ARP who-has from a multicast MAC',
      frame: arp({ sha: '01005e000001', spa: '192.0.2.2', tpa: '192.0.2.10' }),
      ifname: 'eth0',
      want: 'multicastSender',
    },
    {
      name: 'RFC 5227 probe from the broadcast MAC',
      frame: arp({ sha: 'ffffffffffff', spa: '0.0.0.0', tpa: '192.0.2.10' }),
      ifname: 'eth0',
      want: 'multicastSender',
    },
    {
      name: 'NS with a multicast source link-layer option',
      frame: ns({ src: '2001:db8::2', target: '2001:db8::a', sll: '333300000001' }),
      ifname: 'eth0',
      want: 'multicastSender',
    },
    {
      name: 'NS from a broadcast frame source',
      frame: ns({ src: '2001:db8::2', target: '2001:db8::a', ethSrc: 'ffffffffffff' }),
      ifname: 'eth0',
      want: 'multicastSender',
    },
    {
      name: 'DAD NS from a multicast frame source',
      frame: ns({ src: '::', target: '2001:db8::a', ethSrc: '333300000001' }),
      ifname: 'eth0',
      want: 'multicastSender',
    },
    { name: 'a runt frame', frame: hex('ffffffffffff'), ifname: 'eth0', want: 'malformed' },
    {
      name: 'an IPv4 packet',
      frame: hex('ffffffffffff 020000000002 0800 45000014'),
      ifname: 'eth0',
      want: 'malformed',
    },
  ];
  for (const tc of cases) {
    it(`${tc.name}: ${tc.want}`, () =>
      expect(outcome(decide({ received: parseFrame(tc.frame), ifname: tc.ifname, mac: MAC, owned: OWNED }))).to.equal(
        tc.want,
      ));
  }

  it('says why a malformed frame was dropped', () => {
    const r = decide({
      received: parseFrame(hex('ffffffffffff 020000000002 0800 45000014')),
      ifname: 'eth0',
      mac: MAC,
      owned: OWNED,
    });
    expect(r).to.deep.equal({ answer: false, reason: 'malformed', detail: 'unsupportedEthertype' });
  });

  const answers: { name: string; frame: Buffer; want: string }[] = [
    {
      name: 'an ARP reply unicast to the asker',
      frame: arp({ spa: '192.0.2.2', tpa: '192.0.2.10' }),
      want: '020000000002 02000000000a 0806 0001 0800 06 04 0002 02000000000a c000020a 020000000002 c0000202',
    },
    {
      name: 'a probe reply with target IP 0.0.0.0',
      frame: arp({ sha: '020000000003', spa: '0.0.0.0', tpa: '192.0.2.10' }),
      want: '020000000003 02000000000a 0806 0001 0800 06 04 0002 02000000000a c000020a 020000000003 00000000',
    },
    {
      name: 'a solicited NA to the source link-layer address (checksum 0x8a58)',
      frame: ns({ src: '2001:db8::2', target: '2001:db8::a', ethSrc: '020000000099', sll: '020000000002' }),
      want: `020000000002 02000000000a 86dd 60000000 0020 3a ff ${v6('2001:db8::a')} ${v6('2001:db8::2')}
             88 00 8a58 60000000 ${v6('2001:db8::a')} 0201 02000000000a`,
    },
    {
      name: 'a solicited NA to the Ethernet source when there is no option',
      frame: ns({ src: '2001:db8::2', dst: '2001:db8::a', target: '2001:db8::a', ethSrc: '020000000002' }),
      want: `020000000002 02000000000a 86dd 60000000 0020 3a ff ${v6('2001:db8::a')} ${v6('2001:db8::2')}
             88 00 8a58 60000000 ${v6('2001:db8::a')} 0201 02000000000a`,
    },
    {
      name: 'a DAD answer to all nodes, S clear, O set (checksum 0xf90f)',
      frame: ns({ src: '::', target: '2001:db8::a' }),
      want: `333300000001 02000000000a 86dd 60000000 0020 3a ff ${v6('2001:db8::a')} ${v6('ff02::1')}
             88 00 f90f 20000000 ${v6('2001:db8::a')} 0201 02000000000a`,
    },
  ];
  for (const tc of answers) {
    it(`answers with ${tc.name}`, () => {
      const r = decide({ received: parseFrame(tc.frame), ifname: 'eth0', mac: MAC, owned: OWNED });
      if (!r.answer) throw new Error(r.reason);
      expect(r.frame.toString('hex')).to.equal(hex(tc.want).toString('hex'));
    });
  }

  it('respond() is decide() for a parsed packet', () => {
    const parsed = parseFrame(arp({ spa: '192.0.2.2', tpa: '192.0.2.10' }));
    if (!parsed.ok) throw new Error(parsed.reason);
    const a = respond(parsed.packet, 'eth0', MAC, { owned: OWNED });
    expect(a).to.deep.equal(decide({ received: parsed, ifname: 'eth0', mac: MAC, owned: OWNED }));
  });

  it('ownership() keys by canonical text and merges interfaces', () => {
    const own = ownership([
      { ip: parseIP('2001:DB8:0::A'), interfaces: ['eth0'] },
      { ip: parseIP('2001:db8::a'), interfaces: ['eth1'] },
    ]);
    expect([...own.owned].map(([k, v]) => [k, [...v]])).to.deep.equal([['2001:db8::a', ['eth0', 'eth1']]]);
  });
});
