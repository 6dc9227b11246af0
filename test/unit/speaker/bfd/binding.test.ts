/** BGPPeer.bfdProfile -> a BFD session with the profile's timers; BFD Down resets the BGP session (RFC 5882). */
import { expect } from 'chai';
import { parseConfig } from '../../../../src/config/parse.js';
import { FakeClock } from '../../../../src/core/clock.js';
import { RecordingLogger } from '../../../../src/core/logger.js';
import { bfdStatusView, createBfdBinding } from '../../../../speaker/bfd/binding.js';
import { BfdEngine } from '../../../../speaker/bfd/engine.js';
import { FakeBfdNet } from '../../../support/bfd-fake-net.js';

const H = 'herald.dev/v1beta1';
const NODE = '192.0.2.1';
const ROUTER = '192.0.2.2';

function config(profile: Record<string, unknown> | undefined, peer: Record<string, unknown> = {}) {
  return parseConfig([
    ...(profile
      ? [{ apiVersion: H, kind: 'BFDProfile', metadata: { name: 'fast', namespace: 'herald-system' }, spec: profile }]
      : []),
    {
      apiVersion: H,
      kind: 'BGPPeer',
      metadata: { name: 'router', namespace: 'herald-system' },
      spec: { myASN: 65000, peerASN: 65001, peerAddress: ROUTER, bfdProfile: 'fast', ...peer },
    },
  ]);
}

function setup() {
  const clock = new FakeClock(0);
  const net = new FakeBfdNet(clock);
  const log = new RecordingLogger();
  const resets: { peer: string; reason: string; at: number }[] = [];
  const binding = createBfdBinding({
    sockets: net.host(NODE),
    clock,
    random: () => 0.5,
    logger: log,
    resetBgp: (peer, reason) => resets.push({ peer, reason, at: clock.now() }),
  });
  const router = new BfdEngine({
    sockets: net.host(ROUTER),
    clock,
    random: () => 0.25,
    logger: log.child({ host: 'router' }),
  });
  const rs = router.add(
    {
      key: 'node',
      peerAddress: NODE,
      multiHop: false,
      minimumTtl: 254,
      timers: { desiredMinTxMs: 100, requiredMinRxMs: 100, detectMult: 3, passive: false },
    },
    () => undefined,
  );
  if (typeof rs === 'string') throw new Error(rs);
  return { clock, net, log, resets, binding, router };
}

describe('BGPPeer bfdProfile binding', () => {
  it('runs the profile timers and shows them in the session state', () => {
    const t = setup();
    const c = config({ transmitInterval: 150, receiveInterval: 200, detectMultiplier: 4 });
    t.binding.apply([...c.config.peers.values()], c.config.bfdProfiles);
    t.clock.advance(3000);
    // We send at max(150, router's 100); we wait 3 x max(our 200, router's 100).
    expect(bfdStatusView(t.binding.status('router'))).to.deep.equal({
      state: 'Up',
      transmitInterval: 150,
      detectionTime: 600,
    });
    // The router detects at our multiplier: 4 x max(its 100, our 150).
    expect(t.router.get('node')!.negotiated()).to.deep.include({ detectMs: 600, txMs: 200 });
    expect(t.binding.sessions().get('router')).to.deep.include({ state: 'Up' });
  });

  it('resets the BGP session when BFD detects a failure, not before it was ever Up', () => {
    const t = setup();
    t.net.cut.add(ROUTER);
    const c = config({ transmitInterval: 100, receiveInterval: 100 });
    t.binding.apply([...c.config.peers.values()], c.config.bfdProfiles);
    t.clock.advance(5000);
    expect(t.resets).to.deep.equal([]);
    t.net.cut.clear();
    t.clock.advance(3000);
    const cut = t.clock.now();
    t.net.cut.add(ROUTER);
    t.clock.advance(1000);
    expect(t.resets).to.have.length(1);
    expect(t.resets[0]).to.deep.include({ peer: 'router', reason: 'BFD session down (controlDetectionTimeExpired)' });
    expect(t.resets[0]!.at - cut).to.be.at.most(300);
    expect(bfdStatusView(t.binding.status('router'))).to.deep.include({
      state: 'Down',
      diagnostic: 'controlDetectionTimeExpired',
    });
  });

  it('leaves BGP alone when the router takes BFD administratively down (RFC 5882 §3.2)', () => {
    const t = setup();
    const c = config({});
    t.binding.apply([...c.config.peers.values()], c.config.bfdProfiles);
    t.clock.advance(3000);
    t.router.remove('node');
    t.clock.advance(2000);
    expect(t.resets).to.deep.equal([]);
    expect(t.binding.status('router')?.state).to.equal('Down');
    expect(t.log.records.some((r) => r.message.includes('administratively down'))).to.equal(true);
  });

  it('restarts BFD when the profile changes, ends it when the peer goes (AdminDown to the router)', () => {
    const t = setup();
    const c1 = config({ transmitInterval: 100 });
    t.binding.apply([...c1.config.peers.values()], c1.config.bfdProfiles);
    t.clock.advance(3000);
    const c2 = config({ transmitInterval: 120 });
    t.binding.apply([...c2.config.peers.values()], c2.config.bfdProfiles);
    t.clock.advance(3000);
    expect(t.binding.status('router')?.negotiated?.txMs).to.equal(120);
    t.binding.apply([], c2.config.bfdProfiles);
    t.clock.advance(1);
    expect(t.router.get('node')!.remoteDiagnostic()).to.equal(7);
    expect(t.binding.status('router')).to.equal(undefined);
  });

  it('reports a missing profile and a missing native addon on the peer', () => {
    const t = setup();
    const c = config(undefined);
    t.binding.apply([...c.config.peers.values()], c.config.bfdProfiles);
    expect(t.binding.status('router')?.error).to.match(/BFDProfile "fast" does not exist or is invalid/);
    const none = createBfdBinding({
      nativeError: 'addon not built',
      clock: t.clock,
      logger: t.log,
      resetBgp: () => undefined,
    });
    const ok = config({});
    none.apply([...ok.config.peers.values()], ok.config.bfdProfiles);
    expect(none.status('router')?.error).to.equal("BFD needs Herald's native addon: addon not built");
  });

  it('refuses echoMode in the BFDProfile with a clear error; passiveMode and minimumTtl are read', () => {
    const echo = config({ echoMode: true });
    expect(echo.errors.map((e) => e.message)).to.deep.include(
      "BFDProfile herald-system/fast: spec.echoMode: echo mode is not supported by Herald: set echoMode to false (asynchronous mode detects failures at the profile's intervals)",
    );
    expect(echo.config.bfdProfiles.size).to.equal(0);
    const ok = config({ passiveMode: true, minimumTtl: 250 });
    expect(ok.config.bfdProfiles.get('fast')).to.deep.include({ passiveMode: true, minimumTtl: 250, echoMode: false });
  });
});
