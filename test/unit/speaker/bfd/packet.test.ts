/** RFC 5880 §4 Control packets: bytes written out by hand, §6.8.6 reception checks, §4.2–4.4 auth sections. */
import { expect } from 'chai';
import fc from 'fast-check';
import {
  AUTH_TYPE,
  BfdDecodeError,
  decodeControl,
  encodeControl,
  type ControlFields,
} from '../../../../speaker/bfd/packet.js';

// Version 1, diag 1 | state Up (3<<6), P | mult 3 | len 24 | my 0x01020304 | your 0x0a0b0c0d |
// desired tx 300 ms = 300000 µs = 0x000493e0 | required rx 100 ms = 0x000186a0 | echo 0.
const UP_POLL = Buffer.from('21e00318010203040a0b0c0d000493e0000186a000000000', 'hex');

const base: ControlFields = {
  diag: 1,
  state: 'Up',
  poll: true,
  final: false,
  detectMult: 3,
  myDiscriminator: 0x01020304,
  yourDiscriminator: 0x0a0b0c0d,
  desiredMinTxMs: 300,
  requiredMinRxMs: 100,
  requiredMinEchoRxMs: 0,
};

function withAuth(section: Buffer): Buffer {
  const b = Buffer.concat([UP_POLL, section]);
  b[1] = b[1]! | 0x04;
  b[3] = b.length;
  return b;
}

describe('BFD Control packet codec', () => {
  it('encodes the fields at the RFC 5880 §4.1 offsets', () => {
    expect(encodeControl(base).toString('hex')).to.equal(UP_POLL.toString('hex'));
  });

  it('decodes what it encodes, every state and flag', () => {
    for (const state of ['AdminDown', 'Down', 'Init', 'Up'] as const) {
      for (const [poll, final] of [
        [false, false],
        [true, false],
        [false, true],
      ] as const) {
        const f: ControlFields = {
          ...base,
          state,
          poll,
          final,
          yourDiscriminator: state === 'Up' || state === 'Init' ? 7 : 0,
          diag: 7,
          desiredMinTxMs: 1000,
          requiredMinRxMs: 0.001,
        };
        expect(decodeControl(encodeControl(f))).to.deep.equal({ ...f, controlPlaneIndependent: false, demand: false });
      }
    }
  });

  it('refuses Poll and Final together (§6.5)', () => {
    expect(() => encodeControl({ ...base, final: true })).to.throw(/Poll and Final/);
  });

  const bad: { name: string; bytes: Buffer; error: RegExp }[] = [
    { name: 'short', bytes: UP_POLL.subarray(0, 23), error: /shorter than 24/ },
    { name: 'version 2', bytes: Buffer.from([0x41, ...UP_POLL.subarray(1)]), error: /version 2/ },
    {
      name: 'length field 20',
      bytes: Buffer.from([...UP_POLL.subarray(0, 3), 20, ...UP_POLL.subarray(4)]),
      error: /length field 20/,
    },
    {
      name: 'length beyond payload',
      bytes: Buffer.from([...UP_POLL.subarray(0, 3), 40, ...UP_POLL.subarray(4)]),
      error: /beyond the 24-byte/,
    },
    {
      name: 'detect mult 0',
      bytes: Buffer.from([0x21, 0xe0, 0, ...UP_POLL.subarray(3)]),
      error: /Detect Mult is zero/,
    },
    { name: 'multipoint', bytes: Buffer.from([0x21, 0xe1, ...UP_POLL.subarray(2)]), error: /Multipoint/ },
    {
      name: 'my discriminator 0',
      bytes: Buffer.from([...UP_POLL.subarray(0, 4), 0, 0, 0, 0, ...UP_POLL.subarray(8)]),
      error: /My Discriminator is zero/,
    },
    {
      name: 'your discriminator 0 while Up',
      bytes: Buffer.from([...UP_POLL.subarray(0, 8), 0, 0, 0, 0, ...UP_POLL.subarray(12)]),
      error: /Your Discriminator is zero in state Up/,
    },
    {
      name: 'A bit with 24 bytes',
      bytes: Buffer.from([0x21, 0xe4, ...UP_POLL.subarray(2)]),
      error: /length field 24 too small/,
    },
    { name: 'unknown auth type', bytes: withAuth(Buffer.from([9, 4, 1, 0])), error: /unknown authentication type 9/ },
    {
      name: 'SHA1 section of the MD5 length',
      bytes: withAuth(Buffer.concat([Buffer.from([4, 24, 1, 0, 0, 0, 0, 1]), Buffer.alloc(16)])),
      error: /Keyed SHA1 section length 24, expected 28/,
    },
    {
      name: 'password of 17 bytes',
      bytes: withAuth(Buffer.concat([Buffer.from([1, 20, 1]), Buffer.alloc(17, 0x61)])),
      error: /Simple Password section length 20/,
    },
  ];
  for (const c of bad) {
    it(`rejects: ${c.name}`, () => {
      expect(() => decodeControl(c.bytes)).to.throw(c.error);
    });
  }

  it('allows Your Discriminator 0 in Down and AdminDown', () => {
    expect(
      decodeControl(encodeControl({ ...base, state: 'Down', poll: false, yourDiscriminator: 0 })).yourDiscriminator,
    ).to.equal(0);
  });

  it('parses the authentication sections', () => {
    const pw = decodeControl(withAuth(Buffer.from([1, 9, 5, ...Buffer.from('secret')])));
    expect(pw.auth).to.deep.equal({ type: AUTH_TYPE.simplePassword, keyId: 5, password: Buffer.from('secret') });
    const md5 = decodeControl(
      withAuth(Buffer.concat([Buffer.from([2, 24, 3, 0, 0, 0, 1, 0]), Buffer.alloc(16, 0xab)])),
    );
    expect(md5.auth).to.deep.equal({
      type: AUTH_TYPE.keyedMd5,
      keyId: 3,
      sequence: 256,
      digest: Buffer.alloc(16, 0xab),
    });
    const sha = decodeControl(
      withAuth(Buffer.concat([Buffer.from([5, 28, 1, 0, 0xff, 0xff, 0xff, 0xff]), Buffer.alloc(20, 1)])),
    );
    expect(sha.auth).to.deep.include({ type: AUTH_TYPE.meticulousKeyedSha1, sequence: 0xffffffff });
  });

  it('ignores bytes after the length field (§6.8.6 uses the Length)', () => {
    expect(decodeControl(Buffer.concat([UP_POLL, Buffer.alloc(8)])).myDiscriminator).to.equal(0x01020304);
  });

  it('fuzz: any bytes decode or fail with a BfdDecodeError, never anything else', () => {
    const valid = fc.constantFrom(
      UP_POLL,
      withAuth(Buffer.from([1, 9, 5, ...Buffer.from('secret')])),
      withAuth(Buffer.concat([Buffer.from([4, 28, 1, 0, 0, 0, 0, 1]), Buffer.alloc(20)])),
    );
    const mutated = fc
      .tuple(valid, fc.array(fc.tuple(fc.nat(60), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(60))
      .map(([b, flips, cut]) => {
        const c = Buffer.from(b);
        for (const [i, v] of flips) if (i < c.length) c[i] = v;
        return c.subarray(0, Math.max(cut, 0));
      });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }).map((u) => Buffer.from(u)),
          mutated,
        ),
        (b) => {
          try {
            const p = decodeControl(b);
            expect(p.myDiscriminator).to.not.equal(0);
          } catch (err) {
            expect(err).to.be.instanceOf(BfdDecodeError);
          }
        },
      ),
      { numRuns: 3000, seed: 17 },
    );
  });

  it('property: encode then decode gives the fields back', () => {
    const state = fc.constantFrom('AdminDown', 'Down', 'Init', 'Up' as const);
    fc.assert(
      fc.property(
        state,
        fc.integer({ min: 0, max: 31 }),
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.integer({ min: 1, max: 0xffffffff }),
        fc.integer({ min: 0, max: 4_000_000 }),
        fc.boolean(),
        (st, diag, mult, my, your, us, poll) => {
          const f: ControlFields = {
            diag,
            state: st,
            poll,
            final: !poll && us % 2 === 0,
            detectMult: mult,
            myDiscriminator: my,
            yourDiscriminator: your,
            desiredMinTxMs: us / 1000,
            requiredMinRxMs: (us + 1) / 1000,
            requiredMinEchoRxMs: 0,
          };
          expect(decodeControl(encodeControl(f))).to.deep.equal({
            ...f,
            controlPlaneIndependent: false,
            demand: false,
          });
        },
      ),
      { numRuns: 2000, seed: 5 },
    );
  });
});
