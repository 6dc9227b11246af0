/** RFC 4271 §8 transitions, one table row each, with no socket and no waiting. */
import { expect } from 'chai';
import {
  INITIAL,
  LARGE_HOLD_TIME,
  describeDown,
  fsmErrorSubcode,
  retryDelayMs,
  transition,
  type DownReason,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
} from '../../../../speaker/bgp/fsm.js';
import type { OpenMessage, SessionResetError } from '../../../../speaker/bgp/messages.js';
import { negotiate, type Negotiated } from '../../../../speaker/bgp/negotiate.js';
import { CEASE_SUBCODE, FSM_ERROR_SUBCODE, notificationName } from '../../../../speaker/bgp/notification.js';

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
const passive: FsmConfig = { ...cfg, passive: true };

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

const n0 = negotiate(open(), cfg);
const negotiated: Negotiated = n0.ok ? n0.negotiated : (undefined as never);
const at = (name: FsmState['name'], failures = 0): FsmState => ({
  name,
  connectRetryCounter: 0,
  failures,
  ...(name === 'OpenConfirm' || name === 'Established' ? { negotiated } : {}),
});
const headerErr: SessionResetError = {
  code: 1,
  subcode: 2,
  data: Buffer.from([0, 5]),
  reason: 'bad length',
  handling: 'session-reset',
  message: 'header',
};
const updateErr: SessionResetError = {
  code: 3,
  subcode: 1,
  data: Buffer.alloc(0),
  reason: 'x',
  handling: 'session-reset',
  message: 'update',
};

/** The three timers every way back to Idle stops, then drop and down. */
const TO_IDLE = ['stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'down'];
/** ... and after an error (not a ManualStop), the automatic restart. */
const ERROR_TO_IDLE = [...TO_IDLE, 'startTimer:idleHold'];

const cases: {
  from: FsmState['name'];
  event: FsmEvent;
  to: FsmState['name'];
  actions: string[];
  config?: FsmConfig;
}[] = [
  { from: 'Idle', event: { type: 'ManualStart' }, to: 'Connect', actions: ['startTimer:connectRetry', 'connect'] },
  { from: 'Idle', event: { type: 'ManualStart' }, to: 'Active', actions: [], config: passive },
  {
    from: 'Idle',
    event: { type: 'IdleHoldTimerExpires' },
    to: 'Connect',
    actions: ['startTimer:connectRetry', 'connect'],
  },
  { from: 'Idle', event: { type: 'IdleHoldTimerExpires' }, to: 'Active', actions: [], config: passive },
  { from: 'Idle', event: { type: 'TcpConnected' }, to: 'Idle', actions: [] },
  { from: 'Idle', event: { type: 'ManualStop' }, to: 'Idle', actions: ['stopTimer:idleHold'] },
  { from: 'Connect', event: { type: 'ManualStart' }, to: 'Connect', actions: [] },
  { from: 'Connect', event: { type: 'IdleHoldTimerExpires' }, to: 'Connect', actions: [] },
  {
    from: 'Connect',
    event: { type: 'TcpConnected' },
    to: 'OpenSent',
    actions: ['stopTimer:connectRetry', 'sendOpen', 'startTimer:hold'],
  },
  {
    from: 'Connect',
    event: { type: 'TcpConnectionFails' },
    to: 'Active',
    actions: ['drop', 'startTimer:connectRetry'],
  },
  {
    from: 'Connect',
    event: { type: 'ConnectRetryTimerExpires' },
    to: 'Connect',
    actions: ['drop', 'startTimer:connectRetry', 'connect'],
  },
  { from: 'Connect', event: { type: 'ManualStop' }, to: 'Idle', actions: TO_IDLE },
  { from: 'Connect', event: { type: 'KeepAliveMsg' }, to: 'Idle', actions: ERROR_TO_IDLE },
  {
    from: 'Connect',
    event: { type: 'MessageError', error: headerErr },
    to: 'Idle',
    actions: ['sendNotification:1/2', ...ERROR_TO_IDLE],
  },
  {
    from: 'Connect',
    event: { type: 'ConnectionReplaced' },
    to: 'OpenSent',
    actions: ['stopTimer:connectRetry', 'startTimer:hold'],
  },
  {
    from: 'Active',
    event: { type: 'ConnectRetryTimerExpires' },
    to: 'Connect',
    actions: ['drop', 'startTimer:connectRetry', 'connect'],
  },
  { from: 'Active', event: { type: 'ConnectRetryTimerExpires' }, to: 'Active', actions: [], config: passive },
  {
    from: 'Active',
    event: { type: 'TcpConnected' },
    to: 'OpenSent',
    actions: ['stopTimer:connectRetry', 'sendOpen', 'startTimer:hold'],
  },
  { from: 'Active', event: { type: 'NotifMsg', code: 6, subcode: 3 }, to: 'Idle', actions: ERROR_TO_IDLE },
  {
    from: 'OpenSent',
    event: { type: 'BGPOpen', open: open() },
    to: 'OpenConfirm',
    actions: ['stopTimer:connectRetry', 'sendKeepalive', 'startTimer:keepalive', 'startTimer:hold'],
  },
  {
    from: 'OpenSent',
    event: { type: 'BGPOpen', open: open({ holdTime: 0 }) },
    to: 'OpenConfirm',
    actions: ['stopTimer:connectRetry', 'sendKeepalive', 'stopTimer:hold'],
  },
  {
    from: 'OpenSent',
    event: { type: 'BGPOpen', open: open({ myAs: 65009 }, { fourOctetAs: 65009 }) },
    to: 'Idle',
    actions: ['sendNotification:2/2', ...ERROR_TO_IDLE],
  },
  {
    from: 'OpenSent',
    event: { type: 'BGPOpen', open: open({ bgpId: '0.0.0.0' }) },
    to: 'Idle',
    actions: ['sendNotification:2/3', ...ERROR_TO_IDLE],
  },
  {
    from: 'OpenSent',
    event: { type: 'HoldTimerExpires' },
    to: 'Idle',
    actions: ['sendNotification:4/0', ...ERROR_TO_IDLE],
  },
  {
    from: 'OpenSent',
    event: { type: 'TcpConnectionFails' },
    to: 'Active',
    actions: ['stopTimer:hold', 'drop', 'startTimer:connectRetry'],
  },
  {
    from: 'OpenSent',
    event: { type: 'TcpConnectionFails' },
    to: 'Active',
    actions: ['stopTimer:hold', 'drop'],
    config: passive,
  },
  {
    from: 'OpenSent',
    event: { type: 'MessageError', error: headerErr },
    to: 'Idle',
    actions: ['sendNotification:1/2', ...ERROR_TO_IDLE],
  },
  // RFC 6608 §3: subcode 1, an unexpected message in OpenSent (an UPDATE error included, §8.2.2).
  {
    from: 'OpenSent',
    event: { type: 'KeepAliveMsg' },
    to: 'Idle',
    actions: ['sendNotification:5/1', ...ERROR_TO_IDLE],
  },
  {
    from: 'OpenSent',
    event: { type: 'UpdateMsgErr', error: updateErr },
    to: 'Idle',
    actions: ['sendNotification:5/1', ...ERROR_TO_IDLE],
  },
  { from: 'OpenSent', event: { type: 'ManualStop' }, to: 'Idle', actions: ['sendNotification:6/2', ...TO_IDLE] },
  {
    from: 'OpenSent',
    event: { type: 'ManualStop', cease: CEASE_SUBCODE.peerDeconfigured },
    to: 'Idle',
    actions: ['sendNotification:6/3', ...TO_IDLE],
  },
  {
    from: 'OpenSent',
    event: { type: 'OpenCollisionDump' },
    to: 'Idle',
    actions: ['sendNotification:6/7', ...ERROR_TO_IDLE],
  },
  {
    from: 'OpenSent',
    event: { type: 'ConnectionReplaced' },
    to: 'OpenSent',
    actions: [
      'sendNotification:6/7',
      'stopTimer:connectRetry',
      'stopTimer:hold',
      'stopTimer:keepalive',
      'drop',
      'startTimer:hold',
    ],
  },
  {
    from: 'OpenConfirm',
    event: { type: 'KeepAliveMsg' },
    to: 'Established',
    actions: ['startTimer:hold', 'established'],
  },
  {
    from: 'OpenConfirm',
    event: { type: 'KeepaliveTimerExpires' },
    to: 'OpenConfirm',
    actions: ['sendKeepalive', 'startTimer:keepalive'],
  },
  {
    from: 'OpenConfirm',
    event: { type: 'HoldTimerExpires' },
    to: 'Idle',
    actions: ['sendNotification:4/0', ...ERROR_TO_IDLE],
  },
  { from: 'OpenConfirm', event: { type: 'NotifMsg', code: 6, subcode: 2 }, to: 'Idle', actions: ERROR_TO_IDLE },
  { from: 'OpenConfirm', event: { type: 'TcpConnectionFails' }, to: 'Idle', actions: ERROR_TO_IDLE },
  // RFC 6608 §3: subcode 2 in OpenConfirm.
  {
    from: 'OpenConfirm',
    event: { type: 'UpdateMsg' },
    to: 'Idle',
    actions: ['sendNotification:5/2', ...ERROR_TO_IDLE],
  },
  {
    from: 'OpenConfirm',
    event: { type: 'BGPOpen', open: open() },
    to: 'Idle',
    actions: ['sendNotification:5/2', ...ERROR_TO_IDLE],
  },
  {
    from: 'OpenConfirm',
    event: { type: 'OpenCollisionDump' },
    to: 'Idle',
    actions: ['sendNotification:6/7', ...ERROR_TO_IDLE],
  },
  {
    from: 'OpenConfirm',
    event: { type: 'ConnectionReplaced' },
    to: 'OpenSent',
    actions: [
      'sendNotification:6/7',
      'stopTimer:connectRetry',
      'stopTimer:hold',
      'stopTimer:keepalive',
      'drop',
      'startTimer:hold',
    ],
  },
  { from: 'Established', event: { type: 'KeepAliveMsg' }, to: 'Established', actions: ['startTimer:hold'] },
  { from: 'Established', event: { type: 'UpdateMsg' }, to: 'Established', actions: ['startTimer:hold'] },
  {
    from: 'Established',
    event: { type: 'KeepaliveTimerExpires' },
    to: 'Established',
    actions: ['sendKeepalive', 'startTimer:keepalive'],
  },
  {
    from: 'Established',
    event: { type: 'HoldTimerExpires' },
    to: 'Idle',
    actions: ['sendNotification:4/0', ...ERROR_TO_IDLE],
  },
  {
    from: 'Established',
    event: { type: 'UpdateMsgErr', error: updateErr },
    to: 'Idle',
    actions: ['sendNotification:3/1', ...ERROR_TO_IDLE],
  },
  { from: 'Established', event: { type: 'TcpConnectionFails' }, to: 'Idle', actions: ERROR_TO_IDLE },
  { from: 'Established', event: { type: 'ManualStop' }, to: 'Idle', actions: ['sendNotification:6/2', ...TO_IDLE] },
  {
    from: 'Established',
    event: { type: 'ManualStop', cease: CEASE_SUBCODE.peerDeconfigured },
    to: 'Idle',
    actions: ['sendNotification:6/3', ...TO_IDLE],
  },
  // RFC 6608 §3: subcode 3 in Established.
  {
    from: 'Established',
    event: { type: 'BGPOpen', open: open() },
    to: 'Idle',
    actions: ['sendNotification:5/3', ...ERROR_TO_IDLE],
  },
  {
    from: 'Established',
    event: { type: 'OpenCollisionDump' },
    to: 'Idle',
    actions: ['sendNotification:6/7', ...ERROR_TO_IDLE],
  },
  // RFC 4724 §4.2: the restarted peer's new connection replaces this one, without a NOTIFICATION.
  {
    from: 'Established',
    event: { type: 'ConnectionReplaced' },
    to: 'OpenSent',
    actions: ['replaced', 'stopTimer:connectRetry', 'stopTimer:hold', 'stopTimer:keepalive', 'drop', 'startTimer:hold'],
  },
  { from: 'Established', event: { type: 'IdleHoldTimerExpires' }, to: 'Established', actions: [] },
];

const label = (a: FsmAction): string =>
  a.type === 'startTimer' || a.type === 'stopTimer'
    ? `${a.type}:${a.timer}`
    : a.type === 'sendNotification'
      ? `sendNotification:${a.code}/${a.subcode}`
      : a.type;

describe('bgp fsm: RFC 4271 section 8 transitions', () => {
  for (const tc of cases) {
    it(`${tc.from} + ${tc.event.type}${tc.event.type === 'ManualStop' && tc.event.cease ? `(${tc.event.cease})` : ''}${tc.config?.passive ? ' (passive)' : ''} -> ${tc.to}: ${tc.actions.join(', ') || 'nothing'}`, () => {
      const t = transition(tc.from === 'Idle' ? INITIAL : at(tc.from), tc.event, tc.config ?? cfg);
      expect(t.state.name).to.equal(tc.to);
      expect(t.actions.map(label)).to.deep.equal(tc.actions);
    });
  }

  it('waits for the OPEN with the large hold time (4 minutes), also on a connection that replaced another', () => {
    for (const [from, event] of [
      ['Connect', { type: 'TcpConnected' }],
      ['OpenConfirm', { type: 'ConnectionReplaced' }],
    ] as const) {
      expect(transition(at(from), event, cfg).actions).to.deep.include({
        type: 'startTimer',
        timer: 'hold',
        ms: LARGE_HOLD_TIME * 1000,
      });
    }
  });

  it('counts connect retries on errors and resets them once Established', () => {
    let s = transition(at('OpenSent'), { type: 'HoldTimerExpires' }, cfg).state;
    expect(s.connectRetryCounter).to.equal(1);
    s = transition({ ...at('OpenConfirm'), connectRetryCounter: 3 }, { type: 'KeepAliveMsg' }, cfg).state;
    expect(s.connectRetryCounter).to.equal(0);
  });
});

describe('bgp fsm: retry delays and the automatic restart', () => {
  // connectRetryTime 5 s, no jitter: 500 ms doubling per failure, capped at 5 s.
  const delays: { failures: number; ms: number }[] = [
    { failures: 0, ms: 500 },
    { failures: 1, ms: 1000 },
    { failures: 2, ms: 2000 },
    { failures: 3, ms: 4000 },
    { failures: 4, ms: 5000 },
    { failures: 9, ms: 5000 },
  ];
  for (const tc of delays) {
    it(`after ${tc.failures} failures the next attempt waits ${tc.ms} ms`, () => {
      expect(retryDelayMs(tc.failures, cfg)).to.equal(tc.ms);
    });
  }

  it('the jitter adds up to a fifth, from the configured random source', () => {
    expect(retryDelayMs(1, { ...cfg, connectRetryTime: 30, random: () => 1 })).to.equal(1200);
    expect(retryDelayMs(1, { ...cfg, connectRetryTime: 30, random: () => 0.5 })).to.equal(1100);
  });

  const counting: {
    name: string;
    from: FsmState;
    event: FsmEvent;
    failures: number;
    timer?: { timer: string; ms: number };
  }[] = [
    {
      name: 'a refused connect counts, and the retry waits longer',
      from: at('Connect', 1),
      event: { type: 'TcpConnectionFails' },
      failures: 2,
      timer: { timer: 'connectRetry', ms: 2000 },
    },
    {
      name: 'an unanswered connect (the retry timer fired in Connect) counts',
      from: at('Connect', 1),
      event: { type: 'ConnectRetryTimerExpires' },
      failures: 2,
      timer: { timer: 'connectRetry', ms: 2000 },
    },
    {
      name: 'the retry timer in Active (nothing in flight) does not count',
      from: at('Active', 1),
      event: { type: 'ConnectRetryTimerExpires' },
      failures: 1,
      timer: { timer: 'connectRetry', ms: 1000 },
    },
    {
      name: 'a lost session counts, and restarts after the grown delay',
      from: at('Established', 0),
      event: { type: 'HoldTimerExpires' },
      failures: 1,
      timer: { timer: 'idleHold', ms: 1000 },
    },
    {
      name: 'a peer closing in OpenSent does not count',
      from: at('OpenSent', 2),
      event: { type: 'TcpConnectionFails' },
      failures: 2,
      timer: { timer: 'connectRetry', ms: 2000 },
    },
    {
      name: 'a ManualStop counts, so a stop and start right after waits longer',
      from: at('Established', 0),
      event: { type: 'ManualStop' },
      failures: 1,
    },
    { name: 'Established clears the count', from: at('OpenConfirm', 4), event: { type: 'KeepAliveMsg' }, failures: 0 },
    {
      name: 'a passive session goes back to wait at once',
      from: at('OpenConfirm', 2),
      event: { type: 'NotifMsg', code: 6, subcode: 2 },
      failures: 3,
      timer: { timer: 'idleHold', ms: 0 },
    },
  ];
  for (const tc of counting) {
    it(tc.name, () => {
      const t = transition(tc.from, tc.event, tc.timer?.ms === 0 ? passive : cfg);
      expect(t.state.failures).to.equal(tc.failures);
      const started = t.actions.filter((a) => a.type === 'startTimer' && a.timer !== 'hold' && a.timer !== 'keepalive');
      expect(started).to.deep.equal(tc.timer ? [{ type: 'startTimer', ...tc.timer }] : []);
    });
  }

  it('ManualStop starts no automatic restart and clears the retry counter', () => {
    const t = transition({ ...at('Established'), connectRetryCounter: 2 }, { type: 'ManualStop' }, cfg);
    expect(t.actions.some((a) => a.type === 'startTimer')).to.equal(false);
    expect(t.state.connectRetryCounter).to.equal(0);
  });
});

describe('bgp fsm: down reasons', () => {
  const reasons: { from: FsmState; event: FsmEvent; reason: DownReason; text: string }[] = [
    { from: at('Established'), event: { type: 'ManualStop' }, reason: { kind: 'stopped', cease: 2 }, text: 'stopped' },
    {
      from: at('OpenSent'),
      event: { type: 'HoldTimerExpires' },
      reason: { kind: 'holdTimerExpired', state: 'OpenSent' },
      text: 'hold timer expired waiting for OPEN',
    },
    {
      from: at('OpenConfirm'),
      event: { type: 'HoldTimerExpires' },
      reason: { kind: 'holdTimerExpired', state: 'OpenConfirm' },
      text: 'hold timer expired in OpenConfirm',
    },
    {
      from: at('Established'),
      event: { type: 'HoldTimerExpires' },
      reason: { kind: 'holdTimerExpired', state: 'Established' },
      text: 'hold timer expired',
    },
    {
      from: at('OpenConfirm'),
      event: { type: 'TcpConnectionFails' },
      reason: { kind: 'connectionLost', state: 'OpenConfirm' },
      text: 'connection lost in OpenConfirm',
    },
    {
      from: at('Established'),
      event: { type: 'TcpConnectionFails' },
      reason: { kind: 'connectionLost', state: 'Established' },
      text: 'connection lost',
    },
    {
      from: at('Established'),
      event: { type: 'UpdateMsgErr', error: updateErr },
      reason: { kind: 'malformedMessage', error: updateErr },
      text: 'x',
    },
    {
      from: at('OpenSent'),
      event: { type: 'BGPOpen', open: open({ holdTime: 2 }) },
      reason: { kind: 'openRejected', code: 2, subcode: 6, reason: 'hold time 2' },
      text: 'hold time 2',
    },
    {
      from: at('Established'),
      event: { type: 'NotifMsg', code: 6, subcode: 3 },
      reason: { kind: 'peerNotification', code: 6, subcode: 3 },
      text: 'peer sent NOTIFICATION 6/3',
    },
    {
      from: at('Connect'),
      event: { type: 'KeepAliveMsg' },
      reason: { kind: 'unexpectedEvent', event: 'KeepAliveMsg', state: 'Connect' },
      text: 'unexpected KeepAliveMsg in Connect',
    },
    {
      from: at('OpenSent'),
      event: { type: 'OpenCollisionDump' },
      reason: { kind: 'collisionLost' },
      text: 'the other connection won the collision',
    },
  ];
  for (const tc of reasons) {
    it(`${tc.from.name} + ${tc.event.type}: ${tc.reason.kind} ("${tc.text}")`, () => {
      const down = transition(tc.from, tc.event, cfg).actions.filter((a) => a.type === 'down');
      expect(down).to.deep.equal([{ type: 'down', reason: tc.reason }]);
      expect(describeDown(tc.reason)).to.equal(tc.text);
    });
  }
});

describe('bgp notification subcodes (RFC 6608, RFC 4486)', () => {
  it('the FSM error subcode names the state that got the unexpected message', () => {
    expect(
      (['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'] as const).map(fsmErrorSubcode),
    ).to.deep.equal([0, 0, 0, 1, 2, 3]);
    expect(FSM_ERROR_SUBCODE).to.deep.equal({
      unspecified: 0,
      unexpectedInOpenSent: 1,
      unexpectedInOpenConfirm: 2,
      unexpectedInEstablished: 3,
    });
  });

  const names: { code: number; subcode: number; name: string }[] = [
    { code: 5, subcode: 1, name: 'Finite State Machine Error / Receive Unexpected Message in OpenSent State' },
    { code: 5, subcode: 3, name: 'Finite State Machine Error / Receive Unexpected Message in Established State' },
    { code: 5, subcode: 0, name: 'Finite State Machine Error / Unspecified Error' },
    { code: 6, subcode: 3, name: 'Cease / Peer De-configured' },
    { code: 6, subcode: 7, name: 'Cease / Connection Collision Resolution' },
    { code: 4, subcode: 0, name: 'Hold Timer Expired' },
    { code: 3, subcode: 6, name: 'UPDATE Message Error / subcode 6' },
    { code: 9, subcode: 1, name: 'code 9 / subcode 1' },
  ];
  for (const tc of names) {
    it(`${tc.code}/${tc.subcode} is "${tc.name}"`, () =>
      expect(notificationName(tc.code, tc.subcode)).to.equal(tc.name));
  }
});
