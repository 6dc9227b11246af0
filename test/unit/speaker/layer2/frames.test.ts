/** ARP and NDP frames against bytes written by hand from RFC 826 and RFC 4861. */
import { expect } from 'chai';
import { Announcer } from '../../../../speaker/layer2/announcer.js';
import { electOwner } from '../../../../speaker/election.js';
import { arpReply, gratuitousArpReply, gratuitousArpRequest, multicastMac, neighborAdvertisement, parseFrame, solicitedNode, unsolicitedAdvertisement, type ArpPacket, type NeighborSolicitation } from '../../../../speaker/layer2/frames.js';
import { respond } from '../../../../speaker/layer2/responder.js';
import { FakeClock } from '../../../../src/core/clock.js';
import { formatIP, parseIP } from '../../../../src/net/ip.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MAC = hex('02 00 00 00 00 0a');

/** An independent RFC 1071 checksum over the IPv6 pseudo-header, written with DataView. */
function checksum(src: string, dst: string, icmp: Buffer): number {
  const bytes = (ip: string): number[] => {
    const v = parseIP(ip).value;
    return Array.from({ length: 16 }, (_, i) => Number((v >> BigInt(8 * (15 - i))) & 0xffn));
  };
  const all = [...bytes(src), ...bytes(dst), 0, 0, (icmp.length >> 8) & 0xff, icmp.length & 0xff, 0, 0, 0, 58, ...icmp];
  if (all.length % 2) all.push(0);
  const view = new DataView(Uint8Array.from(all).buffer);
  let sum = 0;
  for (let i = 0; i < all.length; i += 2) sum += view.getUint16(i);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

// ARP request (RFC 826): who-has 192.0.2.10 tell 192.0.2.2 from 02:00:00:00:00:02.
const ARP_REQ = hex('ffffffffffff 020000000002 0806  0001 0800 06 04 0001  020000000002 c0000202  000000000000 c000020a');

function nsFrame(opts: { src: string; dst: string; target: string; hop?: number; srcMac?: string; sll?: boolean; badSum?: boolean }): Buffer {
  const icmp = Buffer.concat([hex('87 00 0000 00000000'), Buffer.from(parseIP(opts.target).value.toString(16).padStart(32, '0'), 'hex'), opts.sll === false ? Buffer.alloc(0) : hex(`01 01 ${opts.srcMac ?? '020000000002'}`)]);
  icmp.writeUInt16BE(checksum(opts.src, opts.dst, icmp) ^ (opts.badSum ? 1 : 0), 2);
  const ip6 = Buffer.concat([hex('60000000'), Buffer.from([icmp.length >> 8, icmp.length & 0xff, 58, opts.hop ?? 255]), Buffer.from(parseIP(opts.src).value.toString(16).padStart(32, '0'), 'hex'), Buffer.from(parseIP(opts.dst).value.toString(16).padStart(32, '0'), 'hex')]);
  return Buffer.concat([hex('3333ff00000a 020000000002 86dd'), ip6, icmp]);
}

describe('layer2: ARP (RFC 826, RFC 5227)', () => {
  it('parses a request and builds the reply bytes', () => {
    const r = parseFrame(ARP_REQ);
    expect(r.ok).to.equal(true);
    const p = (r as { packet: ArpPacket }).packet;
    expect([p.op, formatIP(p.senderIP), formatIP(p.targetIP)]).to.deep.equal([1, '192.0.2.2', '192.0.2.10']);
    expect(arpReply(p, MAC).toString('hex')).to.equal(hex('020000000002 02000000000a 0806 0001 0800 06 04 0002 02000000000a c000020a 020000000002 c0000202').toString('hex'));
  });

  it('builds both gratuitous forms, broadcast, sender = target', () => {
    const ip = parseIP('192.0.2.10');
    expect(gratuitousArpRequest(ip, MAC).toString('hex')).to.equal(hex('ffffffffffff 02000000000a 0806 0001 0800 06 04 0001 02000000000a c000020a 000000000000 c000020a').toString('hex'));
    expect(gratuitousArpReply(ip, MAC).toString('hex')).to.equal(hex('ffffffffffff 02000000000a 0806 0001 0800 06 04 0002 02000000000a c000020a ffffffffffff c000020a').toString('hex'));
  });

  it('tolerates an 802.1Q tag and refuses non-Ethernet/IPv4 ARP', () => {
    const tagged = Buffer.concat([ARP_REQ.subarray(0, 12), hex('8100 0064'), ARP_REQ.subarray(12)]);
    expect(parseFrame(tagged).ok).to.equal(true);
    const odd = Buffer.from(ARP_REQ);
    odd.writeUInt16BE(6, 14);
    expect(parseFrame(odd)).to.deep.equal({ ok: false, reason: 'ARP for something other than Ethernet/IPv4' });
  });
});

describe('layer2: NDP (RFC 4861)', () => {
  it('parses a solicitation and answers with a Solicited+Override NA carrying the target link address', () => {
    const r = parseFrame(nsFrame({ src: '2001:db8::2', dst: 'ff02::1:ff00:a', target: '2001:db8::a' }));
    expect(r.ok, r.ok ? '' : r.reason).to.equal(true);
    const ns = (r as { packet: NeighborSolicitation }).packet;
    expect(formatIP(ns.target)).to.equal('2001:db8::a');
    expect(ns.sourceLinkAddress?.toString('hex')).to.equal('020000000002');
    const na = neighborAdvertisement({ target: ns.target, mac: MAC, dstIP: ns.srcIP, dstMac: ns.sourceLinkAddress!, solicited: true });
    const icmp = na.subarray(54);
    expect(na.subarray(0, 14).toString('hex')).to.equal('02000000000202000000000a86dd');
    expect(na[21]).to.equal(255); // hop limit
    expect(na.subarray(22, 38).toString('hex')).to.equal('20010db800000000000000000000000a'); // source = target
    expect(icmp[0]).to.equal(136);
    expect(icmp[4]).to.equal(0x60); // S + O
    expect(icmp.subarray(24, 32).toString('hex')).to.equal('020102000000000a'); // option 2: target link-layer address
    const sum = icmp.readUInt16BE(2);
    const zeroed = Buffer.from(icmp);
    zeroed.writeUInt16BE(0, 2);
    expect(sum).to.equal(checksum('2001:db8::a', '2001:db8::2', zeroed));
  });

  const bad: { name: string; frame: Buffer; reason: RegExp }[] = [
    { name: 'hop limit 64', frame: nsFrame({ src: '2001:db8::2', dst: 'ff02::1:ff00:a', target: '2001:db8::a', hop: 64 }), reason: /hop limit 64/ },
    { name: 'bad checksum', frame: nsFrame({ src: '2001:db8::2', dst: 'ff02::1:ff00:a', target: '2001:db8::a', badSum: true }), reason: /checksum/ },
    { name: 'multicast target', frame: nsFrame({ src: '2001:db8::2', dst: 'ff02::1:ff00:a', target: 'ff02::1' }), reason: /multicast/ },
    { name: 'DAD with a source link option', frame: nsFrame({ src: '::', dst: 'ff02::1:ff00:a', target: '2001:db8::a' }), reason: /DAD/ },
  ];
  for (const tc of bad) it(`refuses a solicitation with ${tc.name}`, () => expect((parseFrame(tc.frame) as { reason: string }).reason).to.match(tc.reason));

  it('solicited-node address and multicast MAC (RFC 4291, RFC 2464)', () => {
    expect(formatIP(solicitedNode(parseIP('2001:db8::1:2:3')))).to.equal('ff02::1:ff02:3');
    expect(multicastMac(solicitedNode(parseIP('2001:db8::a'))).toString('hex')).to.equal('3333ff00000a');
  });

  it('an unsolicited NA goes to all nodes with S clear and O set', () => {
    const f = unsolicitedAdvertisement(parseIP('2001:db8::a'), MAC);
    expect(f.subarray(0, 6).toString('hex')).to.equal('333300000001');
    expect(f[54 + 4]).to.equal(0x20);
  });
});

describe('layer2: responder decision', () => {
  const own = { owned: new Map([['192.0.2.10', new Set(['eth0'])], ['2001:db8::a', new Set(['eth0'])]]) };
  const arp = (parseFrame(ARP_REQ) as { packet: ArpPacket }).packet;
  const cases: { name: string; p: ArpPacket | NeighborSolicitation; ifname: string; want: string }[] = [
    { name: 'owned, right interface', p: arp, ifname: 'eth0', want: 'answer' },
    { name: 'owned, other interface', p: arp, ifname: 'eth1', want: 'wrongInterface' },
    { name: 'not owned', p: { ...arp, targetIP: parseIP('192.0.2.11') }, ifname: 'eth0', want: 'notOwned' },
    { name: 'a reply is not a question', p: { ...arp, op: 2 }, ifname: 'eth0', want: 'notARequest' },
    { name: 'someone else announcing', p: { ...arp, senderIP: parseIP('192.0.2.10') }, ifname: 'eth0', want: 'gratuitous' },
    { name: 'RFC 5227 probe for an owned address is answered', p: { ...arp, senderIP: parseIP('0.0.0.0') }, ifname: 'eth0', want: 'answer' },
    { name: 'NS for an owned v6 address', p: (parseFrame(nsFrame({ src: '2001:db8::2', dst: 'ff02::1:ff00:a', target: '2001:db8::a' })) as { packet: NeighborSolicitation }).packet, ifname: 'eth0', want: 'answer' },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const r = respond(tc.p, tc.ifname, MAC, own);
      expect(r.answer ? 'answer' : r.reason).to.equal(tc.want);
    });
  }

  it('a DAD probe is answered to all nodes without the S flag', () => {
    const ns = (parseFrame(nsFrame({ src: '::', dst: 'ff02::1:ff00:a', target: '2001:db8::a', sll: false })) as { packet: NeighborSolicitation }).packet;
    const r = respond(ns, 'eth0', MAC, own);
    expect(r.answer).to.equal(true);
    if (r.answer) {
      expect(r.frame.subarray(0, 6).toString('hex')).to.equal('333300000001');
      expect(r.frame[54 + 4]).to.equal(0x20);
    }
  });
});

describe('layer2: announcer and election', () => {
  it('announces at once, repeats 5 times a second apart, and stops at once', () => {
    const clock = new FakeClock();
    const sent: number[] = [];
    const a = new Announcer({ clock, send: () => sent.push(clock.now()) });
    const t0 = clock.now();
    a.announce(parseIP('192.0.2.10'), 'eth0');
    clock.advance(2500);
    expect(sent.map((t) => t - t0)).to.deep.equal([0, 1000, 2000]);
    a.stop(parseIP('192.0.2.10'), 'eth0');
    clock.advance(10_000);
    expect(sent).to.have.length(3);
    a.announce(parseIP('192.0.2.10'), 'eth0');
    clock.advance(10_000);
    expect(sent).to.have.length(3 + 6);
  });

  it('elects the same owner whatever the input order; weight wins; no candidates is a reason', () => {
    const nodes = ['node-a', 'node-b', 'node-c'].map((node) => ({ node, weight: 0 }));
    const one = electOwner('192.0.2.10', nodes);
    const two = electOwner('192.0.2.10', [...nodes].reverse());
    expect(one).to.deep.equal(two);
    const owners = new Set(['192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.14', '192.0.2.15'].map((ip) => electOwner(ip, nodes).owner));
    expect(owners.size).to.be.greaterThan(1);
    expect(electOwner('192.0.2.10', [...nodes, { node: 'node-z', weight: 50 }]).owner).to.equal('node-z');
    expect(electOwner('192.0.2.10', [])).to.deep.equal({ owner: undefined, reason: 'noCandidates' });
  });
});
