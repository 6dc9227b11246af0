/**
 * BgpManager over in-memory routers and a FakeClock: which BGPPeer changes open, keep or
 * close a session, what the router is told when its BGPPeer goes (Cease "Peer
 * De-configured", RFC 4486), and why a peer cannot have a session. Plus the peer fingerprint
 * that decides "changed".
 */
import { expect } from 'chai';
import { decode, encode } from '../../../../speaker/bgp/codec.js';
import { Framer } from '../../../../speaker/bgp/framer.js';
import { BgpManager, peerFingerprint } from '../../../../speaker/bgp/manager.js';
import {
  DEFAULT_CODEC,
  type BgpMessage,
  type NotificationMessage,
  type OpenMessage,
} from '../../../../speaker/bgp/messages.js';
import type { ConnectOptions, Connection, Transport } from '../../../../speaker/bgp/transport.js';
import { parseConfig } from '../../../../src/config/parse.js';
import type { Peer } from '../../../../src/config/model.js';
import { FakeClock } from '../../../../src/core/clock.js';
import { RecordingLogger } from '../../../../src/core/logger.js';
import { parseCIDR } from '../../../../src/net/cidr.js';
import { parseIP } from '../../../../src/net/ip.js';

/** One connection a router took: what Herald sent on it. */
interface RouterConn {
  readonly host: string;
  readonly received: BgpMessage[];
  closed: boolean;
}

/** Routers at any address: each answers Herald's OPEN with its own and a KEEPALIVE. */
class Routers implements Transport {
  readonly conns: RouterConn[] = [];

  connect(opts: ConnectOptions): Promise<Connection> {
    const rec: RouterConn = { host: opts.host, received: [], closed: false };
    this.conns.push(rec);
    const framer = new Framer();
    let deliver: ((b: Buffer) => void) | undefined;
    const answer = (m: BgpMessage): void => deliver?.(encode(m, DEFAULT_CODEC));
    return Promise.resolve({
      localAddress: '192.0.2.1',
      write: (b: Buffer) => {
        for (const raw of framer.push(b).messages) {
          const r = decode(raw, DEFAULT_CODEC);
          if (!r.ok) continue;
          rec.received.push(r.message);
          if (r.message.type === 'open') {
            const mine: OpenMessage = {
              type: 'open',
              version: 4,
              myAs: 65001,
              holdTime: 90,
              bgpId: '192.0.2.254',
              capabilities: {
                multiprotocol: [{ afi: 1, safi: 1 }],
                routeRefresh: true,
                extendedMessage: false,
                other: [],
                fourOctetAs: 65001,
              },
            };
            queueMicrotask(() => {
              answer(mine);
              answer({ type: 'keepalive' });
            });
          }
        }
      },
      onData: (fn) => (deliver = fn),
      onClose: () => undefined,
      destroy: () => {
        rec.closed = true;
      },
    });
  }

  to(host: string): RouterConn[] {
    return this.conns.filter((c) => c.host === host);
  }

  notifications(c: RouterConn): [number, number][] {
    return c.received
      .filter((m): m is NotificationMessage => m.type === 'notification')
      .map((m) => [m.code, m.subcode]);
  }
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

/** BGPPeers from CR specs (undefined fields left out); `missingSecret`: a password Secret that does not exist is expected. */
function parsePeers(
  specs: Record<string, Record<string, unknown>>,
  extra: Record<string, unknown>[] = [],
  missingSecret = false,
): Peer[] {
  const objs = Object.entries(specs).map(([name, spec]) => ({
    apiVersion: 'herald.dev/v1beta1',
    kind: 'BGPPeer',
    metadata: { name, namespace: 'herald-system' },
    spec: Object.fromEntries(
      Object.entries({ myASN: 65000, peerASN: 65001, ...spec }).filter(([, v]) => v !== undefined),
    ),
  }));
  const parsed = parseConfig([...objs, ...extra]);
  expect(parsed.errors.map(String).filter((e) => !(missingSecret && /Secret .* does not exist/.test(e)))).to.deep.equal(
    [],
  );
  return [...parsed.config.peers.values()].sort((a, b) => a.name.localeCompare(b.name));
}

function setup(opts: { nodeV4?: boolean } = {}): {
  routers: Routers;
  clock: FakeClock;
  logger: RecordingLogger;
  m: BgpManager;
} {
  const routers = new Routers();
  const clock = new FakeClock();
  const logger = new RecordingLogger();
  const m = new BgpManager({
    clock,
    logger,
    transport: routers,
    random: () => 0,
    listen: false,
    nodeAddresses: () => (opts.nodeV4 === false ? {} : { v4: parseIP('192.0.2.1') }),
  });
  return { routers, clock, logger, m };
}

const routes = (peer: string, ...prefixes: string[]): Map<string, { prefix: ReturnType<typeof parseCIDR> }[]> =>
  new Map([[peer, prefixes.map((p) => ({ prefix: parseCIDR(p) }))]]);

describe('bgp manager: sessions follow the BGPPeers (in-memory routers, fake clock)', () => {
  it('opens a session per peer and keeps it (no reconnect) while the peer is unchanged; routes follow each apply', async () => {
    const { routers, m } = setup();
    const peers = parsePeers({ r1: { peerAddress: '192.0.2.2' } });
    m.apply(peers, routes('r1', '203.0.113.1/32'));
    await flush();
    expect(m.states().get('r1')?.state()).to.equal('Established');
    m.apply(parsePeers({ r1: { peerAddress: '192.0.2.2' } }), routes('r1', '203.0.113.1/32', '203.0.113.2/32'));
    await flush();
    expect(routers.to('192.0.2.2')).to.have.length(1);
    const nlri = routers.to('192.0.2.2')[0]!.received.flatMap((msg) => (msg.type === 'update' ? msg.nlri.length : 0));
    expect(nlri.reduce((a, b) => a + b, 0)).to.equal(2);
    m.stopAll();
  });

  it('a deleted BGPPeer sends Cease "Peer De-configured" (6/3); a changed one "Other Configuration Change" (6/6) and a new session', async () => {
    const { routers, m, logger } = setup();
    m.apply(parsePeers({ gone: { peerAddress: '192.0.2.2' }, changed: { peerAddress: '192.0.2.3' } }), new Map());
    await flush();
    m.apply(parsePeers({ changed: { peerAddress: '192.0.2.3', holdTime: '30s' } }), new Map());
    await flush();
    const [gone] = routers.to('192.0.2.2');
    expect(routers.notifications(gone!)).to.deep.equal([[6, 3]]);
    expect(gone!.closed).to.equal(true);
    const [old, fresh] = routers.to('192.0.2.3');
    expect(routers.notifications(old!)).to.deep.equal([[6, 6]]);
    expect(fresh).to.not.equal(undefined);
    expect(m.states().get('changed')?.state()).to.equal('Established');
    expect(
      logger.records.filter((r) => r.fields['event'] === 'sessionRemoved').map((r) => r.fields),
    ).to.have.deep.members([
      { event: 'sessionRemoved', peer: 'changed', reason: 'peer changed' },
      { event: 'sessionRemoved', peer: 'gone', reason: 'peer no longer selects this node' },
    ]);
    m.stopAll();
  });

  it('stopAll sends Administrative Shutdown to every router', async () => {
    const { routers, m } = setup();
    m.apply(parsePeers({ a: { peerAddress: '192.0.2.2' }, b: { peerAddress: '192.0.2.3' } }), new Map());
    await flush();
    m.stopAll();
    expect(routers.conns.map((c) => routers.notifications(c))).to.deep.equal([[[6, 2]], [[6, 2]]]);
    expect(m.states().size).to.equal(0);
  });

  const cannot: { name: string; spec: Record<string, unknown>; nodeV4?: boolean; why: RegExp }[] = [
    {
      name: 'a password Secret that does not exist',
      spec: { peerAddress: '192.0.2.2', passwordSecret: { name: 'nope', namespace: 'herald-system' } },
      why: /the password Secret herald-system\/nope is missing/,
    },
    {
      name: 'a password without the native addon',
      spec: { peerAddress: '192.0.2.2', password: 'secret' },
      why: /need Herald's native addon: not loaded/,
    },
    {
      name: 'ebgpMultiHop (a TTL) without the native addon',
      spec: { peerAddress: '192.0.2.2', ebgpMultiHop: true },
      why: /need Herald's native addon/,
    },
    {
      name: 'no router ID and no IPv4 node address',
      spec: { peerAddress: '2001:db8::2' },
      nodeV4: false,
      why: /no router ID/,
    },
  ];
  for (const tc of cannot) {
    it(`reports a peer that cannot have a session: ${tc.name}`, async () => {
      const { routers, m, logger } = setup(tc.nodeV4 === false ? { nodeV4: false } : {});
      m.apply(parsePeers({ p: tc.spec }, [], true), new Map());
      await flush();
      expect(routers.conns).to.have.length(0);
      expect(m.failures().get('p')).to.match(tc.why);
      expect(m.lastErrors().get('p')).to.match(tc.why);
      const logged = logger.records.filter((r) => r.fields['event'] === 'sessionUnavailable');
      expect(logged).to.have.length(1);
      // The same failure on the next apply is not logged again.
      m.apply(parsePeers({ p: tc.spec }, [], true), new Map());
      expect(logger.records.filter((r) => r.fields['event'] === 'sessionUnavailable')).to.have.length(1);
      m.stopAll();
    });
  }
});

describe('bgp manager: peer fingerprints (what makes a BGPPeer "changed")', () => {
  const base = { peerAddress: '192.0.2.2' };
  const resets: { name: string; spec: Record<string, unknown> }[] = [
    { name: 'myASN', spec: { myASN: 65010 } },
    { name: 'peerASN', spec: { peerASN: 65011 } },
    { name: 'dynamicASN instead of peerASN', spec: { peerASN: undefined, dynamicASN: 'external' } },
    { name: 'peerAddress', spec: { peerAddress: '192.0.2.3' } },
    { name: 'sourceAddress', spec: { sourceAddress: '192.0.2.1' } },
    { name: 'peerPort', spec: { peerPort: 1179 } },
    { name: 'holdTime', spec: { holdTime: '30s' } },
    { name: 'keepaliveTime', spec: { keepaliveTime: '5s' } },
    { name: 'connectTime', spec: { connectTime: '7s' } },
    { name: 'routerID', spec: { routerID: '192.0.2.9' } },
    { name: 'password', spec: { password: 'x' } },
    { name: 'ebgpMultiHop', spec: { ebgpMultiHop: true } },
    { name: 'enableGracefulRestart', spec: { enableGracefulRestart: true } },
    { name: 'passive', spec: { passive: true } },
    { name: 'dualStackAddressFamily', spec: { dualStackAddressFamily: true } },
  ];
  const same: { name: string; spec: Record<string, unknown> }[] = [
    {
      name: 'nodeSelectors (they decide which nodes run it, not the session)',
      spec: { nodeSelectors: [{ matchLabels: { rack: 'a' } }] },
    },
    { name: 'bfdProfile (BFD runs beside the session)', spec: { bfdProfile: 'fast' } },
  ];
  const fp = (spec: Record<string, unknown>): string => {
    const full = { ...base, ...spec };
    const bfd = spec['bfdProfile']
      ? [
          {
            apiVersion: 'herald.dev/v1beta1',
            kind: 'BFDProfile',
            metadata: { name: 'fast', namespace: 'herald-system' },
            spec: {},
          },
        ]
      : [];
    return peerFingerprint(parsePeers({ p: full }, bfd)[0]!);
  };
  const plain = fp({});

  for (const tc of resets) {
    it(`changes with ${tc.name}`, () => expect(fp(tc.spec)).to.not.equal(plain));
  }
  for (const tc of same) {
    it(`does not change with ${tc.name}`, () => expect(fp(tc.spec)).to.equal(plain));
  }

  it("a Secret password changes it when the Secret's value changes, not the Secret's name alone", () => {
    const p = parsePeers({ p: { ...base, passwordSecret: { name: 's', namespace: 'herald-system' } } }, [], true)[0]!;
    const withValue = (value: string | undefined): Peer => ({
      ...p,
      password: {
        ...(p.password as Extract<Peer['password'], { kind: 'secret' }>),
        ...(value !== undefined ? { value } : {}),
      },
    });
    expect(peerFingerprint(withValue('one'))).to.not.equal(peerFingerprint(withValue('two')));
    expect(peerFingerprint(withValue('one'))).to.equal(
      peerFingerprint({
        ...withValue('one'),
        password: { ...(withValue('one').password as Extract<Peer['password'], { kind: 'secret' }>), name: 'other' },
      }),
    );
  });
});
