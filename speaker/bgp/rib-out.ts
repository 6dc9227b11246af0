/**
 * The Adj-RIB-Out of one session (RFC 4271 §3.2): what the peer should have (desired) and
 * what it has from us (sent). `diff` turns the difference into packed UPDATEs; nothing here
 * touches a socket.
 */
import { formatCIDR, type CIDR } from '../../src/net/cidr.js';
import { tryParseIP, type IP } from '../../src/net/ip.js';
import type { Negotiated } from './fsm.js';
import { AFI_IPV4, AFI_IPV6, AS_SEQUENCE, AS_TRANS, type CodecOptions, type LargeCommunity, type PathAttributes, type UpdateMessage } from './messages.js';
import { endOfRib, packAnnouncements, packWithdrawals } from './packer.js';

export interface Route {
  readonly prefix: CIDR;
  readonly communities?: readonly number[];
  readonly largeCommunities?: readonly LargeCommunity[];
  /** Sent to iBGP peers only; 100 when not given. */
  readonly localPref?: number;
}

export interface DiffContext {
  readonly negotiated: Negotiated;
  readonly myAsn: number;
  readonly codec: CodecOptions;
  /** The next hop for a family on this session, if it has one. */
  readonly nextHop: (family: 'IPv4' | 'IPv6') => IP | undefined;
  /** Told about prefixes that cannot be announced (no next hop for their family). */
  readonly unannounceable?: (family: 'IPv4' | 'IPv6', count: number) => void;
}

interface Desired {
  readonly route: Route;
  readonly key: string;
}

function attrKey(r: Route): string {
  return JSON.stringify([r.prefix.family, [...(r.communities ?? [])].sort((a, b) => a - b), [...(r.largeCommunities ?? [])].map((l) => l.join(':')).sort(), r.localPref ?? null]);
}

function parseKey(key: string): CIDR {
  const [addr, len] = key.split('/');
  const ip = tryParseIP(addr!)!;
  return { family: ip.family, base: ip.value, prefixLength: Number(len) };
}

export class AdjRibOut {
  private desired = new Map<string, Desired>();
  /** What the peer has from us: prefix -> attribute key. */
  private readonly sent = new Map<string, string>();

  /** The whole set of routes the peer should have. */
  setDesired(routes: readonly Route[]): void {
    const next = new Map<string, Desired>();
    for (const r of routes) next.set(formatCIDR(r.prefix), { route: r, key: attrKey(r) });
    this.desired = next;
  }

  /** The peer has nothing from us (a new connection, or it asked for a route refresh). */
  reset(): void {
    this.sent.clear();
  }

  sentCount(): number {
    return this.sent.size;
  }

  /** UPDATEs that bring the peer from what it has to what it should have; with `full`, End-of-RIB too. */
  diff(ctx: DiffContext, full: boolean): UpdateMessage[] {
    const n = ctx.negotiated;
    const out: UpdateMessage[] = [];
    const families = new Set(n.families.map((f) => f.afi));
    const asPath: PathAttributes = n.ibgp
      ? { asPath: [] }
      : n.fourOctetAs || ctx.myAsn <= 0xffff
        ? { asPath: [{ type: AS_SEQUENCE, asns: [ctx.myAsn] }] }
        : { asPath: [{ type: AS_SEQUENCE, asns: [AS_TRANS] }], as4Path: [{ type: AS_SEQUENCE, asns: [ctx.myAsn] }] };
    // Withdraw what is gone; forget what changed attributes (re-announced below: an implicit withdraw).
    const withdraw: CIDR[] = [];
    for (const [key, sentKey] of this.sent) {
      const d = this.desired.get(key);
      if (!d) withdraw.push(parseKey(key));
      else if (d.key !== sentKey) this.sent.delete(key);
    }
    for (const p of withdraw) this.sent.delete(formatCIDR(p));
    const groups = new Map<string, Route[]>();
    for (const [key, d] of this.desired) {
      if (this.sent.get(key) === d.key) continue;
      if (!families.has(d.route.prefix.family === 'IPv4' ? AFI_IPV4 : AFI_IPV6)) continue;
      const g = groups.get(d.key);
      if (g) g.push(d.route);
      else groups.set(d.key, [d.route]);
    }
    for (const fam of ['IPv4', 'IPv6'] as const) out.push(...packWithdrawals(withdraw.filter((p) => p.family === fam), ctx.codec));
    for (const [key, routes] of groups) {
      const first = routes[0]!;
      const nh = ctx.nextHop(first.prefix.family);
      if (!nh) {
        ctx.unannounceable?.(first.prefix.family, routes.length);
        continue;
      }
      const attrs: PathAttributes = {
        origin: 0,
        ...asPath,
        ...(n.ibgp ? { localPref: first.localPref ?? 100 } : {}),
        ...(first.communities && first.communities.length > 0 ? { communities: [...first.communities].sort((a, b) => a - b) } : {}),
        ...(first.largeCommunities && first.largeCommunities.length > 0 ? { largeCommunities: [...first.largeCommunities] } : {}),
      };
      out.push(...packAnnouncements(routes.map((r) => r.prefix), attrs, [nh], ctx.codec));
      for (const r of routes) this.sent.set(formatCIDR(r.prefix), key);
    }
    if (full) for (const f of n.families) out.push(endOfRib(f.afi));
    return out;
  }
}
