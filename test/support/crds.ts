/** Loads crds/*.yaml and the samples for tests. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const CRD_DIR = join(REPO_ROOT, 'crds');

export interface JsonSchema {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
  [k: string]: unknown;
}

export interface CrdDoc {
  file: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; singular: string; listKind: string; shortNames?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string }[];
      schema: { openAPIV3Schema: JsonSchema };
    }[];
  };
}

export function loadYamlFile(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${path}: ${d.errors[0]!.message}`);
      return d.toJS({ maxAliasCount: 1000 }) as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

export function loadCrds(): CrdDoc[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((file) => {
      const docs = loadYamlFile(join(CRD_DIR, file));
      if (docs.length !== 1) throw new Error(`${file}: expected one CRD, found ${docs.length} documents`);
      return { file, ...(docs[0] as Omit<CrdDoc, 'file'>) };
    });
}

export function loadSamples(): { file: string; object: Record<string, unknown> }[] {
  const dir = join(CRD_DIR, 'samples');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((file) =>
      loadYamlFile(join(dir, file)).map((object) => ({ file, object: object as Record<string, unknown> })),
    );
}
