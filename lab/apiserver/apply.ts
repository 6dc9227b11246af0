/** Applying a set of objects the way `kubectl apply` would: CRDs first, then Namespaces. */
import { resourceKey } from './registry.js';
import type { ApiCore } from './core.js';

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Creates (or replaces) objects in order, the way `kubectl apply` would; CRDs first. */
export function applyObjects(
  core: ApiCore,
  objects: readonly unknown[],
): { ref: string; ok: boolean; message: string }[] {
  const ordered = [...objects].sort((a, b) => rank(a) - rank(b));
  return ordered.map((o) => {
    const obj = isObj(o) ? o : {};
    const [group, version] = String(obj['apiVersion'] ?? '').includes('/')
      ? String(obj['apiVersion']).split('/')
      : ['', String(obj['apiVersion'] ?? '')];
    const kind = String(obj['kind'] ?? '');
    const meta = isObj(obj['metadata']) ? obj['metadata'] : {};
    const ref = `${kind} ${meta['namespace'] ? `${String(meta['namespace'])}/` : ''}${String(meta['name'] ?? '')}`;
    const info = core.registry.all().find((r) => r.group === group && r.version === version && r.kind === kind);
    if (!info) return { ref, ok: false, message: `no resource type for ${String(obj['apiVersion'])} ${kind}` };
    const ns = info.namespaced ? String(meta['namespace'] ?? 'default') : undefined;
    try {
      const existing = core.store.get(resourceKey(info), ns, String(meta['name']));
      if (existing) core.patch(info, ns, String(meta['name']), 'merge', obj);
      else core.create(info, ns, obj);
      return { ref, ok: true, message: 'applied' };
    } catch (err) {
      return { ref, ok: false, message: (err as Error).message };
    }
  });
}

function rank(o: unknown): number {
  const kind = isObj(o) ? o['kind'] : undefined;
  if (kind === 'CustomResourceDefinition') return 0;
  if (kind === 'Namespace') return 1;
  return 2;
}
