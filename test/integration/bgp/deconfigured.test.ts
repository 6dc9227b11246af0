/**
 * What a router is told when its BGPPeer goes away, against BIRD 2 in network namespaces:
 * Herald's BgpManager (the speaker's) applies the peer list without it and closes the session
 * with Cease "Peer De-configured" (RFC 4486 subcode 3), which BIRD reports as the session's
 * last error; an edited BGPPeer is closed with "Other Configuration Change" (subcode 6) and
 * opened again with its new settings; the speaker shutting down still says Administrative
 * Shutdown (subcode 2).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { eventually } from '../../support/apiserver.js';
import { BfdDriver } from '../../support/bfd-peers.js';
import { Bird } from '../../support/bgp-peers.js';
import { useNetns } from '../../support/netns.js';

const BIRD_CONF = `
router id 192.0.2.254;
log stderr all;
protocol device {}
ipv4 table master4;
protocol bgp herald {
  local 192.0.2.2 as 65001;
  neighbor 192.0.2.1 as 65000;
  passive on;
  hold time 9;
  ipv4 { import all; export none; };
}
`;

describe('BGP: Cease subcodes a router sees when a BGPPeer is deleted or the speaker stops (BIRD, netns)', function () {
  this.timeout(60_000);
  const birds: Bird[] = [];
  const netns = useNetns(this, ['bird']);
  afterEach(() => {
    for (const b of birds.splice(0)) b.cleanup();
  });

  const setup = async (conf = BIRD_CONF): Promise<{ bird: Bird; herald: BfdDriver }> => {
    const h = netns().add('dch');
    const r = netns().add('dcr');
    netns().link(h, ['192.0.2.1/24'], r, ['192.0.2.2/24']);
    const bird = new Bird(netns(), r, conf);
    birds.push(bird);
    await bird.ready();
    const herald = new BfdDriver(netns(), h);
    herald.start({ myASN: 65000, peerASN: 65001, peerAddress: '192.0.2.2' }, undefined, ['203.0.113.30/32']);
    await herald.wait('Herald Established', (s) => s.bgp === 'Established', 30_000);
    await eventually(
      () => bird.routes('master4').includes('203.0.113.30/32') || undefined,
      'the route at BIRD',
      15_000,
      50,
    );
    return { bird, herald };
  };

  it('deleting the BGPPeer: BIRD receives Cease / Peer de-configured and withdraws the route', async () => {
    const { bird, herald } = await setup();
    herald.deletePeer();
    const info = await eventually(
      () => {
        const all = bird.birdc('show', 'protocols', 'all', 'herald');
        return /Received: Peer de-configured/i.test(all) ? all : undefined;
      },
      'BIRD to report the Cease subcode',
      15_000,
      50,
    );
    expect(info).to.not.match(/Administrative shutdown/i);
    expect(bird.routes('master4')).to.not.include('203.0.113.30/32');
    const removed = await eventually(
      () => herald.logs.find((l) => l.fields['event'] === 'sessionRemoved'),
      'the speaker to log the removal',
      5_000,
      20,
    );
    expect(removed.fields).to.deep.include({ peer: 'router', reason: 'peer no longer selects this node' });
    await herald.stop();
  });

  it('editing the BGPPeer: BIRD receives Cease / Other configuration change, and the new session carries the route again', async () => {
    // The new session is up again at once, and `show protocols` then no longer shows what was
    // received: BIRD's log file keeps it.
    const dir = mkdtempSync(join(tmpdir(), 'herald-deconf-'));
    try {
      const log = join(dir, 'bird.log');
      const { bird, herald } = await setup(BIRD_CONF.replace('log stderr all;', `log "${log}" all;`));
      herald.start({ myASN: 65000, peerASN: 65001, peerAddress: '192.0.2.2', holdTime: '30s' }, undefined, [
        '203.0.113.30/32',
      ]);
      const text = await eventually(
        () => {
          const t = existsSync(log) ? readFileSync(log, 'utf8') : '';
          return /Received: Other configuration change/i.test(t) ? t : undefined;
        },
        'BIRD to log the Cease subcode',
        15_000,
        50,
      );
      expect(text).to.not.match(/Received: (Peer de-configured|Administrative shutdown)/i);
      const removed = await eventually(
        () => herald.logs.find((l) => l.fields['event'] === 'sessionRemoved'),
        'the speaker to log the removal',
        5_000,
        20,
      );
      expect(removed.fields).to.deep.include({ peer: 'router', reason: 'peer changed' });
      await eventually(
        () =>
          (bird.protocolState('herald').includes('Established') &&
            bird.routes('master4').includes('203.0.113.30/32')) ||
          undefined,
        'the route at BIRD over the new session',
        30_000,
        50,
      );
      await herald.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stopping the speaker: BIRD receives Cease / Administrative shutdown', async () => {
    const { bird, herald } = await setup();
    await herald.stop();
    const info = await eventually(
      () => {
        const all = bird.birdc('show', 'protocols', 'all', 'herald');
        return /Received: Administrative shutdown/i.test(all) ? all : undefined;
      },
      'BIRD to report the Cease subcode',
      15_000,
      50,
    );
    expect(info).to.not.match(/Peer de-configured/i);
  });
});
