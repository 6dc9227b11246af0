/**
 * Herald's IP allocator: pure state, no Kubernetes types, no I/O. It hands out the lowest
 * free address of the first pool that may serve a Service, honours requested pools and
 * addresses, shares addresses under MetalLB's rules, and never moves an address it has
 * handed out unless the Service's own request changed.
 */
import type { Pool } from '../../src/config/model.js';
import { formatIP, type IP, type IPFamily } from '../../src/net/ip.js';
import { PoolState } from './pool-state.js';
import { comparePools, otherFamily, poolServes, requestProblem, sharingProblem, wantedFamilies } from './selection.js';
import type { Assignment, FailureReason, PoolStats, ServiceRequest } from './types.js';

interface Held {
  ips: IP[];
  /** The pool that holds the addresses now; undefined when they fit no pool any more. */
  pool: string | undefined;
  /** The pool they were given from (what the annotation records); survives pool edits. */
  origin: string | undefined;
  req: ServiceRequest;
}

export type AllocateResult =
  | {
      readonly ok: true;
      readonly ips: readonly IP[];
      /** Undefined only when `notInPool`. */
      readonly pool: string | undefined;
      /** The Service's addresses differ from what it had (or from `current`). */
      readonly changed: boolean;
      /** The addresses are kept although no pool contains them or serves the Service any more. */
      readonly notInPool: boolean;
      /** Current addresses that could not be kept because another Service holds them. */
      readonly conflict?: { readonly ips: readonly IP[]; readonly holder: string; readonly reason: FailureReason };
    }
  | {
      readonly ok: false;
      readonly reason: FailureReason;
      readonly message: string;
      readonly pool?: string;
      /** The address is free but another Service's status still shows it (see `drain`): wait, do not fail. */
      readonly waiting?: boolean;
    };

type Problem = { reason: FailureReason; message: string; holder: string; waiting?: boolean };

const ipKey = (ip: IP): string => `${ip.family}|${ip.value}`;
const parseKey = (k: string): IP => {
  const [family, value] = k.split('|');
  return { family: family as IPFamily, value: BigInt(value!) };
};

function fail(reason: FailureReason, message: string, pool?: string, waiting?: boolean): AllocateResult {
  return { ok: false, reason, message, ...(pool !== undefined ? { pool } : {}), ...(waiting ? { waiting } : {}) };
}

function sameIPs(a: readonly IP[], b: readonly IP[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(ipKey));
  return b.every((ip) => keys.has(ipKey(ip)));
}

export class Allocator {
  private pools = new Map<string, PoolState>();
  /** The pools in preference order (priority, then name). */
  private ordered: PoolState[] = [];
  private readonly held = new Map<string, Held>();
  /** Services per address; arrays, since almost every address has exactly one. */
  private readonly holders = new Map<string, string[]>();
  /** Services per sharing key, to find an address to share without scanning everything. */
  private readonly bySharingKey = new Map<string, Set<string>>();
  /** Pools that exist but were refused by config, with the first reason. */
  private invalidPools: ReadonlyMap<string, string> = new Map();
  /**
   * Addresses a Service no longer holds but its status (as the server last acknowledged it)
   * may still show: reserved for nobody else until `undrain`, so no address is ever shown by
   * two Services at once. Services per address.
   */
  private readonly drains = new Map<string, Set<string>>();

  /**
   * Replaces the pool set. Assignments stay: an address still inside its pool (or another
   * that serves the Service) is re-marked there; one that fits no pool is kept and reported.
   */
  setPools(pools: Iterable<Pool>, invalid: ReadonlyMap<string, string> = new Map()): { notInPool: string[] } {
    this.invalidPools = invalid;
    this.pools = new Map([...pools].map((p) => [p.name, new PoolState(p)]));
    this.ordered = [...this.pools.values()].sort((a, b) => comparePools(a.pool, b.pool));
    const notInPool: string[] = [];
    for (const [key, h] of this.held) {
      const home = this.homeFor(h.ips, h.req, h.pool);
      h.pool = home?.name;
      this.markEverywhere(h.ips);
      if (!home) notInPool.push(key);
    }
    for (const k of this.drains.keys()) this.markEverywhere([parseKey(k)]);
    return { notInPool: notInPool.sort() };
  }

  poolNames(): string[] {
    return [...this.pools.keys()].sort();
  }

  assignmentOf(key: string): (Assignment & { readonly notInPool: boolean }) | undefined {
    const h = this.held.get(key);
    return h ? { ips: h.ips, pool: h.pool ?? '', notInPool: h.pool === undefined } : undefined;
  }

  /** Services using the address. */
  holdersOf(ip: IP): string[] {
    return [...(this.holders.get(ipKey(ip)) ?? [])].sort();
  }

  stats(pool: string): PoolStats | undefined {
    const p = this.pools.get(pool);
    return p ? { IPv4: p.stats('IPv4'), IPv6: p.stats('IPv6') } : undefined;
  }

  release(key: string): boolean {
    const h = this.held.get(key);
    if (!h) return false;
    this.held.delete(key);
    if (h.req.sharingKey) this.bySharingKey.get(h.req.sharingKey)?.delete(key);
    for (const ip of h.ips) {
      const k = ipKey(ip);
      const list = (this.holders.get(k) ?? []).filter((x) => x !== key);
      if (list.length > 0) this.holders.set(k, list);
      else {
        this.holders.delete(k);
        if (!this.drains.has(k)) for (const p of this.ordered) if (p.inRanges(ip)) p.markFree(ip);
      }
    }
    return true;
  }

  /**
   * Keeps `ips` from every other Service until `undrain(key)`: the Service gave them up (its
   * request changed, it stopped being a LoadBalancer) but its status still shows them until
   * its next write is acknowledged. Addresses the Service holds again are left out.
   */
  drain(key: string, ips: readonly IP[]): void {
    const mine = new Set((this.held.get(key)?.ips ?? []).map(ipKey));
    for (const ip of ips) {
      const k = ipKey(ip);
      if (mine.has(k)) continue;
      let set = this.drains.get(k);
      if (!set) this.drains.set(k, (set = new Set()));
      set.add(key);
      this.markEverywhere([ip]);
    }
  }

  /** The addresses drained for the Service. */
  drainedBy(key: string): IP[] {
    return [...this.drains].filter(([, set]) => set.has(key)).map(([k]) => parseKey(k));
  }

  /** The Service's status no longer shows its drained addresses; returns how many became free. */
  undrain(key: string): number {
    let freed = 0;
    for (const [k, set] of [...this.drains]) {
      if (!set.delete(key) || set.size > 0) continue;
      this.drains.delete(k);
      if (this.holders.has(k)) continue;
      const ip = parseKey(k);
      for (const p of this.ordered) if (p.inRanges(ip)) p.markFree(ip);
      freed++;
    }
    return freed;
  }

  private commit(req: ServiceRequest, ips: IP[], pool: string | undefined, origin: string | undefined = pool): void {
    this.held.set(req.key, { ips, pool, origin, req });
    for (const ip of ips) {
      const d = this.drains.get(ipKey(ip));
      if (d?.delete(req.key) && d.size === 0) this.drains.delete(ipKey(ip));
    }
    if (req.sharingKey) {
      let set = this.bySharingKey.get(req.sharingKey);
      if (!set) this.bySharingKey.set(req.sharingKey, (set = new Set()));
      set.add(req.key);
    }
    for (const ip of ips) {
      const k = ipKey(ip);
      const list = this.holders.get(k);
      if (!list) this.holders.set(k, [req.key]);
      else if (!list.includes(req.key)) list.push(req.key);
    }
    this.markEverywhere(ips);
  }

  /** An address in use is used in whatever pool's ranges hold it, served by it or not. */
  private markEverywhere(ips: readonly IP[]): void {
    for (const ip of ips) for (const p of this.ordered) if (p.inRanges(ip)) p.markUsed(ip);
  }

  /** A pool that contains every address and may serve the Service, preferring `hint`. */
  private homeFor(ips: readonly IP[], req: ServiceRequest, hint: string | undefined): PoolState | undefined {
    const fits = (p: PoolState | undefined): p is PoolState =>
      p !== undefined && ips.every((ip) => p.contains(ip)) && poolServes(p.pool, req);
    // A Service that names its pool lives in that pool or in none.
    if (req.requestedPool !== undefined) {
      const named = this.pools.get(req.requestedPool);
      return fits(named) ? named : undefined;
    }
    const hinted = hint !== undefined ? this.pools.get(hint) : undefined;
    if (fits(hinted)) return hinted;
    return this.ordered.find(fits);
  }

  /** Why `req` may not use `ip` now, given the other Services holding it. */
  private useProblem(req: ServiceRequest, ip: IP): Problem | undefined {
    const holders = this.holders.get(ipKey(ip)) ?? [];
    // A Service that holds the address keeps it; anyone else waits for a drain to end.
    const draining = holders.includes(req.key)
      ? undefined
      : [...(this.drains.get(ipKey(ip)) ?? [])].find((k) => k !== req.key);
    if (draining)
      return {
        reason: 'RequestedIPInUse',
        message: `${formatIP(ip)} is still shown by ${draining} until its status is cleared`,
        holder: draining,
        waiting: true,
      };
    for (const key of holders) {
      if (key === req.key) continue;
      const holder = this.held.get(key)!;
      const p = sharingProblem(req, holder.req);
      if (p) return { ...p, message: `${formatIP(ip)} is ${p.message}`, holder: key };
    }
    return undefined;
  }

  /**
   * Gives the Service its addresses. `current` is what its status already shows (used on
   * start-up, before the allocator knows the Service): those addresses are kept when they
   * still agree with the request and nobody else holds them.
   */
  assign(req: ServiceRequest, current?: { ips: readonly IP[]; pool?: string }): AllocateResult {
    const invalid = requestProblem(req);
    if (invalid) return fail('InvalidRequest', invalid);
    const mine = this.held.get(req.key);
    const cur = mine
      ? { ips: mine.ips, pool: mine.pool ?? mine.origin, origin: mine.origin }
      : current && current.ips.length > 0
        ? { ips: [...current.ips], pool: current.pool, origin: current.pool }
        : undefined;
    let conflict: { ips: IP[]; holder: string; reason: FailureReason } | undefined;
    if (cur) {
      const kept = this.tryKeep(req, cur.ips, cur.pool, cur.origin, mine !== undefined);
      if (kept.ok) return kept;
      if (kept.conflict && req.requestedIPs.length === 0) conflict = kept.conflict;
      else if (kept.conflict) return fail(kept.conflict.reason, kept.message, undefined, kept.waiting);
    }
    if (mine) this.release(req.key);
    const fresh = this.allocate(req);
    if (fresh.ok && conflict) return { ...fresh, changed: true, conflict };
    if (fresh.ok && cur && !sameIPs(cur.ips, fresh.ips)) return { ...fresh, changed: true };
    return fresh;
  }

  /**
   * Re-claims the addresses the Service's status shows, only when they still agree with its
   * own request and nobody else holds them; never allocates. The first pass of the start-up
   * replay: every such Service keeps what it shows before any other is given an address.
   */
  keep(req: ServiceRequest, current: { ips: readonly IP[]; pool?: string }): boolean {
    if (requestProblem(req) || this.held.has(req.key) || current.ips.length === 0) return false;
    return this.tryKeep(req, current.ips, current.pool, current.pool, false).ok;
  }

  /**
   * Whether the Service's current addresses still agree with its own request. `origin` is
   * the pool they were given from; when unknown, a pool request is taken as satisfied (a pool
   * edit must never look like a request change).
   */
  private requestMatches(req: ServiceRequest, ips: readonly IP[], origin: string | undefined): boolean {
    if (req.requestedIPs.length > 0 && !sameIPs(req.requestedIPs, ips)) return false;
    if (req.requestedPool !== undefined && origin !== undefined && req.requestedPool !== origin) return false;
    const fams = ips.map((ip) => ip.family);
    if (new Set(fams).size !== fams.length) return false;
    if (req.familyPolicy === 'SingleStack' && (ips.length !== 1 || fams[0] !== (req.families[0] ?? 'IPv4')))
      return false;
    if (req.familyPolicy === 'RequireDualStack' && ips.length !== 2) return false;
    return true;
  }

  private tryKeep(
    req: ServiceRequest,
    ips: readonly IP[],
    pool: string | undefined,
    origin: string | undefined,
    known: boolean,
  ):
    | (AllocateResult & { ok: true })
    | {
        ok: false;
        message: string;
        waiting?: boolean;
        conflict?: { ips: IP[]; holder: string; reason: FailureReason };
      } {
    if (!this.requestMatches(req, ips, origin)) return { ok: false, message: 'request changed' };
    const blocked: IP[] = [];
    let problem: Problem | undefined;
    for (const ip of ips) {
      const p = this.useProblem(req, ip);
      if (p) {
        blocked.push(ip);
        problem ??= p;
      }
    }
    if (problem)
      return {
        ok: false,
        message: problem.message,
        ...(problem.waiting ? { waiting: true } : {}),
        conflict: { ips: blocked, holder: problem.holder, reason: problem.reason },
      };
    const order = (a: IP, b: IP): number => req.families.indexOf(a.family) - req.families.indexOf(b.family);
    let kept = [...ips].sort(order);
    const home = this.homeFor(kept, req, pool);
    let gained = false;
    // PreferDualStack gains its second family once its pool can give one.
    if (home && req.familyPolicy === 'PreferDualStack' && kept.length === 1 && req.requestedIPs.length === 0) {
      const want = otherFamily(kept[0]!.family);
      const extra = this.pickFromPool(req, home, want);
      if (extra.ok) {
        kept = [...kept, extra.ip].sort(order);
        gained = true;
      }
    }
    if (known) this.release(req.key);
    // The origin stays what it was: a pool edit that moves the address's home is not a new allocation.
    this.commit(req, kept, home?.name, origin ?? home?.name ?? pool);
    return { ok: true, ips: kept, pool: home?.name ?? pool, changed: gained, notInPool: home === undefined };
  }

  private pickFromPool(
    req: ServiceRequest,
    pool: PoolState,
    family: IPFamily,
  ): { ok: true; ip: IP } | { ok: false; reason: FailureReason; message: string; waiting?: boolean } {
    const requested = req.requestedIPs.find((ip) => ip.family === family);
    if (requested) {
      if (!pool.contains(requested))
        return {
          ok: false,
          reason: 'RequestedIPNotInPool',
          message: `${formatIP(requested)} is not an address of pool "${pool.name}"`,
        };
      const p = this.useProblem(req, requested);
      if (p) return { ok: false, reason: p.reason, message: p.message, ...(p.waiting ? { waiting: true } : {}) };
      return { ok: true, ip: requested };
    }
    if (req.sharingKey) {
      for (const key of this.bySharingKey.get(req.sharingKey) ?? []) {
        const h = this.held.get(key);
        if (!h || key === req.key || h.pool !== pool.name) continue;
        const ip = h.ips.find((x) => x.family === family);
        if (ip && !this.useProblem(req, ip)) return { ok: true, ip };
      }
    }
    const ip = pool.lowestFree(family);
    if (!ip)
      return { ok: false, reason: 'PoolExhausted', message: `pool "${pool.name}" has no free ${family} address` };
    return { ok: true, ip };
  }

  private candidates(req: ServiceRequest): { pools: PoolState[] } | { reason: FailureReason; message: string } {
    if (req.requestedPool !== undefined) {
      const p = this.pools.get(req.requestedPool);
      const invalid = this.invalidPools.get(req.requestedPool);
      if (!p && invalid !== undefined)
        return { reason: 'PoolInvalid', message: `pool "${req.requestedPool}" is invalid: ${invalid}` };
      if (!p) return { reason: 'PoolNotFound', message: `pool "${req.requestedPool}" does not exist` };
      if (!poolServes(p.pool, req))
        return {
          reason: 'NoMatchingPool',
          message: `pool "${p.name}" does not serve ${req.key} (its serviceAllocation excludes it)`,
        };
      return { pools: [p] };
    }
    if (req.requestedIPs.length > 0) {
      const homes = [...this.pools.values()].filter((p) => req.requestedIPs.every((ip) => p.inRanges(ip)));
      if (homes.length === 0) {
        return {
          reason: 'RequestedIPNotInPool',
          message: `${req.requestedIPs.map(formatIP).join(', ')} ${req.requestedIPs.length > 1 ? 'are' : 'is'} not in any one pool`,
        };
      }
      const serving = homes.filter((p) => poolServes(p.pool, req));
      if (serving.length === 0)
        return {
          reason: 'NoMatchingPool',
          message: `pool "${homes[0]!.name}" holds ${req.requestedIPs.map(formatIP).join(', ')} but does not serve ${req.key}`,
        };
      return { pools: serving.sort((a, b) => comparePools(a.pool, b.pool)) };
    }
    const pools = this.ordered.filter((p) => p.pool.autoAssign && poolServes(p.pool, req));
    if (pools.length === 0) return { reason: 'NoMatchingPool', message: `no pool with autoAssign serves ${req.key}` };
    return { pools };
  }

  private allocate(req: ServiceRequest): AllocateResult {
    const c = this.candidates(req);
    if ('reason' in c) return fail(c.reason, c.message);
    const wanted = wantedFamilies(req);
    const required = req.familyPolicy === 'PreferDualStack' && req.requestedIPs.length === 0 ? [wanted[0]!] : wanted;
    let first: { reason: FailureReason; message: string; pool: string } | undefined;
    for (const pool of c.pools) {
      const missing = required.find((f) => !pool.hasFamily(f));
      if (missing) {
        first ??= {
          reason: 'FamilyUnavailable',
          message: `pool "${pool.name}" has no ${missing} addresses`,
          pool: pool.name,
        };
        continue;
      }
      const ips: IP[] = [];
      let problem: { reason: FailureReason; message: string; waiting?: boolean } | undefined;
      for (const f of wanted) {
        if (!pool.hasFamily(f)) continue;
        const got = this.pickFromPool(req, pool, f);
        if (!got.ok) {
          if (required.includes(f)) {
            problem = got;
            break;
          }
          continue;
        }
        ips.push(got.ip);
        // Mark at once so a dual-stack pick never hands the same address twice.
        if (wanted.length > 1) pool.markUsed(got.ip);
      }
      if (wanted.length > 1)
        for (const ip of ips) if (!this.holders.has(ipKey(ip)) && !this.drains.has(ipKey(ip))) pool.markFree(ip);
      if (problem) {
        // A requested address pins the pool: its problem is the answer.
        if (req.requestedIPs.length > 0 || req.requestedPool !== undefined)
          return fail(problem.reason, problem.message, pool.name, problem.waiting);
        // A pool that has the families but is full says more than one that lacks them.
        if (!first || first.reason === 'FamilyUnavailable') first = { ...problem, pool: pool.name };
        continue;
      }
      this.commit(req, ips, pool.name);
      return { ok: true, ips, pool: pool.name, changed: true, notInPool: false };
    }
    if (
      first?.reason === 'PoolExhausted' &&
      c.pools.length > 1 &&
      c.pools.every((p) => required.every((f) => p.hasFamily(f)))
    ) {
      return fail(
        'PoolExhausted',
        `no free address in pools ${c.pools.map((p) => `"${p.name}"`).join(', ')}`,
        first.pool,
      );
    }
    return fail(first?.reason ?? 'NoMatchingPool', first?.message ?? `no pool serves ${req.key}`, first?.pool);
  }
}
