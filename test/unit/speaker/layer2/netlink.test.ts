/** rtnetlink messages from hand-built bytes (layouts of linux/netlink.h, rtnetlink.h, if_link.h, if_addr.h), and the link table. */
import { expect } from 'chai';
import { formatIP } from '../../../../src/net/ip.js';
import { LinkTable } from '../../../../speaker/layer2/links.js';
import {
  dumpRequest,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  parseNetlink,
  RTM_DELLINK,
  RTM_NEWADDR,
  RTM_NEWLINK,
  type ByteOrder,
  type NetlinkMessage,
} from '../../../../speaker/layer2/netlink.js';

/** One rtattr: u16 length (header included), u16 type, payload padded to 4. */
function attr(type: number, payload: Buffer, order: ByteOrder = 'LE'): Buffer {
  const b = Buffer.alloc(4 + payload.length + ((4 - (payload.length % 4)) % 4));
  if (order === 'LE') {
    b.writeUInt16LE(4 + payload.length, 0);
    b.writeUInt16LE(type, 2);
  } else {
    b.writeUInt16BE(4 + payload.length, 0);
    b.writeUInt16BE(type, 2);
  }
  payload.copy(b, 4);
  return b;
}

/** nlmsghdr (len, type, flags, seq, pid) + body. */
function message(type: number, body: Buffer, seq = 7, order: ByteOrder = 'LE'): Buffer {
  const h = Buffer.alloc(16);
  if (order === 'LE') {
    h.writeUInt32LE(16 + body.length, 0);
    h.writeUInt16LE(type, 4);
    h.writeUInt32LE(seq, 8);
  } else {
    h.writeUInt32BE(16 + body.length, 0);
    h.writeUInt16BE(type, 4);
    h.writeUInt32BE(seq, 8);
  }
  return Buffer.concat([h, body]);
}

/** ifinfomsg: family, pad, type u16, index i32, flags u32, change u32; then IFLA_IFNAME (3), IFLA_MTU (4), IFLA_ADDRESS (1). */
function link(type: number, index: number, name: string, flags: number, mtu: number, order: ByteOrder = 'LE'): Buffer {
  const info = Buffer.alloc(16);
  const u32 = (v: number, at: number): void =>
    void (order === 'LE' ? info.writeUInt32LE(v, at) : info.writeUInt32BE(v, at));
  u32(index, 4);
  u32(flags, 8);
  u32(0xffffffff, 12);
  const mtuBuf = Buffer.alloc(4);
  if (order === 'LE') mtuBuf.writeUInt32LE(mtu);
  else mtuBuf.writeUInt32BE(mtu);
  return message(
    type,
    Buffer.concat([
      info,
      attr(3, Buffer.from(`${name}\0`), order),
      attr(4, mtuBuf, order),
      attr(1, Buffer.from([2, 0, 0, 0, 0, index]), order),
    ]),
    7,
    order,
  );
}

/** ifaddrmsg: family, prefixlen, flags, scope, index u32; then IFA_ADDRESS (1) and IFA_LOCAL (2). */
function address(type: number, index: number, family: 2 | 10, prefix: number, local: Buffer, peer = local): Buffer {
  const info = Buffer.alloc(8);
  info.writeUInt8(family, 0);
  info.writeUInt8(prefix, 1);
  info.writeUInt32LE(index, 4);
  return message(type, Buffer.concat([info, attr(1, peer), attr(2, local)]));
}

const UP = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
const v4 = (text: string): Buffer => Buffer.from(text.split('.').map(Number));

describe('layer2: rtnetlink codec', () => {
  it('reads a link: index, name, flags, MTU, MAC', () => {
    const r = parseNetlink(link(RTM_NEWLINK, 5, 'eth0', UP, 1500), 'LE');
    expect(r.ok).to.equal(true);
    const m = r.messages[0] as Extract<NetlinkMessage, { type: 'link' }>;
    expect(m).to.include({ type: 'link', deleted: false, index: 5, name: 'eth0', flags: UP, mtu: 1500 });
    expect([...m.mac!]).to.deep.equal([2, 0, 0, 0, 0, 5]);
  });

  it('reads the same in big-endian byte order', () => {
    const r = parseNetlink(link(RTM_DELLINK, 9, 'bond0', 0, 9000, 'BE'), 'BE');
    expect(r.messages[0]).to.include({ type: 'link', deleted: true, index: 9, name: 'bond0', mtu: 9000 });
  });

  it('reads IPv4 and IPv6 addresses, preferring IFA_LOCAL over IFA_ADDRESS (the peer on point-to-point links)', () => {
    const six = Buffer.alloc(16);
    six.writeUInt32BE(0x20010db8, 0);
    six.writeUInt8(1, 15);
    const r = parseNetlink(
      Buffer.concat([
        address(RTM_NEWADDR, 5, 2, 24, v4('192.0.2.1'), v4('192.0.2.99')),
        address(RTM_NEWADDR, 5, 10, 64, six),
      ]),
      'LE',
    );
    expect(r.ok).to.equal(true);
    const [a, b] = r.messages as Extract<NetlinkMessage, { type: 'address' }>[];
    expect([formatIP(a!.ip), a!.prefix, a!.index]).to.deep.equal(['192.0.2.1', 24, 5]);
    expect([formatIP(b!.ip), b!.prefix]).to.deep.equal(['2001:db8::1', 64]);
  });

  it('reads NLMSG_DONE and NLMSG_ERROR (errno negated back)', () => {
    const err = Buffer.alloc(4);
    err.writeInt32LE(-16);
    const r = parseNetlink(Buffer.concat([message(3, Buffer.alloc(4), 11), message(2, err, 12)]), 'LE');
    expect(r.messages).to.deep.equal([
      { type: 'done', seq: 11 },
      { type: 'error', seq: 12, errno: 16 },
    ]);
  });

  it('stops at a message whose length overruns the datagram, keeping what came before', () => {
    const good = link(RTM_NEWLINK, 5, 'eth0', UP, 1500);
    const bad = link(RTM_NEWLINK, 6, 'eth1', UP, 1500).subarray(0, 30);
    const r = parseNetlink(Buffer.concat([good, bad]), 'LE');
    expect(r.ok).to.equal(false);
    expect(r.messages).to.have.length(1);
    if (!r.ok) expect(r.reason).to.match(/overruns/);
  });

  it('refuses an attribute whose length overruns its message', () => {
    const m = link(RTM_NEWLINK, 5, 'eth0', UP, 1500);
    m.writeUInt16LE(200, 32); // the first attribute's length
    const r = parseNetlink(m, 'LE');
    expect(r.ok).to.equal(false);
  });

  it('builds dump requests: header length, type, NLM_F_REQUEST|NLM_F_DUMP, sequence', () => {
    expect(dumpRequest('links', 3, 'LE').toString('hex')).to.equal(
      '20000000' + '1200' + '0103' + '03000000' + '00000000' + '00'.repeat(16),
    );
    expect(dumpRequest('addresses', 4, 'LE').toString('hex')).to.equal(
      '18000000' + '1600' + '0103' + '04000000' + '00000000' + '00'.repeat(8),
    );
  });
});

describe('layer2: link table', () => {
  const kinds = (changes: readonly { kind: string; name: string }[]): string[] =>
    changes.map((c) => `${c.kind} ${c.name}`);
  const one = (b: Buffer): NetlinkMessage => parseNetlink(b, 'LE').messages[0]!;

  it('reports a link added, going down and up, its MTU and addresses changing, and removed', () => {
    const t = new LinkTable();
    expect(kinds(t.apply(one(link(RTM_NEWLINK, 5, 'eth0', UP, 1500))))).to.deep.equal(['added eth0']);
    expect(kinds(t.apply(one(link(RTM_NEWLINK, 5, 'eth0', UP, 1500))))).to.deep.equal([]);
    expect(kinds(t.apply(one(link(RTM_NEWLINK, 5, 'eth0', IFF_UP, 1500))))).to.deep.equal(['down eth0']); // carrier lost
    expect(t.interfaces()[0]!.up).to.equal(false);
    expect(kinds(t.apply(one(link(RTM_NEWLINK, 5, 'eth0', UP, 1400))))).to.deep.equal(['up eth0', 'mtu eth0']);
    expect(kinds(t.apply(one(address(RTM_NEWADDR, 5, 2, 24, v4('192.0.2.1')))))).to.deep.equal(['addresses eth0']);
    expect(t.interfaces()[0]!.addrs.map((a) => formatIP(a.ip))).to.deep.equal(['192.0.2.1']);
    expect(kinds(t.apply(one(link(RTM_DELLINK, 5, 'eth0', 0, 1400))))).to.deep.equal(['removed eth0']);
    expect(t.interfaces()).to.deep.equal([]);
  });

  it('reports an interface created again under the same name with a new ifindex', () => {
    const t = new LinkTable();
    t.apply(one(link(RTM_NEWLINK, 5, 'eth0', UP, 1500)));
    expect(t.apply(one(link(RTM_NEWLINK, 8, 'eth0', UP, 1500)))).to.deep.equal([
      { kind: 'recreated', name: 'eth0', index: 8 },
    ]);
    expect(t.interfaces().map((i) => i.index)).to.deep.equal([8]);
  });

  it('finds links that went away while notifications were lost, at the end of a dump', () => {
    const t = new LinkTable();
    t.apply(one(link(RTM_NEWLINK, 5, 'eth0', UP, 1500)));
    t.apply(one(link(RTM_NEWLINK, 6, 'eth1', UP, 1500)));
    t.beginDump();
    t.apply(one(link(RTM_NEWLINK, 5, 'eth0', UP, 1500)));
    expect(kinds(t.endDump())).to.deep.equal(['removed eth1']);
  });

  it('never lists loopback', () => {
    const t = new LinkTable();
    expect(t.apply(one(link(RTM_NEWLINK, 1, 'lo', UP, 65536)))).to.deep.equal([]);
    expect(t.interfaces()).to.deep.equal([]);
  });
});

describe('layer2: link table address dump', () => {
  const one = (b: Buffer): NetlinkMessage => parseNetlink(b, 'LE').messages[0]!;
  it('reports the links whose addresses changed unseen, and only those', () => {
    const t = new LinkTable();
    t.apply(one(link(RTM_NEWLINK, 5, 'eth0', UP, 1500)));
    t.apply(one(link(RTM_NEWLINK, 6, 'eth1', UP, 1500)));
    t.apply(one(address(RTM_NEWADDR, 5, 2, 24, v4('192.0.2.1'))));
    t.apply(one(address(RTM_NEWADDR, 6, 2, 24, v4('198.51.100.1'))));
    t.beginAddressDump();
    expect(t.apply(one(address(RTM_NEWADDR, 5, 2, 24, v4('192.0.2.1'))))).to.deep.equal([]);
    expect(t.endAddressDump()).to.deep.equal([{ kind: 'addresses', name: 'eth1', index: 6 }]);
    expect(t.interfaces().find((i) => i.name === 'eth1')!.addrs).to.deep.equal([]);
  });
});
