/** apiVersion/kind/metadata of any API object, read before the kind-specific spec. */
import type { ObjectRef } from '../core/errors.js';
import type { ObjectMeta } from './model.js';
import { FieldReader, isObject, type ErrorSink } from './reader.js';

export interface Envelope {
  readonly apiVersion: string;
  readonly kind: string;
  readonly ref: ObjectRef;
  readonly meta: ObjectMeta;
  readonly root: FieldReader;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function nameProblem(name: string): string | undefined {
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    return `"${name}" is not a valid name (lower-case alphanumerics, '-' and '.', at most 253 characters)`;
  }
  return undefined;
}

function stringMap(r: FieldReader | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!r) return out;
  for (const [k, v] of Object.entries(r.value)) {
    if (typeof v === 'string') out[k] = v;
    else r.error(k, 'must be a string');
  }
  return out;
}

/**
 * Reads the envelope; returns undefined (with an error) when the object has no usable
 * kind or name. `index` names the object in errors when it has no name of its own.
 */
export function readEnvelope(sink: ErrorSink, raw: unknown, index: string): Envelope | undefined {
  const anon: ObjectRef = { kind: 'object', name: index };
  if (!isObject(raw)) {
    sink.add(anon, '', 'must be a mapping with apiVersion, kind and metadata');
    return undefined;
  }
  const apiVersion = typeof raw['apiVersion'] === 'string' ? raw['apiVersion'] : '';
  const kind = typeof raw['kind'] === 'string' ? raw['kind'] : '';
  if (!apiVersion) sink.add(anon, 'apiVersion', 'required');
  if (!kind) sink.add(anon, 'kind', 'required');
  const metaRaw = raw['metadata'];
  const metaName = isObject(metaRaw) && typeof metaRaw['name'] === 'string' ? metaRaw['name'] : undefined;
  const namespace = isObject(metaRaw) && typeof metaRaw['namespace'] === 'string' ? metaRaw['namespace'] : undefined;
  if (!apiVersion || !kind) return undefined;
  // An empty name names nothing: the position in the input does.
  const ref: ObjectRef = { kind, name: metaName || index, ...(namespace !== undefined ? { namespace } : {}) };
  const root = new FieldReader(sink, ref, '', raw);
  const md = root.object('metadata');
  if (!md) {
    root.error('metadata', 'required');
    return undefined;
  }
  if (metaName === undefined) {
    md.error('name', 'required');
    return undefined;
  }
  const np = nameProblem(metaName);
  if (np) {
    md.error('name', np);
    return undefined;
  }
  const gen = md.value['generation'];
  const created = md.value['creationTimestamp'];
  const meta: ObjectMeta = {
    name: metaName,
    ...(namespace !== undefined ? { namespace } : {}),
    labels: stringMap(md.object('labels')),
    annotations: stringMap(md.object('annotations')),
    ...(typeof created === 'string' ? { creationTimestamp: created } : {}),
    ...(typeof gen === 'number' ? { generation: gen } : {}),
  };
  return { apiVersion, kind, ref, meta, root };
}
