/**
 * Minimal Deployment, ReplicaSet and scheduler decisions, as pure functions: a Deployment
 * keeps one ReplicaSet per pod template (named by the template's hash, older ones scaled to
 * zero and removed, as the Recreate strategy would), a ReplicaSet keeps `replicas` Pods, and a
 * Pod without a node goes to the Ready node (matching its nodeSelector) with the fewest Pods of
 * the same owner, then the fewest Pods.
 */
import { createHash } from 'node:crypto';
import type { Obj } from '../store.js';

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});
const arr = (v: unknown): Rec[] => (Array.isArray(v) ? (v as Rec[]) : []);
const replicasOf = (o: Obj): number =>
  typeof rec(o['spec'])['replicas'] === 'number' ? (rec(o['spec'])['replicas'] as number) : 1;

const TEMPLATE_HASH = 'pod-template-hash';

export interface OwnerRef {
  readonly kind?: string;
  readonly name?: string;
  readonly uid?: string;
  readonly controller?: boolean;
}

/** The controlling owner reference of an object, if any. */
export function controllerOf(o: Obj): OwnerRef | undefined {
  const refs = (o.metadata as Record<string, unknown>)['ownerReferences'];
  return Array.isArray(refs) ? (refs as OwnerRef[]).find((r) => r.controller === true) : undefined;
}

export function ownedBy(o: Obj, owner: Obj): boolean {
  const r = controllerOf(o);
  return r !== undefined && r.uid === owner.metadata.uid;
}

function ownerRef(owner: Obj, apiVersion: string, kind: string): Rec {
  return {
    apiVersion,
    kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function templateHash(template: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(template ?? {}))
    .digest('hex')
    .slice(0, 10)
    .replace(/[^a-z0-9]/g, 'x');
}

export function podReady(pod: Obj): boolean {
  return arr(rec(pod['status'])['conditions']).some((c) => c['type'] === 'Ready' && c['status'] === 'True');
}

export interface DeploymentPlan {
  /** The ReplicaSet to create, when the current template has none. */
  readonly create?: Obj;
  /** ReplicaSets whose replicas must change. */
  readonly scale: readonly { readonly name: string; readonly replicas: number }[];
  /** Old ReplicaSets with no Pods left. */
  readonly remove: readonly string[];
  readonly status: Rec;
}

export function planDeployment(d: Obj, replicaSets: readonly Obj[], pods: readonly Obj[]): DeploymentPlan {
  const spec = rec(d['spec']);
  const template = rec(spec['template']);
  const hash = templateHash(template);
  const name = `${d.metadata.name.slice(0, 50)}-${hash}`;
  const mine = replicaSets.filter((rs) => ownedBy(rs, d));
  const current = mine.find((rs) => rs.metadata.name === name);
  const want = replicasOf(d);
  const scale: { name: string; replicas: number }[] = [];
  const remove: string[] = [];
  for (const rs of mine) {
    if (rs === current) {
      if (replicasOf(rs) !== want) scale.push({ name: rs.metadata.name, replicas: want });
    } else if (replicasOf(rs) !== 0) scale.push({ name: rs.metadata.name, replicas: 0 });
    else if (!pods.some((p) => ownedBy(p, rs))) remove.push(rs.metadata.name);
  }
  const podsOf = (rs: Obj | undefined): Obj[] =>
    rs ? pods.filter((p) => ownedBy(p, rs) && !p.metadata.deletionTimestamp) : [];
  const all = mine.flatMap((rs) => podsOf(rs));
  const updated = podsOf(current);
  const ready = all.filter(podReady).length;
  const status: Rec = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: all.length,
    updatedReplicas: updated.length,
    readyReplicas: ready,
    availableReplicas: ready,
    unavailableReplicas: Math.max(0, want - ready),
    conditions: [
      {
        type: 'Available',
        status: ready >= want ? 'True' : 'False',
        reason: ready >= want ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
        message:
          ready >= want ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.',
      },
    ],
  };
  const labels = {
    ...(rec(template['metadata'])['labels'] as Record<string, string> | undefined),
    [TEMPLATE_HASH]: hash,
  };
  const create = current
    ? undefined
    : ({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name,
          namespace: d.metadata.namespace,
          labels,
          ownerReferences: [ownerRef(d, 'apps/v1', 'Deployment')],
        },
        spec: {
          replicas: want,
          selector: {
            matchLabels: {
              ...(rec(rec(spec['selector'])['matchLabels']) as Record<string, string>),
              [TEMPLATE_HASH]: hash,
            },
          },
          template: { ...template, metadata: { ...rec(template['metadata']), labels } },
        },
      } as unknown as Obj);
  return { ...(create ? { create } : {}), scale, remove, status };
}

export interface ReplicaSetPlan {
  readonly create: readonly Obj[];
  readonly remove: readonly string[];
  readonly status: Rec;
}

/** `suffix` gives each new Pod's name its random part (injected: tests pass a counter). */
export function planReplicaSet(rs: Obj, pods: readonly Obj[], suffix: () => string): ReplicaSetPlan {
  const want = replicasOf(rs);
  const mine = pods
    .filter((p) => ownedBy(p, rs) && !p.metadata.deletionTimestamp)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const template = rec(rec(rs['spec'])['template']);
  const create: Obj[] = [];
  for (let i = mine.length; i < want; i++) {
    create.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        ...rec(template['metadata']),
        name: `${rs.metadata.name}-${suffix()}`,
        namespace: rs.metadata.namespace,
        ownerReferences: [ownerRef(rs, 'apps/v1', 'ReplicaSet')],
      },
      spec: rec(template['spec']),
    } as unknown as Obj);
  }
  // Scale down: not-ready Pods first, then the newest names.
  const remove =
    mine.length > want
      ? [...mine]
          .sort((a, b) => Number(podReady(a)) - Number(podReady(b)) || b.metadata.name.localeCompare(a.metadata.name))
          .slice(0, mine.length - want)
          .map((p) => p.metadata.name)
      : [];
  const ready = mine.filter(podReady).length;
  return {
    create,
    remove,
    status: {
      replicas: mine.length,
      fullyLabeledReplicas: mine.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation ?? 1,
    },
  };
}

export type ScheduleResult = { readonly node: string } | { readonly node?: undefined; readonly reason: string };

function nodeReady(n: Obj): boolean {
  return (
    arr(rec(n['status'])['conditions']).some((c) => c['type'] === 'Ready' && c['status'] === 'True') &&
    rec(n['spec'])['unschedulable'] !== true
  );
}

export function schedule(pod: Obj, nodes: readonly Obj[], pods: readonly Obj[]): ScheduleResult {
  const selector = rec(rec(pod['spec'])['nodeSelector']) as Record<string, string>;
  const fits = nodes.filter(
    (n) => nodeReady(n) && Object.entries(selector).every(([k, v]) => n.metadata.labels?.[k] === v),
  );
  if (fits.length === 0)
    return {
      reason: `0/${nodes.length} nodes are available: ${nodes.length === 0 ? 'no nodes' : Object.keys(selector).length > 0 ? "node(s) didn't match Pod's node affinity/selector or are not Ready" : 'node(s) not Ready'}`,
    };
  // Spread a controller's Pods first (as the default scheduler's topology spreading does), then all Pods.
  const owner = controllerOf(pod)?.uid;
  const on = (n: Obj): Obj[] => pods.filter((p) => rec(p['spec'])['nodeName'] === n.metadata.name);
  const siblings = (n: Obj): number =>
    owner === undefined ? 0 : on(n).filter((p) => controllerOf(p)?.uid === owner).length;
  const best = [...fits].sort(
    (a, b) =>
      siblings(a) - siblings(b) || on(a).length - on(b).length || a.metadata.name.localeCompare(b.metadata.name),
  )[0]!;
  return { node: best.metadata.name };
}
