/**
 * Herald's listener against BIRD 2 in network namespaces: a passive session that BIRD
 * connects to (also with TCP-MD5 keys on the listening socket), both sides active and
 * listening (one connection survives, §6.8), and IPv4 prefixes over an IPv6 session
 * (dualStackAddressFamily). Also an active session with a wrong TCP-MD5 password: the hint in
 * lastError.
 */
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { Bird, HeraldDriver } from '../../support/bgp-peers.js';
import { birdConf, type BirdNeighbor } from '../../support/bird-conf.js';
import { useNetns } from '../../support/netns.js';

/** BIRD (AS 65001) retrying quickly, facing Herald (AS 65000) at `address`; IPv4 unless `n` says otherwise. */
const birdConfig = (address: string, local: string, n: Partial<BirdNeighbor>): string =>
  birdConf({
    routerId: '192.0.2.254',
    as: 65001,
    log: true,
    neighbors: [{ address, as: 65000, local, fastRetry: true, ...n }],
  });

describe('BGP listener: passive sessions and collisions against BIRD 2 (netns)', function () {
  this.timeout(60_000);
  const birds: Bird[] = [];
  const netns = useNetns(this, ['bird', 'ss']);
  afterEach(() => {
    for (const b of birds.splice(0)) b.cleanup();
  });

  const topology = (): { h: string; r: string } => {
    const h = netns().add('h');
    const r = netns().add('r');
    netns().link(h, ['192.0.2.1/24', '2001:db8::1/64'], r, ['192.0.2.2/24', '2001:db8::2/64']);
    return { h, r };
  };

  /** Established TCP connections in a namespace to or from port 179, as "local remote" pairs. */
  const bgpConnections = (ns: string): string[] =>
    netns()
      .exec(ns, ['ss', '-Htn', 'state', 'established'])
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 4 && (f[2]!.endsWith(':179') || f[3]!.endsWith(':179')))
      .map((f) => `${f[2]} ${f[3]}`.replace(/\[::ffff:([0-9.]+)\]/g, '$1'));

  async function withBird(config: string, r: string): Promise<Bird> {
    const bird = new Bird(netns(), r, config);
    birds.push(bird);
    await bird.ready();
    return bird;
  }

  it('passive: never connects out; BIRD connects to the listener and learns the routes', async () => {
    const { h, r } = topology();
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
      passive: true,
    });
    await eventually(() => herald.events.find((e) => e.event === 'listening'), 'the listener');
    const bird = await withBird(birdConfig('192.0.2.1', '192.0.2.2', { passive: false }), r);
    await herald.waitState('Established');
    herald.send({ cmd: 'set', routes: [{ prefix: '203.0.113.20/32' }] });
    await eventually(() => bird.routes('master4').includes('203.0.113.20/32') || undefined, 'the route at BIRD');
    // The one connection is BIRD's: Herald's side of it is port 179.
    const conns = bgpConnections(h);
    expect(conns).to.have.length(1);
    expect(conns[0]).to.match(/^192\.0\.2\.1:179 192\.0\.2\.2:\d+$/);
  });

  it('passive with TCP-MD5: the key set on the listening socket lets BIRD in', async () => {
    const { h, r } = topology();
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
      passive: true,
      md5Key: 'listen-secret',
    });
    const listening = await eventually(() => herald.events.find((e) => e.event === 'listening'), 'the listener');
    expect(listening.lastError).to.equal(undefined);
    const bird = await withBird(birdConfig('192.0.2.1', '192.0.2.2', { passive: false, password: 'listen-secret' }), r);
    await herald.waitState('Established');
    herald.send({ cmd: 'set', routes: [{ prefix: '203.0.113.21/32' }] });
    await eventually(() => bird.routes('master4').includes('203.0.113.21/32') || undefined, 'the route at BIRD');
  });

  it('a wrong TCP-MD5 password: BIRD never answers, and lastError says MD5 mismatches are silent and to check both sides', async () => {
    const { h, r } = topology();
    const bird = await withBird(birdConfig('192.0.2.1', '192.0.2.2', { passive: true, password: 'right-key' }), r);
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
      md5Key: 'wrong-key',
    });
    const stats = await eventually(
      () => {
        herald.send({ cmd: 'stats' });
        return herald.events.find(
          (e) => e.event === 'stats' && e.lastError?.includes('MD5 mismatches are silent on the wire'),
        );
      },
      'the hint in lastError',
      30_000,
      200,
    );
    expect(stats.lastError).to.match(
      /^connect to 192\.0\.2\.2 port 179: no answer before the next attempt; .*check the password on both sides/,
    );
    expect(stats.state).to.not.equal('Established');
    expect(bird.protocolState('herald')).to.not.include('Established');
  });

  for (const v6 of [false, true]) {
    it(`passive with TTL 255 (ebgpMultiHop) over IPv${v6 ? 6 : 4}: accepted connections carry it and pass BIRD's TTL security (GTSM)`, async () => {
      const { h, r } = topology();
      const [heraldIp, birdIp] = v6 ? ['2001:db8::1', '2001:db8::2'] : ['192.0.2.1', '192.0.2.2'];
      const start = {
        cmd: 'start',
        peerAddress: birdIp,
        myAsn: 65000,
        peerAsn: 65001,
        routerId: '192.0.2.1',
        holdTime: 3,
        families: [v6 ? 'IPv6' : 'IPv4'],
        passive: true,
      };
      // BIRD connects and then sets IP_MINTTL 255: Herald's KEEPALIVE with the default TTL is
      // dropped, BIRD never gets to Established and the session fails on a hold timer. (Its
      // NOTIFICATION and FIN are dropped too: BIRD gives up on that connection only when its
      // startup hold timer runs out, 3 s here instead of 240.)
      const plain = new HeraldDriver(netns(), h);
      plain.send(start);
      await eventually(() => plain.events.find((e) => e.event === 'listening'), 'the listener');
      const bird = await withBird(
        birdConfig(heraldIp, birdIp, {
          passive: false,
          ttlSecurity: true,
          startupHoldTime: 3,
          channels: v6 ? { ipv6: {} } : { ipv4: {} },
        }),
        r,
      );
      await eventually(
        () => plain.events.find((e) => e.event === 'state' && e.state === 'Idle' && e.reason),
        'the default-TTL session to fail',
        30_000,
        50,
      );
      expect(bird.protocolState('herald')).to.not.include('Established');
      plain.send({ cmd: 'stop' });
      await eventually(() => plain.exited() || undefined, 'the first driver to exit');
      const herald = new HeraldDriver(netns(), h);
      herald.send({ ...start, ttl: 255 });
      await herald.waitState('Established', 30_000);
      const prefix = v6 ? '2001:db8:100::22/128' : '203.0.113.22/32';
      herald.send({ cmd: 'set', routes: [{ prefix }] });
      await eventually(
        () => bird.routes(v6 ? 'master6' : 'master4').includes(prefix) || undefined,
        'the route at BIRD',
      );
      await eventually(
        () => bird.protocolState('herald').includes('Established') || undefined,
        'BIRD to be Established',
      );
    });
  }

  it('both active and listening: the sessions settle on one connection and stay up', async () => {
    const { h, r } = topology();
    const bird = await withBird(birdConfig('192.0.2.1', '192.0.2.2', { passive: false }), r);
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
      listen: true,
    });
    await herald.waitState('Established');
    herald.send({ cmd: 'set', routes: [{ prefix: '203.0.113.22/32' }] });
    await eventually(() => bird.routes('master4').includes('203.0.113.22/32') || undefined, 'the route at BIRD');
    await eventually(() => bgpConnections(r).length === 1 || undefined, 'exactly one BGP connection');
    expect(bird.protocolState('herald')).to.include('Established');
  });

  it('dualStackAddressFamily: IPv4 prefixes over an IPv6 session carry the IPv4 next hop', async () => {
    const { h, r } = topology();
    const bird = await withBird(
      birdConfig('2001:db8::1', '2001:db8::2', { passive: true, channels: { ipv4: {}, ipv6: {} } }),
      r,
    );
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '2001:db8::2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4', 'IPv6'],
      nextHopV4: '192.0.2.1',
    });
    await herald.waitState('Established');
    herald.send({ cmd: 'set', routes: [{ prefix: '203.0.113.23/32' }, { prefix: '2001:db8:5::23/128' }] });
    const v4 = await eventually(() => {
      const t = bird.routes('master4');
      return t.includes('203.0.113.23/32') ? t : undefined;
    }, 'the IPv4 route at BIRD');
    expect(v4).to.match(/BGP\.next_hop: 192\.0\.2\.1\b/);
    await eventually(
      () => bird.routes('master6').includes('2001:db8:5::23/128') || undefined,
      'the IPv6 route at BIRD',
    );
  });

  for (const gr of [true, false]) {
    it(
      gr
        ? 'graceful stop with graceful restart: no Cease, BIRD keeps the route; the restarted speaker sets the R bit and takes it over'
        : 'graceful stop without graceful restart: Cease, BIRD withdraws the route',
      async () => {
        const { h, r } = topology();
        const bird = await withBird(birdConfig('192.0.2.1', '192.0.2.2', { passive: true, gracefulRestart: gr }), r);
        const start = {
          cmd: 'start',
          peerAddress: '192.0.2.2',
          myAsn: 65000,
          peerAsn: 65001,
          routerId: '192.0.2.1',
          holdTime: 9,
          families: ['IPv4'],
          ...(gr ? { gracefulRestart: 120 } : {}),
        };
        const first = new HeraldDriver(netns(), h);
        first.send(start);
        await first.waitState('Established');
        first.send({ cmd: 'set', routes: [{ prefix: '203.0.113.24/32' }] });
        await eventually(() => bird.routes('master4').includes('203.0.113.24/32') || undefined, 'the route at BIRD');
        first.send({ cmd: 'stop', graceful: true });
        await eventually(
          () => !bird.protocolState('herald').includes('Established') || undefined,
          'BIRD to see the session close',
          20_000,
          100,
        );
        if (!gr) {
          await eventually(
            () => !bird.routes('master4').includes('203.0.113.24/32') || undefined,
            'the withdrawal at BIRD',
          );
          expect(bird.birdc('show', 'protocols', 'all', 'herald')).to.match(/Cease|Administrative shutdown/i);
          return;
        }
        expect(bird.routes('master4')).to.include('203.0.113.24/32');
        const second = new HeraldDriver(netns(), h);
        second.send({ ...start, restarted: true });
        second.send({ cmd: 'set', routes: [{ prefix: '203.0.113.24/32' }] });
        await second.waitState('Established');
        await eventually(
          () => bird.protocolState('herald').includes('Established') || undefined,
          'the session back at BIRD',
          20_000,
          100,
        );
        expect(bird.routes('master4')).to.include('203.0.113.24/32');
      },
    );
  }
});
