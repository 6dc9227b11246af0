/**
 * BGPNodeStatus shards (decision 015, step 1), pure: the Services one node announces over
 * BGP, spread over `shards` objects `<node>-<k>`, k = fnv32a(namespace/name) mod shards, each
 * naming its peers once and every Service with indexes into them. The shard count follows
 * the number of Services with hysteresis, so a count near a boundary does not move every
 * Service back and forth.
 */
import { dnsName } from './status-sets.js';

/** Services per shard the count aims at: 2,000 entries of ~60 bytes, far below etcd's 1.5 MB object limit. */
export const SHARD_SIZE = 2000;
/** A shrink happens only once the smaller count would be at most this full (hysteresis). */
const SHRINK_FILL = 0.75;

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s` (Service keys are ASCII: no encoding made for them). */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  const bytes = /^[\x00-\x7f]*$/.test(s) ? undefined : Buffer.from(s, 'utf8');
  const n = bytes ? bytes.length : s.length;
  for (let i = 0; i < n; i++) {
    h ^= bytes ? bytes[i]! : s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * The shard count for `announced` Services, given the current count: grows to
 * ceil(announced / SHARD_SIZE) as soon as that is more; shrinks only when the smaller count
 * would hold them at most SHRINK_FILL full. Never below 1.
 */
export function shardCount(announced: number, current: number): number {
  const needed = Math.max(1, Math.ceil(announced / SHARD_SIZE));
  if (needed >= current) return needed;
  const relaxed = Math.max(1, Math.ceil(announced / (SHARD_SIZE * SHRINK_FILL)));
  return Math.min(current, relaxed);
}

/**
 * The shard count an earlier run of this speaker left in its objects' status (as sorted JSON
 * text), so a restart keeps it instead of starting from 1 and moving every Service; 1 when none.
 */
export function shardsWritten(statusTexts: readonly string[]): number {
  let shards = 0;
  for (const t of statusTexts) {
    try {
      const n = (JSON.parse(t) as { shards?: unknown }).shards;
      if (typeof n === 'number' && Number.isInteger(n) && n > shards) shards = n;
    } catch {
      // Not ours to judge: the next write replaces it.
    }
  }
  return Math.max(1, shards);
}

/** The shard of a Service `namespace/name`. */
export function shardOf(service: string, shards: number): number {
  return fnv32a(service) % shards;
}

/** One Service this node announces over BGP, with the peers that get its routes. */
export interface AnnouncedService {
  readonly service: string;
  readonly peers: readonly string[];
}

/** One shard: its Services in sorted order, how many of them each peer serves, and their entries' text. */
interface Shard {
  readonly services: string[];
  readonly peerRefs: Map<string, number>;
  /** Service -> its entry as JSON, valid while the shard's peer list is `peersKey`. */
  readonly entries: Map<string, string>;
  peersKey: string;
}

/** Where `x` is, or would go, in the sorted `xs` (code-unit order, as Array.prototype.sort). */
function position(xs: readonly string[], x: string): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The BGPNodeStatus objects of one node, kept up to date one Service at a time: a change
 * marks its shard, and only marked shards have their text made again, from the entries'
 * text kept per Service (at 100k Services, remaking the shards from scratch on every pass of
 * a burst took more CPU than all the rest of the speaker).
 */
export class BgpNodeStatusShards {
  /** Service -> the peers that get its routes. */
  private readonly peersOf = new Map<string, readonly string[]>();
  private readonly shardList = new Map<number, Shard>();
  /** Object name -> status text, for shards that have Services. */
  private readonly texts = new Map<string, string>();
  private readonly dirty = new Set<number>();
  private shards = 1;

  constructor(private readonly node: string) {}

  /** Services announced. */
  get size(): number {
    return this.peersOf.size;
  }

  /** A Service announced to `peers` (sorted), or (undefined or []) not announced. */
  set(service: string, peers: readonly string[] | undefined): void {
    const old = this.peersOf.get(service);
    const now = peers && peers.length > 0 ? peers : undefined;
    if (old === now || (old && now && old.length === now.length && old.every((p, i) => p === now[i]))) return;
    const k = shardOf(service, this.shards);
    if (old) this.leave(k, service, old);
    if (now) {
      this.peersOf.set(service, now);
      this.join(k, service, now);
    } else this.peersOf.delete(service);
    this.dirty.add(k);
  }

  /** Spreads the Services over `shards` objects (a change moves most Services). */
  resize(shards: number): void {
    if (shards === this.shards) return;
    for (const k of this.shardList.keys()) this.dirty.add(k);
    this.shards = shards;
    this.shardList.clear();
    for (const [service, peers] of this.peersOf) {
      const k = shardOf(service, shards);
      this.join(k, service, peers);
      this.dirty.add(k);
    }
  }

  /** Object name -> status text (no Services, no objects). */
  objects(): ReadonlyMap<string, string> {
    for (const k of this.dirty) {
      const name = dnsName(this.node, String(k));
      const shard = this.shardList.get(k);
      if (!shard || shard.services.length === 0) {
        this.shardList.delete(k);
        this.texts.delete(name);
        continue;
      }
      this.texts.set(name, this.shardText(k, shard));
    }
    this.dirty.clear();
    return this.texts;
  }

  private join(k: number, service: string, peers: readonly string[]): void {
    let shard = this.shardList.get(k);
    if (!shard)
      this.shardList.set(k, (shard = { services: [], peerRefs: new Map(), entries: new Map(), peersKey: '' }));
    shard.services.splice(position(shard.services, service), 0, service);
    for (const p of new Set(peers)) shard.peerRefs.set(p, (shard.peerRefs.get(p) ?? 0) + 1);
  }

  private leave(k: number, service: string, peers: readonly string[]): void {
    const shard = this.shardList.get(k);
    if (!shard) return;
    const at = position(shard.services, service);
    if (shard.services[at] === service) shard.services.splice(at, 1);
    shard.entries.delete(service);
    for (const p of new Set(peers)) {
      const n = (shard.peerRefs.get(p) ?? 0) - 1;
      if (n > 0) shard.peerRefs.set(p, n);
      else shard.peerRefs.delete(p);
    }
  }

  /**
   * The status of one shard as JSON with its keys in sorted order: node, peers, serviceCount,
   * services (each: name, namespace, peers as indexes into the shard's peers), shard, shards.
   */
  private shardText(k: number, shard: Shard): string {
    const peers = [...shard.peerRefs.keys()].sort();
    const peersKey = peers.join('\n');
    if (peersKey !== shard.peersKey) {
      shard.entries.clear();
      shard.peersKey = peersKey;
    }
    const index = new Map(peers.map((p, i) => [p, i]));
    const entries = shard.services.map((svc) => {
      let text = shard.entries.get(svc);
      if (text === undefined) {
        const [namespace, name] = svc.split('/') as [string, string];
        const at = [...new Set(this.peersOf.get(svc)!)].map((p) => index.get(p)!).sort((a, b) => a - b);
        shard.entries.set(svc, (text = JSON.stringify({ name, namespace, peers: at })));
      }
      return text;
    });
    return (
      `{"node":${JSON.stringify(this.node)},"peers":${JSON.stringify(peers)},"serviceCount":${entries.length},` +
      `"services":[${entries.join(',')}],"shard":${k},"shards":${this.shards}}`
    );
  }
}

/** The BGPNodeStatus objects of a node: name -> status as sorted JSON. No Services, no objects. */
export function bgpNodeStatusObjects(
  node: string,
  announced: readonly AnnouncedService[],
  shards: number,
): Map<string, string> {
  const peersOf = new Map<string, string[]>();
  for (const a of announced) {
    const list = peersOf.get(a.service);
    if (list) list.push(...a.peers);
    else peersOf.set(a.service, [...a.peers]);
  }
  const index = new BgpNodeStatusShards(node);
  index.resize(shards);
  for (const [service, peers] of peersOf) index.set(service, [...new Set(peers)].sort());
  return new Map(index.objects());
}
