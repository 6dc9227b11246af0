/**
 * The decoder against hostile input: random bytes behind a valid header, and valid messages
 * with bytes flipped, cut or stretched. It must never throw; a refusal must carry a
 * NOTIFICATION code and subcode that RFC 4271 §6 (and RFC 7606 treat-as-withdraw) allow,
 * and whatever it accepts must encode again.
 */
import { expect } from 'chai';
import fc from 'fast-check';
import { decode, encode } from '../../../../speaker/bgp/codec.js';
import { Framer } from '../../../../speaker/bgp/framer.js';
import { AS_SEQUENCE, DEFAULT_CODEC, type BgpMessage, type CodecOptions } from '../../../../speaker/bgp/messages.js';
import { parseCIDR } from '../../../../src/net/cidr.js';
import { parseIP } from '../../../../src/net/ip.js';

/** §6.1–§6.7 (and RFC 4486 for Cease): the subcodes each error code may carry. */
const ALLOWED: Record<number, readonly number[]> = {
  1: [1, 2, 3],
  2: [0, 1, 2, 3, 4, 5, 6, 7],
  3: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  4: [0],
  5: [0, 1, 2, 3],
  6: [0, 1, 2, 3, 4, 5, 6, 7, 8],
};

const SEEDS: BgpMessage[] = [
  { type: 'keepalive' },
  {
    type: 'open',
    version: 4,
    myAs: 65000,
    holdTime: 90,
    bgpId: '192.0.2.1',
    capabilities: {
      multiprotocol: [
        { afi: 1, safi: 1 },
        { afi: 2, safi: 1 },
      ],
      routeRefresh: true,
      extendedMessage: true,
      other: [],
      fourOctetAs: 4200000000,
      gracefulRestart: {
        restarting: true,
        restartTime: 120,
        families: [{ afi: 1, safi: 1, forwardingPreserved: true }],
      },
    },
  },
  {
    type: 'update',
    withdrawn: [parseCIDR('198.51.100.0/24')],
    attributes: {
      origin: 0,
      asPath: [{ type: AS_SEQUENCE, asns: [65000, 65001] }],
      nextHop: parseIP('192.0.2.1'),
      med: 5,
      localPref: 200,
      communities: [0xfde80064],
      largeCommunities: [[65000, 1, 2]],
    },
    nlri: [parseCIDR('203.0.113.1/32'), parseCIDR('203.0.113.128/25')],
  },
  {
    type: 'update',
    withdrawn: [],
    attributes: {
      origin: 2,
      asPath: [],
      mpReach: {
        afi: 2,
        safi: 1,
        nextHops: [parseIP('2001:db8::1')],
        nlri: [parseCIDR('2001:db8:1::/48'), parseCIDR('2001:db8::5/128')],
      },
    },
    nlri: [],
  },
  { type: 'notification', code: 6, subcode: 2, data: Buffer.from('bye') },
  { type: 'routeRefresh', afi: 1, safi: 1 },
];

function check(buf: Buffer, opts: CodecOptions): void {
  let r;
  try {
    r = decode(buf, opts);
  } catch (err) {
    throw new Error(`decode threw on ${buf.toString('hex')}: ${(err as Error).message}`);
  }
  if (!r.ok) {
    // A decoder defect must fail the run, whatever NOTIFICATION it would send.
    expect(r.error.kind, `internal decoder error on ${buf.toString('hex')}: ${r.error.reason}`).to.not.equal(
      'internal',
    );
    expect(
      r.error.code,
      `a decode error is a header, OPEN or UPDATE error (§6.1-§6.3); ${buf.toString('hex')}`,
    ).to.be.oneOf([1, 2, 3]);
    expect(ALLOWED[r.error.code], `code ${r.error.code} for ${buf.toString('hex')}`).to.not.equal(undefined);
    expect(ALLOWED[r.error.code]).to.include(
      r.error.subcode,
      `subcode ${r.error.code}/${r.error.subcode} for ${buf.toString('hex')}`,
    );
    expect(r.error.reason).to.be.a('string').and.not.equal('');
    return;
  }
  expect(
    () => encode(r.message, { ...opts, maxMessageSize: 65535 }),
    `re-encoding ${buf.toString('hex')}`,
  ).to.not.throw();
}

function header(type: number, body: Buffer): Buffer {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(19 + body.length, 16);
  h[18] = type;
  return Buffer.concat([h, body]);
}

describe('bgp codec under fuzzing (fast-check)', () => {
  const opts: CodecOptions[] = [DEFAULT_CODEC, { fourOctetAs: false, maxMessageSize: 4096 }];

  it('random bodies behind a well-formed header never throw and refuse with an allowed code', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.boolean(),
        (type, body, four) => {
          check(header(type, Buffer.from(body)), opts[four ? 0 : 1]!);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('valid messages with bytes flipped, cut short or extended never throw', () => {
    const encoded = SEEDS.map((m) => encode(m, { ...DEFAULT_CODEC, maxMessageSize: 65535 }));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: encoded.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.integer({ min: -20, max: 20 }),
        fc.boolean(),
        (which, flips, stretch, fixLength) => {
          const src = encoded[which]!;
          let buf = Buffer.from(src);
          for (const [at, v] of flips) if (buf.length > 19) buf[19 + (at % (buf.length - 19))] = v;
          if (stretch < 0) buf = buf.subarray(0, Math.max(19, buf.length + stretch));
          else if (stretch > 0) buf = Buffer.concat([buf, Buffer.alloc(stretch, stretch)]);
          if (fixLength) buf.writeUInt16BE(buf.length, 16);
          check(buf, DEFAULT_CODEC);
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('fails on an internal decoder error (the check is not a catch-all)', () => {
    const broken = {
      maxMessageSize: 4096,
      get fourOctetAs(): boolean {
        throw new RangeError('bug');
      },
    } as CodecOptions;
    const update = encode(
      { type: 'update', withdrawn: [], attributes: { origin: 0, asPath: [] }, nlri: [] },
      DEFAULT_CODEC,
    );
    expect(() => check(update, broken)).to.throw(/internal decoder error/);
  });

  it('the framer never throws on a random byte stream and stops at the first bad header', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }), (chunks) => {
        const f = new Framer();
        for (const c of chunks) {
          const out = f.push(Buffer.from(c));
          for (const m of out.messages) check(m, DEFAULT_CODEC);
          if (out.error) {
            expect(out.error.code).to.equal(1);
            break;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
