/** CustomResourceDefinitions: checking one on admission, and the resource types it serves. */
import type { ResourceInfo } from './registry.js';
import { compileSchema, type JsonSchema } from './schema.js';
import { invalidObject, type Target } from './status.js';
import type { Obj } from './store.js';

function isObj(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Validates a CRD (names, scope, one storage version, compilable schemas) and sets its status. */
export function admitCrd(obj: Obj, now: string): Obj {
  const t: Target = {
    qualified: 'customresourcedefinitions.apiextensions.k8s.io',
    group: 'apiextensions.k8s.io',
    kind: 'CustomResourceDefinition',
  };
  const spec = isObj(obj['spec']) ? obj['spec'] : {};
  const names = isObj(spec['names']) ? spec['names'] : {};
  const fail = (field: string, message: string): never => {
    throw invalidObject(t, obj.metadata.name, [
      { field, reason: 'FieldValueInvalid', message: `${field}: ${message}` },
    ]);
  };
  if (typeof spec['group'] !== 'string' || spec['group'] === '') fail('spec.group', 'Required value');
  if (typeof names['plural'] !== 'string' || typeof names['kind'] !== 'string')
    fail('spec.names', 'Required value: plural and kind');
  if (obj.metadata.name !== `${String(names['plural'])}.${String(spec['group'])}`) {
    fail('metadata.name', `Invalid value: "${obj.metadata.name}": must be spec.names.plural+"."+spec.group`);
  }
  if (spec['scope'] !== 'Namespaced' && spec['scope'] !== 'Cluster')
    fail('spec.scope', `Unsupported value: "${String(spec['scope'])}": supported values: "Cluster", "Namespaced"`);
  const versions = Array.isArray(spec['versions']) ? (spec['versions'] as Record<string, unknown>[]) : [];
  if (versions.length === 0 || versions.filter((v) => v['storage'] === true).length !== 1)
    fail('spec.versions', 'Invalid value: must have exactly one version marked as storage version');
  versions.forEach((v, i) => {
    const schema = (v['schema'] as { openAPIV3Schema?: unknown } | undefined)?.openAPIV3Schema;
    if (!isObj(schema)) fail(`spec.versions[${i}].schema.openAPIV3Schema`, 'Required value: schemas are required');
    try {
      compileSchema(schema as JsonSchema);
    } catch (err) {
      fail(`spec.versions[${i}].schema.openAPIV3Schema`, `Invalid value: ${(err as Error).message}`);
    }
  });
  const storage = versions.find((v) => v['storage'] === true)!;
  return {
    ...obj,
    status: {
      acceptedNames: {
        ...names,
        singular: names['singular'] ?? String(names['kind']).toLowerCase(),
        listKind: names['listKind'] ?? `${String(names['kind'])}List`,
      },
      conditions: [
        {
          type: 'NamesAccepted',
          status: 'True',
          reason: 'NoConflicts',
          message: 'no conflicts found',
          lastTransitionTime: now,
        },
        {
          type: 'Established',
          status: 'True',
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
          lastTransitionTime: now,
        },
      ],
      storedVersions: [storage['name']],
    },
  } as Obj;
}

/** The resource types a CRD serves, one per served version. */
export function crdResources(crd: Obj): ResourceInfo[] {
  const spec = crd['spec'] as Record<string, unknown>;
  const names = spec['names'] as Record<string, unknown>;
  return (spec['versions'] as Record<string, unknown>[])
    .filter((v) => v['served'] !== false)
    .map((v) => ({
      group: String(spec['group']),
      version: String(v['name']),
      resource: String(names['plural']),
      singular: String(names['singular'] ?? String(names['kind']).toLowerCase()),
      kind: String(names['kind']),
      namespaced: spec['scope'] === 'Namespaced',
      shortNames: (names['shortNames'] as string[] | undefined) ?? [],
      categories: (names['categories'] as string[] | undefined) ?? [],
      hasStatus: isObj((v['subresources'] as Record<string, unknown> | undefined)?.['status']),
      fields: [],
      schema: compileSchema((v['schema'] as { openAPIV3Schema: JsonSchema }).openAPIV3Schema),
      printerColumns: (v['additionalPrinterColumns'] as ResourceInfo['printerColumns']) ?? [],
      crd: crd.metadata.name,
    }));
}
