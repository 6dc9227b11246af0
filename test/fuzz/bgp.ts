/**
 * BGP decoder targets. Properties: decode never throws; a refusal is never an internal error
 * and carries a header, OPEN or UPDATE NOTIFICATION with an RFC 4271 §4.5 subcode (0,
 * "unspecific", where §6 allows it); whatever is accepted encodes again; and for messages
 * built from valid values, decode(encode(m)) == m.
 */
import fc from 'fast-check';
import { decode, encode } from '../../speaker/bgp/codec.js';
import { Framer } from '../../speaker/bgp/framer.js';
import {
  AS_SEQUENCE,
  AS_SET,
  DEFAULT_CODEC,
  treatAsWithdraw,
  type BgpMessage,
  type CodecOptions,
  type OpenMessage,
  type UpdateMessage,
} from '../../speaker/bgp/messages.js';
import type { CIDR } from '../../src/net/cidr.js';
import { canon, must, mutated, target, type FuzzTarget } from './harness.js';

/** RFC 4271 §4.5 (with RFC 5492's OPEN subcode 7): subcodes per decode error code. */
export const RFC4271_SUBCODES: Readonly<Record<number, readonly number[]>> = {
  1: [1, 2, 3],
  2: [0, 1, 2, 3, 4, 6, 7],
  3: [0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11],
};

const OPTS: readonly CodecOptions[] = [
  DEFAULT_CODEC,
  { fourOctetAs: false, maxMessageSize: 4096 },
  { fourOctetAs: true, maxMessageSize: 65535 },
];

function header(type: number, body: Uint8Array): Buffer {
  const h = Buffer.alloc(19, 0xff);
  h.writeUInt16BE(Math.min(0xffff, 19 + body.length), 16);
  h[18] = type;
  return Buffer.concat([h, body]);
}

/** Checks one decode; returns its outcome label. */
export function checkDecode(buf: Buffer, opts: CodecOptions, reencode = true): string {
  let r;
  try {
    r = decode(buf, opts);
  } catch (err) {
    must(false, `decode threw on ${buf.toString('hex')}: ${(err as Error).message}`);
  }
  if (!r.ok) {
    must(r.error.kind !== 'internal', `internal decoder error on ${buf.toString('hex')}: ${r.error.reason}`);
    must(
      RFC4271_SUBCODES[r.error.code]?.includes(r.error.subcode) === true,
      `NOTIFICATION ${r.error.code}/${r.error.subcode} is not an RFC 4271 decode error (${r.error.reason}) for ${buf.toString('hex')}`,
    );
    must(r.error.reason.length > 0, 'a refusal says why');
    must(r.error.handling === 'session-reset', `a refusal resets the session, not ${String(r.error.handling)}`);
    // The session picks UpdateMsgErr by `message`: an UPDATE error is found in an UPDATE, and only there; an OPEN error in an OPEN.
    must(
      (r.error.code === 3) === (r.error.message === 'update'),
      `NOTIFICATION ${r.error.code}/${r.error.subcode} found in ${r.error.message}`,
    );
    must(
      r.error.code !== 2 || r.error.message === 'open',
      `NOTIFICATION 2/${r.error.subcode} found in ${r.error.message}`,
    );
    return `malformed:${r.error.code}/${r.error.subcode}`;
  }
  if (r.message.type === 'update') {
    for (const e of r.message.errors ?? []) {
      must(
        e.handling === 'treat-as-withdraw' || e.handling === 'attribute-discard',
        `an UPDATE kept with a ${e.handling} error`,
      );
      must(
        e.message === 'update' && e.code === 3 && RFC4271_SUBCODES[3]?.includes(e.subcode) === true,
        `attribute error ${e.code}/${e.subcode} in ${e.message}: ${e.reason}`,
      );
    }
  }
  if (reencode) {
    try {
      encode(r.message, { ...opts, maxMessageSize: 65535 });
    } catch (err) {
      must(
        false,
        `accepted ${r.message.type} does not encode again: ${(err as Error).message}; input ${buf.toString('hex')}`,
      );
    }
  }
  return r.message.type === 'update' && treatAsWithdraw(r.message)
    ? 'ok:update-treat-as-withdraw'
    : `ok:${r.message.type}`;
}

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const byteBuf = (max: number): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const dotted = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((p) => p.join('.'));
const KNOWN_CAPS = new Set([1, 2, 6, 64, 65]);
const otherCap = fc.record({ code: fc.nat(255).filter((c) => !KNOWN_CAPS.has(c)), value: byteBuf(8) });

const openMessage: fc.Arbitrary<OpenMessage> = fc.record({
  type: fc.constant('open' as const),
  version: fc.constant(4),
  myAs: u16,
  holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
  bgpId: dotted,
  capabilities: fc
    .record({
      multiprotocol: fc.array(fc.record({ afi: u16, safi: fc.nat(255) }), { maxLength: 4 }),
      routeRefresh: fc.boolean(),
      extendedMessage: fc.boolean(),
      // Mostly a few; sometimes enough to need RFC 9072 extended parameters.
      other: fc.oneof(
        { arbitrary: fc.array(otherCap, { maxLength: 4 }), weight: 8 },
        { arbitrary: fc.array(otherCap, { minLength: 30, maxLength: 60 }), weight: 1 },
      ),
      fourOctetAs: fc.option(u32, { nil: undefined }),
      gracefulRestart: fc.option(
        fc.record({
          restarting: fc.boolean(),
          restartTime: fc.nat(0x0fff),
          families: fc.array(fc.record({ afi: u16, safi: fc.nat(255), forwardingPreserved: fc.boolean() }), {
            maxLength: 4,
          }),
        }),
        { nil: undefined },
      ),
    })
    .map(({ fourOctetAs, gracefulRestart, ...c }) => ({
      ...c,
      ...(fourOctetAs !== undefined ? { fourOctetAs } : {}),
      ...(gracefulRestart ? { gracefulRestart } : {}),
    })),
});

const v4Prefix: fc.Arbitrary<CIDR> = fc.tuple(u32, fc.nat(32)).map(([v, len]) => ({
  family: 'IPv4' as const,
  base: len === 0 ? 0n : (BigInt(v) >> BigInt(32 - len)) << BigInt(32 - len),
  prefixLength: len,
}));
const v6Prefix: fc.Arbitrary<CIDR> = fc
  .tuple(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.nat(128))
  .map(([v, len]) => ({
    family: 'IPv6' as const,
    base: len === 0 ? 0n : (v >> BigInt(128 - len)) << BigInt(128 - len),
    prefixLength: len,
  }));

const updateMessage: fc.Arbitrary<UpdateMessage> = fc
  .record({
    withdrawn: fc.array(v4Prefix, { maxLength: 20 }),
    nlri: fc.array(v4Prefix, { maxLength: 20 }),
    origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
    asPath: fc.array(
      fc.record({ type: fc.constantFrom(AS_SEQUENCE, AS_SET), asns: fc.array(u32, { minLength: 1, maxLength: 10 }) }),
      { maxLength: 3 },
    ),
    nextHop: u32.map((v) => ({ family: 'IPv4' as const, value: BigInt(v) })),
    med: fc.option(u32, { nil: undefined }),
    localPref: fc.option(u32, { nil: undefined }),
    communities: fc.option(fc.array(u32, { minLength: 1, maxLength: 10 }), { nil: undefined }),
    largeCommunities: fc.option(fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 5 }), { nil: undefined }),
    mpReach: fc.option(
      fc.record({
        nextHop: fc.bigInt({ min: 1n, max: (1n << 128n) - 1n }),
        nlri: fc.array(v6Prefix, { minLength: 1, maxLength: 10 }),
      }),
      { nil: undefined },
    ),
  })
  .map((g): UpdateMessage => {
    const announces = g.nlri.length > 0 || g.mpReach !== undefined;
    return {
      type: 'update',
      withdrawn: g.withdrawn,
      nlri: g.nlri,
      attributes: announces
        ? {
            origin: g.origin,
            asPath: g.asPath,
            ...(g.nlri.length > 0 ? { nextHop: g.nextHop } : {}),
            ...(g.med !== undefined ? { med: g.med } : {}),
            ...(g.localPref !== undefined ? { localPref: g.localPref } : {}),
            ...(g.communities ? { communities: g.communities } : {}),
            ...(g.largeCommunities ? { largeCommunities: g.largeCommunities } : {}),
            ...(g.mpReach
              ? {
                  mpReach: {
                    afi: 2,
                    safi: 1,
                    nextHops: [{ family: 'IPv6' as const, value: g.mpReach.nextHop }],
                    nlri: g.mpReach.nlri,
                  },
                }
              : {}),
          }
        : {},
    };
  });

export const validMessage: fc.Arbitrary<BgpMessage> = fc.oneof(
  openMessage,
  updateMessage,
  fc.constant({ type: 'keepalive' as const }),
  fc.record({
    type: fc.constant('notification' as const),
    code: fc.integer({ min: 1, max: 6 }),
    subcode: fc.nat(255),
    data: byteBuf(40),
  }),
  fc.record({ type: fc.constant('routeRefresh' as const), afi: u16, safi: fc.nat(255) }),
);

/**
 * Encoded valid messages to mutate, sampled once (seeded): generating a structured message
 * costs far more than decoding one, and a few thousand are variety enough for mutation.
 */
let pool: Buffer[] | undefined;
function encodedPool(): Buffer[] {
  pool ??= fc.sample(validMessage, { numRuns: 4000, seed: 4271 }).map((m) => encode(m, OPTS[2]!));
  return pool;
}
const fromPool = fc.nat().map((i) => encodedPool()[i % encodedPool().length]!);

type BgpInput = { kind: 'raw' | 'mutated'; buf: Buffer; opts: number } | { kind: 'valid'; message: BgpMessage };

export const bgpDecoder: FuzzTarget = target<BgpInput>({
  name: 'bgp-decoder',
  input: fc.oneof(
    {
      arbitrary: fc.record({
        kind: fc.constant('raw' as const),
        buf: fc.tuple(fc.integer({ min: 0, max: 7 }), fc.uint8Array({ maxLength: 300 })).map(([t, b]) => header(t, b)),
        opts: fc.nat(2),
      }),
      weight: 3,
    },
    {
      arbitrary: fc.record({
        kind: fc.constant('mutated' as const),
        buf: fc.tuple(mutated(fromPool, 19), fc.boolean()).map(([b, fix]) => {
          if (fix && b.length >= 19) b.writeUInt16BE(Math.min(0xffff, b.length), 16);
          return b;
        }),
        opts: fc.nat(2),
      }),
      weight: 4,
    },
    { arbitrary: fc.record({ kind: fc.constant('valid' as const), message: validMessage }), weight: 1 },
  ),
  check: (x) => {
    if (x.kind !== 'valid') return checkDecode(x.buf, OPTS[x.opts]!);
    const bytes = encode(x.message, OPTS[2]!);
    const r = decode(bytes, OPTS[2]!);
    must(r.ok, `a valid ${x.message.type} was refused: ${r.ok ? '' : r.error.reason}; ${canon(x.message)}`);
    must(
      canon(r.message) === canon(x.message),
      `decode(encode(m)) != m:\n  m       ${canon(x.message)}\n  decoded ${canon(r.message)}`,
    );
    return `roundtrip:${x.message.type}`;
  },
});

/** A stream of valid messages, sometimes damaged, cut into random chunks. */
const stream = fc
  .tuple(
    fc.array(fromPool, { minLength: 1, maxLength: 3 }),
    fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 2 }),
    fc.array(fc.integer({ min: 1, max: 80 }), { maxLength: 10 }),
  )
  .map(([msgs, flips, cuts]) => {
    const all = Buffer.concat(msgs);
    for (const [at, v] of flips) all[at % all.length] = v;
    const chunks: Buffer[] = [];
    let at = 0;
    for (const n of cuts) {
      chunks.push(all.subarray(at, at + n));
      at += n;
    }
    chunks.push(all.subarray(at));
    return chunks;
  });

export const bgpFramer: FuzzTarget = target<Buffer[]>({
  name: 'bgp-framer',
  input: stream,
  check: (chunks) => {
    const f = new Framer();
    let out = 'needMore';
    for (const c of chunks) {
      const r = f.push(c);
      // Re-encoding is the decoder target's property; here the stream and the framing are.
      for (const m of r.messages) out = checkDecode(m, DEFAULT_CODEC, false);
      if (r.error) {
        must(r.error.code === 1 && r.error.kind !== 'internal', `framer error ${r.error.code}/${r.error.subcode}`);
        return `header:${r.error.code}/${r.error.subcode}`;
      }
    }
    return out;
  },
});
