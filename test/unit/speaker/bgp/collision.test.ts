/**
 * Passive sessions and connection collisions (RFC 4271 §6.8, RFC 4724 §4.2) on in-memory
 * connections with a fake clock: which connection survives, what the loser is told, and the
 * graceful-restart close.
 */
import { expect } from 'chai';
import { decode, encode } from '../../../../speaker/bgp/codec.js';
import { collisionWinner, keepNewConnection } from '../../../../speaker/bgp/collision.js';
import { Framer } from '../../../../speaker/bgp/framer.js';
import { INITIAL, transition, type FsmConfig } from '../../../../speaker/bgp/fsm.js';
import {
  DEFAULT_CODEC,
  type BgpMessage,
  type Capabilities,
  type OpenMessage,
  type UpdateMessage,
} from '../../../../speaker/bgp/messages.js';
import { BgpSession } from '../../../../speaker/bgp/session.js';
import type { Connection, Transport } from '../../../../speaker/bgp/transport.js';
import { FakeClock } from '../../../../src/core/clock.js';
import { RecordingLogger } from '../../../../src/core/logger.js';
import { formatCIDR, parseCIDR } from '../../../../src/net/cidr.js';
import { parseIP } from '../../../../src/net/ip.js';

/** The peer's end of one in-memory TCP connection. */
class PeerEnd {
  readonly received: BgpMessage[] = [];
  destroyed = false;
  private data: ((b: Buffer) => void) | undefined;
  private close: ((e?: Error) => void) | undefined;
  private readonly framer = new Framer();
  readonly conn: Connection;

  constructor() {
    this.conn = {
      localAddress: '192.0.2.1',
      write: (b) => {
        if (this.destroyed) return;
        for (const m of this.framer.push(b).messages) {
          const r = decode(m, DEFAULT_CODEC);
          if (r.ok) this.received.push(r.message);
        }
      },
      onData: (fn) => (this.data = fn),
      onClose: (fn) => (this.close = fn),
      destroy: () => {
        this.destroyed = true;
      },
    };
  }

  send(m: BgpMessage): void {
    if (!this.destroyed) this.data?.(encode(m, DEFAULT_CODEC));
  }

  hangUp(): void {
    this.destroyed = true;
    this.close?.();
  }

  types(): string[] {
    return this.received.map((m) => (m.type === 'notification' ? `notification ${m.code}/${m.subcode}` : m.type));
  }

  updates(): UpdateMessage[] {
    return this.received.filter((m): m is UpdateMessage => m.type === 'update');
  }
}

/** Outbound connects complete only when the test says so. */
class ManualTransport implements Transport {
  readonly pending: { end: PeerEnd; resolve: (c: Connection) => void }[] = [];

  connect(): Promise<Connection> {
    return new Promise((resolve) => this.pending.push({ end: new PeerEnd(), resolve }));
  }

  complete(): PeerEnd {
    const p = this.pending.shift()!;
    p.resolve(p.end.conn);
    return p.end;
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

const PEER_ID = '192.0.2.2';
const gr = { restarting: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwardingPreserved: true }] };
const caps = (extra: Partial<Capabilities> = {}): Capabilities => ({
  multiprotocol: [{ afi: 1, safi: 1 }],
  routeRefresh: true,
  extendedMessage: false,
  other: [],
  fourOctetAs: 65001,
  ...extra,
});
const peerOpen = (extra: Partial<Capabilities> = {}, bgpId = PEER_ID): OpenMessage => ({
  type: 'open',
  version: 4,
  myAs: 65001,
  holdTime: 9,
  bgpId,
  capabilities: caps(extra),
});

function fsmConfig(o: Partial<FsmConfig> = {}): FsmConfig {
  return {
    myAsn: 65000,
    peerAsn: 65001,
    routerId: '192.0.2.1',
    holdTime: 9,
    connectRetryTime: 5,
    capabilities: { ...caps(), fourOctetAs: 65000 },
    ...o,
  };
}

function setup(
  o: Partial<FsmConfig> = {},
  restarted = false,
): { transport: ManualTransport; clock: FakeClock; session: BgpSession } {
  const transport = new ManualTransport();
  const clock = new FakeClock();
  const session = new BgpSession({
    name: 'peer',
    peerAddress: parseIP(PEER_ID),
    transport,
    clock,
    logger: new RecordingLogger(),
    random: () => 0,
    fsm: fsmConfig(o),
    restarted,
  });
  session.setAdvertisements([{ prefix: parseCIDR('203.0.113.7/32') }]);
  return { transport, clock, session };
}

const announced = (p: PeerEnd): string[] => p.updates().flatMap((u) => u.nlri.map(formatCIDR));

describe('bgp collision resolution (pure, §6.8)', () => {
  it('the side with the higher BGP Identifier keeps the connection it opened, compared as unsigned numbers', () => {
    expect(collisionWinner('203.0.113.1', '192.0.2.200', 65000, 65001)).to.equal('local');
    expect(collisionWinner('192.0.2.1', '192.0.2.2', 65000, 65001)).to.equal('remote');
    expect(collisionWinner('10.0.0.1', '9.255.255.255', 1, 2)).to.equal('local');
  });

  it('equal Identifiers (eBGP, RFC 6286): the larger AS number wins', () => {
    expect(collisionWinner('192.0.2.1', '192.0.2.1', 65002, 65001)).to.equal('local');
    expect(collisionWinner('192.0.2.1', '192.0.2.1', 65000, 65001)).to.equal('remote');
  });

  const cfg = fsmConfig();
  const cases: {
    name: string;
    state: 'OpenSent' | 'OpenConfirm' | 'Established' | 'Active';
    existingLocal: boolean;
    newLocal: boolean;
    open: OpenMessage;
    keepNew: boolean;
  }[] = [
    {
      name: 'peer ID higher: its connection (the new one) wins over ours',
      state: 'OpenConfirm',
      existingLocal: true,
      newLocal: false,
      open: peerOpen(),
      keepNew: true,
    },
    {
      name: 'our ID higher: our existing connection wins',
      state: 'OpenConfirm',
      existingLocal: true,
      newLocal: false,
      open: peerOpen({}, '192.0.2.0'),
      keepNew: false,
    },
    {
      name: 'our ID higher, ours is the new one: it wins',
      state: 'OpenSent',
      existingLocal: false,
      newLocal: true,
      open: peerOpen({}, '192.0.2.0'),
      keepNew: true,
    },
    {
      name: "peer ID higher, ours is the new one: the existing (the peer's) wins",
      state: 'OpenSent',
      existingLocal: false,
      newLocal: true,
      open: peerOpen(),
      keepNew: false,
    },
    {
      name: 'both opened by the peer: the newer one',
      state: 'OpenConfirm',
      existingLocal: false,
      newLocal: false,
      open: peerOpen({}, '192.0.2.0'),
      keepNew: true,
    },
    {
      name: 'Established is kept against a plain new connection',
      state: 'Established',
      existingLocal: true,
      newLocal: false,
      open: peerOpen(),
      keepNew: false,
    },
    {
      name: 'Established is replaced by the restarted peer (same ID, graceful restart)',
      state: 'Established',
      existingLocal: true,
      newLocal: false,
      open: peerOpen({ gracefulRestart: gr }),
      keepNew: true,
    },
    {
      name: 'nothing to collide with once the old connection is gone',
      state: 'Active',
      existingLocal: true,
      newLocal: false,
      open: peerOpen({}, '192.0.2.0'),
      keepNew: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const negotiated = {
        peerAs: 65001,
        peerId: PEER_ID,
        holdTime: 9,
        keepaliveTime: 3,
        fourOctetAs: true,
        extendedMessage: false,
        families: [{ afi: 1, safi: 1 }],
        routeRefresh: true,
        peerGracefulRestart: false,
        ibgp: false,
      };
      expect(
        keepNewConnection(
          { state: c.state, initiatedLocally: c.existingLocal, negotiated },
          c.newLocal,
          c.open,
          cfg,
          65001,
        ),
      ).to.equal(c.keepNew);
    });
  }
});

describe('bgp fsm: passive peers (PassiveTcpEstablishment)', () => {
  const cfg = fsmConfig({ passive: true });
  it('start waits in Active without connecting or a retry timer', () => {
    const t = transition(INITIAL, { type: 'ManualStart' }, cfg);
    expect(t.state.name).to.equal('Active');
    expect(t.actions).to.deep.equal([]);
  });
  it('a lost connection goes back to Active to wait, never connecting out', () => {
    const t = transition(
      { name: 'OpenSent', connectRetryCounter: 0, failures: 0 },
      { type: 'TcpConnectionFails' },
      cfg,
    );
    expect(t.state.name).to.equal('Active');
    expect(t.actions.map((a) => a.type)).to.deep.equal(['stopTimer', 'drop']);
    expect(
      transition({ name: 'Active', connectRetryCounter: 0, failures: 0 }, { type: 'ConnectRetryTimerExpires' }, cfg)
        .actions,
    ).to.deep.equal([]);
  });
});

describe('bgp session: passive peers and collisions (in-memory connections)', () => {
  it('a passive session never connects out; the peer connecting in reaches Established and gets the routes', async () => {
    const { transport, clock, session } = setup({ passive: true });
    session.start();
    clock.advance(60_000);
    await flush();
    expect(transport.pending).to.have.length(0);
    expect(session.state()).to.equal('Active');
    const p = new PeerEnd();
    session.accept(p.conn);
    expect(p.types()).to.deep.equal(['open']);
    p.send(peerOpen());
    p.send({ type: 'keepalive' });
    expect(session.state()).to.equal('Established');
    expect(announced(p)).to.deep.equal(['203.0.113.7/32']);
    p.hangUp();
    expect(session.state()).to.equal('Idle');
    clock.advance(0);
    expect(session.state()).to.equal('Active');
  });

  it('refuses connections while stopped', () => {
    const { session } = setup();
    const p = new PeerEnd();
    session.accept(p.conn);
    expect(p.destroyed).to.equal(true);
    expect(p.received).to.deep.equal([]);
  });

  it("peer ID higher: the peer's incoming connection wins, ours gets Cease 6/7, routes flow on the winner", async () => {
    const { transport, session } = setup();
    session.start();
    await flush();
    const ours = transport.complete();
    await flush();
    expect(session.state()).to.equal('OpenSent');
    const theirs = new PeerEnd();
    session.accept(theirs.conn);
    expect(theirs.types()).to.deep.equal(['open']);
    ours.send(peerOpen());
    expect(session.state()).to.equal('OpenConfirm');
    theirs.send(peerOpen());
    expect(ours.types()).to.deep.equal(['open', 'keepalive', 'notification 6/7']);
    expect(ours.destroyed).to.equal(true);
    expect(session.state()).to.equal('OpenConfirm');
    theirs.send({ type: 'keepalive' });
    expect(session.state()).to.equal('Established');
    expect(announced(theirs)).to.deep.equal(['203.0.113.7/32']);
    expect(announced(ours)).to.deep.equal([]);
  });

  it('our ID higher: the incoming connection gets Cease 6/7 and ours carries the session', async () => {
    const { transport, session } = setup({ routerId: '198.51.100.9' });
    session.start();
    await flush();
    const ours = transport.complete();
    await flush();
    const theirs = new PeerEnd();
    session.accept(theirs.conn);
    theirs.send(peerOpen());
    expect(theirs.types()).to.deep.equal(['open', 'notification 6/7']);
    expect(theirs.destroyed).to.equal(true);
    ours.send(peerOpen());
    ours.send({ type: 'keepalive' });
    expect(session.state()).to.equal('Established');
    expect(announced(ours)).to.deep.equal(['203.0.113.7/32']);
  });

  it("our connect completing after we took the peer's becomes the second connection and wins when our ID is higher", async () => {
    const { transport, session } = setup({ routerId: '198.51.100.9' });
    session.start();
    await flush();
    const theirs = new PeerEnd();
    session.accept(theirs.conn);
    expect(session.state()).to.equal('OpenSent');
    const ours = transport.complete();
    await flush();
    expect(ours.types()).to.deep.equal(['open']);
    ours.send(peerOpen());
    expect(theirs.types()).to.deep.equal(['open', 'notification 6/7']);
    ours.send({ type: 'keepalive' });
    expect(session.state()).to.equal('Established');
    expect(announced(ours)).to.deep.equal(['203.0.113.7/32']);
  });

  it('Established: a new connection is refused with Cease 6/7, unless the restarted peer (graceful restart) replaces the old one', async () => {
    const { transport, session } = setup({ capabilities: { ...caps(), fourOctetAs: 65000, gracefulRestart: gr } });
    session.start();
    await flush();
    const first = transport.complete();
    await flush();
    first.send(peerOpen({ gracefulRestart: gr }));
    first.send({ type: 'keepalive' });
    expect(session.state()).to.equal('Established');
    const intruder = new PeerEnd();
    session.accept(intruder.conn);
    intruder.send(peerOpen());
    expect(intruder.types()).to.deep.equal(['open', 'notification 6/7']);
    expect(session.state()).to.equal('Established');
    const restarted = new PeerEnd();
    session.accept(restarted.conn);
    restarted.send(peerOpen({ gracefulRestart: { ...gr, restarting: true } }));
    expect(first.destroyed).to.equal(true);
    expect(first.types().some((t) => t.startsWith('notification'))).to.equal(false);
    restarted.send({ type: 'keepalive' });
    expect(session.state()).to.equal('Established');
    expect(announced(restarted)).to.deep.equal(['203.0.113.7/32']);
    expect(restarted.updates().at(-1)).to.deep.include({ nlri: [], withdrawn: [] });
  });

  it('graceful stop closes without a NOTIFICATION when both sides have graceful restart, with Cease otherwise', async () => {
    for (const both of [true, false]) {
      const { transport, session } = setup({ capabilities: { ...caps(), fourOctetAs: 65000, gracefulRestart: gr } });
      session.start();
      await flush();
      const p = transport.complete();
      await flush();
      p.send(peerOpen(both ? { gracefulRestart: gr } : {}));
      p.send({ type: 'keepalive' });
      session.stop({ graceful: true });
      expect(p.destroyed).to.equal(true);
      expect(p.types().includes('notification 6/2')).to.equal(!both);
    }
  });

  it('a restarted speaker sets the Restart State bit on its first OPEN only', async () => {
    const { transport, clock, session } = setup(
      { capabilities: { ...caps(), fourOctetAs: 65000, gracefulRestart: gr } },
      true,
    );
    session.start();
    await flush();
    const p = transport.complete();
    await flush();
    expect((p.received[0] as OpenMessage).capabilities.gracefulRestart?.restarting).to.equal(true);
    p.send(peerOpen({ gracefulRestart: gr }));
    p.send({ type: 'keepalive' });
    p.hangUp();
    clock.advance(1000);
    await flush();
    const q = transport.complete();
    await flush();
    expect((q.received[0] as OpenMessage).capabilities.gracefulRestart?.restarting).to.equal(false);
  });
});
