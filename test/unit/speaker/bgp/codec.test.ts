/**
 * The BGP codec against bytes written out by hand from the RFC layouts (never produced by
 * the encoder), round trips, every §6 error, and the framer under every split.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { decode, encode } from '../../../../speaker/bgp/codec.js';
import { Framer } from '../../../../speaker/bgp/framer.js';
import {
  DEFAULT_CODEC,
  isEndOfRib,
  treatAsWithdraw,
  type OpenMessage,
  type UpdateMessage,
} from '../../../../speaker/bgp/messages.js';
import { endOfRib, packAnnouncements, packWithdrawals } from '../../../../speaker/bgp/packer.js';
import { formatCIDR } from '../../../../src/net/cidr.js';
import { parseIP } from '../../../../src/net/ip.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MARKER = 'ffffffffffffffffffffffffffffffff';

describe('bgp codec: messages from hand-written bytes', () => {
  it('KEEPALIVE is a bare 19-byte header (§4.4)', () => {
    const bytes = hex(`${MARKER} 0013 04`);
    expect(decode(bytes, DEFAULT_CODEC)).to.deep.equal({ ok: true, message: { type: 'keepalive' } });
    expect(encode({ type: 'keepalive' }, DEFAULT_CODEC).equals(bytes)).to.equal(true);
  });

  it('OPEN with multiprotocol v4+v6, route refresh, 4-octet AS, graceful restart (§4.2, RFC 5492)', () => {
    // version 4, My AS = AS_TRANS (23456 = 0x5ba0), hold 90, id 192.0.2.1
    const caps =
      '02 06 01 04 0001 00 01' + // MP IPv4 unicast
      '02 06 01 04 0002 00 01' + // MP IPv6 unicast
      '02 02 02 00' + // route refresh
      '02 0c 40 0a 8078 0001 01 80 0002 01 00'.replace(/ /g, '') + // GR: R bit, 120 s; v4 fwd, v6 not
      '02 06 41 04 000fde80'; // 4-octet AS 1040000
    const capsBuf = hex(caps);
    const body = hex(`04 5ba0 005a c0000201 ${capsBuf.length.toString(16).padStart(2, '0')}`);
    const bytes = Buffer.concat([hex(MARKER), Buffer.from([0, 19 + body.length + capsBuf.length, 1]), body, capsBuf]);
    const r = decode(bytes, DEFAULT_CODEC);
    expect(r.ok).to.equal(true);
    const m = (r as { message: OpenMessage }).message;
    expect(m).to.deep.include({ version: 4, myAs: 23456, holdTime: 90, bgpId: '192.0.2.1' });
    expect(m.capabilities).to.deep.equal({
      multiprotocol: [
        { afi: 1, safi: 1 },
        { afi: 2, safi: 1 },
      ],
      routeRefresh: true,
      extendedMessage: false,
      other: [],
      fourOctetAs: 1040000,
      gracefulRestart: {
        restarting: true,
        restartTime: 120,
        families: [
          { afi: 1, safi: 1, forwardingPreserved: true },
          { afi: 2, safi: 1, forwardingPreserved: false },
        ],
      },
    });
    expect(decode(encode(m, DEFAULT_CODEC), DEFAULT_CODEC)).to.deep.equal(r);
  });

  it('UPDATE announcing two IPv4 prefixes with communities, large communities and local-pref', () => {
    const attrs =
      '40 01 01 00' + // ORIGIN IGP
      '40 02 06 02 01 0000fde8' + // AS_PATH: AS_SEQUENCE [65000] (4-byte)
      '40 03 04 c0000201' + // NEXT_HOP 192.0.2.1
      '40 05 04 00000064' + // LOCAL_PREF 100
      'c0 08 04 fde80064' + // COMMUNITIES 65000:100
      'c0 20 0c 0000fde8 00000001 00000002'; // LARGE_COMMUNITY 65000:1:2
    const a = hex(attrs);
    const nlri = hex('20 cb007101 18 c63364'); // 203.0.113.1/32, 198.51.100.0/24
    const body = Buffer.concat([hex('0000'), Buffer.from([0, a.length]), a, nlri]);
    const bytes = Buffer.concat([hex(MARKER), Buffer.from([0, 19 + body.length, 2]), body]);
    const r = decode(bytes, DEFAULT_CODEC);
    expect(r.ok).to.equal(true);
    const u = (r as { message: UpdateMessage }).message;
    expect(u.nlri.map(formatCIDR)).to.deep.equal(['203.0.113.1/32', '198.51.100.0/24']);
    expect(u.attributes).to.deep.equal({
      origin: 0,
      asPath: [{ type: 2, asns: [65000] }],
      nextHop: parseIP('192.0.2.1'),
      localPref: 100,
      communities: [65000 * 65536 + 100],
      largeCommunities: [[65000, 1, 2]],
    });
    expect(encode(u, DEFAULT_CODEC).equals(bytes)).to.equal(true);
  });

  it('UPDATE to a 2-octet-AS peer: AS_PATH [AS_TRANS] in 2-byte ASNs plus AS4_PATH [4200000001] (RFC 6793 §4.2.2)', () => {
    const attrs =
      '40 01 01 00' + // ORIGIN IGP
      '40 02 04 02 01 5ba0' + // AS_PATH: AS_SEQUENCE [23456] in 2-byte ASNs
      '40 03 04 c0000201' + // NEXT_HOP 192.0.2.1
      'c0 11 06 02 01 fa56ea01'; // AS4_PATH: AS_SEQUENCE [4200000001] (optional transitive, type 17)
    const a = hex(attrs);
    const nlri = hex('20 cb007101'); // 203.0.113.1/32
    const body = Buffer.concat([hex('0000'), Buffer.from([0, a.length]), a, nlri]);
    const bytes = Buffer.concat([hex(MARKER), Buffer.from([0, 19 + body.length, 2]), body]);
    const twoByte = { ...DEFAULT_CODEC, fourOctetAs: false };
    const r = decode(bytes, twoByte);
    expect(r.ok).to.equal(true);
    const u = (r as { message: UpdateMessage }).message;
    expect(u.attributes).to.deep.equal({
      origin: 0,
      asPath: [{ type: 2, asns: [23456] }],
      nextHop: parseIP('192.0.2.1'),
      as4Path: [{ type: 2, asns: [4200000001] }],
    });
    expect(encode(u, twoByte).equals(bytes)).to.equal(true);
    // The 4-byte AS in AS_PATH itself is written as AS_TRANS on a 2-octet session.
    const direct = encode(
      {
        type: 'update',
        withdrawn: [],
        nlri: u.nlri,
        attributes: { origin: 0, asPath: [{ type: 2, asns: [4200000001] }], nextHop: parseIP('192.0.2.1') },
      },
      twoByte,
    );
    expect(direct.includes(hex('40 02 04 02 01 5ba0'))).to.equal(true);
  });

  it('UPDATE with MP_REACH_NLRI for IPv6, and MP_UNREACH_NLRI (RFC 4760)', () => {
    const mp = '0002 01 10 20010db8000000000000000000000001 00 80 20010db8000000000000000000000064'; // nh 2001:db8::1, 2001:db8::64/128
    const mpBuf = hex(mp);
    const attrs = Buffer.concat([
      hex('40 01 01 00 40 02 00'),
      hex(`80 0e ${mpBuf.length.toString(16).padStart(2, '0')}`),
      mpBuf,
    ]);
    const body = Buffer.concat([hex('0000'), Buffer.from([0, attrs.length]), attrs]);
    const bytes = Buffer.concat([hex(MARKER), Buffer.from([0, 19 + body.length, 2]), body]);
    const u = (decode(bytes, DEFAULT_CODEC) as { message: UpdateMessage }).message;
    expect(u.attributes.mpReach!.nlri.map(formatCIDR)).to.deep.equal(['2001:db8::64/128']);
    expect(u.attributes.mpReach!.nextHops).to.deep.equal([parseIP('2001:db8::1')]);
    expect(encode(u, DEFAULT_CODEC).equals(bytes)).to.equal(true);
  });

  it('End-of-RIB for IPv4 (empty UPDATE) and IPv6 (empty MP_UNREACH_NLRI), RFC 4724 §2', () => {
    const v4 = hex(`${MARKER} 0017 02 0000 0000`);
    expect(encode(endOfRib(1), DEFAULT_CODEC).equals(v4)).to.equal(true);
    expect(isEndOfRib((decode(v4, DEFAULT_CODEC) as { message: UpdateMessage }).message)).to.deep.equal({
      afi: 1,
      safi: 1,
    });
    const v6 = hex(`${MARKER} 001d 02 0000 0006 800f 03 0002 01`);
    expect(encode(endOfRib(2), DEFAULT_CODEC).equals(v6)).to.equal(true);
    expect(isEndOfRib((decode(v6, DEFAULT_CODEC) as { message: UpdateMessage }).message)).to.deep.equal({
      afi: 2,
      safi: 1,
    });
  });

  it('NOTIFICATION and ROUTE-REFRESH', () => {
    const n = hex(`${MARKER} 0017 03 06 02 dead`);
    expect(decode(n, DEFAULT_CODEC)).to.deep.equal({
      ok: true,
      message: { type: 'notification', code: 6, subcode: 2, data: hex('dead') },
    });
    const rr = hex(`${MARKER} 0017 05 0002 00 01`);
    expect(decode(rr, DEFAULT_CODEC)).to.deep.equal({ ok: true, message: { type: 'routeRefresh', afi: 2, safi: 1 } });
    expect(encode({ type: 'routeRefresh', afi: 2, safi: 1 }, DEFAULT_CODEC).equals(rr)).to.equal(true);
  });
});

describe('bgp codec: errors carry the NOTIFICATION of RFC 4271 §6', () => {
  const cases: { name: string; bytes: string; code: number; subcode: number; data?: string; withdraw?: boolean }[] = [
    { name: 'marker not all ones', bytes: `ffffffffffffffffffffffffffff00ff 0013 04`, code: 1, subcode: 1 },
    { name: 'length below 19', bytes: `${MARKER} 0012 04`, code: 1, subcode: 2, data: '0012' },
    { name: 'KEEPALIVE with a body', bytes: `${MARKER} 0014 04 00`, code: 1, subcode: 2, data: '0014' },
    { name: 'unknown type', bytes: `${MARKER} 0013 09`, code: 1, subcode: 3, data: '09' },
    { name: 'OPEN version 3', bytes: `${MARKER} 001d 01 03 fde8 005a c0000201 00`, code: 2, subcode: 1, data: '0004' },
    { name: 'OPEN hold time 2', bytes: `${MARKER} 001d 01 04 fde8 0002 c0000201 00`, code: 2, subcode: 6 },
    {
      name: 'OPEN unsupported optional parameter',
      bytes: `${MARKER} 0021 01 04 fde8 005a c0000201 04 01 02 0000`,
      code: 2,
      subcode: 4,
    },
    { name: 'UPDATE withdrawn length overruns', bytes: `${MARKER} 0017 02 00ff 0000`, code: 3, subcode: 1 },
    {
      name: 'UPDATE attribute overruns the attribute field',
      bytes: `${MARKER} 001b 02 0000 0004 40 01 05 00`,
      code: 3,
      subcode: 5,
    },
    {
      name: 'UPDATE unrecognized well-known attribute',
      bytes: `${MARKER} 001b 02 0000 0004 40 63 01 00`,
      code: 3,
      subcode: 2,
    },
    { name: 'UPDATE invalid NLRI field', bytes: `${MARKER} 001a 02 0000 0000 21 c0 00`, code: 3, subcode: 10 },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const r = decode(hex(tc.bytes), DEFAULT_CODEC);
      expect(r.ok, JSON.stringify(r)).to.equal(false);
      if (!r.ok) {
        expect([r.error.code, r.error.subcode], r.error.reason).to.deep.equal([tc.code, tc.subcode]);
        if (tc.data !== undefined) expect(r.error.data.toString('hex')).to.equal(tc.data);
      }
    });
  }

  // `subcode`: the RFC 4271 §6.3 UPDATE error the attribute would have reset the session with.
  const withdraws: { name: string; attrs: string; why: RegExp; subcode: number }[] = [
    { name: 'invalid ORIGIN value', attrs: '40 01 01 07 40 02 00 40 03 04 c0000201', why: /ORIGIN/, subcode: 6 },
    { name: 'missing NEXT_HOP', attrs: '40 01 01 00 40 02 00', why: /missing well-known attribute 3/, subcode: 3 },
    {
      name: 'malformed AS_PATH',
      attrs: '40 01 01 00 40 02 03 02 05 00 40 03 04 c0000201',
      why: /AS_PATH/,
      subcode: 11,
    },
    {
      name: 'LOCAL_PREF of 3 bytes',
      attrs: '40 01 01 00 40 02 00 40 03 04 c0000201 40 05 03 000001',
      why: /LOCAL_PREF/,
      subcode: 5,
    },
    { name: 'wrong flags on ORIGIN', attrs: '80 01 01 00 40 02 00 40 03 04 c0000201', why: /flags/, subcode: 4 },
  ];
  for (const tc of withdraws) {
    it(`RFC 7606 treat-as-withdraw: ${tc.name}`, () => {
      const a = hex(tc.attrs);
      const nlri = hex('20 cb007101');
      const body = Buffer.concat([hex('0000'), Buffer.from([0, a.length]), a, nlri]);
      const r = decode(Buffer.concat([hex(MARKER), Buffer.from([0, 19 + body.length, 2]), body]), DEFAULT_CODEC);
      expect(r.ok).to.equal(true);
      const withdraw = treatAsWithdraw((r as { message: UpdateMessage }).message);
      expect(withdraw?.reason).to.match(tc.why);
      expect([withdraw?.handling, withdraw?.code, withdraw?.subcode]).to.deep.equal([
        'treat-as-withdraw',
        3,
        tc.subcode,
      ]);
    });
  }
});

describe('bgp framer', () => {
  const msgs = [
    encode({ type: 'keepalive' }, DEFAULT_CODEC),
    encode(
      {
        type: 'open',
        version: 4,
        myAs: 65000,
        holdTime: 90,
        bgpId: '192.0.2.1',
        capabilities: {
          multiprotocol: [{ afi: 1, safi: 1 }],
          routeRefresh: true,
          extendedMessage: false,
          other: [],
          fourOctetAs: 65000,
        },
      },
      DEFAULT_CODEC,
    ),
    encode(endOfRib(2), DEFAULT_CODEC),
  ];
  const stream = Buffer.concat(msgs);

  it('yields the same messages for every split point, and one byte at a time', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const f = new Framer();
      const out = [...f.push(stream.subarray(0, cut)).messages, ...f.push(stream.subarray(cut)).messages];
      expect(
        out.map((b) => b.toString('hex')),
        `cut ${cut}`,
      ).to.deep.equal(msgs.map((b) => b.toString('hex')));
    }
    const f = new Framer();
    const out: Buffer[] = [];
    for (const byte of stream) out.push(...f.push(Buffer.from([byte])).messages);
    expect(out).to.have.length(3);
  });

  it('any random split (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 10 }), (cuts) => {
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const f = new Framer();
        const out: Buffer[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          out.push(...f.push(stream.subarray(prev, p)).messages);
          prev = p;
        }
        expect(out.length).to.equal(3);
      }),
    );
  });

  it('reports a bad header as soon as the header is complete', () => {
    const f = new Framer();
    const r = f.push(hex(`${MARKER} 2000 02`));
    expect(r.error).to.include({ code: 1, subcode: 2 });
  });
});

describe('bgp packer', () => {
  const opts = { ...DEFAULT_CODEC };
  const attrs = { origin: 0 as const, asPath: [{ type: 2 as const, asns: [65000] }] };

  it('fills IPv4 UPDATEs to the 4096-byte limit and never beyond', () => {
    const prefixes = Array.from({ length: 2000 }, (_, i) => ({
      family: 'IPv4' as const,
      base: (0xcb007100n << 0n) + BigInt(i),
      prefixLength: 32,
    }));
    const ups = packAnnouncements(prefixes, attrs, [parseIP('192.0.2.1')], opts);
    const sizes = ups.map((u) => encode(u, opts).length);
    expect(Math.max(...sizes)).to.be.at.most(4096);
    expect(sizes.slice(0, -1).every((s) => s > 4096 - 5)).to.equal(true);
    expect(ups.reduce((n, u) => n + u.nlri.length, 0)).to.equal(2000);
    expect(ups.length).to.be.at.most(Math.ceil(2000 / 800) + 1);
  });

  it('packs IPv6 into MP_REACH_NLRI and withdrawals into MP_UNREACH_NLRI within the limit', () => {
    const prefixes = Array.from({ length: 1000 }, (_, i) => ({
      family: 'IPv6' as const,
      base: (0x20010db8n << 96n) + BigInt(i),
      prefixLength: 128,
    }));
    const ups = packAnnouncements(prefixes, attrs, [parseIP('2001:db8::1')], opts);
    for (const u of ups) expect(encode(u, opts).length).to.be.at.most(4096);
    expect(ups.reduce((n, u) => n + u.attributes.mpReach!.nlri.length, 0)).to.equal(1000);
    const wd = packWithdrawals(prefixes, opts);
    for (const u of wd) expect(encode(u, opts).length).to.be.at.most(4096);
    expect(wd.reduce((n, u) => n + u.attributes.mpUnreach!.withdrawn.length, 0)).to.equal(1000);
    const back = decode(encode(wd[0]!, opts), opts);
    expect((back as { message: UpdateMessage }).message.attributes.mpUnreach!.withdrawn.length).to.equal(
      wd[0]!.attributes.mpUnreach!.withdrawn.length,
    );
  });
});
