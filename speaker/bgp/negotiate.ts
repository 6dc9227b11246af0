/**
 * The OPEN exchange's outcome (RFC 4271 §6.2, RFC 6793, RFC 5492, RFC 4760): the peer's OPEN
 * checked against the configuration, and the session parameters both sides agreed on. Pure.
 */
import {
  AS_TRANS,
  ERR_OPEN,
  ERR_OPEN_BAD_BGP_ID,
  ERR_OPEN_BAD_PEER_AS,
  ERR_OPEN_UNACCEPTABLE_HOLD,
  type Capabilities,
  type Family,
  type OpenMessage,
} from './messages.js';

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

/** What the OPEN is checked against: the part of the FSM's configuration that is about the peer. */
export interface NegotiationConfig {
  readonly myAsn: number;
  readonly peerAsn?: number;
  readonly dynamicAsn?: 'internal' | 'external';
  readonly routerId: string;
  /** Seconds; 0 disables the hold timer and keepalives. */
  readonly holdTime: number;
  /** Seconds; defaults to a third of the negotiated hold time. */
  readonly keepaliveTime?: number;
  readonly capabilities: Capabilities;
}

/** Validates the peer's OPEN and negotiates the session parameters (§6.2, RFC 6793, RFC 5492). */
export function negotiate(
  open: OpenMessage,
  cfg: NegotiationConfig,
): { ok: true; negotiated: Negotiated } | { ok: false; code: number; subcode: number; data?: Buffer; reason: string } {
  const peerAs = open.capabilities.fourOctetAs ?? open.myAs;
  if (
    open.capabilities.fourOctetAs !== undefined &&
    open.myAs !== AS_TRANS &&
    open.myAs !== open.capabilities.fourOctetAs &&
    open.capabilities.fourOctetAs <= 0xffff
  ) {
    return {
      ok: false,
      code: ERR_OPEN,
      subcode: ERR_OPEN_BAD_PEER_AS,
      reason: `My AS ${open.myAs} disagrees with the 4-octet AS capability ${open.capabilities.fourOctetAs}`,
    };
  }
  let ibgp: boolean;
  if (cfg.peerAsn !== undefined) {
    if (peerAs !== cfg.peerAsn)
      return {
        ok: false,
        code: ERR_OPEN,
        subcode: ERR_OPEN_BAD_PEER_AS,
        reason: `peer AS ${peerAs} is not the configured ${cfg.peerAsn}`,
      };
    ibgp = peerAs === cfg.myAsn;
  } else {
    ibgp = peerAs === cfg.myAsn;
    if ((cfg.dynamicAsn === 'internal') !== ibgp)
      return {
        ok: false,
        code: ERR_OPEN,
        subcode: ERR_OPEN_BAD_PEER_AS,
        reason: `peer AS ${peerAs} is not ${cfg.dynamicAsn ?? 'external'} to ${cfg.myAsn}`,
      };
  }
  if (open.bgpId === '0.0.0.0' || (ibgp && open.bgpId === cfg.routerId)) {
    return {
      ok: false,
      code: ERR_OPEN,
      subcode: ERR_OPEN_BAD_BGP_ID,
      reason: `unacceptable BGP identifier ${open.bgpId}`,
    };
  }
  if (open.holdTime === 1 || open.holdTime === 2)
    return { ok: false, code: ERR_OPEN, subcode: ERR_OPEN_UNACCEPTABLE_HOLD, reason: `hold time ${open.holdTime}` };
  const holdTime = Math.min(open.holdTime, cfg.holdTime);
  // The configured keepalive stands while the hold time is ours (the CRD keeps it below the
  // hold time); a peer that imposes a smaller hold time gets a third of it, as RFC 4271 §4.4
  // suggests, or the configured value if that is smaller still.
  const third = Math.max(1, Math.floor(holdTime / 3));
  const keepaliveTime =
    holdTime === 0
      ? 0
      : cfg.keepaliveTime !== undefined && holdTime >= cfg.holdTime
        ? Math.max(1, Math.min(cfg.keepaliveTime, holdTime - 1))
        : Math.min(cfg.keepaliveTime ?? third, third);
  const ours = cfg.capabilities.multiprotocol;
  // Without multiprotocol capabilities on either side, IPv4 unicast is implied (RFC 4760 §8).
  const theirs = open.capabilities.multiprotocol.length > 0 ? open.capabilities.multiprotocol : [{ afi: 1, safi: 1 }];
  const families = (ours.length > 0 ? ours : [{ afi: 1, safi: 1 }]).filter((f) =>
    theirs.some((t) => t.afi === f.afi && t.safi === f.safi),
  );
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
