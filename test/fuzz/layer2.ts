/**
 * Layer 2 targets: Ethernet/VLAN parsing, and ARP and NDP requests through the parser and
 * the responder decision. Properties: nothing throws; a parsed frame's fields add up; a
 * reply only ever goes to a unicast MAC (a DAD answer to all-nodes, RFC 4861 §7.2.4), with
 * our MAC as its source, and parses back as the answer it claims to be.
 */
import fc from 'fast-check';
import { buildArp, parseArp, ARP_REPLY } from '../../speaker/layer2/arp.js';
import {
  buildEthernet,
  parseEthernet,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
} from '../../speaker/layer2/ethernet.js';
import { parseFrame } from '../../speaker/layer2/frames.js';
import {
  ALL_NODES_MAC,
  icmpv6Checksum,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  solicitedNode,
  solicitedNodeMac,
} from '../../speaker/layer2/ndp.js';
import { decide, isGroupMac, ownership } from '../../speaker/layer2/responder.js';
import { ipToBytes, parseIP, type IP } from '../../src/net/ip.js';
import { must, mutated, target, type FuzzTarget } from './harness.js';

const OUR_MAC = Buffer.from([0x02, 0, 0, 0, 0, 0x0a]);
const OWNED = ownership([
  { ip: parseIP('192.0.2.10'), interfaces: ['eth0'] },
  { ip: parseIP('2001:db8::a'), interfaces: ['eth0'] },
]).owned;

/** MACs: mostly unicast, often broadcast or multicast (the 1,410-in-1M case), sometimes ours. */
const mac = fc.oneof(
  {
    arbitrary: fc
      .uint8Array({ minLength: 6, maxLength: 6 })
      .map((b) => Buffer.from(b.map((x, i) => (i === 0 ? x & 0xfe : x)))),
    weight: 6,
  },
  { arbitrary: fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Buffer.from(b)), weight: 1 },
  {
    arbitrary: fc.constantFrom(
      Buffer.alloc(6, 0xff),
      Buffer.from('01005e000001', 'hex'),
      Buffer.from('333300000001', 'hex'),
      OUR_MAC,
    ),
    weight: 1,
  },
);
const v4 = fc.oneof(
  { arbitrary: fc.constantFrom('192.0.2.10', '192.0.2.2', '0.0.0.0', '192.0.2.11').map(parseIP), weight: 3 },
  { arbitrary: fc.nat(0xffffffff).map((v): IP => ({ family: 'IPv4', value: BigInt(v) })), weight: 1 },
);
const v6 = fc.constantFrom('2001:db8::a', '2001:db8::2', '::', 'fe80::1', '2001:db8::b', 'ff02::1').map(parseIP);
const vlanTags = fc.oneof(
  { arbitrary: fc.constant([] as Array<[number, number]>), weight: 5 },
  {
    arbitrary: fc.array(fc.tuple(fc.constantFrom(ETHERTYPE_VLAN, ETHERTYPE_QINQ), fc.nat(0xffff)), {
      minLength: 1,
      maxLength: 3,
    }),
    weight: 2,
  },
);

function tagged(frame: Buffer, tags: ReadonlyArray<readonly [number, number]>): Buffer {
  if (tags.length === 0 || frame.length < 14) return frame;
  const t = Buffer.alloc(4 * tags.length);
  tags.forEach(([tpid, tci], i) => {
    t.writeUInt16BE(tpid, 4 * i);
    t.writeUInt16BE(tci, 4 * i + 2);
  });
  return Buffer.concat([frame.subarray(0, 12), t, frame.subarray(12)]);
}

const arpRequest = fc
  .record({
    op: fc.oneof({ arbitrary: fc.constant(1), weight: 6 }, { arbitrary: fc.nat(4), weight: 1 }),
    ethDst: mac,
    senderMac: mac,
    senderIP: v4,
    targetMac: mac,
    targetIP: v4,
    tags: vlanTags,
  })
  .map(({ tags, ...a }) => tagged(buildArp(a), tags));

function nsFrame(o: {
  ethSrc: Buffer;
  src: IP;
  target: IP;
  sll: Buffer | undefined;
  hopLimit: number;
  toGroup: boolean;
}): Buffer {
  const dst = o.toGroup ? solicitedNode(o.target) : o.target;
  const opt = o.sll ? Buffer.concat([Buffer.from([1, 1]), o.sll]) : Buffer.alloc(0);
  const icmp = Buffer.concat([Buffer.from([135, 0, 0, 0, 0, 0, 0, 0]), ipToBytes(o.target), opt]);
  icmp.writeUInt16BE(icmpv6Checksum(o.src, dst, icmp), 2);
  const ip6 = Buffer.alloc(40);
  ip6[0] = 0x60;
  ip6.writeUInt16BE(icmp.length, 4);
  ip6[6] = 58;
  ip6[7] = o.hopLimit;
  ipToBytes(o.src).copy(ip6, 8);
  ipToBytes(dst).copy(ip6, 24);
  return buildEthernet({
    dst: solicitedNodeMac(o.target),
    src: o.ethSrc,
    ethertype: ETHERTYPE_IPV6,
    payload: Buffer.concat([ip6, icmp]),
  });
}

const nsRequest = fc
  .record({
    ethSrc: mac,
    src: v6,
    target: v6,
    sll: fc.option(mac, { nil: undefined }),
    hopLimit: fc.oneof({ arbitrary: fc.constant(255), weight: 9 }, { arbitrary: fc.nat(255), weight: 1 }),
    toGroup: fc.boolean(),
    tags: vlanTags,
  })
  .map(({ tags, ...o }) => tagged(nsFrame(o), tags));

/** Runs the parser and the responder on one frame and checks any reply; returns the outcome. */
function respondTo(frame: Buffer): string {
  const parsed = parseFrame(frame);
  const a = decide({ received: parsed, ifname: 'eth0', mac: OUR_MAC, owned: OWNED });
  if (!a.answer) return a.reason === 'malformed' ? `drop:${a.detail ?? 'malformed'}` : `drop:${a.reason}`;
  const dst = a.frame.subarray(0, 6);
  const src = a.frame.subarray(6, 12);
  must(src.equals(OUR_MAC), `reply from ${src.toString('hex')}, not our MAC`);
  if (a.kind === 'dadProbe') must(dst.equals(ALL_NODES_MAC), `DAD answer to ${dst.toString('hex')}`);
  else
    must(
      !isGroupMac(dst),
      `${a.kind} sent to the group MAC ${dst.toString('hex')} for request ${frame.toString('hex')}`,
    );
  const eth = parseEthernet(a.frame);
  must(eth.ok, 'the reply is an Ethernet frame');
  if (a.kind === 'arpReply' || a.kind === 'probeReply') {
    must(eth.frame.ethertype === ETHERTYPE_ARP, 'an ARP answer is ARP');
    const arp = parseArp(eth.frame.payload);
    must(
      arp.ok && arp.packet.op === ARP_REPLY && arp.packet.senderMac.equals(OUR_MAC) && arp.packet.targetMac.equals(dst),
      'an ARP reply from us to the asker',
    );
    must(arp.ok && arp.packet.senderIP.value === a.ip.value, 'the reply claims the asked address');
  } else {
    must(
      eth.frame.ethertype === ETHERTYPE_IPV6 && eth.frame.payload[40] === ICMPV6_NEIGHBOR_ADVERTISEMENT,
      'an NDP answer is a Neighbor Advertisement',
    );
    must(Buffer.from(eth.frame.payload.subarray(48, 64)).equals(ipToBytes(a.ip)), 'the NA names the asked target');
  }
  return `reply:${a.kind}`;
}

export const arpTarget: FuzzTarget = target<Buffer>({
  name: 'arp',
  input: fc.oneof(arpRequest, mutated(arpRequest, 12)),
  check: respondTo,
});

export const ndpTarget: FuzzTarget = target<Buffer>({
  name: 'ndp',
  input: fc.oneof({ arbitrary: nsRequest, weight: 3 }, { arbitrary: mutated(nsRequest, 12), weight: 1 }),
  check: respondTo,
});

export const ethernetTarget: FuzzTarget = target<{
  frame: Buffer;
  built?: { dst: Buffer; src: Buffer; type: number; payload: Buffer };
}>({
  name: 'ethernet-vlan',
  input: fc.oneof(
    fc
      .tuple(fc.uint8Array({ minLength: 10, maxLength: 60 }), vlanTags)
      .map(([b, tags]) => ({ frame: tagged(Buffer.from(b), tags) })),
    fc
      .record({
        dst: mac,
        src: mac,
        type: fc.integer({ min: 0x0600, max: 0xffff }).filter((t) => t !== ETHERTYPE_VLAN && t !== ETHERTYPE_QINQ),
        payload: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)),
      })
      .map((built) => ({
        frame: buildEthernet({ dst: built.dst, src: built.src, ethertype: built.type, payload: built.payload }),
        built,
      })),
  ),
  check: ({ frame, built }) => {
    const r = parseEthernet(frame);
    if (built) {
      must(
        r.ok &&
          r.frame.dst.equals(built.dst) &&
          r.frame.src.equals(built.src) &&
          r.frame.ethertype === built.type &&
          r.frame.payload.equals(built.payload) &&
          r.frame.vlans.length === 0,
        'parse(build(f)) == f',
      );
      return 'roundtrip';
    }
    if (!r.ok) return `drop:${r.reason}`;
    must(r.frame.vlans.length <= 2, 'at most two VLAN tags');
    must(r.frame.ethertype >= 0x0600, 'an EtherType, not an 802.3 length');
    must(r.frame.payload.length === frame.length - 14 - 4 * r.frame.vlans.length, 'the header and tags add up');
    must(
      r.frame.dst.equals(frame.subarray(0, 6)) && r.frame.src.equals(frame.subarray(6, 12)),
      'addresses are the first 12 bytes',
    );
    return `ok:vlans=${r.frame.vlans.length}`;
  },
});
