/**
 * The Adj-RIB-Out of one session (RFC 4271 §3.2): what the peer should have (desired) and
 * what it has from us (sent). `diff` turns the difference into packed UPDATEs; nothing here
 * touches a socket.
 */
import { formatCIDR, type CIDR } from '../../src/net/cidr.js';
import { tryParseIP, type IP } from '../../src/net/ip.js';
import type { Negotiated } from './negotiate.js';
import {
  AFI_IPV4,
  AFI_IPV6,
  AS_SEQUENCE,
  AS_TRANS,
  type LargeCommunity,
  type PathAttributes,
  type UpdateMessage,
} from './messages.js';
import { endOfRib, packAnnouncements, packWithdrawals, type AnnounceOptions } from './packer.js';

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
  /** The negotiated message options, and whether IPv4 goes in MP_REACH/MP_UNREACH (an IPv6 session). */
  readonly codec: AnnounceOptions;
  /** The next hop for a family on this session, if it has one. */
  readonly nextHop: (family: 'IPv4' | 'IPv6') => IP | undefined;
  /** Told about prefixes that cannot be announced (no next hop for their family). */
  readonly unannounceable?: (family: 'IPv4' | 'IPv6', count: number) => void;
}

interface Desired {
  route: Route;
  readonly key: string;
  /** The setDesired call that last named it. */
  gen: number;
}

/** The attributes a route is sent with, as a key; plain routes (the usual case) share one per family. */
function attrKey(r: Route): string {
  if (!r.communities?.length && !r.largeCommunities?.length && r.localPref === undefined) return r.prefix.family;
  return JSON.stringify([
    r.prefix.family,
    [...(r.communities ?? [])].sort((a, b) => a - b),
    [...(r.largeCommunities ?? [])].map((l) => l.join(':')).sort(),
    r.localPref ?? null,
  ]);
}

/**
 * A prefix as a map key, made for every prefix on every setDesired (100k of them): an IPv4 /32
 * (what a speaker announces) is its address shifted into the signed 32-bit range, a number V8
 * hashes cheaply; anything else is its text.
 */
type PrefixKey = number | string;
const V4_OFFSET = 2 ** 31;

function prefixKey(c: CIDR): PrefixKey {
  return c.family === 'IPv4' && c.prefixLength === 32 ? Number(c.base) - V4_OFFSET : formatCIDR(c);
}

function parseKey(key: PrefixKey): CIDR {
  if (typeof key === 'number') return { family: 'IPv4', base: BigInt(key + V4_OFFSET), prefixLength: 32 };
  const [addr, len] = key.split('/');
  const ip = tryParseIP(addr!)!;
  return { family: ip.family, base: ip.value, prefixLength: Number(len) };
}

export class AdjRibOut {
  private readonly desired = new Map<PrefixKey, Desired>();
  /** What the peer has from us: prefix -> attribute key. */
  private readonly sent = new Map<PrefixKey, string>();
  /**
   * Prefixes an incremental diff must look at: changed by setDesired since the last diff, or
   * left unsent by it (no next hop, family not negotiated). A full diff looks at everything.
   */
  private dirty = new Set<PrefixKey>();

  private gen = 0;
  /** The list of the last setDesired. */
  private last: readonly Route[] | undefined;

  /**
   * The whole set of routes the peer should have. Updated in place (entries that stay are
   * only re-stamped; new, changed and missing ones are marked dirty): with 100k prefixes and
   * one of them changing, this walk is all the work.
   */
  setDesired(routes: readonly Route[]): void {
    // The speaker hands an unchanged peer the same (never mutated) list again: nothing to walk.
    if (routes === this.last) return;
    this.last = routes;
    const gen = ++this.gen;
    for (const r of routes) {
      const k = prefixKey(r.prefix);
      const key = attrKey(r);
      const have = this.desired.get(k);
      if (have && have.key === key) {
        have.route = r;
        have.gen = gen;
        continue;
      }
      this.desired.set(k, { route: r, key, gen });
      this.dirty.add(k);
    }
    for (const [k, d] of this.desired) {
      if (d.gen === gen) continue;
      this.desired.delete(k);
      this.dirty.add(k);
    }
  }

  /** The peer has nothing from us (a new connection, or it asked for a route refresh). */
  reset(): void {
    this.sent.clear();
  }

  /**
   * The peer asked for one family again (ROUTE-REFRESH, RFC 2918 §4): it has none of that
   * family's routes from us; the next incremental diff re-sends them, and nothing else.
   */
  refresh(family: 'IPv4' | 'IPv6'): void {
    for (const k of [...this.sent.keys()]) if (parseKey(k).family === family) this.sent.delete(k);
    for (const [k, d] of this.desired) if (d.route.prefix.family === family) this.dirty.add(k);
  }

  /** Prefixes the peer should have. */
  desiredCount(): number {
    return this.desired.size;
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
    // Only the prefixes that may differ: all of them for a full diff, else the dirty ones.
    const keys: Iterable<PrefixKey> = full ? new Set([...this.sent.keys(), ...this.desired.keys()]) : this.dirty;
    this.dirty = new Set();
    // Withdraw what is gone; forget what changed attributes (re-announced below: an implicit withdraw).
    const withdraw: CIDR[] = [];
    const announce: Desired[] = [];
    for (const key of keys) {
      const sentKey = this.sent.get(key);
      const d = this.desired.get(key);
      if (!d) {
        if (sentKey !== undefined) {
          withdraw.push(parseKey(key));
          this.sent.delete(key);
        }
        continue;
      }
      if (sentKey === d.key) continue;
      if (sentKey !== undefined) this.sent.delete(key);
      if (!families.has(d.route.prefix.family === 'IPv4' ? AFI_IPV4 : AFI_IPV6)) {
        this.dirty.add(key);
        continue;
      }
      announce.push(d);
    }
    const groups = new Map<string, Route[]>();
    for (const d of announce) {
      const g = groups.get(d.key);
      if (g) g.push(d.route);
      else groups.set(d.key, [d.route]);
    }
    for (const fam of ['IPv4', 'IPv6'] as const)
      out.push(
        ...packWithdrawals(
          withdraw.filter((p) => p.family === fam),
          ctx.codec,
        ),
      );
    for (const [key, routes] of groups) {
      const first = routes[0]!;
      const nh = ctx.nextHop(first.prefix.family);
      if (!nh) {
        ctx.unannounceable?.(first.prefix.family, routes.length);
        for (const r of routes) this.dirty.add(prefixKey(r.prefix));
        continue;
      }
      const attrs: PathAttributes = {
        origin: 0,
        ...asPath,
        ...(n.ibgp ? { localPref: first.localPref ?? 100 } : {}),
        ...(first.communities && first.communities.length > 0
          ? { communities: [...first.communities].sort((a, b) => a - b) }
          : {}),
        ...(first.largeCommunities && first.largeCommunities.length > 0
          ? { largeCommunities: [...first.largeCommunities] }
          : {}),
      };
      out.push(
        ...packAnnouncements(
          routes.map((r) => r.prefix),
          attrs,
          [nh],
          ctx.codec,
        ),
      );
      for (const r of routes) this.sent.set(prefixKey(r.prefix), key);
    }
    if (full) for (const f of n.families) out.push(endOfRib(f.afi));
    return out;
  }
}
