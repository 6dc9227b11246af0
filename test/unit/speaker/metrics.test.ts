/** The speaker's per-peer BGP session gauge and the Layer 2 pacing metrics, read from the registry's exposition. */
import { expect } from 'chai';
import { Announcer } from '../../../speaker/layer2/announcer.js';
import { SpeakerMetrics } from '../../../speaker/metrics.js';
import { FakeClock } from '../../../src/core/clock.js';
import { parseIP } from '../../../src/net/ip.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { samplesOf } from '../../support/prom-text.js';
import type { BgpBfdBinding } from '../../../speaker/bfd/binding.js';
import type { BgpSession } from '../../../speaker/bgp/session.js';

type SessionView = Pick<BgpSession, 'state' | 'stats'>;

function session(state: string): SessionView {
  return { state: () => state, stats: {} } as unknown as SessionView;
}

describe('speaker metrics: herald_speaker_bgp_session_up', () => {
  it('is 1 for an Established session, 0 for another state, and 0 for a peer that never got a session', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false, labels: { component: 'speaker', node: 'node-a' } });
    let sessions = new Map<string, SessionView>([
      ['up', session('Established')],
      ['connecting', session('Connect')],
    ]);
    let failures = new Map([
      ['no-secret', 'password Secret herald-system/bgp-key not found'],
      ['connecting', 'connection refused'],
    ]);
    new SpeakerMetrics(registry, {
      l2Counters: {},
      l2SocketCounters: () => ({}),
      bgpSessions: () => sessions,
      bgpFailures: () => failures,
      bfd: () => ({ sessions: () => new Map() }) as unknown as BgpBfdBinding,
    });
    expect(await samplesOf(registry, 'herald_speaker_bgp_session_up', ['component', 'node'])).to.deep.equal([
      { labels: { peer: 'connecting' }, value: 0 },
      { labels: { peer: 'no-secret' }, value: 0 },
      { labels: { peer: 'up' }, value: 1 },
    ]);
    // A deleted peer (no session, no failure) leaves no series behind.
    sessions = new Map([['up', session('Established')]]);
    failures = new Map();
    expect(await samplesOf(registry, 'herald_speaker_bgp_session_up', ['component', 'node'])).to.deep.equal([
      { labels: { peer: 'up' }, value: 1 },
    ]);
  });
});

describe('speaker metrics: the Layer 2 pacing backlog', () => {
  const noBgp = {
    l2Counters: {},
    l2SocketCounters: () => ({}),
    bgpSessions: () => new Map(),
    bfd: () => ({ sessions: () => new Map() }) as unknown as BgpBfdBinding,
  };
  const OMIT = ['component', 'node'];

  it('herald_speaker_l2_announcements_queued per interface and kind, and the delayed total, read from the pacer at scrape time', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false, labels: { component: 'speaker', node: 'node-a' } });
    const clock = new FakeClock();
    // 100 frames/s, a burst of 10, one frame an announcement, one repeat a second later.
    const pacer = new Announcer({ clock, send: () => 1, ratePerSecond: 100, burst: 10, repeats: 1 });
    new SpeakerMetrics(registry, { ...noBgp, l2Pacing: () => pacer.pacing() });
    const ips = Array.from({ length: 30 }, (_, i) => parseIP(`2001:db8:23::${i.toString(16)}`));
    for (const ip of ips) pacer.announce(ip, 'eth0');
    pacer.announce(ips[0]!, 'eth1');
    expect(await samplesOf(registry, 'herald_speaker_l2_announcements_queued', OMIT)).to.deep.equal([
      { labels: { interface: 'eth0', kind: 'first' }, value: 20 },
      { labels: { interface: 'eth0', kind: 'repeat' }, value: 0 },
      { labels: { interface: 'eth1', kind: 'first' }, value: 0 },
      { labels: { interface: 'eth1', kind: 'repeat' }, value: 0 },
    ]);
    expect(await samplesOf(registry, 'herald_speaker_l2_announcements_delayed_total', OMIT)).to.deep.equal([
      { labels: {}, value: 0 },
    ]);
    clock.advance(995); // the 20 firsts out by 200 ms, late; the bucket full again
    for (const ip of ips.slice(0, 10)) pacer.announce(ip, 'eth1'); // eth1's bucket is its own
    for (let i = 0; i < 10; i++) pacer.announce(parseIP(`2001:db8:23::1:${i}`), 'eth0'); // empties eth0's
    clock.advance(10); // 10 repeats on eth0 fell due at 1000 with half a token
    expect(await samplesOf(registry, 'herald_speaker_l2_announcements_queued', OMIT)).to.deep.equal([
      { labels: { interface: 'eth0', kind: 'first' }, value: 0 },
      { labels: { interface: 'eth0', kind: 'repeat' }, value: 10 },
      { labels: { interface: 'eth1', kind: 'first' }, value: 0 },
      { labels: { interface: 'eth1', kind: 'repeat' }, value: 0 },
    ]);
    expect(await samplesOf(registry, 'herald_speaker_l2_announcements_delayed_total', OMIT)).to.deep.equal([
      { labels: {}, value: 20 },
    ]);
    // An interface removed leaves no series behind; the total stays.
    pacer.stopInterface('eth1');
    clock.advance(10_000);
    expect(await samplesOf(registry, 'herald_speaker_l2_announcements_queued', OMIT)).to.deep.equal([
      { labels: { interface: 'eth0', kind: 'first' }, value: 0 },
      { labels: { interface: 'eth0', kind: 'repeat' }, value: 0 },
    ]);
    const delayed = await samplesOf(registry, 'herald_speaker_l2_announcements_delayed_total', OMIT);
    expect(delayed[0]!.value).to.be.above(20);
  });

  it('without a Layer 2 engine: no queued series, 0 delayed', async () => {
    const registry = createMetricsRegistry({ defaultMetrics: false, labels: { component: 'speaker', node: 'node-a' } });
    new SpeakerMetrics(registry, { ...noBgp, l2Pacing: () => undefined });
    expect(await samplesOf(registry, 'herald_speaker_l2_announcements_queued', OMIT)).to.deep.equal([]);
    expect(await samplesOf(registry, 'herald_speaker_l2_announcements_delayed_total', OMIT)).to.deep.equal([
      { labels: {}, value: 0 },
    ]);
  });
});
