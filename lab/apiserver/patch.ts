/**
 * The three PATCH flavours kube-apiserver accepts: JSON merge patch (RFC 7386), JSON patch
 * (RFC 6902) and strategic merge patch (the subset of merge keys and directives that
 * Herald and kubectl use on core objects).
 */

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export class PatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatchError';
  }
}

function isObject(v: Json | undefined): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function clone<T extends Json>(v: T): T {
  return structuredClone(v);
}

export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}

function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`invalid JSON pointer "${pointer}"`);
  return pointer.slice(1).split('/').map(unescapePointer);
}

function getAt(doc: Json, segs: readonly string[]): Json | undefined {
  let cur: Json | undefined = doc;
  for (const s of segs) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(s)) return undefined;
      cur = cur[Number(s)];
    } else if (isObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, s)) return undefined;
      cur = cur[s];
    } else return undefined;
  }
  return cur;
}

function parentOf(doc: Json, segs: readonly string[], path: string): { parent: Json; last: string } {
  if (segs.length === 0) throw new PatchError(`path "${path}" cannot address the document root here`);
  const parent = getAt(doc, segs.slice(0, -1));
  if (parent === undefined || typeof parent !== 'object' || parent === null) {
    throw new PatchError(`path "${path}": parent does not exist`);
  }
  return { parent, last: segs[segs.length - 1]! };
}

function addAt(doc: Json, path: string, value: Json): Json {
  const segs = pointerSegments(path);
  if (segs.length === 0) return clone(value);
  const { parent, last } = parentOf(doc, segs, path);
  if (Array.isArray(parent)) {
    const idx = last === '-' ? parent.length : Number(last);
    if (!/^\d+$/.test(last) && last !== '-') throw new PatchError(`path "${path}": bad array index`);
    if (idx > parent.length) throw new PatchError(`path "${path}": index out of range`);
    parent.splice(idx, 0, clone(value));
  } else (parent as JsonObject)[last] = clone(value);
  return doc;
}

function removeAt(doc: Json, path: string): Json {
  const segs = pointerSegments(path);
  const { parent, last } = parentOf(doc, segs, path);
  if (Array.isArray(parent)) {
    const idx = Number(last);
    if (!/^\d+$/.test(last) || idx >= parent.length) throw new PatchError(`path "${path}": index out of range`);
    parent.splice(idx, 1);
  } else {
    if (!Object.prototype.hasOwnProperty.call(parent, last)) throw new PatchError(`path "${path}" does not exist`);
    delete (parent as JsonObject)[last];
  }
  return doc;
}

function deepEqual(a: Json | undefined, b: Json | undefined): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

function canonical(v: Json | undefined): Json | undefined {
  if (Array.isArray(v)) return v.map((x) => canonical(x) as Json);
  if (isObject(v)) {
    const out: JsonObject = {};
    for (const k of Object.keys(v).sort()) out[k] = canonical(v[k]) as Json;
    return out;
  }
  return v;
}

export interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

export function jsonPatch(target: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = clone(target);
  for (const raw of ops as JsonPatchOp[]) {
    if (raw === null || typeof raw !== 'object' || typeof raw.path !== 'string') {
      throw new PatchError('each JSON patch operation needs "op" and "path"');
    }
    switch (raw.op) {
      case 'add':
        if (!('value' in raw)) throw new PatchError(`add ${raw.path}: missing value`);
        doc = addAt(doc, raw.path, raw.value as Json);
        break;
      case 'remove':
        doc = removeAt(doc, raw.path);
        break;
      case 'replace':
        if (!('value' in raw)) throw new PatchError(`replace ${raw.path}: missing value`);
        if (getAt(doc, pointerSegments(raw.path)) === undefined)
          throw new PatchError(`replace: path "${raw.path}" does not exist`);
        doc =
          pointerSegments(raw.path).length === 0
            ? clone(raw.value as Json)
            : addAt(removeAt(doc, raw.path), raw.path, raw.value as Json);
        break;
      case 'move':
      case 'copy': {
        if (typeof raw.from !== 'string') throw new PatchError(`${raw.op} ${raw.path}: missing from`);
        const v = getAt(doc, pointerSegments(raw.from));
        if (v === undefined) throw new PatchError(`${raw.op}: from "${raw.from}" does not exist`);
        if (raw.op === 'move') doc = removeAt(doc, raw.from);
        doc = addAt(doc, raw.path, clone(v));
        break;
      }
      case 'test':
        if (!deepEqual(getAt(doc, pointerSegments(raw.path)), raw.value)) {
          throw new PatchError(`test failed at "${raw.path}"`);
        }
        break;
      default:
        throw new PatchError(`unknown JSON patch op "${String(raw.op)}"`);
    }
  }
  return doc;
}

/**
 * Merge keys of the core lists that kubectl and Herald patch. The key is the list's field
 * name; `ports` depends on whether it is a container's (containerPort) or a Service's (port).
 */
function mergeKeyFor(field: string, path: readonly string[]): string | undefined {
  switch (field) {
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
    case 'volumes':
    case 'env':
    case 'imagePullSecrets':
      return 'name';
    case 'volumeMounts':
      return 'mountPath';
    case 'ports':
      return path.includes('containers') || path.includes('initContainers') ? 'containerPort' : 'port';
    case 'conditions':
    case 'addresses':
      return path.includes('status') ? 'type' : undefined;
    case 'ownerReferences':
      return 'uid';
    case 'taints':
      return 'key';
    default:
      return undefined;
  }
}

/** Lists of scalars that merge (union) instead of being replaced. */
const MERGING_SCALAR_LISTS = new Set(['finalizers']);

export function strategicMergePatch(target: Json | undefined, patch: Json): Json {
  return smp(target, patch, []);
}

function smp(target: Json | undefined, patch: Json, path: readonly string[]): Json {
  if (!isObject(patch)) return clone(patch);
  if (patch['$patch'] === 'replace') {
    const rest = { ...patch };
    delete rest['$patch'];
    return clone(rest);
  }
  if (patch['$patch'] === 'delete') return {};
  const out: JsonObject = isObject(target) ? { ...target } : {};
  const retain = patch['$retainKeys'];
  const orders: Record<string, Json[]> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$retainKeys' || k === '$patch') continue;
    if (k.startsWith('$setElementOrder/')) {
      if (Array.isArray(v)) orders[k.slice('$setElementOrder/'.length)] = v;
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      const cur = out[field];
      if (Array.isArray(cur) && Array.isArray(v)) out[field] = cur.filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v)) out[k] = mergeList(k, cur, v, [...path, k]);
    else if (isObject(v)) out[k] = smp(cur, v, [...path, k]);
    else out[k] = clone(v);
  }
  if (Array.isArray(retain)) {
    for (const k of Object.keys(out)) if (!retain.includes(k)) delete out[k];
  }
  for (const [field, order] of Object.entries(orders)) {
    const list = out[field];
    if (Array.isArray(list)) out[field] = applyOrder(field, list, order, path);
  }
  return out;
}

function mergeList(field: string, cur: Json | undefined, patch: Json[], path: readonly string[]): Json[] {
  const current = Array.isArray(cur) ? cur : [];
  if (MERGING_SCALAR_LISTS.has(field)) {
    const out = [...current];
    for (const v of patch) if (!out.some((x) => deepEqual(x, v))) out.push(clone(v));
    return out;
  }
  const key = mergeKeyFor(field, path);
  if (!key || !patch.every(isObject)) return patch.map((v) => clone(v));
  const out = current.map((v) => clone(v));
  for (const item of patch as JsonObject[]) {
    const id = item[key];
    const idx = out.findIndex((x) => isObject(x) && deepEqual(x[key], id));
    if (item['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = smp(out[idx], item, path);
    else out.push(smp(undefined, item, path));
  }
  return out;
}

function applyOrder(field: string, list: Json[], order: Json[], path: readonly string[]): Json[] {
  const key = mergeKeyFor(field, [...path, field]);
  const idOf = (v: Json): Json | undefined => (key && isObject(v) ? v[key] : v);
  const pos = (v: Json): number => {
    const id = idOf(v);
    const i = order.findIndex((o) => deepEqual(key && isObject(o) ? o[key] : o, id));
    return i < 0 ? order.length : i;
  };
  return list
    .map((v, i) => ({ v, i }))
    .sort((a, b) => pos(a.v) - pos(b.v) || a.i - b.i)
    .map((x) => x.v);
}
