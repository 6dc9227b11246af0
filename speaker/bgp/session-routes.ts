/**
 * The routes side of one session: the adj-RIB-out, the next hop per family, and the UPDATEs
 * that carry the difference (with End-of-RIB after a full send or a ROUTE-REFRESH).
 */
import type { Logger } from '../../src/core/logger.js';
import { tryParseIP, type IP } from '../../src/net/ip.js';
import { AFI_IPV4, type BgpMessage, type CodecOptions } from './messages.js';
import type { Negotiated } from './negotiate.js';
import { endOfRib } from './packer.js';
import { AdjRibOut, type Route } from './rib-out.js';
import type { SessionStats } from './session-options.js';

export interface RoutesOptions {
  readonly myAsn: number;
  readonly peerFamily: 'IPv4' | 'IPv6';
  readonly nextHopV4?: IP;
  readonly nextHopV6?: IP;
  readonly log: Logger;
  readonly stats: SessionStats;
}

/** The Established connection the routes go out on. */
export interface RoutesLink {
  readonly negotiated: Negotiated;
  readonly codec: CodecOptions;
  readonly localAddress: string;
  readonly send: (m: BgpMessage) => void;
}

export class SessionRoutes {
  private readonly rib = new AdjRibOut();

  constructor(private readonly opts: RoutesOptions) {}

  setDesired(routes: readonly Route[]): void {
    this.rib.setDesired(routes);
  }

  /** The peer has none of our routes any more (the session went down or was replaced). */
  reset(): void {
    this.rib.reset();
    this.opts.stats.prefixesAnnounced = 0;
  }

  /** Sends the difference between desired and sent; with `full`, also End-of-RIB. */
  sync(link: RoutesLink, full: boolean): void {
    const updates = this.rib.diff(
      {
        negotiated: link.negotiated,
        myAsn: this.opts.myAsn,
        // IPv4 over an IPv6 session (dualStackAddressFamily) travels in MP_REACH_NLRI (RFC 4760).
        codec: { ...link.codec, ipv4ViaMp: this.opts.peerFamily === 'IPv6' },
        nextHop: (f) => this.nextHopFor(f, link.localAddress),
        unannounceable: (family, prefixes) =>
          this.opts.log.warn('no next hop for this family on this session; prefixes not announced', {
            event: 'noNextHop',
            family,
            prefixes,
          }),
      },
      full,
    );
    for (const u of updates) {
      link.send(u);
      this.opts.stats.updatesSent++;
    }
    this.opts.stats.prefixesAnnounced = this.rib.sentCount();
  }

  /** ROUTE-REFRESH (RFC 2918 §4): that family's routes again, then its End-of-RIB; the other family is left alone. */
  refresh(link: RoutesLink, afi: number, safi: number): void {
    if (!link.negotiated.families.some((f) => f.afi === afi && f.safi === safi)) {
      this.opts.log.info('ignoring a ROUTE-REFRESH for a family this session did not negotiate', { afi, safi });
      return;
    }
    this.rib.refresh(afi === AFI_IPV4 ? 'IPv4' : 'IPv6');
    this.sync(link, false);
    link.send(endOfRib(afi));
    this.opts.stats.updatesSent++;
  }

  private nextHopFor(family: 'IPv4' | 'IPv6', localAddress: string): IP | undefined {
    if (family === 'IPv4' && this.opts.nextHopV4) return this.opts.nextHopV4;
    if (family === 'IPv6' && this.opts.nextHopV6) return this.opts.nextHopV6;
    const local = tryParseIP(localAddress.replace(/^::ffff:/, ''));
    return local?.family === family ? local : undefined;
  }
}
