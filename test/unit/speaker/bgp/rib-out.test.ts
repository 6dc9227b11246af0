/** The Adj-RIB-Out: full and incremental diffs, and prefixes held back until they can be sent. */
import { expect } from 'chai';
import { formatCIDR, parseCIDR } from '../../../../src/net/cidr.js';
import { parseIP, type IP } from '../../../../src/net/ip.js';
import type { Negotiated } from '../../../../speaker/bgp/negotiate.js';
import { DEFAULT_CODEC, type UpdateMessage } from '../../../../speaker/bgp/messages.js';
import { AdjRibOut, type DiffContext, type Route } from '../../../../speaker/bgp/rib-out.js';

const negotiated = (families: number[]): Negotiated => ({
  peerAs: 65001,
  peerId: '192.0.2.2',
  holdTime: 90,
  keepaliveTime: 30,
  fourOctetAs: true,
  extendedMessage: false,
  families: families.map((afi) => ({ afi, safi: 1 })),
  routeRefresh: true,
  peerGracefulRestart: false,
  ibgp: false,
});
const ctx = (
  families = [1, 2],
  hops: { v4?: IP; v6?: IP } = { v4: parseIP('192.0.2.1'), v6: parseIP('2001:db8::1') },
): DiffContext => ({
  negotiated: negotiated(families),
  myAsn: 65000,
  codec: DEFAULT_CODEC,
  nextHop: (f) => (f === 'IPv4' ? hops.v4 : hops.v6),
});
const route = (p: string, communities?: number[]): Route => ({
  prefix: parseCIDR(p),
  ...(communities ? { communities } : {}),
});
const announced = (us: UpdateMessage[]): string[] =>
  us.flatMap((u) => [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])].map(formatCIDR)).sort();
const withdrawn = (us: UpdateMessage[]): string[] =>
  us.flatMap((u) => [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])].map(formatCIDR)).sort();

describe('bgp: Adj-RIB-Out', () => {
  it('a full diff sends everything; an incremental one only what changed', () => {
    const rib = new AdjRibOut();
    const all = Array.from({ length: 2000 }, (_, i) => route(`198.51.100.${i % 250}/32`)).filter(
      (r, i, a) => a.findIndex((x) => formatCIDR(x.prefix) === formatCIDR(r.prefix)) === i,
    );
    rib.setDesired([...all, route('2001:db8::7/128'), route('203.0.113.0/24')]);
    expect(announced(rib.diff(ctx(), true))).to.have.length(all.length + 2);
    expect(rib.diff(ctx(), false)).to.deep.equal([]);
    // One removed, one re-tagged, one added.
    rib.setDesired([
      ...all.slice(1, -1),
      route(formatCIDR(all.at(-1)!.prefix), [65000 * 65536 + 1]),
      route('2001:db8::7/128'),
      route('203.0.113.0/24'),
      route('2001:db8::8/128'),
    ]);
    const us = rib.diff(ctx(), false);
    expect(withdrawn(us)).to.deep.equal([formatCIDR(all[0]!.prefix)]);
    expect(announced(us)).to.deep.equal([formatCIDR(all.at(-1)!.prefix), '2001:db8::8/128'].sort());
    expect(rib.sentCount()).to.equal(all.length + 2);
  });

  it('holds back a family without a next hop, and sends it on a later incremental diff once there is one', () => {
    const rib = new AdjRibOut();
    rib.setDesired([route('203.0.113.9/32'), route('2001:db8::9/128')]);
    let told = 0;
    const noV6 = { ...ctx([1, 2], { v4: parseIP('192.0.2.1') }), unannounceable: () => told++ };
    expect(announced(rib.diff(noV6, true))).to.deep.equal(['203.0.113.9/32']);
    expect(told).to.equal(1);
    // Nothing changed in the desired set, but the next hop exists now.
    expect(announced(rib.diff(ctx(), false))).to.deep.equal(['2001:db8::9/128']);
    expect(rib.diff(ctx(), false)).to.deep.equal([]);
  });

  it('after a reset (a new connection) a full diff re-sends what is desired and withdraws nothing', () => {
    const rib = new AdjRibOut();
    rib.setDesired([route('203.0.113.1/32'), route('203.0.113.2/32')]);
    rib.diff(ctx(), true);
    rib.reset();
    rib.setDesired([route('203.0.113.1/32')]);
    const us = rib.diff(ctx(), true);
    expect(announced(us)).to.deep.equal(['203.0.113.1/32']);
    expect(withdrawn(us)).to.deep.equal([]);
    expect(us.at(-1)!.nlri.length + us.at(-1)!.withdrawn.length).to.equal(0); // End-of-RIB last
  });

  it('keys IPv4 /32s across the whole address space, and other prefixes by text', () => {
    const rib = new AdjRibOut();
    const edge = [
      '0.0.0.0/32',
      '127.255.255.255/32',
      '128.0.0.0/32',
      '255.255.255.255/32',
      '0.0.0.0/0',
      '198.51.100.0/24',
    ];
    rib.setDesired(edge.map((p) => route(p)));
    expect(announced(rib.diff(ctx([1]), true))).to.deep.equal([...edge].sort());
    rib.setDesired([]);
    expect(withdrawn(rib.diff(ctx([1]), false))).to.deep.equal([...edge].sort());
  });
});
