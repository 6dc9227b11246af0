/**
 * Issue 18 item 6: a node's wall clock jumping ±1 h changes nothing, because every timer and
 * interval is measured on the monotonic clock. JumpClock is a FakeClock whose now() (wall
 * time) jumps while monotonic() and the timers move only with advance(). Two Herald BGP
 * sessions talk over an in-memory pipe (hold time 9 s): they stay Established and keep
 * exchanging KEEPALIVEs across both jumps. The SWIM detector
 * (a member over loopback UDP, its peer this test's socket) keeps the peer alive across both
 * jumps and still detects it once it stops answering.
 */
import { createSocket } from 'node:dgram';
import { expect } from 'chai';
import { BgpSession } from '../../../speaker/bgp/session.js';
import type { Connection, Transport } from '../../../speaker/bgp/transport.js';
import { decodeDatagram, encodeDatagram } from '../../../speaker/membership/swim-codec.js';
import { SwimMembership } from '../../../speaker/membership/swim-driver.js';
import { FakeClock } from '../../../src/core/clock.js';
import { nullLogger } from '../../../src/core/logger.js';
import { parseCIDR } from '../../../src/net/cidr.js';
import { parseIP } from '../../../src/net/ip.js';

const HOUR = 3_600_000;

/** Wall time jumps; monotonic time and timers do not. */
class JumpClock extends FakeClock {
  private offset = 0;
  override now(): number {
    return super.now() + this.offset;
  }
  override monotonic(): number {
    return super.now();
  }
  jump(ms: number): void {
    this.offset += ms;
  }
}

/** Lets queued I/O and promise continuations run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Advances `ms` in `stepMs` steps, letting I/O run between steps. */
async function run(clock: FakeClock, ms: number, stepMs = 100, wait = settle): Promise<void> {
  for (let t = 0; t < ms; t += stepMs) {
    clock.advance(stepMs);
    await wait();
  }
}

/**
 * Real UDP on loopback: after a step, waits until every datagram sent so far has arrived
 * (`inFlight()` is 0), polling the event loop with a real-time deadline (a lost datagram
 * fails the test by name instead of hanging it).
 */
function udpDelivered(inFlight: () => number): () => Promise<void> {
  return async () => {
    const deadline = performance.now() + 5_000;
    await settle();
    while (inFlight() !== 0) {
      if (performance.now() > deadline) throw new Error(`${inFlight()} datagrams still in flight after 5 s`);
      await new Promise((r) => setImmediate(r));
    }
  };
}

/** Both ends of an in-memory TCP connection; data is delivered on a later tick, as sockets do. */
function pipe(): [Connection, Connection] {
  const ends = [0, 1].map(() => ({
    data: [] as ((b: Buffer) => void)[],
    close: [] as ((e?: Error) => void)[],
    closed: false,
  }));
  const make = (me: number, local: string): Connection => ({
    localAddress: local,
    write: (b) => {
      const other = ends[1 - me]!;
      if (ends[me]!.closed) return;
      setImmediate(() => {
        if (!other.closed) for (const f of other.data) f(b);
      });
    },
    onData: (fn) => void ends[me]!.data.push(fn),
    onClose: (fn) => void ends[me]!.close.push(fn),
    destroy: () => {
      for (const i of [0, 1]) {
        const e = ends[i]!;
        if (e.closed) continue;
        e.closed = true;
        if (i !== me) setImmediate(() => e.close.forEach((f) => f()));
      }
    },
  });
  return [make(0, '192.0.2.1'), make(1, '192.0.2.2')];
}

function session(
  clock: FakeClock,
  o: { name: string; peer: string; as: number; peerAs: number; id: string; transport: Transport; passive: boolean },
): BgpSession {
  return new BgpSession({
    name: o.name,
    peerAddress: parseIP(o.peer),
    transport: o.transport,
    clock,
    logger: nullLogger,
    random: () => 0.5,
    fsm: {
      myAsn: o.as,
      peerAsn: o.peerAs,
      routerId: o.id,
      holdTime: 9,
      connectRetryTime: 2,
      passive: o.passive,
      capabilities: {
        multiprotocol: [{ afi: 1, safi: 1 }],
        routeRefresh: true,
        extendedMessage: false,
        fourOctetAs: o.as,
        other: [],
      },
    },
  });
}

describe('reliability: the wall clock jumping ±1 h', () => {
  it('BGP sessions stay Established and keep exchanging KEEPALIVEs across +1 h and -1 h jumps', async () => {
    const clock = new JumpClock();
    const held: { b?: BgpSession } = {};
    const transport: Transport = {
      connect: () => {
        const [mine, theirs] = pipe();
        setImmediate(() => held.b!.accept(theirs));
        return Promise.resolve(mine);
      },
    };
    const a = session(clock, {
      name: 'a',
      peer: '192.0.2.2',
      as: 65000,
      peerAs: 65001,
      id: '192.0.2.1',
      transport,
      passive: false,
    });
    const b = session(clock, {
      name: 'b',
      peer: '192.0.2.1',
      as: 65001,
      peerAs: 65000,
      id: '192.0.2.2',
      transport: { connect: () => Promise.reject(new Error('passive')) },
      passive: true,
    });
    held.b = b;
    b.start();
    a.start();
    a.setAdvertisements([{ prefix: parseCIDR('203.0.113.10/32') }]);
    await run(clock, 5_000);
    expect([a.state(), b.state()]).to.deep.equal(['Established', 'Established']);
    expect(a.stats.prefixesAnnounced).to.equal(1);
    for (const jump of [HOUR, -HOUR, -HOUR]) {
      const before = { ka: b.stats.keepalivesReceived, up: a.stats.establishedTransitions };
      clock.jump(jump);
      // Four hold times: any timer computed from wall time would have fired or stalled.
      await run(clock, 36_000);
      expect([a.state(), b.state()], `after a ${jump / HOUR} h jump`).to.deep.equal(['Established', 'Established']);
      expect(a.stats.establishedTransitions, 'no reset').to.equal(before.up);
      expect(b.stats.keepalivesReceived - before.ka, 'KEEPALIVEs every 3 s').to.be.at.least(10);
    }
    expect(a.stats.prefixesAnnounced).to.equal(1);
    a.stop();
    b.stop();
  });

  it('SWIM keeps a member alive across the jumps and still detects one that stops answering', async function () {
    this.timeout(60_000);
    const clock = new JumpClock();
    const key = Buffer.from('clock-jump-test-key-0123456789abcdef');
    const port = 17946 + (process.pid % 1000);
    const a = new SwimMembership({
      node: 'a',
      key,
      port,
      clock,
      logger: nullLogger,
      random: () => 0.5,
      addressOf: (n) => ({ a: '127.0.0.1', b: '127.0.0.2' })[n],
      onChange: () => undefined,
    });
    // Member b is this test's socket on 127.0.0.2 (the more specific bind receives what is sent to it): it acks a's pings while `answering`.
    const b = createSocket({ type: 'udp4', reuseAddr: true });
    await new Promise<void>((resolve) => b.bind(port, '127.0.0.2', resolve));
    let answering = true;
    let bReceived = 0;
    let bSent = 0;
    b.on('message', (data) => {
      bReceived++;
      const r = decodeDatagram(data, key);
      if (!answering || !r.ok || r.message.type !== 'ping') return;
      b.send(encodeDatagram({ type: 'ack', seq: r.message.seq, from: 'b', updates: [] }, key), port, '127.0.0.1');
      bSent++;
    });
    // a's datagrams all go to b; b's acks all go to a.
    const udpSettle = udpDelivered(
      () => a.counters.sent - bReceived + (bSent - a.counters.received - a.counters.rejected),
    );
    await a.start();
    try {
      a.setMembers(['a', 'b']);
      await run(clock, 10_000, 50, udpSettle);
      expect([...a.alive()].sort()).to.deep.equal(['a', 'b']);
      for (const jump of [HOUR, -HOUR, -HOUR]) {
        clock.jump(jump);
        await run(clock, 20_000, 50, udpSettle);
        expect([...a.alive()].sort(), `after a ${jump / HOUR} h jump`).to.deep.equal(['a', 'b']);
      }
      answering = false;
      await run(clock, 20_000, 50, udpSettle);
      expect([...a.alive()], 'b is detected once it stops answering').to.deep.equal(['a']);
    } finally {
      a.stop();
      await new Promise<void>((resolve) => b.close(() => resolve()));
    }
  });
});
