/** SWIM datagrams: signed round trips, and every way a datagram is refused (with its reason). */
import { expect } from 'chai';
import { createHmac } from 'node:crypto';
import {
  decodeDatagram,
  encodeDatagram,
  MAX_UPDATES,
  type SwimDropReason,
} from '../../../../speaker/membership/swim-codec.js';
import type { SwimMessage } from '../../../../speaker/membership/swim.js';

const KEY = Buffer.from('k'.repeat(32));
const signed = (m: unknown, key = KEY): Buffer => {
  const body = JSON.stringify(m);
  return Buffer.from(JSON.stringify({ m: body, h: createHmac('sha256', key).update(body).digest('hex') }));
};
const ping: SwimMessage = {
  type: 'ping',
  seq: 7,
  from: 'node-a',
  updates: [{ name: 'node-b', state: 'suspect', incarnation: 3 }],
};

describe('membership: SWIM datagram codec', () => {
  it('decode(encode(m)) == m for each message type', () => {
    const msgs: SwimMessage[] = [
      ping,
      { type: 'ack', seq: 0, from: 'node-b', updates: [] },
      {
        type: 'pingReq',
        seq: 1,
        from: 'node-a',
        target: 'node-c',
        updates: [{ name: 'node-a', state: 'alive', incarnation: 0 }],
      },
      {
        type: 'indirectAck',
        seq: 2,
        from: 'node-c',
        target: 'node-b',
        updates: [{ name: 'node-d', state: 'left', incarnation: 9 }],
      },
    ];
    for (const m of msgs) expect(decodeDatagram(encodeDatagram(m, KEY), KEY)).to.deep.equal({ ok: true, message: m });
  });

  it('keeps only known fields', () => {
    const r = decodeDatagram(
      signed({ ...ping, extra: 1, updates: [{ name: 'node-b', state: 'alive', incarnation: 1, x: 2 }] }),
      KEY,
    );
    expect(r).to.deep.equal({
      ok: true,
      message: { type: 'ping', seq: 7, from: 'node-a', updates: [{ name: 'node-b', state: 'alive', incarnation: 1 }] },
    });
  });

  const refused: Array<[string, Buffer, SwimDropReason]> = [
    ['not JSON', Buffer.from('\x00\x01'), 'notJson'],
    ['JSON but no envelope', Buffer.from('[1,2]'), 'badEnvelope'],
    ['h missing', Buffer.from(JSON.stringify({ m: '{}' })), 'badEnvelope'],
    ['another key', signed(ping, Buffer.from('x'.repeat(32))), 'badSignature'],
    ['h not hex', Buffer.from(JSON.stringify({ m: JSON.stringify(ping), h: 'zz' })), 'badSignature'],
    [
      'signed text that is not JSON',
      Buffer.from(JSON.stringify({ m: '{', h: createHmac('sha256', KEY).update('{').digest('hex') })),
      'badMessage',
    ],
    ['unknown type', signed({ ...ping, type: 'gossip' }), 'badMessage'],
    ['seq negative', signed({ ...ping, seq: -1 }), 'badMessage'],
    ['seq a string', signed({ ...ping, seq: '1' }), 'badMessage'],
    ['from empty', signed({ ...ping, from: '' }), 'badMessage'],
    ['updates not a list', signed({ ...ping, updates: {} }), 'badMessage'],
    [
      'an update with an unknown state',
      signed({ ...ping, updates: [{ name: 'n', state: 'zombie', incarnation: 1 }] }),
      'badMessage',
    ],
    [
      'an update with a fractional incarnation',
      signed({ ...ping, updates: [{ name: 'n', state: 'alive', incarnation: 1.5 }] }),
      'badMessage',
    ],
    ['an update that is null', signed({ ...ping, updates: [null] }), 'badMessage'],
    ['pingReq without target', signed({ ...ping, type: 'pingReq' }), 'badMessage'],
    [
      'too many updates',
      signed({ ...ping, updates: Array(MAX_UPDATES + 1).fill({ name: 'n', state: 'alive', incarnation: 1 }) }),
      'badMessage',
    ],
    ['larger than a datagram', Buffer.alloc(70_000, 0x20), 'tooLarge'],
  ];
  for (const [name, data, reason] of refused) {
    it(`refuses ${name}: ${reason}`, () => {
      const r = decodeDatagram(data, KEY);
      expect(r.ok).to.equal(false);
      if (!r.ok) {
        expect(r.reason).to.equal(reason);
        expect(r.detail).to.not.equal('');
      }
    });
  }
});
