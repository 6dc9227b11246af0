/**
 * The protocol announcers (speaker/announcers/) over recording fakes of their engines: what
 * each hands its engine, and which Events and log lines a pass tells, once per condition.
 */
import { expect } from 'chai';
import { BgpAnnouncer, peersOfNode, type BgpView } from '../../../speaker/announcers/bgp.js';
import { Layer2Announcer, type Layer2View } from '../../../speaker/announcers/layer2.js';
import type { BgpManager } from '../../../speaker/bgp/manager.js';
import type { Decision, L2Want, ServiceDecision } from '../../../speaker/desired.js';
import type { NotAnnounced, OwnedIP, SetOwnedResult } from '../../../speaker/layer2/engine.js';
import { Told } from '../../../speaker/told.js';
import { parseConfig } from '../../../src/config/parse.js';
import { RecordingLogger } from '../../../src/core/logger.js';
import { formatIP, parseIP } from '../../../src/net/ip.js';

const YES: Decision = { announce: true };
const NOT_OWNER: Decision = { announce: false, reason: 'notOwner' };

function decision(service: string, ip: string, l2: Decision, bgp: Decision, peers: string[] = []): ServiceDecision {
  return { service, ip: parseIP(ip), ipText: ip, l2, bgp, peers };
}

/** Records every setOwned; answers with what the test scripted for the next call. */
class FakeEngine {
  readonly calls: string[][] = [];
  owned = new Map<string, string[]>();
  next: { failed?: Map<string, NotAnnounced>; deferred?: Map<string, NotAnnounced> } = {};
  closed = false;

  setOwned(want: Iterable<OwnedIP>): SetOwnedResult {
    const list = [...want];
    this.calls.push(list.map((w) => formatIP(w.ip)));
    const failed = this.next.failed ?? new Map<string, NotAnnounced>();
    const deferred = this.next.deferred ?? new Map<string, NotAnnounced>();
    const next = new Map(
      list
        .filter((w) => !failed.has(formatIP(w.ip)) && !deferred.has(formatIP(w.ip)))
        .map((w) => [formatIP(w.ip), ['eth0']]),
    );
    const taken = [...next.keys()].filter((ip) => !this.owned.has(ip));
    const released = [...this.owned.keys()].filter((ip) => !next.has(ip));
    this.owned = next;
    return { taken, released, failed, deferred };
  }

  owns(): Map<string, string[]> {
    return new Map(this.owned);
  }

  close(): void {
    this.closed = true;
  }
}

interface Told3 {
  service: string;
  type: string;
  reason: string;
  message: string;
}

function layer2Setup() {
  const engine = new FakeEngine();
  const events: Told3[] = [];
  const forgotten: string[][] = [];
  const log = new RecordingLogger();
  const told = new Told();
  const a = new Layer2Announcer({
    node: 'node-a',
    engine,
    logger: log,
    events: (service, type, reason, message) => events.push({ service, type, reason, message }),
    told,
    status: { forgetDeadOwners: (services) => Promise.resolve(void forgotten.push([...services].sort())) },
  });
  return { a, engine, events, forgotten, log, told };
}

const want = (...entries: [string, string[]][]): Map<string, L2Want> =>
  new Map(entries.map(([ip, services]) => [ip, { ip: parseIP(ip), interfaces: [], services }]));

describe('speaker announcers: Layer 2', () => {
  const owners = want(['192.0.2.10', ['shop/web', 'shop/api']], ['2001:db8::10', ['shop/web']]);
  const decisions = [
    decision('shop/api', '192.0.2.10', YES, NOT_OWNER),
    decision('shop/web', '192.0.2.10', YES, NOT_OWNER),
    decision('shop/web', '2001:db8::10', YES, NOT_OWNER),
    decision('shop/db', '192.0.2.11', NOT_OWNER, NOT_OWNER),
  ];
  const view = (hold: Layer2View['hold'] = 'none'): Layer2View => ({ decisions, owners, hold, dead: () => true });

  it('hands the engine every owned IP, tells each takeover per Service, and removes dead owners of those Services', async () => {
    const { a, engine, events, forgotten } = layer2Setup();
    const r = await a.setBalancers(view());
    expect(engine.calls).to.deep.equal([['192.0.2.10', '2001:db8::10']]);
    expect(r).to.deep.equal({
      protocol: 'l2',
      ips: ['192.0.2.10', '2001:db8::10'],
      services: ['shop/api', 'shop/web', 'shop/web'],
      taken: ['192.0.2.10', '2001:db8::10'],
      released: [],
    });
    expect(events.map((e) => `${e.service} ${e.reason}: ${e.message}`)).to.deep.equal([
      'shop/web nodeAssigned: announcing 192.0.2.10 from node node-a via L2',
      'shop/api nodeAssigned: announcing 192.0.2.10 from node node-a via L2',
      'shop/web nodeAssigned: announcing 2001:db8::10 from node node-a via L2',
    ]);
    expect(forgotten).to.deep.equal([['shop/api', 'shop/web']]);
    await a.setBalancers(view());
    expect(events).to.have.length(3); // nothing new taken, nothing told
  });

  it('guarded: announces nothing and reports no Service; rejoining: keeps only what it already answers for', async () => {
    const { a, engine } = layer2Setup();
    engine.owned = new Map([['192.0.2.10', ['eth0']]]);
    const rejoining = await a.setBalancers(view('rejoining'));
    expect(engine.calls.at(-1)).to.deep.equal(['192.0.2.10']);
    expect(rejoining.services).to.have.length(3);
    const guarded = await a.setBalancers(view('guarded'));
    expect(engine.calls.at(-1)).to.deep.equal([]);
    expect(guarded).to.deep.include({ ips: [], services: [] });
  });

  it('a failure is told once (log line and an Event per Service), and again after it ended', async () => {
    const { a, engine, events, log } = layer2Setup();
    const failure = new Map<string, NotAnnounced>([
      ['192.0.2.10', { reason: 'noInterface', message: 'none of the interfaces eth9 exists' }],
    ]);
    engine.next = { failed: failure };
    await a.setBalancers(view());
    await a.setBalancers(view());
    const failedEvents = (): string[] =>
      events.filter((e) => e.reason === 'announceFailed').map((e) => `${e.type} ${e.service}: ${e.message}`);
    expect(failedEvents()).to.deep.equal([
      'Warning shop/web: node node-a cannot announce 192.0.2.10 via L2: none of the interfaces eth9 exists',
      'Warning shop/api: node node-a cannot announce 192.0.2.10 via L2: none of the interfaces eth9 exists',
    ]);
    expect(log.records.filter((r) => r.fields['event'] === 'announceFailed').map((r) => r.fields)).to.deep.equal([
      {
        event: 'announceFailed',
        ip: '192.0.2.10',
        reason: 'noInterface',
        cause: 'none of the interfaces eth9 exists',
        services: ['shop/web', 'shop/api'],
      },
    ]);
    engine.next = {};
    await a.setBalancers(view());
    engine.next = { failed: failure };
    await a.setBalancers(view());
    expect(failedEvents()).to.have.length(4);
  });

  it('a deferral is a log line once, never an Event', async () => {
    const { a, engine, events, log } = layer2Setup();
    engine.next = { deferred: new Map([['2001:db8::10', { reason: 'linkDown', message: 'eth0 is down' }]]) };
    await a.setBalancers(view());
    await a.setBalancers(view());
    expect(log.records.filter((r) => r.fields['event'] === 'announceDeferred').map((r) => r.fields)).to.deep.equal([
      { event: 'announceDeferred', ip: '2001:db8::10', reason: 'linkDown', cause: 'eth0 is down' },
    ]);
    expect(events.filter((e) => e.reason === 'announceFailed')).to.deep.equal([]);
  });

  it('without an engine (no native addon) it reports what it would announce and tells nothing', async () => {
    const events: Told3[] = [];
    const a = new Layer2Announcer({
      node: 'node-a',
      engine: undefined,
      logger: new RecordingLogger(),
      events: (service, type, reason, message) => events.push({ service, type, reason, message }),
      told: new Told(),
      status: { forgetDeadOwners: () => Promise.resolve() },
    });
    expect(await a.setBalancers(view())).to.deep.include({ ips: ['192.0.2.10', '2001:db8::10'] });
    expect(a.owned().size).to.equal(0);
    expect(events).to.deep.equal([]);
  });
});

const config = parseConfig([
  {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'BGPPeer',
    metadata: { name: 'edge', namespace: 'herald-system' },
    spec: { myASN: 65000, peerASN: 65001, peerAddress: '192.0.2.254' },
  },
  {
    apiVersion: 'herald.dev/v1beta1',
    kind: 'BGPPeer',
    metadata: { name: 'rack-a', namespace: 'herald-system' },
    spec: { myASN: 65000, peerASN: 65002, peerAddress: '192.0.2.253', nodeSelectors: [{ matchLabels: { rack: 'a' } }] },
  },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', labels: { rack: 'a' } } },
  { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-b' } },
]).config;

/** Records apply(); failures are whatever the test sets. */
function bgpSetup(tellAnnounced?: boolean) {
  const applied: string[][] = [];
  const failures = new Map<string, string>();
  const manager = {
    apply: (peers: readonly { name: string }[]) => void applied.push(peers.map((p) => p.name)),
    failures: () => failures,
    lastErrors: () => new Map<string, string>(),
    states: () => new Map(),
    bfd: { status: () => undefined },
    stopAll: () => undefined,
  } as unknown as Pick<BgpManager, 'apply' | 'failures' | 'lastErrors' | 'states' | 'bfd' | 'stopAll'>;
  const events: Told3[] = [];
  const told = new Told();
  const a = new BgpAnnouncer({
    node: 'node-a',
    manager,
    events: (service, type, reason, message) => events.push({ service, type, reason, message }),
    told,
    ...(tellAnnounced !== undefined ? { tellAnnounced } : {}),
  });
  return { a, applied, failures, events, told };
}

describe('speaker announcers: BGP', () => {
  const view = (decisions: ServiceDecision[]): BgpView => ({ decisions, routes: new Map(), config });

  it('the peers of a node: those without selectors and those whose selectors match it', () => {
    expect(
      peersOfNode(config, 'node-a')
        .map((p) => p.name)
        .sort(),
    ).to.deep.equal(['edge', 'rack-a']);
    expect(peersOfNode(config, 'node-b').map((p) => p.name)).to.deep.equal(['edge']);
    expect(peersOfNode(config, 'node-gone').map((p) => p.name)).to.deep.equal(['edge']);
  });

  it('tells each newly announced Service IP once, naming its peers; counts each IP once', async () => {
    const { a, applied, events } = bgpSetup();
    const ds = [
      decision('shop/web', '203.0.113.5', NOT_OWNER, YES, ['edge', 'rack-a']),
      decision('shop/api', '203.0.113.5', NOT_OWNER, YES, ['edge']),
      decision('shop/db', '203.0.113.6', NOT_OWNER, { announce: false, reason: 'noLocalEndpoints' }),
    ];
    const r = await a.setBalancers(view(ds));
    expect(applied).to.deep.equal([['edge', 'rack-a']]);
    expect(r).to.deep.equal({ protocol: 'bgp', ips: ['203.0.113.5'], services: ['shop/web', 'shop/api'] });
    expect(events.map((e) => `${e.type} ${e.service}: ${e.message}`)).to.deep.equal([
      'Normal shop/web: announcing 203.0.113.5 from node node-a via BGP to edge, rack-a',
      'Normal shop/api: announcing 203.0.113.5 from node node-a via BGP to edge',
    ]);
    await a.setBalancers(view(ds));
    expect(events).to.have.length(2);
    // Withdrawn, then announced again: told again.
    await a.setBalancers(view(ds.slice(1)));
    await a.setBalancers(view(ds));
    expect(events.map((e) => e.service)).to.deep.equal(['shop/web', 'shop/api', 'shop/web']);
  });

  it('per-node status (tellAnnounced off): no nodeAssigned Event for any announced Service, failures still told', async () => {
    const { a, applied, failures, events } = bgpSetup(false);
    const ds = [
      decision('shop/web', '203.0.113.5', NOT_OWNER, YES, ['edge', 'rack-a']),
      decision('shop/api', '203.0.113.7', NOT_OWNER, YES, ['rack-a']),
    ];
    const r = await a.setBalancers(view(ds));
    expect(applied).to.deep.equal([['edge', 'rack-a']]);
    expect(r.services).to.deep.equal(['shop/web', 'shop/api']);
    expect(events).to.deep.equal([]);
    failures.set('edge', 'no route to host');
    await a.setBalancers(view(ds));
    expect(events.map((e) => `${e.type} ${e.reason} ${e.service}`)).to.deep.equal(['Warning announceFailed shop/web']);
  });

  it('a failing peer: an Event per Service IP it should carry, once per cause; a Service deleted and created again is told again', async () => {
    const { a, failures, events, told } = bgpSetup();
    const ds = [
      decision('shop/web', '203.0.113.5', NOT_OWNER, YES, ['edge', 'rack-a']),
      decision('shop/api', '203.0.113.7', NOT_OWNER, YES, ['rack-a']),
    ];
    failures.set('edge', 'TCP-MD5 needs the native addon');
    await a.setBalancers(view(ds));
    await a.setBalancers(view(ds));
    const failed = (): string[] =>
      events.filter((e) => e.reason === 'announceFailed').map((e) => `${e.service}: ${e.message}`);
    expect(failed()).to.deep.equal([
      'shop/web: node node-a cannot announce 203.0.113.5 to BGP peer edge: TCP-MD5 needs the native addon',
    ]);
    failures.set('edge', 'no route to host');
    await a.setBalancers(view(ds));
    expect(failed()).to.have.length(2);
    told.pruneServices(new Set(['shop/api']));
    await a.setBalancers(view(ds));
    expect(failed()).to.have.length(3);
  });
});

describe('speaker: told once', () => {
  it('one key per condition: kinds never collide, forget and prune end a condition', () => {
    const t = new Told();
    expect(t.first({ kind: 'nodeMissing' })).to.equal(true);
    expect(t.first({ kind: 'nodeMissing' })).to.equal(false);
    expect(t.first({ kind: 'l2Failed', ip: '192.0.2.1', cause: 'x' })).to.equal(true);
    expect(t.first({ kind: 'l2Deferred', ip: '192.0.2.1', reason: 'x' })).to.equal(true);
    expect(t.first({ kind: 'bgpFailed', peer: 'edge', service: 'a/b', ip: '192.0.2.1', cause: 'x' })).to.equal(true);
    expect(t.first({ kind: 'bgpFailed', peer: 'edge', service: 'a/c', ip: '192.0.2.1', cause: 'x' })).to.equal(true);
    t.forget({ kind: 'nodeMissing' });
    expect(t.first({ kind: 'nodeMissing' })).to.equal(true);
    t.pruneServices(new Set(['a/c']));
    expect(t.size).to.equal(4);
    expect(t.first({ kind: 'bgpFailed', peer: 'edge', service: 'a/b', ip: '192.0.2.1', cause: 'x' })).to.equal(true);
    expect(t.first({ kind: 'bgpFailed', peer: 'edge', service: 'a/c', ip: '192.0.2.1', cause: 'x' })).to.equal(false);
  });
});
