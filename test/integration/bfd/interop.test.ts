/**
 * Herald's BFD (RFC 5880/5881/5883) against FRR's bfdd and BIRD's BFD protocol in network
 * namespaces: the session comes Up with the intervals each side configured, failures are
 * detected both ways (a daemon killed, a link cut) within the Detection Time, and a graceful
 * stop sends AdminDown. With BIRD the BFD session is tied to BGP on both ends: BFD Down
 * resets Herald's BGP session and BIRD withdraws Herald's route, long before the hold timer.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { BfdDriver, FrrBfdd } from '../../support/bfd-peers.js';
import { Bird } from '../../support/bgp-peers.js';
import { birdConf } from '../../support/bird-conf.js';
import { useNetns } from '../../support/netns.js';

const HERALD = '192.0.2.1';
const ROUTER = '192.0.2.2';
const PEER = { myASN: 65000, peerASN: 65001, peerAddress: ROUTER, holdTime: '9s' };

describe('BFD against FRR bfdd and BIRD (netns)', function () {
  this.timeout(90_000);
  let dir: string;
  const netns = useNetns(this, ['vtysh', 'bird', 'birdc']);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'herald-bfd-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const topology = (): { h: string; r: string; hIf: string } => {
    const h = netns().add('h');
    const r = netns().add('r');
    const { aIf } = netns().link(h, [`${HERALD}/24`], r, [`${ROUTER}/24`]);
    return { h, r, hIf: aIf };
  };

  const frr = (
    r: string,
    peerLine: string,
    timers = '  receive-interval 200\n  transmit-interval 150\n  detect-multiplier 3\n',
  ): FrrBfdd => new FrrBfdd(netns(), r, dir, `bfd\n ${peerLine}\n${timers} !\n!\n`);

  /** Time from `t0` until `fn` holds, polled every 10 ms. */
  const elapsedUntil = async (t0: number, what: string, fn: () => boolean, timeoutMs = 10_000): Promise<number> => {
    await eventually(() => fn() || undefined, what, timeoutMs, 10);
    return performance.now() - t0;
  };

  it('FRR bfdd: Up with the intervals both sides configured; a graceful stop sends AdminDown (no detection timeout at FRR)', async () => {
    const { h, r } = topology();
    const bfdd = frr(r, `peer ${HERALD} local-address ${ROUTER}`);
    await bfdd.start();
    const herald = new BfdDriver(netns(), h);
    herald.start(PEER, { transmitInterval: 100, receiveInterval: 120, detectMultiplier: 3 });
    const up = await herald.wait(
      'Herald BFD Up at the fast rate',
      (s) => s.bfd?.state === 'Up' && s.bfd.negotiated?.remoteDesiredMinTxMs === 150,
    );
    // We send at max(our 100, FRR's required 200); we detect at 3 x max(our 120, FRR's 150).
    expect(up.bfd?.negotiated).to.deep.include({
      txMs: 200,
      detectMs: 450,
      remoteRequiredMinRxMs: 200,
      remoteDetectMult: 3,
    });
    const seen = await bfdd.wait(
      'FRR to see Herald Up with its intervals',
      (p) => p.status === 'up' && p['remote-transmit-interval'] === 100,
    );
    expect(seen).to.deep.include({
      'remote-receive-interval': 120,
      'remote-transmit-interval': 100,
      'remote-detect-multiplier': 3,
      multihop: false,
    });
    const t0 = performance.now();
    await herald.stop();
    const ms = await elapsedUntil(t0, 'FRR to take the session down', () => bfdd.peer().status === 'down');
    expect(bfdd.peer()).to.deep.include({
      diagnostic: 'neighbor signaled session down',
      'remote-diagnostic': 'administratively down',
    });
    expect(ms).to.be.below(2000);
  });

  it('FRR bfdd: failures detected both ways within the Detection Time: bfdd killed, Herald killed, a link cut and healed', async () => {
    const { h, r, hIf } = topology();
    let bfdd = frr(r, `peer ${HERALD} local-address ${ROUTER}`);
    await bfdd.start();
    let herald = new BfdDriver(netns(), h);
    herald.start(PEER, { transmitInterval: 100, receiveInterval: 100, detectMultiplier: 3 });
    await herald.wait('Up', (s) => s.bfd?.state === 'Up' && s.bfd.negotiated?.remoteDesiredMinTxMs === 150);
    // FRR dies: Herald detects in 3 x max(100, 150) = 450 ms.
    let t0 = performance.now();
    bfdd.kill();
    let ms = await elapsedUntil(t0, 'Herald to detect bfdd gone', () => herald.last()?.bfd?.state === 'Down');
    expect(herald.last()?.bfd?.diagnostic).to.equal('controlDetectionTimeExpired');
    expect(ms).to.be.within(250, 1200);
    // Back: Up again by itself.
    bfdd = frr(r, `peer ${HERALD} local-address ${ROUTER}`);
    await bfdd.start();
    await herald.wait('Up again after bfdd restarts', (s) => s.bfd?.state === 'Up');
    await bfdd.wait('FRR Up', (p) => p.status === 'up' && p['remote-transmit-interval'] === 100);
    // Herald dies without AdminDown: FRR detects in 3 x max(200, 100) = 600 ms.
    t0 = performance.now();
    herald.kill();
    ms = await elapsedUntil(t0, 'FRR to detect Herald gone', () => bfdd.peer().status === 'down');
    expect(bfdd.peer().diagnostic).to.equal('control detection time expired');
    expect(ms).to.be.within(350, 1500);
    // A new Herald comes Up; then its link is cut: both sides detect, and recover when it heals.
    herald = new BfdDriver(netns(), h);
    herald.start(PEER, { transmitInterval: 100, receiveInterval: 100, detectMultiplier: 3 });
    await bfdd.wait('FRR Up with the new Herald', (p) => p.status === 'up' && p['remote-transmit-interval'] === 100);
    await herald.wait('Herald Up', (s) => s.bfd?.state === 'Up');
    t0 = performance.now();
    netns().exec(h, ['ip', 'link', 'set', hIf, 'down']);
    const [hMs, rMs] = await Promise.all([
      elapsedUntil(t0, 'Herald to detect the cut', () => herald.last()?.bfd?.state === 'Down'),
      elapsedUntil(t0, 'FRR to detect the cut', () => bfdd.peer().status === 'down'),
    ]);
    expect(hMs).to.be.below(1200);
    expect(rMs).to.be.below(1500);
    expect(bfdd.peer().diagnostic).to.equal('control detection time expired');
    netns().exec(h, ['ip', 'link', 'set', hIf, 'up']);
    await herald.wait('Herald Up after the link heals', (s) => s.bfd?.state === 'Up');
    await bfdd.wait('FRR Up after the link heals', (p) => p.status === 'up');
  });

  it('FRR bfdd: multi-hop (port 4784) for an ebgpMultiHop peer, with passiveMode and minimumTtl set', async () => {
    const { h, r } = topology();
    const bfdd = frr(r, `peer ${HERALD} multihop local-address ${ROUTER}`);
    await bfdd.start();
    const herald = new BfdDriver(netns(), h);
    herald.start(
      { ...PEER, ebgpMultiHop: true, sourceAddress: HERALD },
      { transmitInterval: 100, receiveInterval: 100, passiveMode: true, minimumTtl: 250 },
    );
    await herald.wait(
      'Herald Up over multi-hop',
      (s) => s.bfd?.state === 'Up' && s.bfd.negotiated?.remoteDesiredMinTxMs === 150,
    );
    const p = await bfdd.wait('FRR Up (multihop)', (x) => x.status === 'up' && x['remote-transmit-interval'] === 100);
    expect(p.multihop).to.equal(true);
    expect(
      herald.logs.some(
        (l) => l.fields['event'] === 'bfdUp' && l.fields['component'] === 'bfd' && l.fields['bfd'] === 'multihop',
      ),
    ).to.equal(true);
  });

  it("FRR bfdd: detectMultiplier is what the router multiplies by (as in MetalLB's FRR): profile 2 against FRR's 10", async () => {
    const { h, r } = topology();
    const bfdd = frr(
      r,
      `peer ${HERALD} local-address ${ROUTER}`,
      '  receive-interval 100\n  transmit-interval 100\n  detect-multiplier 10\n',
    );
    await bfdd.start();
    const herald = new BfdDriver(netns(), h);
    herald.start(PEER, { transmitInterval: 100, receiveInterval: 100, detectMultiplier: 2 });
    const up = await herald.wait(
      'Up at 100 ms',
      (s) => s.bfd?.state === 'Up' && s.bfd.negotiated?.remoteDesiredMinTxMs === 100,
    );
    // Herald waits FRR's 10 x 100 ms; FRR waits Herald's 2 x 100 ms.
    expect(up.bfd?.negotiated).to.deep.include({ detectMs: 1000, remoteDetectMult: 10 });
    await bfdd.wait(
      'FRR Up',
      (p) => p.status === 'up' && p['remote-transmit-interval'] === 100 && p['remote-detect-multiplier'] === 2,
    );
    const t0 = performance.now();
    herald.kill();
    const ms = await elapsedUntil(t0, 'FRR to detect Herald gone', () => bfdd.peer().status === 'down');
    expect(ms).to.be.within(100, 600);
  });

  it('FRR bfdd over IPv6: hop limit 255 sent and checked, Up, and Down on a graceful stop with AdminDown', async () => {
    const h = netns().add('h');
    const r = netns().add('r');
    netns().link(h, ['2001:db8::1/64'], r, ['2001:db8::2/64']);
    const bfdd = frr(r, 'peer 2001:db8::1 local-address 2001:db8::2');
    await bfdd.start();
    const herald = new BfdDriver(netns(), h);
    herald.start({ ...PEER, peerAddress: '2001:db8::2' }, { transmitInterval: 100, receiveInterval: 100 });
    await herald.wait(
      'Herald Up over IPv6',
      (s) => s.bfd?.state === 'Up' && s.bfd.negotiated?.remoteDesiredMinTxMs === 150,
    );
    await bfdd.wait('FRR Up over IPv6', (p) => p.status === 'up' && p['remote-transmit-interval'] === 100);
    await herald.stop();
    await bfdd.wait('FRR down by AdminDown', (p) => p.status === 'down');
    expect(bfdd.peer()['remote-diagnostic']).to.equal('administratively down');
  });

  const birdConfig = (): string =>
    birdConf({
      routerId: ROUTER,
      as: 65001,
      bfd: 'interface "*" { min rx interval 150 ms; min tx interval 120 ms; multiplier 4; };',
      neighbors: [
        { address: HERALD, as: 65000, local: ROUTER, bfd: true, extra: 'connect delay time 1; error wait time 1,2;' },
      ],
    });

  const birdBfd = (bird: Bird): string =>
    bird
      .birdc('show', 'bfd', 'sessions')
      .split('\n')
      .find((l) => l.startsWith(HERALD)) ?? '';

  it('BIRD: Up beside BGP with the configured intervals; BIRD killed -> Herald resets BGP long before the 9 s hold timer', async () => {
    const { h, r } = topology();
    const bird = new Bird(netns(), r, birdConfig());
    try {
      await bird.ready();
      const herald = new BfdDriver(netns(), h);
      herald.start(PEER, { transmitInterval: 100, receiveInterval: 110, detectMultiplier: 3 }, ['203.0.113.7/32']);
      const up = await herald.wait(
        'Established with BFD Up',
        (s) => s.bgp === 'Established' && s.bfd?.state === 'Up' && s.bfd.negotiated?.remoteDesiredMinTxMs === 120,
      );
      // We send at max(100, BIRD's 150) and detect at BIRD's 4 x max(our 110, its 120).
      expect(up.bfd?.negotiated).to.deep.include({ txMs: 150, detectMs: 480, remoteDetectMult: 4 });
      // BIRD: Up, sending at 120 ms, timeout 3 x max(150, 100) = 450 ms.
      await eventually(
        () => /\bUp\b.*\s0\.120\s+0\.450/.test(birdBfd(bird)) || undefined,
        'BIRD BFD Up with 0.120/0.450',
        10_000,
        50,
      );
      await eventually(
        () => bird.routes('master4').includes('203.0.113.7/32') || undefined,
        'the route at BIRD',
        20_000,
        50,
      );
      const pid = readFileSync(join(bird.dir, 'bird.pid'), 'utf8').trim();
      const t0 = performance.now();
      netns().exec(r, ['kill', '-9', pid]);
      const ms = await elapsedUntil(t0, 'Herald to reset BGP', () =>
        herald.logs.some((l) => l.fields['event'] === 'sessionReset'),
      );
      const reset = herald.logs.find((l) => l.fields['event'] === 'sessionReset')!;
      expect(reset.fields).to.deep.include({
        peer: 'router',
        reason: 'BFD session down (controlDetectionTimeExpired)',
      });
      expect(ms).to.be.below(1500);
      await herald.wait('BGP no longer Established', (s) => s.bgp !== 'Established', 5000);
    } finally {
      bird.cleanup();
    }
  });

  it("BIRD: a cut link -> BIRD withdraws Herald's route within the Detection Time; heals; a graceful stop is AdminDown at BIRD", async () => {
    const { h, r, hIf } = topology();
    const bird = new Bird(netns(), r, birdConfig());
    try {
      await bird.ready();
      let herald = new BfdDriver(netns(), h);
      herald.start(PEER, { transmitInterval: 100, receiveInterval: 100, detectMultiplier: 3 }, ['203.0.113.7/32']);
      await eventually(
        () => bird.routes('master4').includes('203.0.113.7/32') || undefined,
        'the route at BIRD',
        20_000,
        50,
      );
      await eventually(() => /\bUp\b/.test(birdBfd(bird)) || undefined, 'BIRD BFD Up', 10_000, 50);
      let t0 = performance.now();
      netns().exec(h, ['ip', 'link', 'set', hIf, 'down']);
      const ms = await elapsedUntil(
        t0,
        'BIRD to withdraw the route',
        () => !bird.routes('master4').includes('203.0.113.7/32'),
      );
      expect(ms).to.be.below(1500);
      netns().exec(h, ['ip', 'link', 'set', hIf, 'up']);
      await eventually(
        () => bird.routes('master4').includes('203.0.113.7/32') || undefined,
        'the route back at BIRD',
        30_000,
        50,
      );
      await herald.stop();
      // A slow profile (BIRD would need 20 x 150 ms = 3 s to detect): Down at once means AdminDown arrived.
      herald = new BfdDriver(netns(), h);
      herald.start(PEER, { transmitInterval: 100, receiveInterval: 100, detectMultiplier: 20 }, ['203.0.113.7/32']);
      await herald.wait(
        'Up again',
        (s) => s.bfd?.state === 'Up' && s.bfd.negotiated?.remoteDesiredMinTxMs === 120,
        30_000,
      );
      await eventually(
        () => /\bUp\b.*\s3\.000\s*$/.test(birdBfd(bird)) || undefined,
        'BIRD BFD Up with a 3 s timeout',
        10_000,
        50,
      );
      t0 = performance.now();
      await herald.stop();
      const down = await elapsedUntil(t0, 'BIRD BFD Down', () => /\bDown\b/.test(birdBfd(bird)));
      expect(down).to.be.below(1000);
    } finally {
      bird.cleanup();
    }
  });
});
