/**
 * The deterministic Layer 2 owner of a service IP: every speaker, given the same candidates,
 * picks the same node, and different IPs spread over the nodes. Candidates are ordered by
 * preferred-node weight (higher first), then by sha256(node + "#" + ip) ascending, then by
 * node name. The hash input is part of the contract: changing it moves IPs between nodes
 * during a rolling upgrade.
 */
import { createHash } from 'node:crypto';
import { formatIP, tryParseIP, type IP } from '../src/net/ip.js';

export interface Candidate {
  readonly node: string;
  /** Sum of the matching preferredNodeSelectors weights (0 when none). */
  readonly weight: number;
}

export type Election =
  | { readonly owner: string; readonly order: readonly string[] }
  | { readonly owner: undefined; readonly reason: 'noCandidates' };

/** The text every speaker hashes: canonical form when `ip` parses, else as given. */
export function electionKey(ip: string | IP): string {
  if (typeof ip !== 'string') return formatIP(ip);
  const parsed = tryParseIP(ip);
  return parsed ? formatIP(parsed) : ip;
}

/** sha256(node + "#" + ip) as lowercase hex; comparing these strings compares the digests. */
export function electionHash(node: string, ip: string | IP): string {
  return createHash('sha256')
    .update(`${node}#${electionKey(ip)}`)
    .digest('hex');
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function electOwner(ip: string | IP, candidates: readonly Candidate[]): Election {
  // One entry per node, with its highest weight; NaN counts as 0 so the order stays total.
  const byNode = new Map<string, number>();
  for (const c of candidates) {
    const weight = Number.isNaN(c.weight) ? 0 : c.weight;
    const seen = byNode.get(c.node);
    if (seen === undefined || weight > seen) byNode.set(c.node, weight);
  }
  if (byNode.size === 0) return { owner: undefined, reason: 'noCandidates' };
  const key = electionKey(ip);
  const ranked = [...byNode].map(([node, weight]) => ({ node, weight, hash: electionHash(node, key) }));
  ranked.sort((a, b) =>
    a.weight !== b.weight ? (a.weight > b.weight ? -1 : 1) : compareText(a.hash, b.hash) || compareText(a.node, b.node),
  );
  return { owner: ranked[0]!.node, order: ranked.map((c) => c.node) };
}
