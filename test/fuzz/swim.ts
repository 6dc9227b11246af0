/**
 * SWIM datagram target. Properties: decoding never throws; only a correctly signed,
 * well-formed message is accepted, and the detector takes any accepted message without
 * throwing; decode(encode(m)) == m.
 */
import fc from 'fast-check';
import { decodeDatagram, encodeDatagram } from '../../speaker/membership/swim-codec.js';
import { Swim, type SwimMessage } from '../../speaker/membership/swim.js';
import { canon, junk, must, mutated, target, type FuzzTarget } from './harness.js';

const KEY = Buffer.from('fuzzing-key-0123456789abcdef0123');
const OTHER_KEY = Buffer.from('another-key-0123456789abcdef0123');
const names = fc.oneof(
  { arbitrary: fc.constantFrom('node-a', 'node-b', 'node-c'), weight: 4 },
  { arbitrary: fc.string({ minLength: 1, maxLength: 12 }), weight: 1 },
);
const counter = fc.oneof(fc.nat(10), fc.nat());
const update = fc.record({
  name: names,
  state: fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const),
  incarnation: counter,
});

export const swimMessage: fc.Arbitrary<SwimMessage> = fc.oneof(
  fc.record({
    type: fc.constantFrom('ping' as const, 'ack' as const),
    seq: counter,
    from: names,
    updates: fc.array(update, { maxLength: 6 }),
  }),
  fc.record({
    type: fc.constantFrom('pingReq' as const, 'indirectAck' as const),
    seq: counter,
    from: names,
    target: names,
    updates: fc.array(update, { maxLength: 6 }),
  }),
);

/** Any JSON the key holder might sign: a message with a field of the wrong type, or junk. */
const signedJunk = fc
  .oneof(
    fc
      .tuple(swimMessage, fc.constantFrom('type', 'seq', 'from', 'target', 'updates'), junk)
      .map(([m, k, v]) => ({ ...m, [k]: v })),
    fc.tuple(swimMessage, junk).map(([m, v]) => ({ ...m, updates: [...m.updates, v] })),
    fc.oneof(junk, fc.array(junk, { maxLength: 3 })),
  )
  .map((v) => encodeDatagram(v as SwimMessage, KEY));

type SwimInput = { kind: 'valid'; message: SwimMessage; key: 'ours' | 'other' } | { kind: 'bytes'; data: Buffer };

export const swimTarget: FuzzTarget = target<SwimInput>({
  name: 'swim-datagram',
  input: fc.oneof(
    fc.record({
      kind: fc.constant('valid' as const),
      message: swimMessage,
      key: fc.constantFrom('ours' as const, 'other' as const),
    }),
    fc.record({ kind: fc.constant('bytes' as const), data: signedJunk }),
    fc.record({ kind: fc.constant('bytes' as const), data: mutated(swimMessage.map((m) => encodeDatagram(m, KEY))) }),
    fc.record({
      kind: fc.constant('bytes' as const),
      data: fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
    }),
  ),
  check: (x) => {
    const data = x.kind === 'valid' ? encodeDatagram(x.message, x.key === 'ours' ? KEY : OTHER_KEY) : x.data;
    const r = decodeDatagram(data, KEY);
    if (x.kind === 'valid' && x.key === 'other')
      must(!r.ok && r.reason === 'badSignature', 'a message under another key is refused');
    if (x.kind === 'valid' && x.key === 'ours')
      must(r.ok, `a valid message was refused: ${r.ok ? '' : r.detail}; ${canon(x.message)}`);
    if (!r.ok) {
      must(r.detail.length > 0, 'a drop says why');
      return `drop:${r.reason}`;
    }
    if (x.kind === 'valid')
      must(canon(r.message) === canon(x.message), `decode(encode(m)) != m: ${canon(x.message)} vs ${canon(r.message)}`);
    const swim = new Swim({ self: 'node-a', random: () => 0.5 });
    swim.setKnown(['node-a', 'node-b', 'node-c']);
    swim.receive(r.message, 1000);
    swim.tick(2000);
    return x.kind === 'valid' ? `roundtrip:${r.message.type}` : `accepted:${r.message.type}`;
  },
});
