/** What a BGP session is made with, what it counts, and the OPEN it sends. */
import type { Clock } from '../../src/core/clock.js';
import type { Logger } from '../../src/core/logger.js';
import type { IP } from '../../src/net/ip.js';
import type { FsmConfig } from './fsm.js';
import { AS_TRANS, type OpenMessage } from './messages.js';
import type { Transport } from './transport.js';

export interface SessionOptions {
  readonly name: string;
  readonly peerAddress: IP;
  readonly peerPort?: number;
  readonly localAddress?: string;
  /** The FSM's configuration; its `random` defaults to the session's. */
  readonly fsm: FsmConfig;
  readonly transport: Transport;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Jitter of the retry delays; default Math.random. */
  readonly random?: () => number;
  /** Next hops to announce; default: the session's local address for its family. */
  readonly nextHopV4?: IP;
  readonly nextHopV6?: IP;
  readonly connectTimeoutMs?: number;
  /**
   * This speaker has just restarted: the first OPEN sets the graceful-restart Restart State
   * bit (RFC 4724 §3), so a peer keeping our stale routes need not wait for our End-of-RIB.
   */
  readonly restarted?: boolean;
  /** The transport signs with a TCP-MD5 password: unanswered connects say a mismatch is silent (check both sides). */
  readonly tcpMd5?: boolean;
}

export interface SessionStats {
  updatesSent: number;
  updatesReceived: number;
  keepalivesSent: number;
  keepalivesReceived: number;
  notificationsSent: number;
  notificationsReceived: number;
  prefixesAnnounced: number;
  establishedTransitions: number;
  /** Messages refused as malformed (the peer's fault) and decoder defects (Herald's): both reset the session. */
  malformedReceived: number;
  decoderInternalErrors: number;
}

export function emptyStats(): SessionStats {
  return {
    updatesSent: 0,
    updatesReceived: 0,
    keepalivesSent: 0,
    keepalivesReceived: 0,
    notificationsSent: 0,
    notificationsReceived: 0,
    prefixesAnnounced: 0,
    establishedTransitions: 0,
    malformedReceived: 0,
    decoderInternalErrors: 0,
  };
}

/** Our OPEN (§4.2): a 4-byte AS travels as AS_TRANS (RFC 6793); `restarting` sets the R bit (RFC 4724). */
export function openMessage(cfg: FsmConfig, restarting: boolean): OpenMessage {
  const caps = cfg.capabilities;
  const gr = caps.gracefulRestart ? { gracefulRestart: { ...caps.gracefulRestart, restarting } } : {};
  return {
    type: 'open',
    version: 4,
    myAs: cfg.myAsn > 0xffff ? AS_TRANS : cfg.myAsn,
    holdTime: cfg.holdTime,
    bgpId: cfg.routerId,
    capabilities: { ...caps, ...gr },
  };
}
