/**
 * The session driver over an in-memory transport with a scripted peer and a FakeClock:
 * timers, NOTIFICATIONs, reconnects and the adj-RIB-out diff, with no socket and no waiting.
 */
import { expect } from 'chai';
import { decode, encode } from '../../../../speaker/bgp/codec.js';
import { Framer } from '../../../../speaker/bgp/framer.js';
import { DEFAULT_CODEC, isEndOfRib, type BgpMessage, type UpdateMessage } from '../../../../speaker/bgp/messages.js';
import { MD5_SILENT_HINT } from '../../../../speaker/bgp/dialer.js';
import { BgpSession } from '../../../../speaker/bgp/session.js';
import type { ConnectOptions, Connection, Transport } from '../../../../speaker/bgp/transport.js';
import { FakeClock } from '../../../../src/core/clock.js';
import { RecordingLogger } from '../../../../src/core/logger.js';
import { formatCIDR, parseCIDR } from '../../../../src/net/cidr.js';
import { parseIP } from '../../../../src/net/ip.js';

/** A peer that records what Herald sends and answers as told. */
class ScriptedPeer implements Transport {
  readonly received: BgpMessage[] = [];
  connects = 0;
  refuse = false;
  /** Connects fail with this error (as the transport reports it). */
  refuseWith: Error | undefined;
  /** Connects neither succeed nor fail until aborted (a peer that drops SYNs). */
  hang = false;
  inFlight = 0;
  maxInFlight = 0;
  readonly options: ConnectOptions[] = [];
  private conn: { data?: (b: Buffer) => void; close?: (e?: Error) => void; framer: Framer } | undefined;

  connect(opts: ConnectOptions): Promise<Connection> {
    this.connects++;
    this.options.push(opts);
    if (this.refuse) return Promise.reject(new Error('connection refused'));
    if (this.refuseWith) return Promise.reject(this.refuseWith);
    if (this.hang) {
      this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
      return new Promise((_resolve, reject) => {
        opts.signal?.addEventListener('abort', () => {
          this.inFlight--;
          reject(new Error('aborted'));
        });
      });
    }
    const state: { data?: (b: Buffer) => void; close?: (e?: Error) => void; framer: Framer } = { framer: new Framer() };
    this.conn = state;
    return Promise.resolve({
      localAddress: '192.0.2.1',
      write: (b: Buffer) => {
        for (const m of state.framer.push(b).messages) {
          const r = decode(m, DEFAULT_CODEC);
          if (r.ok) this.received.push(r.message);
        }
      },
      onData: (fn) => (state.data = fn),
      onClose: (fn) => (state.close = fn),
      destroy: () => {
        if (this.conn === state) this.conn = undefined;
      },
    });
  }

  send(m: BgpMessage): void {
    this.conn?.data?.(encode(m, DEFAULT_CODEC));
  }

  sendRaw(b: Buffer): void {
    this.conn?.data?.(b);
  }

  hangUp(): void {
    const c = this.conn;
    this.conn = undefined;
    c?.close?.();
  }

  open(holdTime = 9): void {
    this.send({
      type: 'open',
      version: 4,
      myAs: 65001,
      holdTime,
      bgpId: '192.0.2.2',
      capabilities: {
        multiprotocol: [{ afi: 1, safi: 1 }],
        routeRefresh: true,
        extendedMessage: false,
        other: [],
        fourOctetAs: 65001,
      },
    });
    this.send({ type: 'keepalive' });
  }

  updates(): UpdateMessage[] {
    return this.received.filter((m): m is UpdateMessage => m.type === 'update');
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

function setup(): { peer: ScriptedPeer; clock: FakeClock; session: BgpSession } {
  const peer = new ScriptedPeer();
  const clock = new FakeClock();
  const session = new BgpSession({
    name: 'peer',
    peerAddress: parseIP('192.0.2.2'),
    transport: peer,
    clock,
    logger: new RecordingLogger(),
    random: () => 0,
    fsm: {
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      connectRetryTime: 5,
      capabilities: {
        multiprotocol: [{ afi: 1, safi: 1 }],
        routeRefresh: true,
        extendedMessage: false,
        other: [],
        fourOctetAs: 65000,
      },
    },
  });
  return { peer, clock, session };
}

const r = (p: string): { prefix: ReturnType<typeof parseCIDR> } => ({ prefix: parseCIDR(p) });

/** The fake time, in 100 ms steps, from each connect attempt to the next, `count` times. */
async function waitsBetweenConnects(peer: ScriptedPeer, clock: FakeClock, count: number): Promise<number[]> {
  const waits: number[] = [];
  for (let i = 0; i < count; i++) {
    const n = peer.connects;
    let waited = 0;
    while (peer.connects === n && waited < 60_000) {
      clock.advance(100);
      waited += 100;
      await flush();
    }
    waits.push(waited);
  }
  return waits;
}

describe('bgp session (scripted peer, fake clock)', () => {
  it('opens, reaches Established, sends everything and End-of-RIB, then only differences', async () => {
    const { peer, session } = setup();
    session.setAdvertisements([r('203.0.113.1/32'), r('203.0.113.2/32')]);
    session.start();
    await flush();
    expect(peer.received.map((m) => m.type)).to.deep.equal(['open']);
    peer.open();
    expect(session.state()).to.equal('Established');
    const first = peer.updates();
    expect(first.flatMap((u) => u.nlri.map(formatCIDR))).to.deep.equal(['203.0.113.1/32', '203.0.113.2/32']);
    expect(first.length).to.equal(2);
    expect(isEndOfRib(first[1]!)).to.deep.equal({ afi: 1, safi: 1 });
    session.setAdvertisements([r('203.0.113.2/32'), r('203.0.113.3/32')]);
    const next = peer.updates().slice(2);
    expect(next.map((u) => ({ w: u.withdrawn.map(formatCIDR), n: u.nlri.map(formatCIDR) }))).to.deep.equal([
      { w: ['203.0.113.1/32'], n: [] },
      { w: [], n: ['203.0.113.3/32'] },
    ]);
    session.setAdvertisements([r('203.0.113.2/32'), r('203.0.113.3/32')]);
    expect(peer.updates().length).to.equal(4);
  });

  it('sends keepalives at a third of the hold time and NOTIFICATION 4/0 when the peer falls silent, then reconnects', async () => {
    const { peer, clock, session } = setup();
    session.start();
    await flush();
    peer.open(9);
    const keepalives = (): number => peer.received.filter((m) => m.type === 'keepalive').length;
    const k0 = keepalives();
    clock.advance(3000);
    expect(keepalives()).to.equal(k0 + 1);
    clock.advance(6000);
    expect(peer.received.at(-1)).to.deep.include({ type: 'notification', code: 4, subcode: 0 });
    expect(session.state()).to.equal('Idle');
    const before = peer.connects;
    clock.advance(1000);
    await flush();
    expect(peer.connects).to.equal(before + 1);
  });

  it('answers a malformed message with the NOTIFICATION of section 6 and goes down', async () => {
    const { peer, session } = setup();
    session.start();
    await flush();
    peer.open();
    peer.sendRaw(Buffer.from('ffffffffffffffffffffffffffffffff001509', 'hex'));
    expect(peer.received.at(-1)).to.deep.include({ type: 'notification', code: 1, subcode: 3 });
    expect(session.state()).to.equal('Idle');
    expect(session.lastErrorMessage()).to.include('unknown message type 9');
  });

  // UPDATE bodies: withdrawn length 0, then the attribute field, then NLRI 203.0.113.1/32.
  const updateWith = (attrs: string): Buffer => {
    const a = Buffer.from(attrs.replace(/ /g, ''), 'hex');
    const body = Buffer.concat([Buffer.from([0, 0, 0, a.length]), a, Buffer.from('20cb007101', 'hex')]);
    return Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 19 + body.length, 2]), body]);
  };

  const decodeErrors: {
    name: string;
    before?: 'OpenSent';
    update: string;
    notification?: [number, number];
    state: string;
  }[] = [
    // RFC 7606: an invalid ORIGIN withdraws the UPDATE's routes; the session stays up.
    {
      name: 'an attribute error treated as withdraw keeps the session',
      update: '40 01 01 07 40 02 00 40 03 04 c0000201',
      state: 'Established',
    },
    // An MP_REACH_NLRI whose next hop overruns it cannot be parsed, so it resets the session (RFC 7606 §5.3): 3/9.
    {
      name: 'a session-reset UPDATE error in Established sends its section 6.3 NOTIFICATION',
      update: '40 01 01 00 40 02 00 40 03 04 c0000201 80 0e 05 0001010400',
      notification: [3, 9],
      state: 'Idle',
    },
    // Before Established any UPDATE error is an FSM error (RFC 4271 §8.2.2), subcode 1 in OpenSent (RFC 6608).
    {
      name: 'an UPDATE error in OpenSent is an FSM error with the RFC 6608 subcode',
      before: 'OpenSent',
      update: '40 01 01 00 40 02 00 40 03 04 c0000201 80 0e 05 0001010400',
      notification: [5, 1],
      state: 'Idle',
    },
  ];
  for (const tc of decodeErrors) {
    it(`decode errors by their handling: ${tc.name}`, async () => {
      const { peer, session } = setup();
      session.start();
      await flush();
      if (!tc.before) peer.open();
      const sent = peer.received.length;
      peer.sendRaw(updateWith(tc.update));
      const notifications = peer.received
        .slice(sent)
        .filter((m) => m.type === 'notification')
        .map((m) => [(m as { code: number }).code, (m as { subcode: number }).subcode]);
      expect(notifications).to.deep.equal(tc.notification ? [tc.notification] : []);
      expect(session.state()).to.equal(tc.state);
    });
  }

  it('refuses an OPEN from the wrong AS with NOTIFICATION 2/2', async () => {
    const { peer, session } = setup();
    session.start();
    await flush();
    peer.send({
      type: 'open',
      version: 4,
      myAs: 65099,
      holdTime: 9,
      bgpId: '192.0.2.2',
      capabilities: { multiprotocol: [], routeRefresh: false, extendedMessage: false, other: [], fourOctetAs: 65099 },
    });
    expect(peer.received.at(-1)).to.deep.include({ type: 'notification', code: 2, subcode: 2 });
  });

  it('a ROUTE-REFRESH from the peer (RFC 2918) gets the whole Adj-RIB-Out again, with End-of-RIB, on the same session', async () => {
    const { peer, session } = setup();
    session.setAdvertisements([r('203.0.113.1/32'), r('203.0.113.2/32')]);
    session.start();
    await flush();
    peer.open();
    const before = peer.updates().length;
    peer.send({ type: 'routeRefresh', afi: 1, safi: 1 });
    const again = peer.updates().slice(before);
    expect(again.flatMap((u) => u.nlri.map(formatCIDR))).to.deep.equal(['203.0.113.1/32', '203.0.113.2/32']);
    expect(isEndOfRib(again[again.length - 1]!)).to.deep.equal({ afi: 1, safi: 1 });
    expect(session.state()).to.equal('Established');
    expect(session.stats.establishedTransitions).to.equal(1);
    session.stop();
  });

  it('a ROUTE-REFRESH for one family re-sends only that family and only its End-of-RIB; one for a family not negotiated is ignored', async () => {
    const peer = new ScriptedPeer();
    const both = [
      { afi: 1, safi: 1 },
      { afi: 2, safi: 1 },
    ];
    const session = new BgpSession({
      name: 'peer',
      peerAddress: parseIP('192.0.2.2'),
      nextHopV6: parseIP('2001:db8::1'),
      transport: peer,
      clock: new FakeClock(),
      logger: new RecordingLogger(),
      random: () => 0,
      fsm: {
        myAsn: 65000,
        peerAsn: 65001,
        routerId: '192.0.2.1',
        holdTime: 9,
        connectRetryTime: 5,
        capabilities: {
          multiprotocol: both,
          routeRefresh: true,
          extendedMessage: false,
          other: [],
          fourOctetAs: 65000,
        },
      },
    });
    session.setAdvertisements([r('203.0.113.1/32'), r('203.0.113.2/32'), r('2001:db8:5::1/128')]);
    session.start();
    await flush();
    peer.send({
      type: 'open',
      version: 4,
      myAs: 65001,
      holdTime: 9,
      bgpId: '192.0.2.2',
      capabilities: { multiprotocol: both, routeRefresh: true, extendedMessage: false, other: [], fourOctetAs: 65001 },
    });
    peer.send({ type: 'keepalive' });
    expect(session.state()).to.equal('Established');
    /** What an UPDATE carries, as text: announced and withdrawn prefixes, or the End-of-RIB it is. */
    const show = (u: UpdateMessage): string => {
      const eor = isEndOfRib(u);
      if (eor) return `EoR ${eor.afi}/${eor.safi}`;
      return [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])]
        .map((p) => `+${formatCIDR(p)}`)
        .concat([...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])].map((p) => `-${formatCIDR(p)}`))
        .join(' ');
    };
    const since = (n: number): string[] => peer.updates().slice(n).map(show);
    expect(since(0)).to.deep.equal(['+203.0.113.1/32 +203.0.113.2/32', '+2001:db8:5::1/128', 'EoR 1/1', 'EoR 2/1']);
    let n = peer.updates().length;
    peer.send({ type: 'routeRefresh', afi: 1, safi: 1 });
    expect(since(n)).to.deep.equal(['+203.0.113.1/32 +203.0.113.2/32', 'EoR 1/1']);
    n = peer.updates().length;
    peer.send({ type: 'routeRefresh', afi: 2, safi: 1 });
    expect(since(n)).to.deep.equal(['+2001:db8:5::1/128', 'EoR 2/1']);
    // Later changes are still incremental: the refresh left the Adj-RIB-Out consistent.
    n = peer.updates().length;
    session.setAdvertisements([r('203.0.113.1/32'), r('2001:db8:5::1/128')]);
    expect(since(n)).to.deep.equal(['-203.0.113.2/32']);
    // A family not negotiated (IPv4 multicast, SAFI 2): nothing is sent, the session stays up.
    n = peer.updates().length;
    peer.send({ type: 'routeRefresh', afi: 1, safi: 2 });
    expect(since(n)).to.deep.equal([]);
    expect(session.state()).to.equal('Established');
    expect(session.stats.establishedTransitions).to.equal(1);
    session.stop();
  });

  it('re-sends everything after the peer hangs up and comes back', async () => {
    const { peer, clock, session } = setup();
    session.setAdvertisements([r('203.0.113.9/32')]);
    session.start();
    await flush();
    peer.open();
    peer.hangUp();
    expect(session.state()).to.equal('Idle');
    const seen = peer.updates().length;
    clock.advance(1000);
    await flush();
    peer.open();
    const again = peer.updates().slice(seen);
    expect(again.flatMap((u) => u.nlri.map(formatCIDR))).to.deep.equal(['203.0.113.9/32']);
  });

  it('keeps retrying with jittered exponential delays bounded by connectTime while the peer refuses', async () => {
    const { peer, clock, session } = setup(); // random 0: no jitter; connectRetryTime 5 s
    peer.refuse = true;
    session.start();
    await flush();
    const waits = await waitsBetweenConnects(peer, clock, 6);
    // 500 ms doubling from the first failure, then connectTime.
    expect(waits).to.deep.equal([1000, 2000, 4000, 5000, 5000, 5000]);
    session.stop();
  });

  it('the jitter adds up to a fifth to each delay', async () => {
    const peer = new ScriptedPeer();
    const clock = new FakeClock();
    const session = new BgpSession({
      name: 'peer',
      peerAddress: parseIP('192.0.2.2'),
      transport: peer,
      clock,
      logger: new RecordingLogger(),
      random: () => 1,
      fsm: {
        myAsn: 65000,
        peerAsn: 65001,
        routerId: '192.0.2.1',
        holdTime: 9,
        connectRetryTime: 30,
        capabilities: {
          multiprotocol: [{ afi: 1, safi: 1 }],
          routeRefresh: true,
          extendedMessage: false,
          other: [],
          fourOctetAs: 65000,
        },
      },
    });
    peer.refuse = true;
    session.start();
    await flush();
    const n = peer.connects;
    clock.advance(1199);
    await flush();
    expect(peer.connects).to.equal(n);
    clock.advance(1);
    await flush();
    expect(peer.connects).to.equal(n + 1);
    session.stop();
  });

  it('a connect that hangs is aborted when the next attempt starts: never two in flight, and the delays grow', async () => {
    const { peer, clock, session } = setup();
    peer.hang = true;
    session.start();
    await flush();
    const waits = await waitsBetweenConnects(peer, clock, 6);
    // The first timer was set before any failure; each unanswered attempt then counts as one.
    expect(waits).to.deep.equal([500, 1000, 2000, 4000, 5000, 5000]);
    expect(peer.maxInFlight).to.equal(1);
    expect(session.lastErrorMessage()).to.equal('connect to 192.0.2.2 port 179: no answer before the next attempt');
    session.stop();
    await flush();
    expect(peer.inFlight).to.equal(0);
  });

  it('with a TCP-MD5 password, an unanswered connect (abandoned or timed out) says MD5 mismatches are silent; a refusal does not', async () => {
    const peer = new ScriptedPeer();
    const clock = new FakeClock();
    const session = new BgpSession({
      name: 'peer',
      peerAddress: parseIP('192.0.2.2'),
      tcpMd5: true,
      transport: peer,
      clock,
      logger: new RecordingLogger(),
      random: () => 0,
      fsm: {
        myAsn: 65000,
        peerAsn: 65001,
        routerId: '192.0.2.1',
        holdTime: 9,
        connectRetryTime: 5,
        capabilities: {
          multiprotocol: [{ afi: 1, safi: 1 }],
          routeRefresh: true,
          extendedMessage: false,
          other: [],
          fourOctetAs: 65000,
        },
      },
    });
    peer.hang = true;
    session.start();
    await flush();
    await waitsBetweenConnects(peer, clock, 1);
    expect(session.lastErrorMessage()).to.equal(
      `connect to 192.0.2.2 port 179: no answer before the next attempt; ${MD5_SILENT_HINT}`,
    );
    expect(MD5_SILENT_HINT)
      .to.include('MD5 mismatches are silent on the wire')
      .and.include('check the password on both sides');
    // The transport's own connect timeout (ETIMEDOUT) gets the hint too.
    peer.hang = false;
    peer.refuseWith = Object.assign(new Error('connect to 192.0.2.2:179 timed out'), { code: 'ETIMEDOUT' });
    await waitsBetweenConnects(peer, clock, 1);
    await flush();
    expect(session.lastErrorMessage()).to.equal(`connect to 192.0.2.2:179 timed out; ${MD5_SILENT_HINT}`);
    // A refusal is an answer: no hint.
    peer.refuseWith = Object.assign(new Error('connect ECONNREFUSED 192.0.2.2:179'), { code: 'ECONNREFUSED' });
    await waitsBetweenConnects(peer, clock, 1);
    await flush();
    expect(session.lastErrorMessage()).to.equal('connect ECONNREFUSED 192.0.2.2:179');
    session.stop();
  });

  it('over an IPv6 session, IPv4 prefixes travel in MP_REACH_NLRI / MP_UNREACH_NLRI with the IPv4 next hop', async () => {
    const peer = new ScriptedPeer();
    const both = [
      { afi: 1, safi: 1 },
      { afi: 2, safi: 1 },
    ];
    const session = new BgpSession({
      name: 'peer',
      peerAddress: parseIP('2001:db8::2'),
      nextHopV4: parseIP('192.0.2.1'),
      transport: peer,
      clock: new FakeClock(),
      logger: new RecordingLogger(),
      random: () => 0,
      fsm: {
        myAsn: 65000,
        peerAsn: 65001,
        routerId: '192.0.2.1',
        holdTime: 9,
        connectRetryTime: 5,
        capabilities: {
          multiprotocol: both,
          routeRefresh: true,
          extendedMessage: false,
          other: [],
          fourOctetAs: 65000,
        },
      },
    });
    session.setAdvertisements([r('203.0.113.1/32')]);
    session.start();
    await flush();
    peer.send({
      type: 'open',
      version: 4,
      myAs: 65001,
      holdTime: 9,
      bgpId: '192.0.2.2',
      capabilities: { multiprotocol: both, routeRefresh: true, extendedMessage: false, other: [], fourOctetAs: 65001 },
    });
    peer.send({ type: 'keepalive' });
    expect(session.state()).to.equal('Established');
    const updates = peer.received.filter((m): m is UpdateMessage => m.type === 'update' && !isEndOfRib(m));
    expect(updates).to.have.length(1);
    expect(updates[0]!.nlri).to.deep.equal([]);
    expect(updates[0]!.attributes.nextHop).to.equal(undefined);
    const mp = updates[0]!.attributes.mpReach!;
    expect([mp.afi, mp.safi, mp.nextHops.map((h) => h.family), mp.nlri.map(formatCIDR)]).to.deep.equal([
      1,
      1,
      ['IPv4'],
      ['203.0.113.1/32'],
    ]);
    session.setAdvertisements([]);
    const last = peer.received[peer.received.length - 1] as UpdateMessage;
    expect(last.withdrawn).to.deep.equal([]);
    expect([last.attributes.mpUnreach?.afi, last.attributes.mpUnreach?.withdrawn.map(formatCIDR)]).to.deep.equal([
      1,
      ['203.0.113.1/32'],
    ]);
    session.stop();
  });

  it('connects to the configured port from the configured local address', async () => {
    const peer = new ScriptedPeer();
    const session = new BgpSession({
      name: 'peer',
      peerAddress: parseIP('192.0.2.2'),
      peerPort: 1179,
      localAddress: '192.0.2.9',
      transport: peer,
      clock: new FakeClock(),
      logger: new RecordingLogger(),
      random: () => 0,
      fsm: {
        myAsn: 65000,
        peerAsn: 65001,
        routerId: '192.0.2.1',
        holdTime: 9,
        connectRetryTime: 5,
        capabilities: {
          multiprotocol: [{ afi: 1, safi: 1 }],
          routeRefresh: true,
          extendedMessage: false,
          other: [],
          fourOctetAs: 65000,
        },
      },
    });
    session.start();
    await flush();
    expect(peer.options[0]).to.deep.include({ host: '192.0.2.2', port: 1179, localAddress: '192.0.2.9' });
    session.stop();
  });
});
