/**
 * Small helpers over stored objects, shared by the core's modules: the plain-object check,
 * comparison that ignores key order, the form a client sees an object in, and the target
 * that Status errors about a resource type name.
 */
import { groupVersion, resourceKey, type ResourceInfo } from './registry.js';
import type { Target } from './status.js';
import type { Obj } from './store.js';

export function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (isObj(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) if (v[k] !== undefined) out[k] = canonical(v[k]);
    return out;
  }
  return v;
}

/** Deep equality that ignores key order and keys whose value is undefined. */
export function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

export function withoutKeys(o: Obj, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...o };
  for (const k of keys) delete out[k];
  return out;
}

export function target(info: ResourceInfo): Target {
  return { qualified: resourceKey(info), group: info.group, kind: info.kind };
}

/** The object as a client sees it: apiVersion and kind of the version asked for. */
export function present(info: ResourceInfo, o: Obj): Obj {
  return {
    apiVersion: groupVersion(info),
    kind: info.kind,
    ...withoutKeys(o, ['apiVersion', 'kind']),
  } as unknown as Obj;
}
