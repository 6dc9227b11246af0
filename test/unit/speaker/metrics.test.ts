/** The speaker's per-peer BGP session gauge, read from the registry's exposition. */
import { expect } from 'chai';
import { SpeakerMetrics } from '../../../speaker/metrics.js';
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
