/** Two BFD engines over a fake network on one FakeClock: RFC 5880 sessions end to end, RFC 5881/5883 ports and TTLs. */
import { expect } from 'chai';
import { FakeClock } from '../../../../src/core/clock.js';
import { RecordingLogger } from '../../../../src/core/logger.js';
import { BfdEngine, type BfdPeerSpec } from '../../../../speaker/bfd/engine.js';
import { decodeControl, DIAG, encodeControl, type BfdState } from '../../../../speaker/bfd/packet.js';
import type { BfdTimers } from '../../../../speaker/bfd/session.js';
import { FakeBfdNet } from '../../../support/bfd-fake-net.js';

const A = '192.0.2.1';
const B = '192.0.2.2';

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const timers = (o: Partial<BfdTimers> = {}): BfdTimers => ({
  desiredMinTxMs: 100,
  requiredMinRxMs: 100,
  detectMult: 3,
  passive: false,
  ...o,
});

function setup(o: { a?: Partial<BfdTimers>; b?: Partial<BfdTimers>; multiHop?: boolean; minimumTtl?: number } = {}) {
  const clock = new FakeClock(0);
  const net = new FakeBfdNet(clock);
  const log = new RecordingLogger();
  const changes: { host: string; state: BfdState; diag: number; at: number }[] = [];
  const mk = (self: string, peer: string, t: Partial<BfdTimers> | undefined, seed: number) => {
    const engine = new BfdEngine({
      sockets: net.host(self),
      clock,
      random: seeded(seed),
      logger: log.child({ host: self }),
    });
    const spec: BfdPeerSpec = {
      key: `to-${peer}`,
      peerAddress: peer,
      multiHop: o.multiHop ?? false,
      minimumTtl: o.minimumTtl ?? 254,
      timers: timers(t),
    };
    const s = engine.add(spec, (state, diag) => changes.push({ host: self, state, diag, at: clock.now() }));
    if (typeof s === 'string') throw new Error(s);
    return { engine, session: s };
  };
  const a = mk(A, B, o.a, 1);
  const b = mk(B, A, o.b, 2);
  return { clock, net, log, changes, a, b };
}

describe('BFD engine (RFC 5880 over RFC 5881/5883 UDP)', () => {
  it('comes Up both ways, then runs the configured intervals after a Poll Sequence', () => {
    const t = setup({
      a: { desiredMinTxMs: 50, requiredMinRxMs: 200 },
      b: { desiredMinTxMs: 300, requiredMinRxMs: 100 },
    });
    t.clock.advance(3000);
    expect(t.a.session.state()).to.equal('Up');
    expect(t.b.session.state()).to.equal('Up');
    // A sends at max(its 50, B's required 100); B at max(its 300, A's required 200).
    expect(t.a.session.negotiated()).to.deep.include({ txMs: 100, detectMs: 3 * 300 });
    expect(t.b.session.negotiated()).to.deep.include({ txMs: 300, detectMs: 3 * 100 });
    // Slow (1 s) until Up, announced with P, answered with F; no P afterwards.
    const late = t.net.sent.filter((d) => d.at > 2500).map((d) => decodeControl(d.data));
    expect(late.length).to.be.greaterThan(5);
    expect(late.every((p) => !p.poll && p.state === 'Up')).to.equal(true);
    expect(t.net.sent.map((d) => decodeControl(d.data)).some((p) => p.final)).to.equal(true);
  });

  it('sends from a source port in 49152-65535 to 3784 with TTL 255; multi-hop to 4784', () => {
    const t = setup();
    t.clock.advance(2000);
    expect(t.net.sent.length).to.be.greaterThan(0);
    for (const d of t.net.sent) {
      expect(d.port).to.equal(3784);
      expect(d.ttl).to.equal(255);
      expect(d.srcPort).to.be.within(49152, 65535);
    }
    // One source port per session for its whole life.
    expect(new Set(t.net.sent.filter((d) => d.from === A).map((d) => d.srcPort)).size).to.equal(1);
    const m = setup({ multiHop: true, minimumTtl: 250 });
    m.net.hops = 3;
    m.clock.advance(3000);
    expect(m.net.sent.every((d) => d.port === 4784)).to.equal(true);
    expect(m.a.session.state()).to.equal('Up');
  });

  it('holds the transmit interval with 75-100 % jitter, 75-90 % with a Detect Mult of 1', () => {
    for (const [mult, hi] of [
      [3, 1.0],
      [1, 0.9],
    ] as const) {
      const t = setup({ a: { detectMult: mult }, b: { detectMult: mult } });
      t.clock.advance(20_000);
      const times = t.net.sent
        .filter((d) => d.from === A && d.at > 3000 && !decodeControl(d.data).final)
        .map((d) => d.at);
      const gaps = times.slice(1).map((x, i) => x - times[i]!);
      expect(gaps.length).to.be.greaterThan(100);
      expect(Math.min(...gaps)).to.be.at.least(75);
      expect(Math.max(...gaps)).to.be.at.most(100 * hi);
      // Really random, not pinned at one end.
      expect(Math.max(...gaps) - Math.min(...gaps)).to.be.greaterThan(10);
    }
  });

  it('detects a cut link within the Detection Time (diag 1) and comes back Up after it heals', () => {
    const t = setup();
    t.clock.advance(3000);
    t.net.cut.add(B);
    const cutAt = t.clock.now();
    t.clock.advance(400);
    const down = t.changes.filter((c) => c.host === A && c.state === 'Down' && c.at > cutAt);
    expect(down).to.have.length(1);
    expect(down[0]!.diag).to.equal(DIAG.controlDetectionTimeExpired);
    expect(down[0]!.at - cutAt).to.be.within(200, 300);
    t.net.cut.clear();
    t.clock.advance(3000);
    expect(t.a.session.state()).to.equal('Up');
    expect(t.b.session.state()).to.equal('Up');
  });

  it('AdminDown on removal: the peer goes Down at once with diag 3 and learns diag 7', () => {
    const t = setup();
    t.clock.advance(3000);
    t.a.engine.remove(`to-${B}`);
    const at = t.clock.now();
    t.clock.advance(1);
    const down = t.changes.find((c) => c.host === B && c.state === 'Down' && c.at >= at);
    expect(down?.at).to.be.at.most(at + 1);
    expect(down?.diag).to.equal(DIAG.neighborSignaledSessionDown);
    expect(t.b.session.remoteDiagnostic()).to.equal(DIAG.administrativelyDown);
    const last = decodeControl(t.net.sent.filter((d) => d.from === A).at(-1)!.data);
    expect(last).to.deep.include({ state: 'AdminDown', diag: DIAG.administrativelyDown });
  });

  it('single-hop: discards a packet whose TTL is not 255, and says so once', () => {
    const t = setup();
    t.net.hops = 1;
    t.clock.advance(5000);
    expect(t.a.session.state()).to.equal('Down');
    expect(t.a.session.stats.packetsDiscarded).to.be.greaterThan(2);
    expect(
      t.log.records.filter((r) => r.message.includes('TTL 254, not 255') && r.fields['host'] === A),
    ).to.have.length(1);
  });

  it('multi-hop: accepts a TTL down to minimumTtl, discards below', () => {
    const ok = setup({ multiHop: true, minimumTtl: 250 });
    ok.net.hops = 5;
    ok.clock.advance(3000);
    expect(ok.a.session.state()).to.equal('Up');
    const low = setup({ multiHop: true, minimumTtl: 250 });
    low.net.hops = 6;
    low.clock.advance(3000);
    expect(low.a.session.state()).to.equal('Down');
    expect(low.log.records.some((r) => r.message.includes("TTL 249, below the BFDProfile's minimumTtl 250"))).to.equal(
      true,
    );
  });

  it('passive mode sends nothing until the peer speaks; two passive ends stay silent', () => {
    const t = setup({ a: { passive: true } });
    t.clock.advance(3000);
    expect(t.a.session.state()).to.equal('Up');
    const firstA = t.net.sent.find((d) => d.from === A)!;
    const firstB = t.net.sent.find((d) => d.from === B)!;
    expect(firstA.at).to.be.at.least(firstB.at);
    const both = setup({ a: { passive: true }, b: { passive: true } });
    both.clock.advance(5000);
    expect(both.net.sent).to.have.length(0);
  });

  it('discards authenticated packets with a clear error (no authentication configured)', () => {
    const t = setup();
    t.net.cut.add(B);
    const p = encodeControl({
      diag: 0,
      state: 'Down',
      poll: false,
      final: false,
      detectMult: 3,
      myDiscriminator: 9,
      yourDiscriminator: 0,
      desiredMinTxMs: 1000,
      requiredMinRxMs: 100,
      requiredMinEchoRxMs: 0,
    });
    const auth = Buffer.concat([p, Buffer.from([4, 28, 1, 0, 0, 0, 0, 1]), Buffer.alloc(20)]);
    auth[1] = auth[1]! | 0x04;
    auth[3] = auth.length;
    t.net.inject(A, 3784, auth, B, 255);
    t.net.inject(A, 3784, auth, B, 255);
    expect(t.a.session.state()).to.equal('Down');
    expect(t.a.session.stats.packetsDiscarded).to.equal(2);
    expect(
      t.log.records.filter(
        (r) => r.level === 'error' && r.message.includes('Keyed SHA1') && r.message.includes('no authentication'),
      ),
    ).to.have.length(1);
  });

  it('ignores packets from unknown peers and malformed ones', () => {
    const t = setup();
    const p = encodeControl({
      diag: 0,
      state: 'Down',
      poll: false,
      final: false,
      detectMult: 3,
      myDiscriminator: 9,
      yourDiscriminator: 0,
      desiredMinTxMs: 1000,
      requiredMinRxMs: 100,
      requiredMinEchoRxMs: 0,
    });
    t.net.inject(A, 3784, p, '192.0.2.99', 255);
    t.net.inject(A, 3784, Buffer.alloc(10), B, 255);
    expect(t.a.engine.malformedPackets()).to.equal(1);
    expect(t.a.session.stats.packetsReceived).to.equal(0);
  });
});
