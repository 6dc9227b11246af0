/** Announcer timing on a FakeClock: scripts of steps, each checked against the sends so far. */
import { expect } from 'chai';
import { Announcer, type AnnouncerOptions } from '../../../../speaker/layer2/announcer.js';
import { FakeClock } from '../../../../src/core/clock.js';
import { formatIP, parseIP } from '../../../../src/net/ip.js';

type Step =
  | { readonly do: 'announce' | 'stop'; readonly ip: string; readonly ifname?: string }
  | { readonly do: 'advance'; readonly ms: number }
  | { readonly do: 'stopAll' };

interface Script {
  readonly name: string;
  readonly opts?: Pick<AnnouncerOptions, 'repeats' | 'intervalMs'>;
  readonly steps: readonly Step[];
  /** `ms-since-start ip%ifname` for every send, in order. */
  readonly sends: readonly string[];
  readonly activeAfter: number;
}

const at = (ms: number, what = '192.0.2.10%eth0'): string => `${ms} ${what}`;
const every = (from: number, step: number, count: number, what?: string): string[] =>
  Array.from({ length: count }, (_, i) => at(from + i * step, what));

const scripts: Script[] = [
  {
    name: 'defaults: at once, then 5 more a second apart, then done',
    steps: [
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'advance', ms: 60_000 },
    ],
    sends: every(0, 1000, 6),
    activeAfter: 0,
  },
  {
    name: 'still active between repeats',
    steps: [
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'advance', ms: 4999 },
    ],
    sends: every(0, 1000, 5),
    activeAfter: 1,
  },
  {
    name: 'custom count and interval',
    opts: { repeats: 2, intervalMs: 250 },
    steps: [
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'advance', ms: 10_000 },
    ],
    sends: [at(0), at(250), at(500)],
    activeAfter: 0,
  },
  {
    name: 'no repeats: one announcement',
    opts: { repeats: 0 },
    steps: [
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'advance', ms: 10_000 },
    ],
    sends: [at(0)],
    activeAfter: 0,
  },
  {
    name: 'losing ownership stops at once',
    steps: [
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'advance', ms: 2500 },
      { do: 'stop', ip: '192.0.2.10' },
      { do: 'advance', ms: 60_000 },
    ],
    sends: every(0, 1000, 3),
    activeAfter: 0,
  },
  {
    name: 'losing ownership before the first repeat',
    steps: [
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'stop', ip: '192.0.2.10' },
      { do: 'advance', ms: 60_000 },
    ],
    sends: [at(0)],
    activeAfter: 0,
  },
  {
    name: 'taking it over again starts a fresh run',
    steps: [
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'advance', ms: 1500 },
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'advance', ms: 60_000 },
    ],
    sends: [at(0), at(1000), ...every(1500, 1000, 6)],
    activeAfter: 0,
  },
  {
    name: 'lost and taken back: the old run does not resume',
    steps: [
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'advance', ms: 500 },
      { do: 'stop', ip: '192.0.2.10' },
      { do: 'advance', ms: 200 },
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'advance', ms: 60_000 },
    ],
    sends: [at(0), ...every(700, 1000, 6)],
    activeAfter: 0,
  },
  {
    name: 'IPs and interfaces run independently; stopping one leaves the others',
    steps: [
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'advance', ms: 500 },
      { do: 'announce', ip: '2001:db8::a' },
      { do: 'announce', ip: '192.0.2.10', ifname: 'eth1' },
      { do: 'advance', ms: 1000 },
      { do: 'stop', ip: '192.0.2.10' },
      { do: 'advance', ms: 60_000 },
    ],
    sends: [
      at(0),
      at(500, '2001:db8::a%eth0'),
      at(500, '192.0.2.10%eth1'),
      at(1000),
      ...every(1500, 1000, 5, '2001:db8::a%eth0').flatMap((s, i) => [s, at(1500 + i * 1000, '192.0.2.10%eth1')]),
    ],
    activeAfter: 0,
  },
  {
    name: 'stopAll cancels every run',
    steps: [
      { do: 'announce', ip: '192.0.2.10' },
      { do: 'announce', ip: '2001:db8::a' },
      { do: 'advance', ms: 1000 },
      { do: 'stopAll' },
      { do: 'advance', ms: 60_000 },
    ],
    sends: [at(0), at(0, '2001:db8::a%eth0'), at(1000), at(1000, '2001:db8::a%eth0')],
    activeAfter: 0,
  },
];

describe('layer2: announcer', () => {
  for (const s of scripts) {
    it(s.name, () => {
      const clock = new FakeClock();
      const t0 = clock.now();
      const sent: string[] = [];
      const a = new Announcer({
        clock,
        send: (ip, ifname) => sent.push(at(clock.now() - t0, `${formatIP(ip)}%${ifname}`)),
        ...s.opts,
      });
      for (const step of s.steps) {
        if (step.do === 'advance') clock.advance(step.ms);
        else if (step.do === 'stopAll') a.stopAll();
        else a[step.do](parseIP(step.ip), step.ifname ?? 'eth0');
      }
      expect(sent).to.deep.equal(s.sends);
      expect(a.active()).to.equal(s.activeAfter);
      if (s.activeAfter === 0) expect(clock.pending()).to.equal(0);
    });
  }

  it('reports which runs are announcing', () => {
    const clock = new FakeClock();
    const a = new Announcer({ clock, send: () => undefined });
    const ip = parseIP('192.0.2.10');
    a.announce(ip, 'eth0');
    expect([a.isAnnouncing(ip, 'eth0'), a.isAnnouncing(ip, 'eth1')]).to.deep.equal([true, false]);
    clock.advance(5000);
    expect(a.isAnnouncing(ip, 'eth0')).to.equal(false);
  });

  it('a send that throws does not end the run', () => {
    const clock = new FakeClock();
    let calls = 0;
    const a = new Announcer({
      clock,
      send: () => {
        calls++;
        if (calls === 2) throw new Error('ENETDOWN');
      },
    });
    a.announce(parseIP('192.0.2.10'), 'eth0');
    expect(() => clock.advance(1000)).to.throw('ENETDOWN');
    clock.advance(60_000);
    expect(calls).to.equal(6);
    expect(a.active()).to.equal(0);
  });

  const badOptions: {
    name: string;
    opts: Pick<AnnouncerOptions, 'repeats' | 'intervalMs' | 'ratePerSecond' | 'burst'>;
  }[] = [
    { name: 'negative repeats', opts: { repeats: -1 } },
    { name: 'fractional repeats', opts: { repeats: 1.5 } },
    { name: 'zero interval', opts: { intervalMs: 0 } },
    { name: 'NaN interval', opts: { intervalMs: Number.NaN } },
    { name: 'a zero rate', opts: { ratePerSecond: 0 } },
    { name: 'a NaN rate', opts: { ratePerSecond: Number.NaN } },
    { name: 'a burst below one frame', opts: { burst: 0.5 } },
  ];
  for (const tc of badOptions) {
    it(`refuses ${tc.name}`, () =>
      expect(() => new Announcer({ clock: new FakeClock(), send: () => undefined, ...tc.opts })).to.throw(RangeError));
  }
});
