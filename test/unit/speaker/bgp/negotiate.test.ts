/** OPEN negotiation (RFC 4271 §6.2, RFC 6793, RFC 5492, RFC 4760), one table row each. */
import { expect } from 'chai';
import type { FsmConfig } from '../../../../speaker/bgp/fsm.js';
import type { OpenMessage } from '../../../../speaker/bgp/messages.js';
import { negotiate, type Negotiated } from '../../../../speaker/bgp/negotiate.js';

const cfg: FsmConfig = {
  myAsn: 65000,
  peerAsn: 65001,
  routerId: '192.0.2.1',
  holdTime: 90,
  connectRetryTime: 5,
  capabilities: {
    multiprotocol: [
      { afi: 1, safi: 1 },
      { afi: 2, safi: 1 },
    ],
    routeRefresh: true,
    extendedMessage: false,
    other: [],
    fourOctetAs: 65000,
  },
};

const open = (o: Partial<OpenMessage> = {}, caps: Partial<OpenMessage['capabilities']> = {}): OpenMessage => ({
  type: 'open',
  version: 4,
  myAs: 65001,
  holdTime: 30,
  bgpId: '192.0.2.2',
  ...o,
  capabilities: {
    multiprotocol: [{ afi: 1, safi: 1 }],
    routeRefresh: true,
    extendedMessage: false,
    other: [],
    fourOctetAs: 65001,
    ...caps,
  },
});

describe('bgp fsm: OPEN negotiation', () => {
  const cases: {
    name: string;
    open: OpenMessage;
    config?: { [K in keyof FsmConfig]?: FsmConfig[K] | undefined };
    want: Partial<Negotiated> | string;
  }[] = [
    {
      name: 'hold time is the smaller; keepalive a third',
      open: open({ holdTime: 30 }),
      want: { holdTime: 30, keepaliveTime: 10 },
    },
    { name: 'hold time 0 disables keepalives', open: open({ holdTime: 0 }), want: { holdTime: 0, keepaliveTime: 0 } },
    {
      name: 'configured keepalive below a third is kept',
      open: open({ holdTime: 90 }),
      config: { keepaliveTime: 5 },
      want: { holdTime: 90, keepaliveTime: 5 },
    },
    {
      name: 'configured keepalive above a third is kept while the hold time is ours',
      open: open({ holdTime: 90 }),
      config: { keepaliveTime: 60 },
      want: { holdTime: 90, keepaliveTime: 60 },
    },
    {
      name: "a peer's smaller hold time brings the configured keepalive down to a third of it",
      open: open({ holdTime: 30 }),
      config: { keepaliveTime: 60 },
      want: { holdTime: 30, keepaliveTime: 10 },
    },
    {
      name: 'hold time 3 gives keepalives every second',
      open: open({ holdTime: 3 }),
      want: { holdTime: 3, keepaliveTime: 1 },
    },
    { name: 'hold time 2 is refused', open: open({ holdTime: 2 }), want: 'hold time 2' },
    {
      name: '4-octet AS from the capability, AS_TRANS in My AS',
      open: open({ myAs: 23456 }, { fourOctetAs: 4200000001 }),
      config: { peerAsn: 4200000001 },
      want: { peerAs: 4200000001, fourOctetAs: true },
    },
    {
      name: 'wrong peer AS',
      open: open({ myAs: 65002 }, { fourOctetAs: 65002 }),
      want: 'peer AS 65002 is not the configured 65001',
    },
    {
      name: 'dynamic external accepts any other AS',
      open: open({ myAs: 65077 }, { fourOctetAs: 65077 }),
      config: { peerAsn: undefined, dynamicAsn: 'external' },
      want: { peerAs: 65077, ibgp: false },
    },
    {
      name: 'dynamic external refuses our own AS',
      open: open({ myAs: 65000 }, { fourOctetAs: 65000 }),
      config: { peerAsn: undefined, dynamicAsn: 'external' },
      want: 'is not external',
    },
    {
      name: 'dynamic internal takes our AS as iBGP',
      open: open({ myAs: 65000 }, { fourOctetAs: 65000 }),
      config: { peerAsn: undefined, dynamicAsn: 'internal' },
      want: { ibgp: true },
    },
    {
      name: 'iBGP peer with our router id',
      open: open({ myAs: 65000, bgpId: '192.0.2.1' }, { fourOctetAs: 65000 }),
      config: { peerAsn: 65000 },
      want: 'unacceptable BGP identifier',
    },
    {
      name: 'families are the intersection',
      open: open({}, { multiprotocol: [{ afi: 2, safi: 1 }] }),
      want: { families: [{ afi: 2, safi: 1 }] },
    },
    {
      name: 'no multiprotocol capability implies IPv4 unicast',
      open: open({}, { multiprotocol: [] }),
      want: { families: [{ afi: 1, safi: 1 }] },
    },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const c: FsmConfig = { ...cfg, ...tc.config } as FsmConfig;
      if ('peerAsn' in (tc.config ?? {}) && tc.config!.peerAsn === undefined)
        delete (c as { peerAsn?: number }).peerAsn;
      const r = negotiate(tc.open, c);
      if (typeof tc.want === 'string') {
        expect(r.ok).to.equal(false);
        if (!r.ok) expect(r.reason).to.include(tc.want);
      } else {
        expect(r.ok, r.ok ? '' : r.reason).to.equal(true);
        if (r.ok) expect(r.negotiated).to.deep.include(tc.want);
      }
    });
  }
});
