/**
 * BGPNodeStatus shards (decision 015, step 1), pure: the Services one node announces over
 * BGP, spread over `shards` objects `<node>-<k>`, k = fnv32a(namespace/name) mod shards, each
 * naming its peers once and every Service with indexes into them. The shard count follows
 * the number of Services with hysteresis, so a count near a boundary does not move every
 * Service back and forth.
 */
import { dnsName } from './status-sets.js';
import { sortedJson } from './views.js';

/** Services per shard the count aims at: 2,000 entries of ~60 bytes, far below etcd's 1.5 MB object limit. */
export const SHARD_SIZE = 2000;
/** A shrink happens only once the smaller count would be at most this full (hysteresis). */
const SHRINK_FILL = 0.75;

/** FNV-1a, 32 bits, over the UTF-8 bytes of `s`. */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) {
    h ^= b;
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

/** The BGPNodeStatus objects of a node: name -> status as sorted JSON. No Services, no objects. */
export function bgpNodeStatusObjects(
  node: string,
  announced: readonly AnnouncedService[],
  shards: number,
): Map<string, string> {
  const peersOf = new Map<string, Set<string>>();
  for (const a of announced) {
    let set = peersOf.get(a.service);
    if (!set) peersOf.set(a.service, (set = new Set()));
    for (const p of a.peers) set.add(p);
  }
  const byShard = new Map<number, string[]>();
  for (const svc of [...peersOf.keys()].sort()) {
    const k = shardOf(svc, shards);
    const list = byShard.get(k);
    if (list) list.push(svc);
    else byShard.set(k, [svc]);
  }
  const out = new Map<string, string>();
  for (const [k, services] of byShard) {
    const peers = [...new Set(services.flatMap((s) => [...peersOf.get(s)!]))].sort();
    const index = new Map(peers.map((p, i) => [p, i]));
    const entries = services.map((svc) => {
      const [namespace, name] = svc.split('/') as [string, string];
      return { namespace, name, peers: [...peersOf.get(svc)!].map((p) => index.get(p)!).sort((a, b) => a - b) };
    });
    out.set(
      dnsName(node, String(k)),
      sortedJson({ node, shard: k, shards, serviceCount: entries.length, peers, services: entries }),
    );
  }
  return out;
}
