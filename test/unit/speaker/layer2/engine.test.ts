/**
 * The Layer 2 engine's link-event behaviour on a FakeClock, with a recording fake of the
 * addon's packet socket and a link table driven by the test: what is announced after a
 * short flap and after a long outage, a re-created interface, a stalled socket, a socket
 * that fails to open, and that gratuitous announcements only ever go out for owned IPs.
 */
import { expect } from 'chai';
import { FakeClock } from '../../../../src/core/clock.js';
import { RecordingLogger } from '../../../../src/core/logger.js';
import { parseIP } from '../../../../src/net/ip.js';
import type { PacketSocketHandle } from '../../../../native/index.js';
import { PACE_TICK_MS } from '../../../../speaker/layer2/announcer.js';
import {
  DEFAULT_LINK_GRACE_MS,
  DEFAULT_REJOIN_HOLD_MS,
  L2Engine,
  type L2EngineOptions,
  type OwnedIP,
} from '../../../../speaker/layer2/engine.js';
import { WATCHDOG_INTERVAL_MS } from '../../../../speaker/layer2/link-sockets.js';
import type { Iface, LinkChange, LinkSource } from '../../../../speaker/layer2/links.js';

class FakeLinks implements LinkSource {
  ifaces: Iface[] = [];
  private listener: ((c: readonly LinkChange[]) => void) | undefined;
  interfaces(): readonly Iface[] {
    return this.ifaces;
  }
  onChange(l: (c: readonly LinkChange[]) => void): void {
    this.listener = l;
  }
  set(name: string, patch: Partial<Iface>, kind: LinkChange['kind']): void {
    const i = this.ifaces.findIndex((x) => x.name === name);
    const next = {
      ...(this.ifaces[i] ?? { name, index: 0, mac: Buffer.alloc(6), up: true, mtu: 1500, addrs: [] }),
      ...patch,
    };
    if (kind === 'removed') this.ifaces.splice(i, 1);
    else if (i >= 0) this.ifaces[i] = next;
    else this.ifaces.push(next);
    this.listener?.([{ kind, name, index: next.index }]);
  }
}

class FakeSocket implements PacketSocketHandle {
  static all: FakeSocket[] = [];
  static failOpen = 0;
  readonly ifindex: number;
  onFrame: ((frame: Buffer) => void) | undefined;
  sent: Buffer[] = [];
  groups: string[] = [];
  closed = false;
  stat = { received: 0, errors: 0, queued: 0, drops: 0 };
  constructor(readonly ifname: string) {
    if (FakeSocket.failOpen > 0) {
      FakeSocket.failOpen--;
      throw new Error(`socket(${ifname}): no such device`);
    }
    this.ifindex = links.ifaces.find((i) => i.name === ifname)?.index ?? 0;
    FakeSocket.all.push(this);
  }
  start(onFrame: (frame: Buffer) => void): void {
    this.onFrame = onFrame;
  }
  send(frame: Buffer): number {
    this.sent.push(frame);
    return frame.length;
  }
  arpTargets: readonly number[] | null = null;
  setArpTargets(t: readonly number[] | null): boolean {
    this.arpTargets = t;
    return t !== null;
  }
  addMembership(mac: Buffer): void {
    this.groups.push(mac.toString('hex'));
  }
  stats(): { received: number; errors: number; queued: number; drops: number } {
    return this.stat;
  }
  close(): void {
    this.closed = true;
  }
}

let links: FakeLinks;
const V4 = '192.0.2.10';
const V6 = '2001:db8::a';
const MAC = Buffer.from([2, 0, 0, 0, 0, 1]);

/** Gratuitous frames sent for `ip` (ARP target / NA target in the frame) since `from`. */
function gratuitousFor(ip: string, s: FakeSocket, from = 0): number {
  const addr = parseIP(ip);
  return s.sent
    .slice(from)
    .filter((f) =>
      addr.family === 'IPv4'
        ? f.readUInt16BE(12) === 0x0806 && f.subarray(38, 42).equals(Buffer.from(ip.split('.').map(Number)))
        : f.readUInt16BE(12) === 0x86dd && f.readUInt8(54) === 136,
    ).length;
}

function setup(
  agrees?: (since: number) => boolean,
  extra: Partial<L2EngineOptions> = {},
): { engine: L2Engine; clock: FakeClock; changes: () => number; log: RecordingLogger } {
  links = new FakeLinks();
  links.ifaces = [
    {
      name: 'eth0',
      index: 2,
      mac: MAC,
      up: true,
      mtu: 1500,
      addrs: [
        { ip: parseIP('192.0.2.1'), prefix: 24 },
        { ip: parseIP('2001:db8::1'), prefix: 64 },
      ],
    },
  ];
  FakeSocket.all = [];
  FakeSocket.failOpen = 0;
  const clock = new FakeClock();
  const log = new RecordingLogger();
  let n = 0;
  const engine = new L2Engine({
    native: { PacketSocket: FakeSocket },
    links,
    clock,
    logger: log,
    onChange: () => n++,
    announceRepeats: 2,
    announceIntervalMs: 1000,
    random: () => 0,
    ...(agrees ? { membershipAgreesSince: agrees } : {}),
    ...extra,
  });
  return { engine, clock, changes: () => n, log };
}

/** What the speaker hands the engine: each IP with the interfaces the advertisement names. */
const owning = (m: Record<string, string[]>): OwnedIP[] =>
  Object.entries(m).map(([ip, interfaces]) => ({ ip: parseIP(ip), interfaces }));
const want = owning({ [V4]: [], [V6]: [] });

describe('layer2 engine: link events (FakeClock, fake sockets)', () => {
  it('takes both IPs on the subnet link, joins the solicited-node group, and announces each at once', () => {
    const { engine } = setup();
    const r = engine.setOwned(want);
    expect(r.taken).to.deep.equal([V4, V6]);
    const s = FakeSocket.all[0]!;
    expect(s.groups).to.deep.equal(['3333ff00000a']);
    expect(s.arpTargets).to.deep.equal([0xc000020a]); // only requests for 192.0.2.10 pass the kernel filter
    expect(gratuitousFor(V4, s)).to.equal(2); // request + reply
    expect(gratuitousFor(V6, s)).to.equal(1);
  });

  it('after a short flap keeps its IPs and announces them again at once on link-up', () => {
    const { engine, clock } = setup();
    engine.setOwned(want);
    const s = FakeSocket.all[0]!;
    const mark = s.sent.length;
    links.set('eth0', { up: false }, 'down');
    clock.advance(DEFAULT_LINK_GRACE_MS / 2);
    expect(engine.setOwned(want).released).to.deep.equal([]);
    links.set('eth0', { up: true }, 'up');
    expect(gratuitousFor(V4, s, mark)).to.equal(2);
    expect(gratuitousFor(V6, s, mark)).to.equal(1);
    expect(FakeSocket.all).to.have.length(1); // the same socket: reading goes on
  });

  it('sends nothing while the link is down, gives its IPs up after the grace time, takes nothing new while rejoining', () => {
    const { engine, clock, changes } = setup();
    engine.setOwned(want);
    const s = FakeSocket.all[0]!;
    links.set('eth0', { up: false }, 'down');
    const mark = s.sent.length;
    clock.advance(5000); // the announcer's repeats fall while the link is down
    expect(s.sent.length).to.equal(mark);
    expect(changes()).to.be.greaterThan(1); // the grace ending asked for a decision
    const down = engine.setOwned(want);
    expect(down.released).to.deep.equal([V4, V6]);
    expect(down.deferred.get(V4)).to.deep.include({ reason: 'linkDown', message: 'eth0 is down' });
    links.set('eth0', { up: true }, 'up');
    const rejoining = engine.setOwned(want);
    expect(rejoining.taken).to.deep.equal([]);
    expect(rejoining.deferred.get(V4)?.reason).to.equal('rejoining');
    expect(s.sent.length).to.equal(mark);
    clock.advance(DEFAULT_REJOIN_HOLD_MS);
    const back = engine.setOwned(want);
    expect(back.taken).to.deep.equal([V4, V6]);
    // Nothing owned closed the socket; taking the IPs again opened one.
    expect(s.closed).to.equal(true);
    expect(gratuitousFor(V4, FakeSocket.all.at(-1)!)).to.equal(2);
  });

  it('ends the rejoin hold as soon as membership agrees again (every member heard from since the link came back)', () => {
    let heardSince = Infinity;
    const { engine, clock, changes } = setup((since) => heardSince >= since);
    engine.setOwned(want);
    links.set('eth0', { up: false }, 'down');
    clock.advance(DEFAULT_LINK_GRACE_MS);
    engine.setOwned(want);
    links.set('eth0', { up: true }, 'up');
    heardSince = -Infinity;
    expect(engine.setOwned(want).deferred.get(V4)?.reason).to.equal('rejoining');
    const before = changes();
    clock.advance(300);
    heardSince = clock.monotonic();
    clock.advance(100);
    expect(changes()).to.be.greaterThan(before); // asked for a decision when it agreed
    expect(engine.setOwned(want).taken).to.deep.equal([V4, V6]);
  });

  it('never announces an IP it no longer owns: pending repeats stop on release', () => {
    const { engine, clock } = setup();
    engine.setOwned(want);
    const s = FakeSocket.all[0]!;
    engine.setOwned(owning({ [V6]: [] }));
    const mark = s.sent.length;
    clock.advance(10_000);
    expect(gratuitousFor(V4, s, mark)).to.equal(0);
    expect(gratuitousFor(V6, s, mark)).to.equal(2); // its own two repeats
  });

  it('opens a new socket when the interface comes back with a new ifindex, joining its groups again', () => {
    const { engine, clock } = setup();
    engine.setOwned(want);
    const old = FakeSocket.all[0]!;
    links.set('eth0', {}, 'removed');
    expect(old.closed).to.equal(true);
    expect(engine.setOwned(want).failed.get(V4)).to.deep.include({ reason: 'noInterface' });
    links.set(
      'eth0',
      {
        index: 7,
        mac: MAC,
        up: true,
        mtu: 1500,
        addrs: [
          { ip: parseIP('192.0.2.1'), prefix: 24 },
          { ip: parseIP('2001:db8::1'), prefix: 64 },
        ],
      },
      'added',
    );
    // Back: nothing new until membership agrees again (no membership here: the hold's end).
    expect(engine.setOwned(want).deferred.get(V4)?.reason).to.equal('rejoining');
    clock.advance(DEFAULT_REJOIN_HOLD_MS);
    const r = engine.setOwned(want);
    expect(r.taken).to.deep.equal([V4, V6]);
    const now = FakeSocket.all.at(-1)!;
    expect(now.ifindex).to.equal(7);
    expect(now.groups).to.deep.equal(['3333ff00000a']);
    expect(gratuitousFor(V4, now)).to.equal(2);
  });

  it('reopens a socket that stopped delivering (frames queued, none read) and announces again', () => {
    const { engine, clock, log } = setup();
    engine.setOwned(want);
    const s = FakeSocket.all[0]!;
    s.stat = { received: 10, errors: 0, queued: 4096, drops: 0 };
    clock.advance(WATCHDOG_INTERVAL_MS);
    expect(s.closed).to.equal(false); // one look is no proof
    clock.advance(WATCHDOG_INTERVAL_MS);
    expect(s.closed).to.equal(true);
    const now = FakeSocket.all.at(-1)!;
    expect(now).to.not.equal(s);
    expect(now.groups).to.deep.equal(['3333ff00000a']);
    expect(now.arpTargets).to.deep.equal([0xc000020a]);
    expect(gratuitousFor(V4, now)).to.equal(2);
    expect(log.records.some((r) => r.fields['event'] === 'socketStalled' && r.fields['interface'] === 'eth0')).to.equal(
      true,
    );
  });

  it('leaves a socket alone while it reads what arrives', () => {
    const { engine, clock } = setup();
    engine.setOwned(want);
    const s = FakeSocket.all[0]!;
    for (let i = 1; i <= 5; i++) {
      s.stat = { received: i * 10, errors: 0, queued: 512, drops: 0 };
      clock.advance(WATCHDOG_INTERVAL_MS);
    }
    expect(s.closed).to.equal(false);
  });

  it('retries a socket that failed to open, with backoff, and announces once it opens', () => {
    const { engine, clock, log } = setup();
    FakeSocket.failOpen = 2;
    const r = engine.setOwned(want);
    expect(r.failed.get(V4)?.reason).to.equal('openFailed');
    expect(FakeSocket.all).to.have.length(0);
    clock.advance(60_000);
    expect(FakeSocket.all).to.have.length(1);
    expect(gratuitousFor(V4, FakeSocket.all[0]!)).to.be.greaterThan(0);
    const tries = log.records
      .filter((x) => x.fields['event'] === 'interfaceOpenFailed')
      .map((x) => x.fields['retryInMs']);
    expect(tries).to.deep.equal([500, 1000]);
  });

  it('says which interfaces are missing, never an empty list', () => {
    const { engine } = setup();
    const r = engine.setOwned(owning({ [V4]: ['eth9', 'bond1'] }));
    expect(r.failed.get(V4)?.message).to.equal('none of the interfaces eth9, bond1 exists');
    links.ifaces = [];
    expect(engine.setOwned(owning({ [V4]: [] })).failed.get(V4)?.message).to.match(/^no interface to answer on/);
  });

  describe('a large takeover, paced (500 frames/s, a burst of 50)', () => {
    // 250 IPv4 (2 frames each: request and reply forms) and 2,000 IPv6 (1 frame): 2,500 frames.
    const many = owning(
      Object.fromEntries(
        [
          ...Array.from({ length: 250 }, (_, i) => `192.0.2.${i + 2}`),
          ...Array.from({ length: 2000 }, (_, i) => `2001:db8::1:${i.toString(16)}`),
        ].map((ip) => [ip, []]),
      ),
    );
    const frameCount = (s: FakeSocket): number => s.sent.length;

    it('logs the bound, never sends more than the bucket allows, and announces every IP', () => {
      const { engine, clock, log } = setup(undefined, { announceRate: 500 });
      expect(engine.setOwned(many).taken).to.have.length(2250);
      const paced = log.records.find((r) => r.fields['event'] === 'announcePaced');
      expect(paced?.fields).to.deep.include({
        interface: 'eth0',
        frames: 2450,
        framesPerSecond: 500,
        allFirstWithinMs: 4900 + PACE_TICK_MS,
      });
      const s = FakeSocket.all[0]!;
      expect(frameCount(s)).to.equal(50);
      // The burst took 25 IPv4 announcements; the rest wait (the speaker's queued gauge).
      expect(engine.pacing()).to.deep.equal({ queued: new Map([['eth0', { first: 2225, repeat: 0 }]]), delayed: 0 });
      let last = frameCount(s);
      for (let t = 0; t < 4910; t += 100) {
        clock.advance(100);
        expect(frameCount(s) - last).to.be.at.most(50 + 50); // the burst + 100 ms at the rate
        last = frameCount(s);
      }
      // By the bound every IP has had its first announcement: each ARP target and NA target seen.
      const targets = new Set(
        s.sent.map((f) => (f.readUInt16BE(12) === 0x0806 ? f.subarray(38, 42) : f.subarray(62, 78)).toString('hex')),
      );
      expect(targets.size).to.equal(2250);
      expect(engine.counters.gratuitous).to.be.at.least(2250);
      clock.advance(60_000);
      expect(engine.counters.gratuitous).to.equal(2250 * 3);
      expect(frameCount(s)).to.equal(2500 * 3);
      expect(engine.announcing()).to.equal(0);
      const p = engine.pacing();
      expect(p.queued).to.deep.equal(new Map([['eth0', { first: 0, repeat: 0 }]]));
      expect(p.delayed).to.be.at.least(2225);
    });

    it('drops what is pending on the IPs released and on an interface removed', () => {
      const { engine, clock } = setup(undefined, { announceRate: 500 });
      engine.setOwned(many);
      clock.advance(1000);
      const s = FakeSocket.all[0]!;
      const mark = s.sent.length;
      engine.setOwned(many.slice(0, 250)); // the IPv6 ones released
      expect(engine.announcing()).to.equal(250);
      clock.advance(60_000);
      expect(s.sent.slice(mark).filter((f) => f.readUInt16BE(12) === 0x86dd)).to.deep.equal([]);
      expect(gratuitousFor('192.0.2.2', s)).to.equal(2 * 3);

      engine.setOwned(many);
      clock.advance(1000);
      links.set('eth0', {}, 'removed');
      expect(engine.announcing()).to.equal(0);
      expect(engine.pacing().queued).to.deep.equal(new Map());
    });
  });

  it('answers one asker at most its burst plus its rate, and still answers the others', () => {
    const { engine, clock } = setup();
    engine.setOwned(want);
    const s = FakeSocket.all[0]!;
    // who-has 192.0.2.10 from 02:00:00:00:00:xx (hand-built: Ethernet, ARP request).
    const ask = (last: number): Buffer => {
      const mac = `0200000000${last.toString(16).padStart(2, '0')}`;
      return Buffer.from(
        [
          'ffffffffffff',
          mac,
          '0806',
          '0001',
          '0800',
          '06',
          '04',
          '0001',
          mac,
          'c0000202',
          '000000000000',
          'c000020a',
        ].join(''),
        'hex',
      );
    };
    const mark = s.sent.length;
    for (let i = 0; i < 200; i++) s.onFrame!(ask(0x66));
    const toFlooder = s.sent.slice(mark).filter((f) => f.subarray(0, 6).toString('hex') === '020000000066').length;
    expect(toFlooder).to.equal(50);
    expect(engine.counters.rateLimited).to.equal(150);
    s.onFrame!(ask(0x77));
    expect(s.sent.at(-1)!.subarray(0, 6).toString('hex')).to.equal('020000000077');
    clock.advance(1000);
    for (let i = 0; i < 200; i++) s.onFrame!(ask(0x66));
    expect(s.sent.slice(mark).filter((f) => f.subarray(0, 6).toString('hex') === '020000000066').length).to.equal(100);
  });
});
