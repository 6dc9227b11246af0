/**
 * Kubernetes' view of the speakers, the second input to membership: a node whose speaker
 * pod exists but is not Ready (failing its readiness probe, being deleted) is no candidate
 * for Layer 2 ownership, whatever the failure detector says. Nodes without a speaker pod
 * (the lab runs speakers as plain processes) are left to the failure detector alone.
 */
import type { KubeObject } from '../../src/k8s/index.js';

/** The label every speaker pod carries (manifests/speaker.yaml). */
export const SPEAKER_POD_SELECTOR = 'app.kubernetes.io/component=speaker';

function ready(pod: KubeObject): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  const conds = (pod['status'] as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Nodes that have speaker pods, none of them Ready. */
export function notReadyNodes(pods: readonly KubeObject[]): Set<string> {
  const seen = new Map<string, boolean>();
  for (const p of pods) {
    const node = (p['spec'] as { nodeName?: string } | undefined)?.nodeName;
    if (!node) continue;
    seen.set(node, (seen.get(node) ?? false) || ready(p));
  }
  return new Set([...seen].filter(([, ok]) => !ok).map(([n]) => n));
}
