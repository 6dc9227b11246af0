/** The speaker's per-IP announced gauge, Layer 2 ownership changes and configuration gauges, read from the registry's exposition. */
import { expect } from 'chai';
import { AnnounceMetrics, type SpeakerPass } from '../../../speaker/announce-metrics.js';
import { createMetricsRegistry } from '../../../src/metrics.js';
import { samplesOf } from '../../support/prom-text.js';

const NODE = 'node-a';

function setup(): { registry: ReturnType<typeof createMetricsRegistry>; m: AnnounceMetrics } {
  // As speaker/main.ts makes it: the node is a default label too.
  const registry = createMetricsRegistry({ defaultMetrics: false, labels: { component: 'speaker', node: NODE } });
  return { registry, m: new AnnounceMetrics(registry, NODE) };
}

function pass(p: {
  l2?: Record<string, string[]>;
  bgp?: [string, string][];
  other?: [string, string][];
  errors?: number;
}): SpeakerPass {
  const l2 = new Map(Object.entries(p.l2 ?? {}).map(([ip, services]) => [ip, { services }]));
  const decisions = [
    ...Object.entries(p.l2 ?? {}).flatMap(([ip, services]) =>
      services.map((service) => ({ service, ipText: ip, bgp: { announce: false } })),
    ),
    ...(p.bgp ?? []).map(([service, ip]) => ({ service, ipText: ip, bgp: { announce: true } })),
    ...(p.other ?? []).map(([service, ip]) => ({ service, ipText: ip, bgp: { announce: false } })),
  ];
  return {
    l2Owned: new Map([...l2.keys()].map((ip) => [ip, ['eth0']])),
    l2,
    decisions,
    configErrors: Array.from({ length: p.errors ?? 0 }, () => 'error'),
  };
}

describe('speaker announce metrics', () => {
  it('herald_speaker_ip_announced: one series per IP, Service and protocol, with the node; gone when no longer announced', async () => {
    const { registry, m } = setup();
    expect(await samplesOf(registry, 'herald_speaker_ip_announced')).to.deep.equal([]);
    m.observe(
      pass({
        l2: { '192.0.2.1': ['default/a', 'default/b'] },
        bgp: [
          ['prod/c', '203.0.113.5'],
          ['prod/d', '2001:db8::5'],
        ],
        other: [['prod/e', '203.0.113.6']],
      }),
    );
    expect(await samplesOf(registry, 'herald_speaker_ip_announced')).to.deep.equal([
      {
        labels: { ip: '192.0.2.1', service: 'default/a', protocol: 'layer2', node: NODE, component: 'speaker' },
        value: 1,
      },
      {
        labels: { ip: '192.0.2.1', service: 'default/b', protocol: 'layer2', node: NODE, component: 'speaker' },
        value: 1,
      },
      { labels: { ip: '2001:db8::5', service: 'prod/d', protocol: 'bgp', node: NODE, component: 'speaker' }, value: 1 },
      { labels: { ip: '203.0.113.5', service: 'prod/c', protocol: 'bgp', node: NODE, component: 'speaker' }, value: 1 },
    ]);
    m.observe(pass({ bgp: [['prod/c', '203.0.113.5']] }));
    expect(await samplesOf(registry, 'herald_speaker_ip_announced', ['component'])).to.deep.equal([
      { labels: { ip: '203.0.113.5', service: 'prod/c', protocol: 'bgp', node: NODE }, value: 1 },
    ]);
  });

  it('herald_speaker_l2_ownership_changes_total counts each time this node takes an IP, not passes that keep it', async () => {
    const { registry, m } = setup();
    const a = '192.0.2.1';
    const b = '192.0.2.2';
    m.observe(pass({ l2: { [a]: ['ns/a'] }, other: [['ns/b', b]] }));
    m.observe(pass({ l2: { [a]: ['ns/a'] }, other: [['ns/b', b]] }));
    expect(await samplesOf(registry, 'herald_speaker_l2_ownership_changes_total', ['component', 'node'])).to.deep.equal(
      [{ labels: { ip: a }, value: 1 }],
    );
    // a goes to another node and comes back; b arrives.
    m.observe(
      pass({
        other: [
          ['ns/a', a],
          ['ns/b', b],
        ],
      }),
    );
    m.observe(pass({ l2: { [a]: ['ns/a'], [b]: ['ns/b'] } }));
    expect(await samplesOf(registry, 'herald_speaker_l2_ownership_changes_total', ['component', 'node'])).to.deep.equal(
      [
        { labels: { ip: a }, value: 2 },
        { labels: { ip: b }, value: 1 },
      ],
    );
    // b's Service is deleted: its counter goes with it (a returning b starts from 1 again).
    m.observe(pass({ l2: { [a]: ['ns/a'] } }));
    expect(await samplesOf(registry, 'herald_speaker_l2_ownership_changes_total', ['component', 'node'])).to.deep.equal(
      [{ labels: { ip: a }, value: 2 }],
    );
    // Another node owns a now, but the Service still holds it: the count stays.
    m.observe(pass({ other: [['ns/a', a]] }));
    expect(await samplesOf(registry, 'herald_speaker_l2_ownership_changes_total', ['component', 'node'])).to.deep.equal(
      [{ labels: { ip: a }, value: 2 }],
    );
  });

  it('herald_config_loaded_bool is 0 until the first pass; herald_config_stale_bool follows the errors of the latest pass', async () => {
    const { registry, m } = setup();
    const read = async () => ({
      loaded: (await samplesOf(registry, 'herald_config_loaded_bool', ['component', 'node'])).map((s) => s.value),
      stale: (await samplesOf(registry, 'herald_config_stale_bool', ['component', 'node'])).map((s) => s.value),
    });
    expect(await read()).to.deep.equal({ loaded: [0], stale: [0] });
    m.observe(pass({ errors: 2 }));
    expect(await read()).to.deep.equal({ loaded: [1], stale: [1] });
    m.observe(pass({}));
    expect(await read()).to.deep.equal({ loaded: [1], stale: [0] });
  });
});
