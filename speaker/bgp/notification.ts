/**
 * NOTIFICATION subcodes as tables (RFC 4271 §4.5 codes): the Finite State Machine Error
 * subcodes of RFC 6608 §3 and the Cease subcodes of RFC 4486 §4, with the names operators
 * read in a router's log. Pure data; the FSM picks from them, logs name them.
 */
import { ERR_CEASE, ERR_FSM, ERR_HEADER, ERR_HOLD_TIMER_EXPIRED, ERR_OPEN, ERR_UPDATE } from './messages.js';

/**
 * RFC 6608 §3: which state received the unexpected message. RFC 4271 left the subcode at 0
 * (Unspecified), which RFC 6608 keeps for everything else.
 */
export const FSM_ERROR_SUBCODE = {
  unspecified: 0,
  unexpectedInOpenSent: 1,
  unexpectedInOpenConfirm: 2,
  unexpectedInEstablished: 3,
} as const;

export type FsmErrorSubcode = (typeof FSM_ERROR_SUBCODE)[keyof typeof FSM_ERROR_SUBCODE];

/** RFC 4486 §4 Cease subcodes Herald sends (IANA's registry has more). */
export const CEASE_SUBCODE = {
  /** The session is stopped on purpose (the speaker shuts down, BFD reset it). */
  administrativeShutdown: 2,
  /** The BGPPeer was deleted, or no longer selects this node. */
  peerDeconfigured: 3,
  /** The BGPPeer was edited (address, ASN, hold time, password, …): the session is opened again with the new settings. */
  otherConfigurationChange: 6,
  /** §6.8 collision: the other connection carries the session. */
  connectionCollisionResolution: 7,
} as const;

export type CeaseSubcode = (typeof CEASE_SUBCODE)[keyof typeof CEASE_SUBCODE];

const CODE_NAMES: Readonly<Record<number, string>> = {
  [ERR_HEADER]: 'Message Header Error',
  [ERR_OPEN]: 'OPEN Message Error',
  [ERR_UPDATE]: 'UPDATE Message Error',
  [ERR_HOLD_TIMER_EXPIRED]: 'Hold Timer Expired',
  [ERR_FSM]: 'Finite State Machine Error',
  [ERR_CEASE]: 'Cease',
};

const FSM_NAMES: Readonly<Record<number, string>> = {
  0: 'Unspecified Error',
  1: 'Receive Unexpected Message in OpenSent State',
  2: 'Receive Unexpected Message in OpenConfirm State',
  3: 'Receive Unexpected Message in Established State',
};

/** RFC 4486 §4, all nine, since a peer may send any of them. */
const CEASE_NAMES: Readonly<Record<number, string>> = {
  1: 'Maximum Number of Prefixes Reached',
  2: 'Administrative Shutdown',
  3: 'Peer De-configured',
  4: 'Administrative Reset',
  5: 'Connection Rejected',
  6: 'Other Configuration Change',
  7: 'Connection Collision Resolution',
  8: 'Out of Resources',
};

/** "Cease / Peer De-configured", for logs; unknown codes and subcodes as numbers. */
export function notificationName(code: number, subcode: number): string {
  const name = CODE_NAMES[code] ?? `code ${code}`;
  const sub = code === ERR_FSM ? FSM_NAMES[subcode] : code === ERR_CEASE ? CEASE_NAMES[subcode] : undefined;
  return sub ? `${name} / ${sub}` : subcode === 0 ? name : `${name} / subcode ${subcode}`;
}
