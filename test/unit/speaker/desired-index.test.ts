/**
 * The speaker's incremental desired state: after any sequence of Service and endpoint
 * changes, recomputing only the changed Services gives what recomputing everything gives;
 * the per-Service inputs notice only changes the decisions read; the context key moves with
 * what every Service reads; BGPNodeStatus shards kept per Service equal those made at once.
 */
import { heraldObject, nodeObject } from '../../support/config-objects.js';
import { expect } from 'chai';
import { bgpNodeStatusObjects, BgpNodeStatusShards, fnv32a } from '../../../speaker/bgp-node-status.js';
import {
  contextKey,
  desiredState,
  sameServiceDesired,
  serviceDesired,
  type DesiredContext,
  type DesiredState,
  type EndpointInfo,
  type ServiceInfo,
} from '../../../speaker/desired.js';
import { DesiredIndex } from '../../../speaker/desired-index.js';
import { PerServiceDesired, ServiceInputs } from '../../../speaker/service-inputs.js';
import { sortedJson } from '../../../speaker/views.js';
import { parseConfig } from '../../../src/config/parse.js';
import { parseIP } from '../../../src/net/ip.js';
import { seeded } from '../../support/seeded.js';

const H = heraldObject;
const node = nodeObject;

function configOf(rackA: string[] = ['node-a']) {
  const parsed = parseConfig([
    H('IPAddressPool', 'l2', { addresses: ['192.0.2.0/29'] }, { mode: 'l2' }),
    H('IPAddressPool', 'bgp', { addresses: ['203.0.113.0/28', '2001:db8:2::/124'] }),
    H('L2Advertisement', 'l2', { ipAddressPoolSelectors: [{ matchLabels: { mode: 'l2' } }], interfaces: ['eth0'] }),
    H('L2Advertisement', 'l2b', {
      ipAddressPools: ['l2'],
      interfaces: ['eth1'],
      nodeSelectors: [{ matchLabels: { rack: 'a' } }],
    }),
    H('BGPAdvertisement', 'bgp', { ipAddressPools: ['bgp'], communities: ['65000:100'] }),
    H('BGPAdvertisement', 'agg', {
      ipAddressPools: ['bgp'],
      aggregationLength: 30,
      aggregationLengthV6: 124,
      peers: ['edge'],
    }),
    H('BGPPeer', 'edge', { myASN: 65000, peerASN: 65001, peerAddress: '192.0.2.254' }),
    H('BGPPeer', 'rack-a', {
      myASN: 65000,
      peerASN: 65002,
      peerAddress: '192.0.2.253',
      nodeSelectors: [{ matchLabels: { rack: 'a' } }],
    }),
    ...['node-a', 'node-b'].map((n) => node(n, rackA.includes(n) ? { rack: 'a' } : {})),
  ]);
  if (parsed.errors.length > 0) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  return parsed.config;
}

/** A state in a form that does not depend on the order Services were set in. */
function normal(s: DesiredState): unknown {
  const big = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v);
  return {
    decisions: s.decisions.map((d) => JSON.stringify({ ...d, ip: d.ipText })).sort(),
    l2: [...s.l2].map(([ip, w]) => JSON.stringify([ip, w.interfaces, w.services])).sort(),
    bgp: [...s.bgp]
      .map(([peer, routes]) => [peer, routes.map((r) => JSON.stringify(r, big)).sort()] as const)
      .sort(([a], [b]) => (a < b ? -1 : 1)),
  };
}

const IPS = ['192.0.2.1', '192.0.2.2', '203.0.113.1', '203.0.113.2', '203.0.113.5', '2001:db8:2::1', '198.51.100.1'];
const NODES = ['node-a', 'node-b', 'node-c'];

describe('speaker incremental desired state', () => {
  it('recomputing only the changed Services always equals recomputing all (300 seeded steps, shared IPs, both nodes)', () => {
    for (const me of ['node-a', 'node-b']) {
      const rnd = seeded(me === 'node-a' ? 7 : 11);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const ctx: DesiredContext = { node: me, config: configOf(), liveSpeakers: new Set(['node-a', 'node-b']) };
      const services = new Map<string, ServiceInfo>();
      const endpoints = new Map<string, EndpointInfo[]>();
      const index = new DesiredIndex();
      for (let step = 0; step < 300; step++) {
        const key = `ns/s${Math.floor(rnd() * 12)}`;
        const r = rnd();
        if (r < 0.2) services.delete(key);
        else if (r < 0.6)
          services.set(key, {
            key,
            labels: {},
            ips: rnd() < 0.3 ? [parseIP(pick(IPS)), parseIP(pick(IPS))] : [parseIP(pick(IPS))],
            trafficPolicy: rnd() < 0.5 ? 'Local' : 'Cluster',
          });
        else endpoints.set(key, [{ node: pick(NODES), ready: rnd() < 0.8 }]);
        const info = services.get(key);
        const part = info ? serviceDesired(ctx, info, endpoints.get(key) ?? []) : undefined;
        const old = index.get(key);
        index.set(key, part && old && sameServiceDesired(old, part) ? old : part);
        const full = desiredState({ ...ctx, services: [...services.values()], endpoints });
        expect(normal(index.state()), `${me} step ${step}`).to.deep.equal(normal(full));
      }
      expect(index.state().decisions.length).to.be.greaterThan(0);
    }
  });

  it('a peer whose routes did not change keeps the same route list (the session skips it); a shared route stays while one Service wants it', () => {
    const ctx: DesiredContext = { node: 'node-a', config: configOf(), liveSpeakers: new Set(['node-a']) };
    const index = new DesiredIndex();
    const svc = (key: string, ip: string): ServiceInfo => ({
      key,
      labels: {},
      ips: [parseIP(ip)],
      trafficPolicy: 'Cluster',
    });
    const eps = [{ node: 'node-b', ready: true }];
    index.set('ns/a', serviceDesired(ctx, svc('ns/a', '203.0.113.1'), eps));
    const before = index.state();
    expect(before.bgp.get('edge'), 'the /32 and its /30 aggregate').to.have.length(2);
    expect(before.bgp.get('rack-a')).to.have.length(1);
    // A Layer 2 Service changes no peer's routes.
    index.set('ns/c', serviceDesired(ctx, svc('ns/c', '192.0.2.1'), eps));
    expect(index.state().bgp.get('edge')).to.equal(before.bgp.get('edge'));
    expect(index.state().bgp.get('rack-a')).to.equal(before.bgp.get('rack-a'));
    expect(index.state().l2.get('192.0.2.1')?.services).to.deep.equal(['ns/c']);
    // 203.0.113.2 shares the /30 towards edge.
    index.set('ns/b', serviceDesired(ctx, svc('ns/b', '203.0.113.2'), eps));
    expect(index.state().bgp.get('edge')).to.not.equal(before.bgp.get('edge'));
    expect(index.state().bgp.get('edge')).to.have.length(3);
    expect(index.state().bgp.get('rack-a')).to.have.length(2);
    // Removing one of two Services wanting the /30 keeps it.
    index.set('ns/b', undefined);
    expect(index.state().bgp.get('edge')).to.have.length(2);
    expect(index.state().bgp.get('rack-a')).to.have.length(1);
    index.set('ns/a', undefined);
    expect([...index.state().bgp.keys()]).to.deep.equal([]);
    expect(index.state().decisions.map((d) => d.service)).to.deep.equal(['ns/c']);
  });

  it('the context key moves with node labels, live speakers, advertisements and peers, and not with anything else', () => {
    const ctx: DesiredContext = { node: 'node-a', config: configOf(), liveSpeakers: new Set(['node-a', 'node-b']) };
    const k = contextKey(ctx);
    expect(contextKey({ ...ctx, config: configOf(), liveSpeakers: new Set(['node-b', 'node-a']) })).to.equal(k);
    expect(contextKey({ ...ctx, config: configOf(['node-a', 'node-b']) })).to.not.equal(k);
    expect(contextKey({ ...ctx, liveSpeakers: new Set(['node-a']) })).to.not.equal(k);
    expect(contextKey({ ...ctx, node: 'node-b' })).to.not.equal(k);
  });
});

describe('speaker per-Service inputs', () => {
  const service = (name: string, ip: string | undefined, extra: Record<string, unknown> = {}) => ({
    metadata: { name, namespace: 'ns', resourceVersion: String(Math.random()), ...extra },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: ip ? [{ ip }] : [] } },
  });
  const slice = (name: string, svc: string, nodes: [string, boolean][]) => ({
    metadata: { name, namespace: 'ns', labels: { 'kubernetes.io/service-name': svc } },
    endpoints: nodes.map(([nodeName, ready]) => ({ nodeName, conditions: { ready } })),
  });

  it('a Service counts only when what the decisions read changes; a deleted or foreign one is gone', () => {
    const inputs = new ServiceInputs(undefined);
    expect(inputs.service(service('a', undefined), false), 'no address yet').to.equal(false);
    expect(inputs.service(service('a', '203.0.113.1'), false)).to.equal(true);
    expect(inputs.service(service('a', '203.0.113.1'), false), 'only resourceVersion').to.equal(false);
    expect(inputs.service(service('a', '203.0.113.1', { labels: { x: 'y' } }), false)).to.equal(true);
    expect(inputs.takeDirty()).to.deep.equal(new Set(['ns/a']));
    expect(inputs.takeDirty()).to.deep.equal(new Set());
    const other = { ...service('b', '203.0.113.2'), spec: { type: 'LoadBalancer', loadBalancerClass: 'other' } };
    expect(inputs.service(other, false), 'another class').to.equal(false);
    expect(inputs.service(service('a', '203.0.113.1'), true)).to.equal(true);
    expect([...inputs.keys()]).to.deep.equal([]);
    expect(inputs.takeDirty()).to.deep.equal(new Set(['ns/a']));
  });

  it('endpoints are those of all of a Service`s slices; a slice moving to another Service changes both', () => {
    const inputs = new ServiceInputs(undefined);
    expect(inputs.slice(slice('a-1', 'a', [['node-a', true]]), false)).to.equal(true);
    expect(inputs.slice(slice('a-2', 'a', [['node-b', false]]), false)).to.equal(true);
    expect(inputs.slice(slice('a-2', 'a', [['node-b', false]]), false), 'same endpoints').to.equal(false);
    expect(inputs.endpoints('ns/a')).to.have.deep.members([
      { node: 'node-a', ready: true },
      { node: 'node-b', ready: false },
    ]);
    inputs.takeDirty();
    expect(inputs.slice(slice('a-2', 'b', [['node-b', true]]), false)).to.equal(true);
    expect(inputs.takeDirty()).to.deep.equal(new Set(['ns/a', 'ns/b']));
    expect(inputs.endpoints('ns/a')).to.deep.equal([{ node: 'node-a', ready: true }]);
    expect(inputs.endpoints('ns/b')).to.deep.equal([{ node: 'node-b', ready: true }]);
    expect(inputs.slice(slice('a-1', 'a', []), true)).to.equal(true);
    expect(inputs.endpoints('ns/a')).to.deep.equal([]);
    expect(inputs.slice({ metadata: { name: 'stray', namespace: 'ns' } }, false), 'no Service label').to.equal(false);
  });
});

describe('speaker desired state kept between passes', () => {
  const service = (name: string, ip: string) => ({
    metadata: { name, namespace: 'ns' },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: [{ ip }] } },
  });
  const slice = (svc: string, ready: boolean) => ({
    metadata: { name: `${svc}-1`, namespace: 'ns', labels: { 'kubernetes.io/service-name': svc } },
    endpoints: [{ nodeName: 'node-b', conditions: { ready } }],
  });

  it('recomputes the changed Services, all of them when the context changes or after invalidate, and keeps a part that says the same', async () => {
    const ctx: DesiredContext = { node: 'node-a', config: configOf(), liveSpeakers: new Set(['node-a', 'node-b']) };
    const d = new PerServiceDesired(undefined);
    for (const name of ['a', 'b', 'c']) {
      d.inputs.service(service(name, `203.0.113.${name.charCodeAt(0) - 96}`), false);
      d.inputs.slice(slice(name, true), false);
    }
    const first = await d.update(ctx);
    expect(first).to.deep.include({ all: true, fromScratch: true });
    expect([...first.changed].sort()).to.deep.equal(['ns/a', 'ns/b', 'ns/c']);
    expect(d.index.state().bgp.get('rack-a')).to.have.length(3);
    const partB = d.index.get('ns/b');

    d.inputs.slice(slice('a', false), false);
    const one = await d.update(ctx);
    expect(one).to.deep.include({ all: false, fromScratch: false });
    expect([...one.changed]).to.deep.equal(['ns/a']);
    expect(d.index.state().bgp.get('rack-a'), 'ns/a has no ready endpoint').to.have.length(2);

    const relabelled = await d.update({ ...ctx, config: configOf(['node-a', 'node-b']) });
    expect(relabelled).to.deep.include({ all: true, fromScratch: false });
    expect(relabelled.changed.size).to.equal(3);
    expect(d.index.get('ns/b'), 'same decisions: the old part').to.equal(partB);

    expect((await d.update({ ...ctx, config: configOf(['node-a', 'node-b']) })).changed.size).to.equal(0);
    d.invalidate();
    expect(await d.update({ ...ctx, config: configOf(['node-a', 'node-b']) })).to.deep.include({
      all: true,
      fromScratch: true,
    });
  });
});

describe('BGPNodeStatus shards kept per Service', () => {
  it('after seeded changes and resizes they equal the shards made at once, as sorted JSON', () => {
    const rnd = seeded(3);
    const shards = new BgpNodeStatusShards('node-a');
    const now = new Map<string, string[]>();
    let count = 1;
    for (let step = 0; step < 200; step++) {
      const svc = `ns${Math.floor(rnd() * 3)}/s${Math.floor(rnd() * 40)}`;
      const peers = rnd() < 0.3 ? [] : ['edge', 'rack-a', 'x'].filter(() => rnd() < 0.6);
      if (peers.length > 0) now.set(svc, peers);
      else now.delete(svc);
      shards.set(svc, peers);
      if (rnd() < 0.05) count = 1 + Math.floor(rnd() * 4);
      shards.resize(count);
      const got = shards.objects();
      expect(new Map(got), `step ${step}`).to.deep.equal(
        bgpNodeStatusObjects(
          'node-a',
          [...now].map(([service, p]) => ({ service, peers: p })),
          count,
        ),
      );
      // And what each says, built here the plain way: Services by fnv32a mod count, sorted; peers as indexes.
      const want = new Map<string, unknown>();
      for (let k = 0; k < count; k++) {
        const services = [...now.keys()].filter((svc) => fnv32a(svc) % count === k).sort();
        if (services.length === 0) continue;
        const peers = [...new Set(services.flatMap((svc) => now.get(svc)!))].sort();
        want.set(`node-a-${k}`, {
          node: 'node-a',
          shard: k,
          shards: count,
          serviceCount: services.length,
          peers,
          services: services.map((svc) => ({
            namespace: svc.split('/')[0],
            name: svc.split('/')[1],
            peers: now
              .get(svc)!
              .map((p) => peers.indexOf(p))
              .sort((a, b) => a - b),
          })),
        });
      }
      expect(
        new Map([...got].map(([name, text]) => [name, JSON.parse(text) as unknown])),
        `step ${step}`,
      ).to.deep.equal(want);
      for (const text of got.values()) expect(text).to.equal(sortedJson(JSON.parse(text)));
    }
  });

  it('fnv32a hashes UTF-8 bytes, ASCII without encoding', () => {
    // FNV-1a test vectors.
    expect(fnv32a('')).to.equal(0x811c9dc5);
    expect(fnv32a('a')).to.equal(0xe40c292c);
    expect(fnv32a('foobar')).to.equal(0xbf9cf968);
    const bytes = (s: string): number => {
      let h = 0x811c9dc5;
      for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
      return h;
    };
    expect(fnv32a('ns/café')).to.equal(bytes('ns/café'));
  });
});
