/**
 * The `/scale` subresource of Deployments and ReplicaSets (what `kubectl scale` uses): an
 * autoscaling/v1 Scale whose spec.replicas reads and writes the object's spec.replicas.
 */
import type { ApiCore, PatchType } from './core.js';
import { mergePatch, jsonPatch, type Json } from './patch.js';
import type { ResourceInfo } from './registry.js';
import { badRequest } from './status.js';
import type { Obj } from './store.js';

type Rec = Record<string, unknown>;
const rec = (v: unknown): Rec => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Rec) : {});

export function toScale(o: Obj): Rec {
  const spec = rec(o['spec']);
  const labels = rec(rec(spec['selector'])['matchLabels']) as Record<string, string>;
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'Scale',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: typeof spec['replicas'] === 'number' ? spec['replicas'] : 1 },
    status: {
      replicas: Number(rec(o['status'])['replicas'] ?? 0),
      selector: Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
  };
}

/** GET, PUT or PATCH on `.../scale`; returns the Scale after the change. */
export function serveScale(
  core: ApiCore,
  info: ResourceInfo,
  ns: string | undefined,
  name: string,
  verb: string,
  body: unknown,
  patchType?: PatchType,
): Rec {
  const current = toScale(core.get(info, ns, name));
  if (verb === 'get') return current;
  let next: unknown = body;
  if (verb === 'patch') {
    if (patchType === 'json') next = jsonPatch(current as Json, body as Json);
    else if (patchType === 'merge' || patchType === 'strategic') next = mergePatch(current as Json, body as Json);
    else throw badRequest('the scale subresource takes merge, strategic-merge or JSON patches');
  }
  const replicas = rec(rec(next)['spec'])['replicas'];
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
    throw badRequest(
      `Scale.autoscaling "${name}" is invalid: spec.replicas: Invalid value: ${JSON.stringify(replicas)}: must be a non-negative integer`,
    );
  return toScale(core.patch(info, ns, name, 'merge', { spec: { replicas } }));
}
