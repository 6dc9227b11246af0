/**
 * What kube-apiserver does with a custom resource against its CRD's structural schema:
 * prune unknown fields, apply defaults, validate (OpenAPI via ajv, then the
 * `x-kubernetes-validations` CEL rules), and report each failure with its field path.
 */
import { evaluate as evaluateCel } from '@marcbachmann/cel-js';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  default?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message?: string; messageExpression?: string; fieldPath?: string }[];
  [k: string]: unknown;
}

export interface FieldCause {
  /** `spec.addresses[0]` */
  readonly field: string;
  readonly reason:
    | 'FieldValueInvalid'
    | 'FieldValueRequired'
    | 'FieldValueNotSupported'
    | 'FieldValueTypeInvalid'
    | 'FieldValueForbidden';
  readonly message: string;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Drops fields the schema does not declare (metadata is left to the server). */
export function prune(value: unknown, schema: JsonSchema, root = true): unknown {
  if (schema['x-kubernetes-preserve-unknown-fields'] === true && !schema.properties) return value;
  if (Array.isArray(value)) return schema.items ? value.map((v) => prune(v, schema.items!, false)) : value;
  if (!isObj(value)) return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) {
    if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) {
      out[k] = v;
      continue;
    }
    const prop = schema.properties?.[k];
    if (prop) out[k] = prune(v, prop, false);
    else if (typeof schema.additionalProperties === 'object') out[k] = prune(v, schema.additionalProperties, false);
    else if (schema.additionalProperties === true || schema['x-kubernetes-preserve-unknown-fields'] === true)
      out[k] = v;
  }
  return out;
}

/** Sets declared defaults on objects that are present, recursively, as kube-apiserver does. */
export function applyDefaults(value: unknown, schema: JsonSchema): unknown {
  if (Array.isArray(value)) return schema.items ? value.map((v) => applyDefaults(v, schema.items!)) : value;
  if (!isObj(value)) return value;
  const out: Obj = { ...value };
  for (const [k, prop] of Object.entries(schema.properties ?? {})) {
    if (out[k] === undefined && prop.default !== undefined) out[k] = structuredClone(prop.default);
    if (out[k] !== undefined) out[k] = applyDefaults(out[k], prop);
  }
  if (typeof schema.additionalProperties === 'object') {
    const declared = new Set(Object.keys(schema.properties ?? {}));
    for (const [k, v] of Object.entries(out))
      if (!declared.has(k)) out[k] = applyDefaults(v, schema.additionalProperties);
  }
  return out;
}

function pathFromPointer(pointer: string): string {
  let out = '';
  for (const seg of pointer.split('/').slice(1)) {
    const s = seg.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(s) ? `[${s}]` : out === '' ? s : `.${s}`;
  }
  return out;
}

function valueAtPointer(doc: unknown, pointer: string): unknown {
  let cur = doc;
  for (const seg of pointer.split('/').slice(1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Obj)[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return cur;
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === undefined) return 'null';
  const s = JSON.stringify(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

function causeFromAjv(e: ErrorObject, doc: unknown): FieldCause {
  const base = pathFromPointer(e.instancePath);
  switch (e.keyword) {
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      const field = base === '' ? missing : `${base}.${missing}`;
      return { field, reason: 'FieldValueRequired', message: `${field}: Required value` };
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ');
      return {
        field: base,
        reason: 'FieldValueNotSupported',
        message: `${base}: Unsupported value: ${describeValue(valueAtPointer(doc, e.instancePath))}: supported values: ${allowed}`,
      };
    }
    case 'type':
      return {
        field: base,
        reason: 'FieldValueTypeInvalid',
        message: `${base}: Invalid value: ${describeValue(valueAtPointer(doc, e.instancePath))}: ${base} in body must be of type ${String((e.params as { type: string }).type)}`,
      };
    default:
      return {
        field: base,
        reason: 'FieldValueInvalid',
        message: `${base}: Invalid value: ${describeValue(valueAtPointer(doc, e.instancePath))}: ${base} in body ${e.message ?? 'is invalid'}`,
      };
  }
}

interface CelRule {
  /** Schema path segments; '[]' for array items and '{}' for map values. */
  readonly at: readonly string[];
  readonly rule: string;
  readonly message: string;
  readonly usesOldSelf: boolean;
}

function collectRules(schema: JsonSchema, at: string[] = []): CelRule[] {
  const here = (schema['x-kubernetes-validations'] ?? []).map((v) => ({
    at,
    rule: v.rule,
    message: v.message ?? `failed rule: ${v.rule}`,
    usesOldSelf: /\boldSelf\b/.test(v.rule),
  }));
  return [
    ...here,
    ...Object.entries(schema.properties ?? {}).flatMap(([k, s]) => collectRules(s, [...at, k])),
    ...(schema.items ? collectRules(schema.items, [...at, '[]']) : []),
    ...(typeof schema.additionalProperties === 'object'
      ? collectRules(schema.additionalProperties, [...at, '{}'])
      : []),
  ];
}

interface Located {
  readonly path: string;
  readonly value: unknown;
  readonly old: unknown;
}

function locate(obj: unknown, old: unknown, at: readonly string[]): Located[] {
  let cur: Located[] = [{ path: '', value: obj, old }];
  for (const seg of at) {
    cur = cur.flatMap((l) => {
      if (seg === '[]') {
        return Array.isArray(l.value)
          ? l.value.map((v, i) => ({ path: `${l.path}[${i}]`, value: v, old: undefined }))
          : [];
      }
      if (seg === '{}') {
        return isObj(l.value)
          ? Object.entries(l.value).map(([k, v]) => ({
              path: `${l.path}[${k}]`,
              value: v,
              old: isObj(l.old) ? l.old[k] : undefined,
            }))
          : [];
      }
      if (!isObj(l.value) || l.value[seg] === undefined) return [];
      return [
        {
          path: l.path === '' ? seg : `${l.path}.${seg}`,
          value: l.value[seg],
          old: isObj(l.old) ? l.old[seg] : undefined,
        },
      ];
    });
  }
  return cur;
}

export interface CompiledSchema {
  readonly schema: JsonSchema;
  /** Prunes, defaults and validates; returns the object to store or the causes. */
  admit(obj: unknown, old: unknown): { ok: true; object: Obj } | { ok: false; causes: FieldCause[] };
}

export function compileSchema(schema: JsonSchema): CompiledSchema {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const f of ['int32', 'int64', 'byte', 'quantity']) ajv.addFormat(f, true);
  const forAjv = structuredClone(schema);
  // metadata is the server's business; do not let a schema fragment constrain it.
  if (forAjv.properties?.['metadata']) forAjv.properties['metadata'] = { type: 'object' };
  const validate: ValidateFunction = ajv.compile(forAjv);
  const rules = collectRules(schema);
  return {
    schema,
    admit(obj, old) {
      const pruned = prune(obj, schema);
      const defaulted = applyDefaults(pruned, schema) as Obj;
      const causes: FieldCause[] = [];
      if (!validate(defaulted)) {
        for (const e of validate.errors ?? []) causes.push(causeFromAjv(e, defaulted));
      } else {
        for (const r of rules) {
          for (const l of locate(defaulted, old, r.at)) {
            if (r.usesOldSelf && l.old === undefined) continue;
            let ok: unknown;
            try {
              ok = evaluateCel(r.rule, r.usesOldSelf ? { self: l.value, oldSelf: l.old } : { self: l.value });
            } catch (err) {
              ok = `rule could not be evaluated: ${(err as Error).message}`;
            }
            if (ok !== true) {
              const field = l.path;
              const detail = typeof ok === 'string' ? ok : r.message;
              causes.push({
                field,
                reason: 'FieldValueInvalid',
                message: `${field}: Invalid value: "object": ${detail}`,
              });
            }
          }
        }
      }
      return causes.length > 0 ? { ok: false, causes: dedupe(causes) } : { ok: true, object: defaulted };
    },
  };
}

function dedupe(causes: FieldCause[]): FieldCause[] {
  const seen = new Set<string>();
  return causes.filter((c) => {
    const k = `${c.field}|${c.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Evaluates the simple JSONPath (`.spec.addresses`, `.status.conditions[0].type`) of printer columns. */
export function simpleJsonPath(obj: unknown, path: string): unknown {
  const segs = path
    .replace(/^\{?\$?/, '')
    .replace(/\}$/, '')
    .split(/\.|\[(\d+)\]/)
    .filter((s) => s !== undefined && s !== '');
  let cur: unknown = obj;
  for (const s of segs) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = Array.isArray(cur) ? cur[Number(s)] : (cur as Obj)[s];
  }
  return cur;
}
