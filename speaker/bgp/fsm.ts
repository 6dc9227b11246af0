/**
 * The BGP finite state machine of RFC 4271 §8 as a pure transition function:
 * (state, event, config) -> (state, actions). A driver performs the actions (connect, send,
 * timers) and feeds back events; nothing here touches a socket or a clock.
 */
import { AS_TRANS, CEASE_ADMIN_SHUTDOWN, ERR_CEASE, ERR_FSM, ERR_HOLD_TIMER_EXPIRED, ERR_OPEN, ERR_OPEN_BAD_BGP_ID, ERR_OPEN_BAD_PEER_AS, ERR_OPEN_UNACCEPTABLE_HOLD, type Capabilities, type DecodeError, type Family, type OpenMessage } from './messages.js';

export type FsmStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export type Timer = 'connectRetry' | 'hold' | 'keepalive';

export interface Negotiated {
  readonly peerAs: number;
  readonly peerId: string;
  readonly holdTime: number;
  readonly keepaliveTime: number;
  readonly fourOctetAs: boolean;
  readonly extendedMessage: boolean;
  readonly families: readonly Family[];
  readonly routeRefresh: boolean;
  readonly peerGracefulRestart: boolean;
  readonly ibgp: boolean;
}

export interface FsmConfig {
  readonly myAsn: number;
  readonly peerAsn?: number;
  readonly dynamicAsn?: 'internal' | 'external';
  readonly routerId: string;
  /** Seconds; 0 disables the hold timer and keepalives. */
  readonly holdTime: number;
  /** Seconds; defaults to a third of the negotiated hold time. */
  readonly keepaliveTime?: number;
  readonly connectRetryTime: number;
  readonly capabilities: Capabilities;
  /** PassiveTcpEstablishment (§8.1.1): never connect out, wait in Active for the peer. */
  readonly passive?: boolean;
}

export interface FsmState {
  readonly name: FsmStateName;
  readonly connectRetryCounter: number;
  readonly negotiated?: Negotiated;
}

export type FsmEvent =
  | { readonly type: 'ManualStart' }
  | { readonly type: 'ManualStop' }
  | { readonly type: 'ConnectRetryTimerExpires' }
  | { readonly type: 'HoldTimerExpires' }
  | { readonly type: 'KeepaliveTimerExpires' }
  /** Our outbound connection completed (Tcp_CR_Acked) or we accepted one (TcpConnectionConfirmed). */
  | { readonly type: 'TcpConnected' }
  | { readonly type: 'TcpConnectionFails' }
  | { readonly type: 'BGPOpen'; readonly open: OpenMessage }
  /** A header or OPEN error found by the codec. */
  | { readonly type: 'MessageError'; readonly error: DecodeError }
  | { readonly type: 'NotifMsg'; readonly code: number; readonly subcode: number }
  | { readonly type: 'KeepAliveMsg' }
  | { readonly type: 'UpdateMsg' }
  | { readonly type: 'UpdateMsgErr'; readonly error: DecodeError };

export type FsmAction =
  | { readonly type: 'connect' }
  | { readonly type: 'drop' }
  | { readonly type: 'sendOpen' }
  | { readonly type: 'sendKeepalive' }
  | { readonly type: 'sendNotification'; readonly code: number; readonly subcode: number; readonly data?: Buffer }
  | { readonly type: 'startTimer'; readonly timer: Timer; readonly seconds: number }
  | { readonly type: 'stopTimer'; readonly timer: Timer }
  | { readonly type: 'established'; readonly negotiated: Negotiated }
  | { readonly type: 'down'; readonly reason: string };

export interface Transition {
  readonly state: FsmState;
  readonly actions: readonly FsmAction[];
}

/** §4.2 / §10: the large hold time used while waiting for the peer's OPEN. */
export const LARGE_HOLD_TIME = 240;

export const INITIAL: FsmState = { name: 'Idle', connectRetryCounter: 0 };

function to(name: FsmStateName, s: FsmState, actions: FsmAction[], extra: Partial<FsmState> = {}): Transition {
  const next: FsmState = { connectRetryCounter: s.connectRetryCounter, ...(s.negotiated && name === 'Established' ? { negotiated: s.negotiated } : {}), ...extra, name };
  return { state: next, actions };
}

const STOP_ALL: FsmAction[] = [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'stopTimer', timer: 'hold' }, { type: 'stopTimer', timer: 'keepalive' }];

/** After a failed connection: wait in Active; an active peer connects again when ConnectRetry expires. */
function retryLater(cfg: FsmConfig): FsmAction[] {
  return cfg.passive ? [{ type: 'drop' }] : [{ type: 'drop' }, { type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetryTime }];
}

/** Back to Idle after an error: drop, count, tell the driver (§8.2.2 "release all resources"). */
function toIdle(s: FsmState, reason: string, notify?: { code: number; subcode: number; data?: Buffer }): Transition {
  const actions: FsmAction[] = [];
  if (notify) actions.push({ type: 'sendNotification', ...notify });
  actions.push(...STOP_ALL, { type: 'drop' }, { type: 'down', reason });
  return { state: { name: 'Idle', connectRetryCounter: s.connectRetryCounter + 1 }, actions };
}

/** Validates the peer's OPEN and negotiates the session parameters (§6.2, RFC 6793, RFC 5492). */
export function negotiate(open: OpenMessage, cfg: FsmConfig): { ok: true; negotiated: Negotiated } | { ok: false; code: number; subcode: number; data?: Buffer; reason: string } {
  const peerAs = open.capabilities.fourOctetAs ?? open.myAs;
  if (open.capabilities.fourOctetAs !== undefined && open.myAs !== AS_TRANS && open.myAs !== open.capabilities.fourOctetAs && open.capabilities.fourOctetAs <= 0xffff) {
    return { ok: false, code: ERR_OPEN, subcode: ERR_OPEN_BAD_PEER_AS, reason: `My AS ${open.myAs} disagrees with the 4-octet AS capability ${open.capabilities.fourOctetAs}` };
  }
  let ibgp: boolean;
  if (cfg.peerAsn !== undefined) {
    if (peerAs !== cfg.peerAsn) return { ok: false, code: ERR_OPEN, subcode: ERR_OPEN_BAD_PEER_AS, reason: `peer AS ${peerAs} is not the configured ${cfg.peerAsn}` };
    ibgp = peerAs === cfg.myAsn;
  } else {
    ibgp = peerAs === cfg.myAsn;
    if ((cfg.dynamicAsn === 'internal') !== ibgp) return { ok: false, code: ERR_OPEN, subcode: ERR_OPEN_BAD_PEER_AS, reason: `peer AS ${peerAs} is not ${cfg.dynamicAsn ?? 'external'} to ${cfg.myAsn}` };
  }
  if (open.bgpId === '0.0.0.0' || (ibgp && open.bgpId === cfg.routerId)) {
    return { ok: false, code: ERR_OPEN, subcode: ERR_OPEN_BAD_BGP_ID, reason: `unacceptable BGP identifier ${open.bgpId}` };
  }
  if (open.holdTime === 1 || open.holdTime === 2) return { ok: false, code: ERR_OPEN, subcode: ERR_OPEN_UNACCEPTABLE_HOLD, reason: `hold time ${open.holdTime}` };
  const holdTime = Math.min(open.holdTime, cfg.holdTime);
  // The configured keepalive stands while the hold time is ours (the CRD keeps it below the
  // hold time); a peer that imposes a smaller hold time gets a third of it, as RFC 4271 §4.4
  // suggests, or the configured value if that is smaller still.
  const third = Math.max(1, Math.floor(holdTime / 3));
  const keepaliveTime = holdTime === 0 ? 0 : cfg.keepaliveTime !== undefined && holdTime >= cfg.holdTime ? Math.max(1, Math.min(cfg.keepaliveTime, holdTime - 1)) : Math.min(cfg.keepaliveTime ?? third, third);
  const ours = cfg.capabilities.multiprotocol;
  // Without multiprotocol capabilities on either side, IPv4 unicast is implied (RFC 4760 §8).
  const theirs = open.capabilities.multiprotocol.length > 0 ? open.capabilities.multiprotocol : [{ afi: 1, safi: 1 }];
  const families = (ours.length > 0 ? ours : [{ afi: 1, safi: 1 }]).filter((f) => theirs.some((t) => t.afi === f.afi && t.safi === f.safi));
  return {
    ok: true,
    negotiated: {
      peerAs,
      peerId: open.bgpId,
      holdTime,
      keepaliveTime,
      fourOctetAs: cfg.capabilities.fourOctetAs !== undefined && open.capabilities.fourOctetAs !== undefined,
      extendedMessage: cfg.capabilities.extendedMessage && open.capabilities.extendedMessage,
      families,
      routeRefresh: open.capabilities.routeRefresh,
      peerGracefulRestart: open.capabilities.gracefulRestart !== undefined,
      ibgp,
    },
  };
}

export function transition(s: FsmState, e: FsmEvent, cfg: FsmConfig): Transition {
  if (e.type === 'ManualStop') {
    if (s.name === 'Idle') return { state: s, actions: [] };
    const notify = s.name === 'OpenSent' || s.name === 'OpenConfirm' || s.name === 'Established' ? [{ type: 'sendNotification' as const, code: ERR_CEASE, subcode: CEASE_ADMIN_SHUTDOWN }] : [];
    return { state: { name: 'Idle', connectRetryCounter: 0 }, actions: [...notify, ...STOP_ALL, { type: 'drop' }, { type: 'down', reason: 'stopped' }] };
  }
  switch (s.name) {
    case 'Idle':
      if (e.type === 'ManualStart') {
        if (cfg.passive) return to('Active', s, []);
        return to('Connect', s, [{ type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetryTime }, { type: 'connect' }]);
      }
      return { state: s, actions: [] };

    case 'Connect':
    case 'Active':
      switch (e.type) {
        case 'ManualStart':
          return { state: s, actions: [] };
        case 'ConnectRetryTimerExpires':
          if (cfg.passive) return to('Active', s, []);
          return to('Connect', s, [{ type: 'drop' }, { type: 'startTimer', timer: 'connectRetry', seconds: cfg.connectRetryTime }, { type: 'connect' }]);
        case 'TcpConnected':
          return to('OpenSent', s, [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'sendOpen' }, { type: 'startTimer', timer: 'hold', seconds: LARGE_HOLD_TIME }]);
        case 'TcpConnectionFails':
          return to('Active', s, retryLater(cfg));
        case 'MessageError':
          return toIdle(s, e.error.reason, { code: e.error.code, subcode: e.error.subcode, data: e.error.data });
        case 'NotifMsg':
          return toIdle(s, `peer sent NOTIFICATION ${e.code}/${e.subcode}`);
        default:
          return toIdle(s, `unexpected ${e.type} in ${s.name}`);
      }

    case 'OpenSent':
      switch (e.type) {
        case 'ManualStart':
          return { state: s, actions: [] };
        case 'BGPOpen': {
          const n = negotiate(e.open, cfg);
          if (!n.ok) return toIdle(s, n.reason, { code: n.code, subcode: n.subcode, ...(n.data ? { data: n.data } : {}) });
          const timers: FsmAction[] = n.negotiated.holdTime > 0
            ? [{ type: 'startTimer', timer: 'keepalive', seconds: n.negotiated.keepaliveTime }, { type: 'startTimer', timer: 'hold', seconds: n.negotiated.holdTime }]
            : [{ type: 'stopTimer', timer: 'hold' }];
          return to('OpenConfirm', s, [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'sendKeepalive' }, ...timers], { negotiated: n.negotiated });
        }
        case 'HoldTimerExpires':
          return toIdle(s, 'hold timer expired waiting for OPEN', { code: ERR_HOLD_TIMER_EXPIRED, subcode: 0 });
        case 'TcpConnectionFails':
          return to('Active', s, [{ type: 'stopTimer', timer: 'hold' }, ...retryLater(cfg)]);
        case 'MessageError':
          return toIdle(s, e.error.reason, { code: e.error.code, subcode: e.error.subcode, data: e.error.data });
        case 'NotifMsg':
          return toIdle(s, `peer sent NOTIFICATION ${e.code}/${e.subcode}`);
        default:
          return toIdle(s, `unexpected ${e.type} in OpenSent`, { code: ERR_FSM, subcode: 1 });
      }

    case 'OpenConfirm':
      switch (e.type) {
        case 'ManualStart':
          return { state: s, actions: [] };
        case 'KeepAliveMsg': {
          const n = s.negotiated!;
          const hold: FsmAction[] = n.holdTime > 0 ? [{ type: 'startTimer', timer: 'hold', seconds: n.holdTime }] : [];
          return to('Established', s, [...hold, { type: 'established', negotiated: n }], { negotiated: n, connectRetryCounter: 0 });
        }
        case 'KeepaliveTimerExpires': {
          const n = s.negotiated!;
          return { state: s, actions: [{ type: 'sendKeepalive' }, { type: 'startTimer', timer: 'keepalive', seconds: n.keepaliveTime }] };
        }
        case 'HoldTimerExpires':
          return toIdle(s, 'hold timer expired in OpenConfirm', { code: ERR_HOLD_TIMER_EXPIRED, subcode: 0 });
        case 'TcpConnectionFails':
          return toIdle(s, 'connection lost in OpenConfirm');
        case 'MessageError':
          return toIdle(s, e.error.reason, { code: e.error.code, subcode: e.error.subcode, data: e.error.data });
        case 'NotifMsg':
          return toIdle(s, `peer sent NOTIFICATION ${e.code}/${e.subcode}`);
        default:
          return toIdle(s, `unexpected ${e.type} in OpenConfirm`, { code: ERR_FSM, subcode: 2 });
      }

    case 'Established':
      switch (e.type) {
        case 'ManualStart':
          return { state: s, actions: [] };
        case 'KeepAliveMsg':
        case 'UpdateMsg': {
          const n = s.negotiated!;
          return { state: s, actions: n.holdTime > 0 ? [{ type: 'startTimer', timer: 'hold', seconds: n.holdTime }] : [] };
        }
        case 'KeepaliveTimerExpires': {
          const n = s.negotiated!;
          return { state: s, actions: [{ type: 'sendKeepalive' }, { type: 'startTimer', timer: 'keepalive', seconds: n.keepaliveTime }] };
        }
        case 'HoldTimerExpires':
          return toIdle(s, 'hold timer expired', { code: ERR_HOLD_TIMER_EXPIRED, subcode: 0 });
        case 'TcpConnectionFails':
          return toIdle(s, 'connection lost');
        case 'UpdateMsgErr':
        case 'MessageError':
          return toIdle(s, e.error.reason, { code: e.error.code, subcode: e.error.subcode, data: e.error.data });
        case 'NotifMsg':
          return toIdle(s, `peer sent NOTIFICATION ${e.code}/${e.subcode}`);
        default:
          return toIdle(s, `unexpected ${e.type} in Established`, { code: ERR_FSM, subcode: 3 });
      }
  }
}
