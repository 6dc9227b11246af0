/**
 * The BGP finite state machine of RFC 4271 §8 as a pure transition function:
 * (state, event, config) -> (state, actions). A driver performs the actions (connect, send,
 * timers) and feeds back events; nothing here touches a socket or a clock. Everything the
 * session decides is here: the retry delays, the automatic restart after an error (§8.1.1
 * AutomaticStart, timed by the IdleHoldTimer), a connection replaced after a collision
 * (§6.8), and why a session went down.
 */
import { backoffDelay } from '../../src/core/backoff.js';
import { ERR_CEASE, ERR_FSM, ERR_HOLD_TIMER_EXPIRED, type OpenMessage, type SessionResetError } from './messages.js';
import { negotiate, type NegotiationConfig, type Negotiated } from './negotiate.js';
import { CEASE_SUBCODE, FSM_ERROR_SUBCODE, type CeaseSubcode, type FsmErrorSubcode } from './notification.js';

export type FsmStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** RFC 4271 §8's timers; `idleHold` delays the automatic restart after an error (§8.1.1). */
export type Timer = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

export interface FsmConfig extends NegotiationConfig {
  /** Seconds: the longest wait between connection attempts (the first ones are shorter). */
  readonly connectRetryTime: number;
  /** PassiveTcpEstablishment (§8.1.1): never connect out, wait in Active for the peer. */
  readonly passive?: boolean;
  /** 0..1, the jitter of the retry delays; absent: none (the delays are then exact). */
  readonly random?: () => number;
}

export interface FsmState {
  readonly name: FsmStateName;
  /** §8: errors since the last Established or ManualStop. */
  readonly connectRetryCounter: number;
  /**
   * Failed connects, unanswered connects and lost sessions since the last Established (a
   * ManualStop does not clear it): the retry delays grow with it.
   */
  readonly failures: number;
  readonly negotiated?: Negotiated;
}

export type FsmEvent =
  | { readonly type: 'ManualStart' }
  /** `cease`: the Cease subcode sent when a connection is up (default Administrative Shutdown). */
  | { readonly type: 'ManualStop'; readonly cease?: CeaseSubcode }
  | { readonly type: 'ConnectRetryTimerExpires' }
  | { readonly type: 'HoldTimerExpires' }
  | { readonly type: 'KeepaliveTimerExpires' }
  /** Event 13; in Idle it is the AutomaticStart (event 3) after an error. */
  | { readonly type: 'IdleHoldTimerExpires' }
  /** Our outbound connection completed (Tcp_CR_Acked) or we accepted one (TcpConnectionConfirmed). */
  | { readonly type: 'TcpConnected' }
  | { readonly type: 'TcpConnectionFails' }
  | { readonly type: 'BGPOpen'; readonly open: OpenMessage }
  /** A header or OPEN error found by the codec or the framer (events 21, 22). */
  | { readonly type: 'MessageError'; readonly error: SessionResetError }
  | { readonly type: 'NotifMsg'; readonly code: number; readonly subcode: number }
  | { readonly type: 'KeepAliveMsg' }
  | { readonly type: 'UpdateMsg' }
  | { readonly type: 'UpdateMsgErr'; readonly error: SessionResetError }
  /** Event 23: this connection lost a collision (§6.8). */
  | { readonly type: 'OpenCollisionDump' }
  /**
   * The collision's other connection won (§6.8), or a restarted peer's new connection
   * replaces an Established one (RFC 4724 §4.2): this connection goes, and the session goes
   * on in OpenSent on the winner, whose OPEN the driver then delivers as BGPOpen.
   */
  | { readonly type: 'ConnectionReplaced' };

/** Why a session went down: what the status and the logs say, and what tests assert. */
export type DownReason =
  | { readonly kind: 'stopped'; readonly cease: CeaseSubcode }
  | { readonly kind: 'holdTimerExpired'; readonly state: 'OpenSent' | 'OpenConfirm' | 'Established' }
  | { readonly kind: 'connectionLost'; readonly state: 'OpenConfirm' | 'Established' }
  /** The peer's message was malformed (or the decoder failed on it: `error.kind`). */
  | { readonly kind: 'malformedMessage'; readonly error: SessionResetError }
  | { readonly kind: 'openRejected'; readonly code: number; readonly subcode: number; readonly reason: string }
  | { readonly kind: 'peerNotification'; readonly code: number; readonly subcode: number }
  | { readonly kind: 'unexpectedEvent'; readonly event: FsmEvent['type']; readonly state: FsmStateName }
  | { readonly kind: 'collisionLost' };

/** The reason as one line (BGPSessionState's lastError). */
export function describeDown(r: DownReason): string {
  switch (r.kind) {
    case 'stopped':
      return 'stopped';
    case 'holdTimerExpired':
      return r.state === 'OpenSent'
        ? 'hold timer expired waiting for OPEN'
        : r.state === 'OpenConfirm'
          ? 'hold timer expired in OpenConfirm'
          : 'hold timer expired';
    case 'connectionLost':
      return r.state === 'OpenConfirm' ? 'connection lost in OpenConfirm' : 'connection lost';
    case 'malformedMessage':
      return r.error.reason;
    case 'openRejected':
      return r.reason;
    case 'peerNotification':
      return `peer sent NOTIFICATION ${r.code}/${r.subcode}`;
    case 'unexpectedEvent':
      return `unexpected ${r.event} in ${r.state}`;
    case 'collisionLost':
      return 'the other connection won the collision';
  }
}

export type FsmAction =
  | { readonly type: 'connect' }
  | { readonly type: 'drop' }
  | { readonly type: 'sendOpen' }
  | { readonly type: 'sendKeepalive' }
  | { readonly type: 'sendNotification'; readonly code: number; readonly subcode: number; readonly data?: Buffer }
  | { readonly type: 'startTimer'; readonly timer: Timer; readonly ms: number }
  | { readonly type: 'stopTimer'; readonly timer: Timer }
  | { readonly type: 'established'; readonly negotiated: Negotiated }
  /** An Established session was replaced by the restarted peer's new connection: its routes are gone. */
  | { readonly type: 'replaced' }
  | { readonly type: 'down'; readonly reason: DownReason };

export interface Transition {
  readonly state: FsmState;
  readonly actions: readonly FsmAction[];
}

/** §4.2 / §10: the large hold time used while waiting for the peer's OPEN. */
export const LARGE_HOLD_TIME = 240;

export const INITIAL: FsmState = { name: 'Idle', connectRetryCounter: 0, failures: 0 };

/** The first retry delay; it doubles with every failure up to connectRetryTime. */
const RETRY_BASE_MS = 500;

/** How long to wait before the next attempt after `failures` failures: jittered, doubling, capped. */
export function retryDelayMs(failures: number, cfg: FsmConfig): number {
  return backoffDelay(
    failures,
    { baseMs: RETRY_BASE_MS, maxMs: Math.max(1000, cfg.connectRetryTime * 1000) },
    cfg.random ?? (() => 0),
  );
}

/** The RFC 6608 subcode for an unexpected message received in `state`. */
export function fsmErrorSubcode(state: FsmStateName): FsmErrorSubcode {
  switch (state) {
    case 'OpenSent':
      return FSM_ERROR_SUBCODE.unexpectedInOpenSent;
    case 'OpenConfirm':
      return FSM_ERROR_SUBCODE.unexpectedInOpenConfirm;
    case 'Established':
      return FSM_ERROR_SUBCODE.unexpectedInEstablished;
    default:
      return FSM_ERROR_SUBCODE.unspecified;
  }
}

function to(name: FsmStateName, s: FsmState, actions: FsmAction[], extra: Partial<FsmState> = {}): Transition {
  const next: FsmState = {
    connectRetryCounter: s.connectRetryCounter,
    failures: s.failures,
    ...(s.negotiated && name === 'Established' ? { negotiated: s.negotiated } : {}),
    ...extra,
    name,
  };
  return { state: next, actions };
}

const stay = (s: FsmState): Transition => ({ state: s, actions: [] });

const STOP_ALL: FsmAction[] = [
  { type: 'stopTimer', timer: 'connectRetry' },
  { type: 'stopTimer', timer: 'hold' },
  { type: 'stopTimer', timer: 'keepalive' },
];

const waitForOpen: FsmAction = { type: 'startTimer', timer: 'hold', ms: LARGE_HOLD_TIME * 1000 };

/** After a failed connection: wait in Active; an active peer connects again when ConnectRetry expires. */
function retryLater(failures: number, cfg: FsmConfig): FsmAction[] {
  return cfg.passive
    ? [{ type: 'drop' }]
    : [{ type: 'drop' }, { type: 'startTimer', timer: 'connectRetry', ms: retryDelayMs(failures, cfg) }];
}

/** Out of Idle (ManualStart, or AutomaticStart when the IdleHoldTimer expires). */
function leaveIdle(s: FsmState, cfg: FsmConfig): Transition {
  if (cfg.passive) return to('Active', s, []);
  return to('Connect', s, [
    { type: 'startTimer', timer: 'connectRetry', ms: retryDelayMs(s.failures, cfg) },
    { type: 'connect' },
  ]);
}

/**
 * Back to Idle after an error: drop, count, tell the driver (§8.2.2 "release all resources"),
 * and restart automatically once the IdleHoldTimer expires (at once for a passive session,
 * which only waits in Active).
 */
function toIdle(
  s: FsmState,
  reason: DownReason,
  cfg: FsmConfig,
  notify?: { code: number; subcode: number; data?: Buffer },
): Transition {
  const failures = s.failures + 1;
  const actions: FsmAction[] = [];
  if (notify) actions.push({ type: 'sendNotification', ...notify });
  actions.push(
    ...STOP_ALL,
    { type: 'drop' },
    { type: 'down', reason },
    { type: 'startTimer', timer: 'idleHold', ms: cfg.passive ? 0 : retryDelayMs(failures, cfg) },
  );
  return { state: { name: 'Idle', connectRetryCounter: s.connectRetryCounter + 1, failures }, actions };
}

const malformed = (s: FsmState, error: SessionResetError, cfg: FsmConfig): Transition =>
  toIdle(s, { kind: 'malformedMessage', error }, cfg, { code: error.code, subcode: error.subcode, data: error.data });

const peerNotified = (s: FsmState, e: { code: number; subcode: number }, cfg: FsmConfig): Transition =>
  toIdle(s, { kind: 'peerNotification', code: e.code, subcode: e.subcode }, cfg);

const collisionLost = (s: FsmState, cfg: FsmConfig): Transition =>
  toIdle(s, { kind: 'collisionLost' }, cfg, { code: ERR_CEASE, subcode: CEASE_SUBCODE.connectionCollisionResolution });

/** OpenSent or OpenConfirm: the other connection of a collision won; ours is closed with Cease. */
function replacedBeforeEstablished(s: FsmState): Transition {
  return to('OpenSent', s, [
    { type: 'sendNotification', code: ERR_CEASE, subcode: CEASE_SUBCODE.connectionCollisionResolution },
    ...STOP_ALL,
    { type: 'drop' },
    waitForOpen,
  ]);
}

function unexpected(s: FsmState, e: FsmEvent, cfg: FsmConfig): Transition {
  return toIdle(s, { kind: 'unexpectedEvent', event: e.type, state: s.name }, cfg, {
    code: ERR_FSM,
    subcode: fsmErrorSubcode(s.name),
  });
}

function stop(s: FsmState, cease: CeaseSubcode): Transition {
  if (s.name === 'Idle') return { state: s, actions: [{ type: 'stopTimer', timer: 'idleHold' }] };
  const notify =
    s.name === 'OpenSent' || s.name === 'OpenConfirm' || s.name === 'Established'
      ? [{ type: 'sendNotification' as const, code: ERR_CEASE, subcode: cease }]
      : [];
  return {
    state: { name: 'Idle', connectRetryCounter: 0, failures: s.failures + 1 },
    actions: [...notify, ...STOP_ALL, { type: 'drop' }, { type: 'down', reason: { kind: 'stopped', cease } }],
  };
}

export function transition(s: FsmState, e: FsmEvent, cfg: FsmConfig): Transition {
  if (e.type === 'ManualStop') return stop(s, e.cease ?? CEASE_SUBCODE.administrativeShutdown);
  // Starting a session that runs changes nothing; a stale IdleHoldTimer neither.
  if (s.name !== 'Idle' && (e.type === 'ManualStart' || e.type === 'IdleHoldTimerExpires')) return stay(s);
  switch (s.name) {
    case 'Idle':
      return e.type === 'ManualStart' || e.type === 'IdleHoldTimerExpires' ? leaveIdle(s, cfg) : stay(s);

    case 'Connect':
    case 'Active':
      switch (e.type) {
        case 'ConnectRetryTimerExpires': {
          if (cfg.passive) return to('Active', s, []);
          // In Connect, the attempt in flight went unanswered: it counts as a failure.
          const failures = s.failures + (s.name === 'Connect' ? 1 : 0);
          return to(
            'Connect',
            s,
            [
              { type: 'drop' },
              { type: 'startTimer', timer: 'connectRetry', ms: retryDelayMs(failures, cfg) },
              { type: 'connect' },
            ],
            { failures },
          );
        }
        case 'TcpConnected':
          return to('OpenSent', s, [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'sendOpen' }, waitForOpen]);
        case 'TcpConnectionFails':
          return to('Active', s, retryLater(s.failures + 1, cfg), { failures: s.failures + 1 });
        case 'ConnectionReplaced':
          return to('OpenSent', s, [{ type: 'stopTimer', timer: 'connectRetry' }, waitForOpen]);
        case 'MessageError':
          return malformed(s, e.error, cfg);
        case 'NotifMsg':
          return peerNotified(s, e, cfg);
        default:
          return toIdle(s, { kind: 'unexpectedEvent', event: e.type, state: s.name }, cfg);
      }

    case 'OpenSent':
      switch (e.type) {
        case 'BGPOpen': {
          const n = negotiate(e.open, cfg);
          if (!n.ok)
            return toIdle(s, { kind: 'openRejected', code: n.code, subcode: n.subcode, reason: n.reason }, cfg, {
              code: n.code,
              subcode: n.subcode,
              ...(n.data ? { data: n.data } : {}),
            });
          const timers: FsmAction[] =
            n.negotiated.holdTime > 0
              ? [
                  { type: 'startTimer', timer: 'keepalive', ms: n.negotiated.keepaliveTime * 1000 },
                  { type: 'startTimer', timer: 'hold', ms: n.negotiated.holdTime * 1000 },
                ]
              : [{ type: 'stopTimer', timer: 'hold' }];
          return to(
            'OpenConfirm',
            s,
            [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'sendKeepalive' }, ...timers],
            { negotiated: n.negotiated },
          );
        }
        case 'HoldTimerExpires':
          return toIdle(s, { kind: 'holdTimerExpired', state: 'OpenSent' }, cfg, {
            code: ERR_HOLD_TIMER_EXPIRED,
            subcode: 0,
          });
        case 'TcpConnectionFails':
          return to('Active', s, [{ type: 'stopTimer', timer: 'hold' }, ...retryLater(s.failures, cfg)]);
        case 'MessageError':
          return malformed(s, e.error, cfg);
        case 'NotifMsg':
          return peerNotified(s, e, cfg);
        case 'OpenCollisionDump':
          return collisionLost(s, cfg);
        case 'ConnectionReplaced':
          return replacedBeforeEstablished(s);
        default:
          return unexpected(s, e, cfg);
      }

    case 'OpenConfirm': {
      const n = s.negotiated!;
      switch (e.type) {
        case 'KeepAliveMsg': {
          const hold: FsmAction[] =
            n.holdTime > 0 ? [{ type: 'startTimer', timer: 'hold', ms: n.holdTime * 1000 }] : [];
          return to('Established', s, [...hold, { type: 'established', negotiated: n }], {
            negotiated: n,
            connectRetryCounter: 0,
            failures: 0,
          });
        }
        case 'KeepaliveTimerExpires':
          return {
            state: s,
            actions: [
              { type: 'sendKeepalive' },
              { type: 'startTimer', timer: 'keepalive', ms: n.keepaliveTime * 1000 },
            ],
          };
        case 'HoldTimerExpires':
          return toIdle(s, { kind: 'holdTimerExpired', state: 'OpenConfirm' }, cfg, {
            code: ERR_HOLD_TIMER_EXPIRED,
            subcode: 0,
          });
        case 'TcpConnectionFails':
          return toIdle(s, { kind: 'connectionLost', state: 'OpenConfirm' }, cfg);
        case 'MessageError':
          return malformed(s, e.error, cfg);
        case 'NotifMsg':
          return peerNotified(s, e, cfg);
        case 'OpenCollisionDump':
          return collisionLost(s, cfg);
        case 'ConnectionReplaced':
          return replacedBeforeEstablished(s);
        default:
          return unexpected(s, e, cfg);
      }
    }

    case 'Established': {
      const n = s.negotiated!;
      switch (e.type) {
        case 'KeepAliveMsg':
        case 'UpdateMsg':
          return {
            state: s,
            actions: n.holdTime > 0 ? [{ type: 'startTimer', timer: 'hold', ms: n.holdTime * 1000 }] : [],
          };
        case 'KeepaliveTimerExpires':
          return {
            state: s,
            actions: [
              { type: 'sendKeepalive' },
              { type: 'startTimer', timer: 'keepalive', ms: n.keepaliveTime * 1000 },
            ],
          };
        case 'HoldTimerExpires':
          return toIdle(s, { kind: 'holdTimerExpired', state: 'Established' }, cfg, {
            code: ERR_HOLD_TIMER_EXPIRED,
            subcode: 0,
          });
        case 'TcpConnectionFails':
          return toIdle(s, { kind: 'connectionLost', state: 'Established' }, cfg);
        case 'UpdateMsgErr':
        case 'MessageError':
          return malformed(s, e.error, cfg);
        case 'NotifMsg':
          return peerNotified(s, e, cfg);
        case 'OpenCollisionDump':
          return collisionLost(s, cfg);
        case 'ConnectionReplaced':
          // RFC 4724 §4.2: the restarted peer's new connection; the old one closes without a NOTIFICATION.
          return to('OpenSent', s, [{ type: 'replaced' }, ...STOP_ALL, { type: 'drop' }, waitForOpen]);
        default:
          return unexpected(s, e, cfg);
      }
    }
  }
}
