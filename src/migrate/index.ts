/**
 * `herald import`'s pure core: MetalLB objects (metallb.io v1beta1/v1beta2 CRs, the legacy
 * AddressPool kind and ConfigMap `config`) in, Herald objects out, plus every field that
 * could not be carried over with the reason. No I/O.
 */
import { parse as parseYaml } from 'yaml';
import { isObject, type JsonObject } from '../config/reader.js';
import { KIND_MAPS, mapResource, METALLB_STATUS_KINDS, outputMeta } from './crs.js';
import { mapAddressPool, mapLegacyConfig } from './legacy.js';
import { IssueSink, type MigrateIssue, type MigrateOptions, type MigrateResult, type OutputObject } from './types.js';

export type { MigrateOptions, MigrateResult, OutputObject } from './types.js';

const METALLB_GROUPS = ['metallb.io', 'metallb.universe.tf'];
const KIND_ORDER = [
  'Secret',
  'Community',
  'BFDProfile',
  'IPAddressPool',
  'BGPPeer',
  'L2Advertisement',
  'BGPAdvertisement',
];

function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}

function metaOf(raw: JsonObject): { name: string; namespace: string } {
  const md = isObject(raw['metadata']) ? raw['metadata'] : {};
  return {
    name: typeof md['name'] === 'string' ? md['name'] : '',
    namespace: typeof md['namespace'] === 'string' ? md['namespace'] : '',
  };
}

function label(kind: string, m: { name: string; namespace: string }, index: number): string {
  const name = m.name || `#${index + 1}`;
  return `${kind} ${m.namespace ? `${m.namespace}/` : ''}${name}`;
}

/** A ConfigMap holding MetalLB's legacy configuration (data.config with MetalLB's sections). */
function legacyConfig(raw: JsonObject, sink: IssueSink): JsonObject | undefined {
  const data = raw['data'];
  if (!isObject(data) || typeof data['config'] !== 'string') return undefined;
  let cfg: unknown;
  try {
    cfg = parseYaml(data['config']);
  } catch (err) {
    sink.unsupported('data.config', `not YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
    return undefined;
  }
  if (!isObject(cfg)) return undefined;
  const sections = ['peers', 'address-pools', 'bgp-communities', 'bfd-profiles'];
  return Object.keys(cfg).some((k) => sections.includes(k)) ? cfg : undefined;
}

export function importMetalLB(inputs: readonly unknown[], opts: MigrateOptions): MigrateResult {
  const ns = opts.namespace;
  const issues: MigrateIssue[] = [];
  const out: OutputObject[] = [];
  const secrets: Array<{ raw: JsonObject; index: number }> = [];
  let ignored = 0;
  inputs.forEach((raw, index) => {
    if (!isObject(raw)) {
      issues.push({
        severity: 'unsupported',
        input: index,
        object: `object #${index + 1}`,
        field: '',
        reason: 'not a mapping; left out',
      });
      return;
    }
    const apiVersion = typeof raw['apiVersion'] === 'string' ? raw['apiVersion'] : '';
    const kind = typeof raw['kind'] === 'string' ? raw['kind'] : '';
    const m = metaOf(raw);
    const sink = new IssueSink(index, label(kind || 'object', m, index));
    if (apiVersion === 'v1' && kind === 'Secret') {
      secrets.push({ raw, index });
      return;
    }
    if (apiVersion === 'v1' && kind === 'ConfigMap') {
      const cfg = legacyConfig(raw, sink);
      if (cfg) out.push(...mapLegacyConfig(cfg, ns, sink));
      else if (sink.issues.length === 0) ignored++;
      issues.push(...sink.issues);
      return;
    }
    if (!METALLB_GROUPS.includes(groupOf(apiVersion))) {
      ignored++;
      return;
    }
    if (!m.name) sink.unsupported('metadata.name', 'required; the object is left out');
    else if (METALLB_STATUS_KINDS.includes(kind))
      sink.note('', `${kind} is status written by MetalLB; Herald's speakers and controller write their own`);
    else if (kind === 'AddressPool') out.push(...mapAddressPool(raw, m.name, ns, sink));
    else if (KIND_MAPS[kind]) {
      const o = mapResource(raw, kind, m.name, ns, sink);
      if (o) out.push(o);
    } else sink.unsupported('kind', `${apiVersion} ${kind} has no Herald counterpart; left out`);
    issues.push(...sink.issues);
  });

  // Secrets referenced by a peer's passwordSecret move with it; other Secrets are left alone.
  const wanted = new Set(
    out
      .filter((o) => o.kind === 'BGPPeer')
      .map((o) => (isObject(o.spec?.['passwordSecret']) ? String(o.spec['passwordSecret']['name']) : '')),
  );
  for (const { raw, index } of secrets) {
    const m = metaOf(raw);
    if (!wanted.has(m.name)) {
      ignored++;
      continue;
    }
    const copy: OutputObject = { apiVersion: 'v1', kind: 'Secret', metadata: outputMeta(raw['metadata'], m.name, ns) };
    for (const k of ['type', 'data', 'stringData', 'immutable'])
      if (raw[k] !== undefined) Object.assign(copy, { [k]: raw[k] });
    out.push(copy);
    issues.push({
      severity: 'note',
      input: index,
      object: label('Secret', m, index),
      field: '',
      reason: `copied to ${ns} for a BGPPeer's passwordSecret`,
    });
  }

  // One object per kind and name: a second one would overwrite the first when applied.
  const seen = new Set<string>();
  const unique: OutputObject[] = [];
  for (const o of out) {
    const key = `${o.kind}/${o.metadata.name}`;
    if (seen.has(key)) {
      issues.push({
        severity: 'unsupported',
        input: -1,
        object: `${o.kind} ${ns}/${o.metadata.name}`,
        field: 'metadata.name',
        reason: `a second ${o.kind} with this name in ${ns} (inputs from several namespaces?); only the first is written`,
      });
      continue;
    }
    seen.add(key);
    unique.push(o);
  }
  unique.sort(
    (a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || a.metadata.name.localeCompare(b.metadata.name),
  );
  return { objects: unique, issues, ignored };
}
