/**
 * NDP against frames written by hand from the RFC 8200 / RFC 4861 layouts. Literal checksums
 * were worked out separately; frames made up on the fly get theirs from `onesComplement`
 * below, which shares nothing with the encoder.
 */
import { expect } from 'chai';
import {
  icmpv6Checksum,
  isSolicitedNode,
  multicastMac,
  neighborAdvertisement,
  parseNeighborSolicitation,
  solicitedNode,
  solicitedNodeMac,
  unsolicitedAdvertisement,
  type NdpDropReason,
  type NeighborSolicitation,
} from '../../../../speaker/layer2/ndp.js';
import { formatIP, parseIP } from '../../../../src/net/ip.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const v6 = (text: string): string => parseIP(text).value.toString(16).padStart(32, '0');
const MAC = hex('02 00 00 00 00 0a');
const PEER_MAC = hex('02 00 00 00 00 02');

/** RFC 1071 over hex text: pseudo-header words + message words, end-around carry, inverted. */
function onesComplement(src: string, dst: string, icmpHex: string): string {
  const body = icmpHex.replace(/\s+/g, '');
  const length = (body.length / 2).toString(16).padStart(8, '0');
  let all = v6(src) + v6(dst) + length + '0000003a' + body;
  if (all.length % 4) all += '00';
  let sum = 0;
  for (let i = 0; i < all.length; i += 4) {
    sum += parseInt(all.slice(i, i + 4), 16);
    if (sum > 0xffff) sum -= 0xffff;
  }
  return (0xffff - sum).toString(16).padStart(4, '0');
}

/** An Ethernet + IPv6 + ICMPv6 frame; `sum` replaces the computed checksum when given. */
function frame(o: {
  src: string;
  dst: string;
  icmp: string;
  hop?: string;
  sum?: string;
  next?: string;
  version?: string;
  plen?: string;
  pad?: number;
}): Buffer {
  const body = o.icmp.replace(/\s+/g, '');
  const sum = o.sum ?? onesComplement(o.src, o.dst, body.slice(0, 4) + '0000' + body.slice(8));
  const icmp = body.slice(0, 4) + sum + body.slice(8);
  const plen = o.plen ?? (body.length / 2).toString(16).padStart(4, '0');
  const ip6 = `${o.version ?? '6'}0000000 ${plen} ${o.next ?? '3a'} ${o.hop ?? 'ff'} ${v6(o.src)} ${v6(o.dst)}`;
  return Buffer.concat([hex(`3333ff00000a 020000000002 86dd ${ip6} ${icmp}`), Buffer.alloc(o.pad ?? 0)]);
}

const nsBody = (target: string, options = '0101 020000000002'): string =>
  `87 00 0000 00000000 ${v6(target)} ${options}`;

// Solicitation from 2001:db8::2 for 2001:db8::a, with its source link-layer address, checksum 0x1c15.
const NS = hex(`
  3333ff00000a 020000000002 86dd
  60000000 0020 3a ff 20010db8000000000000000000000002 ff0200000000000000000001ff00000a
  87 00 1c15 00000000 20010db800000000000000000000000a 01 01 020000000002`);

function parseNs(f: Buffer): NeighborSolicitation {
  const r = parseNeighborSolicitation(f.subarray(14), f.subarray(6, 12));
  if (!r.ok) throw new Error(`${r.reason}: ${r.detail}`);
  return r.packet;
}

describe('layer2: NDP (RFC 4861)', () => {
  it('the test checksum agrees with the literal one', () => {
    expect(onesComplement('2001:db8::2', 'ff02::1:ff00:a', nsBody('2001:db8::a'))).to.equal('1c15');
  });

  it('parses a solicitation with a source link-layer option', () => {
    const ns = parseNs(NS);
    expect([formatIP(ns.srcIP), formatIP(ns.dstIP), formatIP(ns.target), ns.hopLimit]).to.deep.equal([
      '2001:db8::2',
      'ff02::1:ff00:a',
      '2001:db8::a',
      255,
    ]);
    expect(ns.srcMac.toString('hex')).to.equal('020000000002');
    expect(ns.sourceLinkAddress?.toString('hex')).to.equal('020000000002');
  });

  const good: { name: string; f: Buffer; sll: string | undefined }[] = [
    {
      name: 'a DAD probe from :: (checksum 0x4cdb)',
      f: frame({ src: '::', dst: 'ff02::1:ff00:a', icmp: nsBody('2001:db8::a', ''), sum: '4cdb' }),
      sll: undefined,
    },
    {
      name: 'a unicast solicitation without options',
      f: frame({ src: 'fe80::2', dst: '2001:db8::a', icmp: nsBody('2001:db8::a', '') }),
      sll: undefined,
    },
    {
      name: 'an unknown option skipped (nonce, RFC 3971)',
      f: frame({
        src: 'fe80::2',
        dst: 'ff02::1:ff00:a',
        icmp: nsBody('2001:db8::a', '0e01 010203040506 0101 020000000002'),
      }),
      sll: '020000000002',
    },
    {
      name: 'Ethernet padding after the payload',
      f: frame({ src: '2001:db8::2', dst: 'ff02::1:ff00:a', icmp: nsBody('2001:db8::a'), pad: 6 }),
      sll: '020000000002',
    },
  ];
  for (const tc of good)
    it(`parses ${tc.name}`, () => expect(parseNs(tc.f).sourceLinkAddress?.toString('hex')).to.equal(tc.sll));

  const base = { src: '2001:db8::2', dst: 'ff02::1:ff00:a', icmp: nsBody('2001:db8::a') };
  const bad: { name: string; f: Buffer; reason: NdpDropReason }[] = [
    { name: 'a short IPv6 header', f: NS.subarray(0, 14 + 39), reason: 'shortIPv6' },
    { name: 'IP version 4 in the version field', f: frame({ ...base, version: '4' }), reason: 'notIPv6' },
    { name: 'next header UDP', f: frame({ ...base, next: '11' }), reason: 'notICMPv6' },
    { name: 'a payload length past the frame', f: frame({ ...base, plen: '0021' }), reason: 'badPayloadLength' },
    { name: 'an echo request', f: frame({ ...base, icmp: '80 00 0000 00010001' }), reason: 'notNeighborSolicitation' },
    {
      name: 'an empty ICMPv6 message',
      f: frame({ ...base, icmp: '', plen: '0000', pad: 30 }),
      reason: 'notNeighborSolicitation',
    },
    // 8 bytes of NS with a valid checksum and padding behind it: used to throw while reading the target.
    {
      name: 'an 8-byte NS with a good checksum',
      f: frame({ ...base, icmp: '87 00 0000 00000000', pad: 24 }),
      reason: 'shortNeighborSolicitation',
    },
    { name: 'hop limit 64', f: frame({ ...base, hop: '40' }), reason: 'badHopLimit' },
    { name: 'hop limit 254 (forwarded once)', f: frame({ ...base, hop: 'fe' }), reason: 'badHopLimit' },
    {
      name: 'code 1',
      f: frame({ ...base, icmp: `87 01 0000 00000000 ${v6('2001:db8::a')} 0101 020000000002` }),
      reason: 'badCode',
    },
    { name: 'checksum off by one', f: frame({ ...base, sum: '1c14' }), reason: 'badChecksum' },
    { name: 'checksum zero', f: frame({ ...base, sum: '0000' }), reason: 'badChecksum' },
    { name: 'a multicast source', f: frame({ ...base, src: 'ff02::2' }), reason: 'multicastSource' },
    { name: 'a multicast target', f: frame({ ...base, icmp: nsBody('ff02::1') }), reason: 'multicastTarget' },
    {
      name: 'an option of length 0',
      f: frame({ ...base, icmp: nsBody('2001:db8::a', '0100 020000000002') }),
      reason: 'badOption',
    },
    {
      name: 'an option past the end',
      f: frame({ ...base, icmp: nsBody('2001:db8::a', '0102 020000000002') }),
      reason: 'badOption',
    },
    {
      name: 'one stray byte after the options',
      f: frame({ ...base, icmp: nsBody('2001:db8::a', '0101 020000000002 01') }),
      reason: 'badOption',
    },
    {
      name: 'DAD with a source link-layer option',
      f: frame({ ...base, src: '::' }),
      reason: 'dadWithSourceLinkAddress',
    },
    {
      name: 'DAD sent to a unicast address',
      f: frame({ src: '::', dst: '2001:db8::a', icmp: nsBody('2001:db8::a', '') }),
      reason: 'dadNotToSolicitedNode',
    },
  ];
  for (const tc of bad) {
    it(`refuses ${tc.name}: ${tc.reason}`, () => {
      const r = parseNeighborSolicitation(tc.f.subarray(14), tc.f.subarray(6, 12));
      expect(r.ok ? 'ok' : r.reason).to.equal(tc.reason);
    });
  }

  const built: { name: string; frame: () => Buffer; want: string }[] = [
    {
      name: 'a solicited NA: S+O, to the asker, source = target, checksum 0x8a58',
      frame: () =>
        neighborAdvertisement({
          target: parseIP('2001:db8::a'),
          mac: MAC,
          dstIP: parseIP('2001:db8::2'),
          dstMac: PEER_MAC,
          solicited: true,
        }),
      want: `020000000002 02000000000a 86dd
             60000000 0020 3a ff 20010db800000000000000000000000a 20010db8000000000000000000000002
             88 00 8a58 60000000 20010db800000000000000000000000a 02 01 02000000000a`,
    },
    {
      name: 'an unsolicited NA: O only, to ff02::1 at 33:33:00:00:00:01, checksum 0xf90f',
      frame: () => unsolicitedAdvertisement(parseIP('2001:db8::a'), MAC),
      want: `333300000001 02000000000a 86dd
             60000000 0020 3a ff 20010db800000000000000000000000a ff020000000000000000000000000001
             88 00 f90f 20000000 20010db800000000000000000000000a 02 01 02000000000a`,
    },
    {
      name: 'a router NA: R+S+O, link-local, checksum 0x9812',
      frame: () =>
        neighborAdvertisement({
          target: parseIP('fe80::1'),
          mac: MAC,
          dstIP: parseIP('fe80::2'),
          dstMac: PEER_MAC,
          solicited: true,
          router: true,
        }),
      want: `020000000002 02000000000a 86dd
             60000000 0020 3a ff fe800000000000000000000000000001 fe800000000000000000000000000002
             88 00 9812 e0000000 fe800000000000000000000000000001 02 01 02000000000a`,
    },
  ];
  for (const tc of built)
    it(`builds ${tc.name}`, () => expect(tc.frame().toString('hex')).to.equal(hex(tc.want).toString('hex')));

  it('builds an NA without Override when asked', () => {
    const f = neighborAdvertisement({
      target: parseIP('2001:db8::a'),
      mac: MAC,
      dstIP: parseIP('2001:db8::2'),
      dstMac: PEER_MAC,
      solicited: true,
      override: false,
    });
    const icmp = f.subarray(14 + 40).toString('hex');
    expect(icmp.slice(8, 10)).to.equal('40');
    expect(icmp.slice(4, 8)).to.equal(
      onesComplement('2001:db8::a', '2001:db8::2', icmp.slice(0, 4) + '0000' + icmp.slice(8)),
    );
  });

  it('refuses to build an NA for an IPv4 target', () => {
    expect(() => unsolicitedAdvertisement(parseIP('192.0.2.10'), MAC)).to.throw(RangeError);
  });

  const sums: { name: string; src: string; dst: string; icmp: string }[] = [
    { name: 'even length', src: '2001:db8::1', dst: '2001:db8::2', icmp: '8000 0000 1234 0001 deadbeef' },
    { name: 'odd length', src: 'fe80::1', dst: 'ff02::1', icmp: '8000 0000 1234 0001 de' },
    {
      name: 'carries that wrap',
      src: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
      dst: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe',
      icmp: 'ffff 0000 ffff ffff ffff ffff',
    },
  ];
  for (const tc of sums) {
    it(`icmpv6Checksum matches RFC 1071 by hand: ${tc.name}`, () => {
      const got = icmpv6Checksum(parseIP(tc.src), parseIP(tc.dst), hex(tc.icmp));
      expect(got.toString(16).padStart(4, '0')).to.equal(onesComplement(tc.src, tc.dst, tc.icmp));
    });
  }

  const groups: { ip: string; group: string; mac: string }[] = [
    { ip: '2001:db8::a', group: 'ff02::1:ff00:a', mac: '3333ff00000a' },
    { ip: '2001:db8::1:2:3', group: 'ff02::1:ff02:3', mac: '3333ff020003' },
    { ip: 'fe80::aabb:ccdd:eeff:1122', group: 'ff02::1:ffff:1122', mac: '3333ffff1122' },
    { ip: '::', group: 'ff02::1:ff00:0', mac: '3333ff000000' },
  ];
  for (const tc of groups) {
    it(`solicited-node group of ${tc.ip} is ${tc.group} at ${tc.mac}`, () => {
      const g = solicitedNode(parseIP(tc.ip));
      expect(formatIP(g)).to.equal(tc.group);
      expect(isSolicitedNode(g)).to.equal(true);
      expect(solicitedNodeMac(parseIP(tc.ip)).toString('hex')).to.equal(tc.mac);
    });
  }

  it('maps multicast groups to 33:33 + low 32 bits, and refuses unicast', () => {
    expect(multicastMac(parseIP('ff02::1')).toString('hex')).to.equal('333300000001');
    expect(multicastMac(parseIP('ff05::1:3')).toString('hex')).to.equal('333300010003');
    expect(() => multicastMac(parseIP('2001:db8::1'))).to.throw(RangeError);
    expect(isSolicitedNode(parseIP('ff02::1:fe00:a'))).to.equal(false);
  });
});
