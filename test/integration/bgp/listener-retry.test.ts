/**
 * The listener's retry on the real clock, in network namespaces against BIRD 2: a passive
 * session whose listen fails (the address is not configured yet; another process holds port
 * 179) reports why, and reaches Established once the cause is gone, without a restart.
 */
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { Bird, HeraldDriver } from '../../support/bgp-peers.js';
import { birdConf } from '../../support/bird-conf.js';
import { useNetns } from '../../support/netns.js';

/** BIRD connects out (not passive) and retries every second. */
const birdConfig = birdConf({
  routerId: '192.0.2.254',
  as: 65001,
  neighbors: [{ address: '192.0.2.1', as: 65000, local: '192.0.2.2', passive: false, fastRetry: true }],
});

describe('BGP listener retry on the real clock (netns, BIRD 2)', function () {
  this.timeout(60_000);
  const birds: Bird[] = [];
  const netns = useNetns(this, ['bird']);
  afterEach(() => {
    for (const b of birds.splice(0)) b.cleanup();
  });

  const start = (herald: HeraldDriver, extra: Record<string, unknown> = {}): void =>
    herald.send({
      cmd: 'start',
      peerAddress: '192.0.2.2',
      myAsn: 65000,
      peerAsn: 65001,
      routerId: '192.0.2.1',
      holdTime: 9,
      families: ['IPv4'],
      passive: true,
      ...extra,
    });

  async function routeReachesBird(herald: HeraldDriver, r: string, prefix: string): Promise<void> {
    const bird = new Bird(netns(), r, birdConfig);
    birds.push(bird);
    await bird.ready();
    await herald.waitState('Established', 30_000);
    herald.send({ cmd: 'set', routes: [{ prefix }] });
    await eventually(() => bird.routes('master4').includes(prefix) || undefined, 'the route at BIRD');
  }

  it('EADDRNOTAVAIL: listening on an address the node does not have yet; it works once the address is added', async () => {
    const h = netns().add('h');
    const r = netns().add('r');
    const { aIf } = netns().link(h, [], r, ['192.0.2.2/24']);
    const herald = new HeraldDriver(netns(), h);
    start(herald, { listenHost: '192.0.2.1' });
    const first = await eventually(() => herald.events.find((e) => e.event === 'listening'), 'the first listen');
    expect(first.lastError).to.match(/^cannot listen on BGP port 179: .*EADDRNOTAVAIL/);
    netns().exec(h, ['ip', 'addr', 'add', '192.0.2.1/24', 'dev', aIf]);
    await eventually(
      () => herald.events.find((e) => e.event === 'listener' && e.lastError === undefined),
      'the retried listen to work',
      30_000,
      50,
    );
    await routeReachesBird(herald, r, '203.0.113.30/32');
  });

  it('EADDRINUSE: another process holds port 179; once it exits, the retry takes the port and BIRD connects', async () => {
    const h = netns().add('h');
    const r = netns().add('r');
    netns().link(h, ['192.0.2.1/24'], r, ['192.0.2.2/24']);
    const blocker = netns().spawn(h, process.execPath, [
      '-e',
      "require('node:net').createServer().listen(179, '::', () => console.log('held'))",
    ]);
    await new Promise<void>((resolve) => blocker.stdout!.once('data', () => resolve()));
    const herald = new HeraldDriver(netns(), h);
    start(herald);
    const first = await eventually(() => herald.events.find((e) => e.event === 'listening'), 'the first listen');
    expect(first.lastError).to.match(/^cannot listen on BGP port 179: .*EADDRINUSE/);
    blocker.kill('SIGKILL');
    await eventually(
      () => herald.events.find((e) => e.event === 'listener' && e.lastError === undefined),
      'the retried listen to work',
      30_000,
      50,
    );
    await routeReachesBird(herald, r, '203.0.113.31/32');
  });
});
