/**
 * The SWIM driver over real UDP on loopback: a datagram signed with the memberlist key is
 * believed and answered; forged (wrong key, altered body) and malformed datagrams are dropped,
 * counted, and change nothing. Member "a" is the driver on 127.0.0.1; "b" is this test's own
 * socket on 127.0.0.2 (same port: the more specific bind receives what is sent to it).
 */
import { createHmac } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { expect } from 'chai';
import { systemClock } from '../../../src/core/clock.js';
import { nullLogger } from '../../../src/core/logger.js';
import { SwimMembership } from '../../../speaker/membership/swim-driver.js';
import { eventually } from '../../support/apiserver.js';

const KEY = Buffer.from('test-memberlist-key-0123456789abcdef');

function signed(m: object, key = KEY): Buffer {
  const body = JSON.stringify(m);
  return Buffer.from(JSON.stringify({ m: body, h: createHmac('sha256', key).update(body).digest('hex') }));
}

async function freePort(): Promise<number> {
  const s = createSocket({ type: 'udp4' });
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const port = s.address().port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

describe('speaker: SWIM over real UDP (loopback), HMAC-authenticated', function () {
  this.timeout(20_000);
  let a: SwimMembership;
  let b: Socket;
  let port: number;
  const fromA: Record<string, unknown>[] = [];

  beforeEach(async () => {
    port = await freePort();
    a = new SwimMembership({
      node: 'a',
      key: KEY,
      port,
      clock: systemClock(),
      logger: nullLogger,
      addressOf: (n) => ({ a: '127.0.0.1', b: '127.0.0.2' })[n],
      onChange: () => undefined,
    });
    await a.start();
    a.setMembers(['a', 'b']);
    b = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve) => b.bind(port, '127.0.0.2', resolve));
    fromA.length = 0;
    b.on('message', (data) => {
      const env = JSON.parse(data.toString()) as { m: string };
      const m = JSON.parse(env.m) as Record<string, unknown>;
      fromA.push(m);
      // b is a well-behaved member: it acks a's probes, so it stays alive however slow the run.
      if (m['type'] === 'ping')
        b.send(signed({ type: 'ack', seq: m['seq'], from: 'b', updates: [] }), port, '127.0.0.1');
    });
  });
  afterEach(async () => {
    a.stop();
    await new Promise<void>((resolve) => b.close(() => resolve()));
  });

  const send = (data: Buffer): void => b.send(data, port, '127.0.0.1');

  it('believes and answers a signed ping; drops forged and malformed datagrams without effect', async () => {
    // Signed: a acks and counts b alive.
    send(signed({ type: 'ping', seq: 41, from: 'b', updates: [] }));
    await eventually(() => fromA.find((m) => m['type'] === 'ack' && m['seq'] === 41), "a's ack");
    expect([...a.alive()].sort()).to.deep.equal(['a', 'b']);

    // Forged: the wrong key, claiming b left and c is alive.
    const lie = {
      type: 'ping',
      seq: 42,
      from: 'c',
      updates: [
        { name: 'b', state: 'left', incarnation: 99 },
        { name: 'c', state: 'alive', incarnation: 1 },
      ],
    };
    send(signed(lie, Buffer.from('not-the-key')));
    // A good signature over a different body.
    const good = JSON.parse(signed({ type: 'ping', seq: 43, from: 'b', updates: [] }).toString()) as {
      m: string;
      h: string;
    };
    send(Buffer.from(JSON.stringify({ m: JSON.stringify(lie), h: good.h })));
    // Not even JSON, and JSON without a signature.
    send(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    send(Buffer.from(JSON.stringify({ m: JSON.stringify(lie) })));
    await eventually(() => a.counters.rejected >= 4 || undefined, 'four rejections');
    expect(a.counters.rejected).to.equal(4);
    expect([...a.alive()].sort()).to.deep.equal(['a', 'b']);
    expect(fromA.some((m) => m['type'] === 'ack' && (m['seq'] === 42 || m['seq'] === 43))).to.equal(false);

    // Still working: the next signed message is answered.
    send(signed({ type: 'ping', seq: 44, from: 'b', updates: [] }));
    await eventually(() => fromA.find((m) => m['type'] === 'ack' && m['seq'] === 44), "a's ack after the forgeries");
  });
});
