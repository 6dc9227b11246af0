/**
 * The BFD session state machine of RFC 5880 §6.2 and §6.8.6 as a pure transition function:
 * (state, event) -> (state, actions). The driver (session.ts) validates packets, runs the
 * timers and performs the actions; nothing here touches a socket or a clock.
 */
import { DIAG, type BfdState } from './packet.js';

export interface FsmState {
  readonly name: BfdState;
  /** bfd.LocalDiag: why the session last went down. */
  readonly diag: number;
}

export type FsmEvent =
  /** The session is configured to run (leaves AdminDown). */
  | { readonly type: 'Enable' }
  /** §6.8.16: taken down administratively (shutdown, peer removed). */
  | { readonly type: 'AdminDown' }
  /** A valid Control packet for this session, with the state it carried. */
  | { readonly type: 'Recv'; readonly remoteState: BfdState }
  /** §6.8.4: no valid packet within the Detection Time. */
  | { readonly type: 'DetectTimeout' };

export type FsmAction =
  /** Send a Control packet now, outside the periodic schedule (the state changed). */
  | { readonly type: 'sendNow' }
  | { readonly type: 'up' }
  /** Left Up (or Init) for Down or AdminDown, with the diagnostic. */
  | { readonly type: 'down'; readonly diag: number }
  /** §6.8.1: forget the remote discriminator (detection time passed while Down). */
  | { readonly type: 'forgetRemote' };

export interface Transition {
  readonly state: FsmState;
  readonly actions: readonly FsmAction[];
}

export const INITIAL: FsmState = { name: 'AdminDown', diag: DIAG.none };

function stay(s: FsmState): Transition {
  return { state: s, actions: [] };
}

function goDown(s: FsmState, diag: number): Transition {
  const actions: FsmAction[] = [{ type: 'sendNow' }];
  if (s.name === 'Up') actions.push({ type: 'down', diag });
  return { state: { name: 'Down', diag }, actions };
}

export function transition(s: FsmState, e: FsmEvent): Transition {
  switch (e.type) {
    case 'Enable':
      return s.name === 'AdminDown'
        ? { state: { name: 'Down', diag: DIAG.none }, actions: [{ type: 'sendNow' }] }
        : stay(s);
    case 'AdminDown': {
      if (s.name === 'AdminDown') return stay(s);
      const actions: FsmAction[] = [{ type: 'sendNow' }];
      if (s.name === 'Up') actions.push({ type: 'down', diag: DIAG.administrativelyDown });
      return { state: { name: 'AdminDown', diag: DIAG.administrativelyDown }, actions };
    }
    case 'DetectTimeout': {
      // §6.8.1: bfd.RemoteDiscr is set to zero whenever a Detection Time passes in silence.
      if (s.name === 'AdminDown') return stay(s);
      const t = s.name === 'Down' ? stay(s) : goDown(s, DIAG.controlDetectionTimeExpired);
      return { state: t.state, actions: [...t.actions, { type: 'forgetRemote' }] };
    }
    case 'Recv':
      // §6.8.6: "If bfd.SessionState is AdminDown: discard the packet".
      if (s.name === 'AdminDown') return stay(s);
      if (e.remoteState === 'AdminDown')
        return s.name === 'Down' ? stay(s) : goDown(s, DIAG.neighborSignaledSessionDown);
      switch (s.name) {
        case 'Down':
          if (e.remoteState === 'Down')
            return { state: { name: 'Init', diag: s.diag }, actions: [{ type: 'sendNow' }] };
          if (e.remoteState === 'Init')
            return { state: { name: 'Up', diag: DIAG.none }, actions: [{ type: 'sendNow' }, { type: 'up' }] };
          return stay(s);
        case 'Init':
          if (e.remoteState === 'Init' || e.remoteState === 'Up')
            return { state: { name: 'Up', diag: DIAG.none }, actions: [{ type: 'sendNow' }, { type: 'up' }] };
          return stay(s);
        case 'Up':
          return e.remoteState === 'Down' ? goDown(s, DIAG.neighborSignaledSessionDown) : stay(s);
      }
  }
}
