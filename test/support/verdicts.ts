/**
 * What an API server answers to one object sent to it, in a form two servers' answers can
 * be compared by: `accepted`, or `<code> <reason> [field paths]` (the Status causes' fields,
 * sorted; messages are not compared, they are worded differently).
 */
import { parseAllDocuments } from 'yaml';
import type { KubeClient, KubeObject, ResourceType } from '../../src/k8s/index.js';
import { resourceTypeFor } from './kube-cluster.js';

export interface Sent {
  readonly verdict: string;
  /** Set when the server created the object (to delete it afterwards). */
  readonly created?: { type: ResourceType; namespace: string | undefined; name: string };
}

export async function send(client: KubeClient, obj: Record<string, unknown>): Promise<Sent> {
  const type = await resourceTypeFor(client, String(obj['apiVersion']), String(obj['kind']));
  if (!type) return { verdict: `no resource type for ${String(obj['apiVersion'])} ${String(obj['kind'])}` };
  const meta = (obj['metadata'] ?? {}) as { name?: string; namespace?: string };
  const namespace = type.namespaced ? (meta.namespace ?? 'default') : undefined;
  try {
    const out = await client.create(type, {
      ...obj,
      metadata: { ...meta, ...(namespace ? { namespace } : {}) },
    } as KubeObject);
    return { verdict: 'accepted', created: { type, namespace, name: out.metadata.name } };
  } catch (err) {
    const e = err as { statusCode?: number; reason?: string; status?: { details?: { causes?: { field?: string }[] } } };
    if (e.statusCode === undefined) throw err;
    // kube-apiserver adds a cause with field "<nil>" when schema errors kept the CEL rules from
    // running ("some validation rules were not checked"); it names no field (docs/apiserver.md).
    const fields = [
      ...new Set((e.status?.details?.causes ?? []).map((c) => c.field ?? '').filter((f) => f !== '' && f !== '<nil>')),
    ].sort();
    return { verdict: `${e.statusCode} ${String(e.reason)} [${fields.join(', ')}]` };
  }
}

/** Sends each document of a YAML text in order; returns one verdict per document, then deletes what was created (Namespaces excepted). */
export async function sendAll(client: KubeClient, docs: readonly Record<string, unknown>[]): Promise<string[]> {
  const sent: Sent[] = [];
  for (const d of docs) sent.push(await send(client, d));
  for (const s of [...sent].reverse()) {
    if (s.created && s.created.type.kind !== 'Namespace')
      await client.tryDelete(s.created.type, s.created.namespace, s.created.name);
  }
  return sent.map((s) => s.verdict);
}

/** The documents of a YAML text, or the parse error. */
export function parseDocs(text: string): Record<string, unknown>[] | Error {
  const docs = parseAllDocuments(text);
  const bad = docs.find((d) => d.errors.length > 0);
  if (bad) return new Error(bad.errors[0]!.message);
  try {
    // Some faults (an alias to an anchor never set) only show when the document is built.
    return docs
      .map((d) => d.toJS() as unknown)
      .filter((d): d is Record<string, unknown> => typeof d === 'object' && d !== null);
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
