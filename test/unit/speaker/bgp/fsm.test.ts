/** RFC 4271 §8 transitions, one line each, with no socket and no waiting. */
import { expect } from 'chai';
import { INITIAL, LARGE_HOLD_TIME, negotiate, transition, type FsmConfig, type FsmEvent, type FsmState, type Negotiated } from '../../../../speaker/bgp/fsm.js';
import type { OpenMessage } from '../../../../speaker/bgp/messages.js';

const cfg: FsmConfig = {
  myAsn: 65000,
  peerAsn: 65001,
  routerId: '192.0.2.1',
  holdTime: 90,
  connectRetryTime: 5,
  capabilities: { multiprotocol: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }], routeRefresh: true, extendedMessage: false, other: [], fourOctetAs: 65000 },
};

const open = (o: Partial<OpenMessage> = {}, caps: Partial<OpenMessage['capabilities']> = {}): OpenMessage => ({
  type: 'open',
  version: 4,
  myAs: 65001,
  holdTime: 30,
  bgpId: '192.0.2.2',
  ...o,
  capabilities: { multiprotocol: [{ afi: 1, safi: 1 }], routeRefresh: true, extendedMessage: false, other: [], fourOctetAs: 65001, ...caps },
});

const negotiated: Negotiated = negotiate(open(), cfg).ok ? (negotiate(open(), cfg) as { negotiated: Negotiated }).negotiated : (undefined as never);
const at = (name: FsmState['name']): FsmState => ({ name, connectRetryCounter: 0, ...(name === 'OpenConfirm' || name === 'Established' ? { negotiated } : {}) });
const err = { code: 1, subcode: 2, data: Buffer.from([0, 5]), reason: 'bad length' };

const cases: { from: FsmState['name']; event: FsmEvent; to: FsmState['name']; actions: string[] }[] = [
  { from: 'Idle', event: { type: 'ManualStart' }, to: 'Connect', actions: ['startTimer:connectRetry', 'connect'] },
  { from: 'Idle', event: { type: 'TcpConnected' }, to: 'Idle', actions: [] },
  { from: 'Idle', event: { type: 'ManualStop' }, to: 'Idle', actions: [] },
  { from: 'Connect', event: { type: 'TcpConnected' }, to: 'OpenSent', actions: ['stopTimer:connectRetry', 'sendOpen', 'startTimer:hold'] },
  { from: 'Connect', event: { type: 'TcpConnectionFails' }, to: 'Active', actions: ['drop', 'startTimer:connectRetry'] },
  { from: 'Connect', event: { type: 'ConnectRetryTimerExpires' }, to: 'Connect', actions: ['drop', 'startTimer:connectRetry', 'connect'] },
  { from: 'Connect', event: { type: 'ManualStop' }, to: 'Idle', actions: ['stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'Connect', event: { type: 'KeepAliveMsg' }, to: 'Idle', actions: ['stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'Active', event: { type: 'ConnectRetryTimerExpires' }, to: 'Connect', actions: ['drop', 'startTimer:connectRetry', 'connect'] },
  { from: 'Active', event: { type: 'TcpConnected' }, to: 'OpenSent', actions: ['stopTimer:connectRetry', 'sendOpen', 'startTimer:hold'] },
  { from: 'OpenSent', event: { type: 'BGPOpen', open: open() }, to: 'OpenConfirm', actions: ['stopTimer:connectRetry', 'sendKeepalive', 'startTimer:keepalive', 'startTimer:hold'] },
  { from: 'OpenSent', event: { type: 'BGPOpen', open: open({ myAs: 65009 }, { fourOctetAs: 65009 }) }, to: 'Idle', actions: ['sendNotification:2/2', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'OpenSent', event: { type: 'BGPOpen', open: open({ bgpId: '0.0.0.0' }) }, to: 'Idle', actions: ['sendNotification:2/3', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'OpenSent', event: { type: 'HoldTimerExpires' }, to: 'Idle', actions: ['sendNotification:4/0', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'OpenSent', event: { type: 'TcpConnectionFails' }, to: 'Active', actions: ['stopTimer:hold', 'drop', 'startTimer:connectRetry'] },
  { from: 'OpenSent', event: { type: 'MessageError', error: err }, to: 'Idle', actions: ['sendNotification:1/2', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'OpenSent', event: { type: 'KeepAliveMsg' }, to: 'Idle', actions: ['sendNotification:5/1', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'OpenSent', event: { type: 'ManualStop' }, to: 'Idle', actions: ['sendNotification:6/2', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'OpenConfirm', event: { type: 'KeepAliveMsg' }, to: 'Established', actions: ['startTimer:hold', 'established'] },
  { from: 'OpenConfirm', event: { type: 'KeepaliveTimerExpires' }, to: 'OpenConfirm', actions: ['sendKeepalive', 'startTimer:keepalive'] },
  { from: 'OpenConfirm', event: { type: 'HoldTimerExpires' }, to: 'Idle', actions: ['sendNotification:4/0', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'OpenConfirm', event: { type: 'NotifMsg', code: 6, subcode: 2 }, to: 'Idle', actions: ['stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'OpenConfirm', event: { type: 'UpdateMsg' }, to: 'Idle', actions: ['sendNotification:5/2', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'Established', event: { type: 'KeepAliveMsg' }, to: 'Established', actions: ['startTimer:hold'] },
  { from: 'Established', event: { type: 'UpdateMsg' }, to: 'Established', actions: ['startTimer:hold'] },
  { from: 'Established', event: { type: 'KeepaliveTimerExpires' }, to: 'Established', actions: ['sendKeepalive', 'startTimer:keepalive'] },
  { from: 'Established', event: { type: 'HoldTimerExpires' }, to: 'Idle', actions: ['sendNotification:4/0', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'Established', event: { type: 'UpdateMsgErr', error: { code: 3, subcode: 1, data: Buffer.alloc(0), reason: 'x' } }, to: 'Idle', actions: ['sendNotification:3/1', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'Established', event: { type: 'TcpConnectionFails' }, to: 'Idle', actions: ['stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'Established', event: { type: 'ManualStop' }, to: 'Idle', actions: ['sendNotification:6/2', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
  { from: 'Established', event: { type: 'BGPOpen', open: open() }, to: 'Idle', actions: ['sendNotification:5/3', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'] },
];

const label = (a: ReturnType<typeof transition>['actions'][number]): string =>
  a.type === 'startTimer' || a.type === 'stopTimer' ? `${a.type}:${a.timer}` : a.type === 'sendNotification' ? `sendNotification:${a.code}/${a.subcode}` : a.type;

describe('bgp fsm: RFC 4271 section 8 transitions', () => {
  for (const tc of cases) {
    it(`${tc.from} + ${tc.event.type} -> ${tc.to}`, () => {
      const t = transition(tc.from === 'Idle' ? INITIAL : at(tc.from), tc.event, cfg);
      expect(t.state.name).to.equal(tc.to);
      expect(t.actions.map(label)).to.deep.equal(tc.actions);
    });
  }

  it('waits for the OPEN with the large hold time (4 minutes)', () => {
    const t = transition(at('Connect'), { type: 'TcpConnected' }, cfg);
    expect(t.actions).to.deep.include({ type: 'startTimer', timer: 'hold', seconds: LARGE_HOLD_TIME });
  });

  it('counts connect retries on errors and resets them once Established', () => {
    let s = transition(at('OpenSent'), { type: 'HoldTimerExpires' }, cfg).state;
    expect(s.connectRetryCounter).to.equal(1);
    s = transition({ ...at('OpenConfirm'), connectRetryCounter: 3 }, { type: 'KeepAliveMsg' }, cfg).state;
    expect(s.connectRetryCounter).to.equal(0);
  });
});

describe('bgp fsm: OPEN negotiation', () => {
  const cases: { name: string; open: OpenMessage; config?: { [K in keyof FsmConfig]?: FsmConfig[K] | undefined }; want: Partial<Negotiated> | string }[] = [
    { name: 'hold time is the smaller; keepalive a third', open: open({ holdTime: 30 }), want: { holdTime: 30, keepaliveTime: 10 } },
    { name: 'hold time 0 disables keepalives', open: open({ holdTime: 0 }), want: { holdTime: 0, keepaliveTime: 0 } },
    { name: 'configured keepalive below a third is kept', open: open({ holdTime: 90 }), config: { keepaliveTime: 5 }, want: { holdTime: 90, keepaliveTime: 5 } },
    { name: 'configured keepalive above a third is kept while the hold time is ours', open: open({ holdTime: 90 }), config: { keepaliveTime: 60 }, want: { holdTime: 90, keepaliveTime: 60 } },
    { name: 'a peer\'s smaller hold time brings the configured keepalive down to a third of it', open: open({ holdTime: 30 }), config: { keepaliveTime: 60 }, want: { holdTime: 30, keepaliveTime: 10 } },
    { name: 'hold time 3 gives keepalives every second', open: open({ holdTime: 3 }), want: { holdTime: 3, keepaliveTime: 1 } },
    { name: 'hold time 2 is refused', open: open({ holdTime: 2 }), want: 'hold time 2' },
    { name: '4-octet AS from the capability, AS_TRANS in My AS', open: open({ myAs: 23456 }, { fourOctetAs: 4200000001 }), config: { peerAsn: 4200000001 }, want: { peerAs: 4200000001, fourOctetAs: true } },
    { name: 'wrong peer AS', open: open({ myAs: 65002 }, { fourOctetAs: 65002 }), want: 'peer AS 65002 is not the configured 65001' },
    { name: 'dynamic external accepts any other AS', open: open({ myAs: 65077 }, { fourOctetAs: 65077 }), config: { peerAsn: undefined, dynamicAsn: 'external' }, want: { peerAs: 65077, ibgp: false } },
    { name: 'dynamic external refuses our own AS', open: open({ myAs: 65000 }, { fourOctetAs: 65000 }), config: { peerAsn: undefined, dynamicAsn: 'external' }, want: 'is not external' },
    { name: 'dynamic internal takes our AS as iBGP', open: open({ myAs: 65000 }, { fourOctetAs: 65000 }), config: { peerAsn: undefined, dynamicAsn: 'internal' }, want: { ibgp: true } },
    { name: 'iBGP peer with our router id', open: open({ myAs: 65000, bgpId: '192.0.2.1' }, { fourOctetAs: 65000 }), config: { peerAsn: 65000 }, want: 'unacceptable BGP identifier' },
    { name: 'families are the intersection', open: open({}, { multiprotocol: [{ afi: 2, safi: 1 }] }), want: { families: [{ afi: 2, safi: 1 }] } },
    { name: 'no multiprotocol capability implies IPv4 unicast', open: open({}, { multiprotocol: [] }), want: { families: [{ afi: 1, safi: 1 }] } },
  ];
  for (const tc of cases) {
    it(tc.name, () => {
      const c: FsmConfig = { ...cfg, ...tc.config } as FsmConfig;
      if ('peerAsn' in (tc.config ?? {}) && tc.config!.peerAsn === undefined) delete (c as { peerAsn?: number }).peerAsn;
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
