/**
 * Every node of every CRD schema uses only JSONSchemaProps fields (apiextensions.k8s.io/v1).
 * kube-apiserver decodes CRDs strictly under `kubectl apply` and refuses an unknown field; a
 * YAML slip (an unquoted comma in a flow mapping turned `description: A, b` into a second
 * key) once made `kubectl apply -k manifests/` fail on a real cluster.
 */
import { expect } from 'chai';
import { loadCrds, type JsonSchema } from '../../support/crds.js';

const FIELDS = new Set([
  'id',
  '$schema',
  '$ref',
  'description',
  'type',
  'format',
  'title',
  'default',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'multipleOf',
  'enum',
  'maxProperties',
  'minProperties',
  'required',
  'items',
  'allOf',
  'oneOf',
  'anyOf',
  'not',
  'properties',
  'additionalProperties',
  'patternProperties',
  'dependencies',
  'additionalItems',
  'definitions',
  'externalDocs',
  'example',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-int-or-string',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-list-type',
  'x-kubernetes-map-type',
  'x-kubernetes-validations',
]);

function unknownKeys(s: JsonSchema, path: string): string[] {
  const here = Object.keys(s)
    .filter((k) => !FIELDS.has(k))
    .map((k) => `${path}: ${JSON.stringify(k)}`);
  const below: string[] = [];
  for (const [k, v] of Object.entries(s.properties ?? {})) below.push(...unknownKeys(v, `${path}.properties.${k}`));
  for (const [k, v] of Object.entries((s['patternProperties'] ?? {}) as Record<string, JsonSchema>))
    below.push(...unknownKeys(v, `${path}.patternProperties.${k}`));
  if (s.items) below.push(...unknownKeys(s.items, `${path}.items`));
  if (typeof s.additionalProperties === 'object')
    below.push(...unknownKeys(s.additionalProperties, `${path}.additionalProperties`));
  for (const k of ['allOf', 'oneOf', 'anyOf'] as const)
    ((s[k] ?? []) as JsonSchema[]).forEach((v, i) => below.push(...unknownKeys(v, `${path}.${k}[${i}]`)));
  if (s['not']) below.push(...unknownKeys(s['not'] as JsonSchema, `${path}.not`));
  return [...here, ...below];
}

describe('crds/: schemas use only JSONSchemaProps fields', () => {
  for (const crd of loadCrds()) {
    it(crd.file, () => {
      const bad = crd.spec.versions.flatMap((v) => unknownKeys(v.schema.openAPIV3Schema, `${v.name}.openAPIV3Schema`));
      expect(bad).to.deep.equal([]);
    });
  }
});
