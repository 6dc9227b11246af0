/**
 * The deterministic Layer 2 owner of a service IP: every speaker, given the same candidates,
 * picks the same node. Candidates are ordered by preferred-node weight (higher first), then
 * by sha256(node + "#" + ip), then by name.
 */
import { createHash } from 'node:crypto';

export interface Candidate {
  readonly node: string;
  /** Sum of the matching preferredNodeSelectors weights (0 when none). */
  readonly weight: number;
}

export type Election = { readonly owner: string; readonly order: readonly string[] } | { readonly owner: undefined; readonly reason: 'noCandidates' };

export function electOwner(ip: string, candidates: readonly Candidate[]): Election {
  if (candidates.length === 0) return { owner: undefined, reason: 'noCandidates' };
  const ranked = candidates
    .map((c) => ({ ...c, hash: createHash('sha256').update(`${c.node}#${ip}`).digest('hex') }))
    .sort((a, b) => b.weight - a.weight || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0) || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  return { owner: ranked[0]!.node, order: ranked.map((c) => c.node) };
}
