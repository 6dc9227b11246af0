/**
 * Herald's BGP engine against BIRD 2 in network namespaces: eBGP and iBGP over IPv4, eBGP
 * over IPv6; prefixes with next hop, AS path, communities, large communities and local-pref
 * as BIRD's RIB shows them; withdrawals; a peer restart.
 */
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { Bird, HeraldDriver } from '../../support/bgp-peers.js';
import { birdConf, type BirdNeighbor } from '../../support/bird-conf.js';
import { useNetns } from '../../support/netns.js';

/** BIRD (router 192.0.2.2 or 2001:db8::2, AS `as`) waiting for Herald (AS 65000), hold 9 s unless `n` says otherwise. */
const birdConfig = (as: number, n: Partial<BirdNeighbor> = {}, v6 = false): string =>
  birdConf({
    routerId: '192.0.2.254',
    as,
    log: true,
    neighbors: [
      {
        address: v6 ? '2001:db8::1' : '192.0.2.1',
        as: 65000,
        local: v6 ? '2001:db8::2' : '192.0.2.2',
        channels: v6 ? { ipv6: {} } : { ipv4: {} },
        ...n,
      },
    ],
  });

describe('BGP engine against BIRD 2 (netns)', function () {
  this.timeout(60_000);
  const birds: Bird[] = [];

  const netns = useNetns(this, ['bird']);
  afterEach(() => {
    for (const b of birds.splice(0)) b.cleanup();
  });

  let routerIf = '';
  const topology = (): { h: string; r: string } => {
    const h = netns().add('h');
    const r = netns().add('r');
    routerIf = netns().link(h, ['192.0.2.1/24', '2001:db8::1/64'], r, ['192.0.2.2/24', '2001:db8::2/64']).bIf;
    return { h, r };
  };

  it('eBGP over IPv4: announces with AS path, next hop, communities and large communities; withdraws', async () => {
    const { h, r } = topology();
    const bird = new Bird(netns(), r, birdConfig(65001));
    birds.push(bird);
    await bird.ready();
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
    });
    await herald.waitState('Established');
    herald.send({
      cmd: 'set',
      routes: [
        { prefix: '203.0.113.10/32', communities: [65000 * 65536 + 100], largeCommunities: [[65000, 1, 2]] },
        { prefix: '203.0.113.11/32' },
      ],
    });
    const table = await eventually(() => {
      const t = bird.routes('master4');
      return t.includes('203.0.113.10/32') && t.includes('203.0.113.11/32') ? t : undefined;
    }, 'both prefixes at BIRD');
    const entry = table.slice(
      table.indexOf('203.0.113.10/32'),
      table.indexOf('203.0.113.11/32') > table.indexOf('203.0.113.10/32')
        ? table.indexOf('203.0.113.11/32')
        : undefined,
    );
    expect(entry).to.match(/BGP\.as_path: 65000\b/);
    expect(entry).to.match(/BGP\.next_hop: 192\.0\.2\.1\b/);
    expect(entry).to.include('BGP.community: (65000,100)');
    expect(entry).to.include('BGP.large_community: (65000, 1, 2)');
    // (BIRD shows a local_pref on every route it imports, so its absence on eBGP is checked in the codec tests.)
    herald.send({
      cmd: 'set',
      routes: [{ prefix: '203.0.113.10/32', communities: [65000 * 65536 + 100], largeCommunities: [[65000, 1, 2]] }],
    });
    await eventually(() => !bird.routes('master4').includes('203.0.113.11/32') || undefined, 'withdrawal at BIRD');
    expect(bird.routes('master4')).to.include('203.0.113.10/32');
  });

  it('iBGP over IPv4 carries LOCAL_PREF and an empty AS path', async () => {
    const { h, r } = topology();
    const bird = new Bird(netns(), r, birdConfig(65000));
    birds.push(bird);
    await bird.ready();
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65000,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
    });
    await herald.waitState('Established');
    herald.send({ cmd: 'set', routes: [{ prefix: '198.51.100.7/32', localPref: 250 }] });
    const table = await eventually(() => {
      const t = bird.routes('master4');
      return t.includes('198.51.100.7/32') ? t : undefined;
    }, 'prefix at BIRD');
    expect(table).to.include('BGP.local_pref: 250');
    expect(table).to.match(/BGP\.as_path:\s*\n|BGP\.as_path: $/m);
  });

  it('eBGP over IPv6 (MP_REACH_NLRI): /128s with the IPv6 next hop; survives a BIRD restart', async () => {
    const { h, r } = topology();
    const conf = birdConfig(65001, {}, true);
    const bird = new Bird(netns(), r, conf);
    birds.push(bird);
    await bird.ready();
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '2001:db8::2',
      myAsn: 65000,
      dynamicAsn: 'external',
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv6'],
    });
    await herald.waitState('Established');
    herald.send({ cmd: 'set', routes: [{ prefix: '2001:db8:100::10/128' }, { prefix: '2001:db8:100::11/128' }] });
    const table = await eventually(() => {
      const t = bird.routes('master6');
      return t.includes('2001:db8:100::10/128') && t.includes('2001:db8:100::11/128') ? t : undefined;
    }, 'v6 prefixes at BIRD');
    expect(table).to.match(/BGP\.next_hop: 2001:db8::1\b/);
    // Restart BIRD: Herald notices, reconnects and re-sends everything.
    bird.birdc('restart', 'herald');
    await eventually(
      () =>
        (bird.routes('master6').includes('2001:db8:100::11/128') &&
          bird.protocolState('herald').includes('Established')) ||
        undefined,
      'routes back after the restart',
      30_000,
    );
  });

  it('TCP-MD5 (RFC 2385): the right password establishes, a wrong one never does', async () => {
    const { h, r } = topology();
    const bird = new Bird(netns(), r, birdConfig(65001, { password: 'correct horse' }));
    birds.push(bird);
    await bird.ready();
    const wrong = new HeraldDriver(netns(), h);
    wrong.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
      md5Key: 'battery staple',
    });
    // The wrong key never gets past TCP: wait until it has failed to connect, then check.
    await eventually(
      () => {
        wrong.send({ cmd: 'stats' });
        return wrong.events.some((e) => e.event === 'stats' && (e.lastError ?? '') !== '') || undefined;
      },
      'the wrong-key session to fail',
      30_000,
      200,
    );
    expect(wrong.state()).to.not.equal('Established');
    expect(bird.protocolState('herald')).to.not.include('Established');
    wrong.send({ cmd: 'stop' });
    const right = new HeraldDriver(netns(), h);
    right.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
      md5Key: 'correct horse',
    });
    await right.waitState('Established', 30_000);
    right.send({ cmd: 'set', routes: [{ prefix: '203.0.113.50/32' }] });
    await eventually(
      () => bird.routes('master4').includes('203.0.113.50/32') || undefined,
      'route over the MD5 session',
    );
  });

  it('graceful restart (RFC 4724): the speaker dies, BIRD keeps its routes; it comes back, re-sends, End-of-RIB', async () => {
    const { h, r } = topology();
    const bird = new Bird(netns(), r, birdConfig(65001, { gracefulRestart: true }));
    birds.push(bird);
    await bird.ready();
    const start = {
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
      gracefulRestart: 120,
    };
    const first = new HeraldDriver(netns(), h);
    first.send(start);
    await first.waitState('Established');
    first.send({ cmd: 'set', routes: [{ prefix: '203.0.113.70/32' }] });
    await eventually(() => bird.routes('master4').includes('203.0.113.70/32') || undefined, 'the route at BIRD');
    first.kill();
    // The session is gone, the route stays (stale) for the restart time.
    await eventually(
      () => !bird.protocolState('herald').includes('Established') || undefined,
      'BIRD to notice the restart',
      20_000,
      100,
    );
    expect(bird.routes('master4')).to.include('203.0.113.70/32');
    expect(bird.birdc('show', 'protocols', 'all', 'herald'))
      .to.include('Neighbor graceful restart active')
      .and.match(/Restart timer:\s+1[01]\d\./);
    const second = new HeraldDriver(netns(), h);
    second.send(start);
    second.send({ cmd: 'set', routes: [{ prefix: '203.0.113.70/32' }] });
    await second.waitState('Established');
    // End-of-RIB ends BIRD's restart handling.
    await eventually(
      () => {
        const info = bird.birdc('show', 'protocols', 'all', 'herald');
        return (info.includes('Established') && !info.includes('graceful restart active')) || undefined;
      },
      'the session back at BIRD, restart handling over',
      20_000,
      100,
    );
    expect(bird.routes('master4')).to.include('203.0.113.70/32');
    // No flap: BIRD never withdrew the route (the accepted import withdraws stay 0).
    const withdraws = /Import withdraws:\s+(\d+)\s+(\d+)\s+\S+\s+(\d+)\s+(\d+)/.exec(
      bird.birdc('show', 'protocols', 'all', 'herald'),
    );
    expect(withdraws?.slice(1).map(Number)).to.deep.equal([0, 0, 0, 0]);
  });

  it('link cut: the hold timer expires on both sides; the link back, the session and the routes return', async () => {
    const { h, r } = topology();
    const bird = new Bird(netns(), r, birdConfig(65001, { holdTime: 3 }));
    birds.push(bird);
    await bird.ready();
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 3,
      families: ['IPv4'],
    });
    await herald.waitState('Established');
    herald.send({ cmd: 'set', routes: [{ prefix: '203.0.113.80/32' }] });
    await eventually(() => bird.routes('master4').includes('203.0.113.80/32') || undefined, 'the route at BIRD');
    netns().exec(r, ['ip', 'link', 'set', routerIf, 'down']);
    await eventually(
      () => (herald.state() !== 'Established' && !bird.routes('master4').includes('203.0.113.80/32')) || undefined,
      'both hold timers to expire',
      20_000,
      100,
    );
    netns().exec(r, ['ip', 'link', 'set', routerIf, 'up']);
    await herald.waitState('Established', 30_000);
    await eventually(
      () => bird.routes('master4').includes('203.0.113.80/32') || undefined,
      'the route back at BIRD',
      20_000,
      100,
    );
  });

  it("TTL 255 (ebgpMultiHop): the session passes BIRD's TTL security (GTSM, RFC 5082) and stays up", async () => {
    const { h, r } = topology();
    // BIRD sets IP_MINTTL 255 on the connection: any segment of Herald's with a lower TTL is
    // dropped, so BIRD's 3 s hold timer would expire unless every KEEPALIVE carries TTL 255.
    const bird = new Bird(netns(), r, birdConfig(65001, { holdTime: 3, ttlSecurity: true }));
    birds.push(bird);
    await bird.ready();
    const herald = new HeraldDriver(netns(), h);
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 3,
      families: ['IPv4'],
      ttl: 255,
    });
    await herald.waitState('Established', 30_000);
    herald.send({ cmd: 'set', routes: [{ prefix: '203.0.113.90/32' }] });
    await eventually(
      () => bird.routes('master4').includes('203.0.113.90/32') || undefined,
      'the route over the TTL 255 session',
    );
    // Three hold times' worth of KEEPALIVEs (one a second) later the session is the same one.
    await eventually(
      () => {
        herald.send({ cmd: 'stats' });
        const last = [...herald.events].reverse().find((e) => e.event === 'stats') as
          { stats?: { keepalivesSent: number } } | undefined;
        return (last?.stats?.keepalivesSent ?? 0) >= 9 || undefined;
      },
      'nine KEEPALIVEs sent',
      30_000,
      200,
    );
    expect(herald.events.filter((e) => e.event === 'state' && e.state === 'Established')).to.have.length(1);
    expect(herald.state()).to.equal('Established');
    expect(bird.protocolState('herald')).to.include('Established');
    expect(bird.routes('master4')).to.include('203.0.113.90/32');
  });
});
