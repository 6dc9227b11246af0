/**
 * Label and field selectors in their query-string form, as kube-apiserver parses them:
 * `a=b,c!=d,e in (x,y),f notin (z),g,!h` for labels and `metadata.name=x,spec.type!=y` for fields.
 */

export type LabelOp = 'exists' | 'notExists' | 'eq' | 'neq' | 'in' | 'notin' | 'gt' | 'lt';

export interface LabelRequirement {
  readonly key: string;
  readonly op: LabelOp;
  readonly values: readonly string[];
}

export class SelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SelectorError';
  }
}

/** Splits on commas that are not inside parentheses. */
function splitTop(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (depth < 0) throw new SelectorError(`unbalanced ")" in selector "${text}"`);
    if (ch === ',' && depth === 0) {
      parts.push(cur);
      cur = '';
    } else cur += ch;
  }
  if (depth !== 0) throw new SelectorError(`unbalanced "(" in selector "${text}"`);
  parts.push(cur);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

function checkKey(key: string): string {
  if (!KEY.test(key)) throw new SelectorError(`invalid label key "${key}"`);
  return key;
}

function checkValue(value: string): string {
  if (value.length > 63 || !VALUE.test(value)) throw new SelectorError(`invalid label value "${value}"`);
  return value;
}

export function parseLabelSelector(text: string | undefined): LabelRequirement[] {
  if (text === undefined || text.trim() === '') return [];
  return splitTop(text).map((part) => {
    let m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (m) {
      const values = m[3]!
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '')
        .map(checkValue);
      return { key: checkKey(m[1]!), op: m[2] === 'in' ? 'in' : 'notin', values };
    }
    m = /^([^=!<>\s]+)\s*(==|=|!=|>|<)\s*(\S*)$/.exec(part);
    if (m) {
      const op: LabelOp = m[2] === '!=' ? 'neq' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : 'eq';
      if ((op === 'gt' || op === 'lt') && !/^-?\d+$/.test(m[3]!))
        throw new SelectorError(`"${part}": ${m[2]} needs an integer`);
      return { key: checkKey(m[1]!), op, values: [op === 'gt' || op === 'lt' ? m[3]! : checkValue(m[3]!)] };
    }
    m = /^!\s*(\S+)$/.exec(part);
    if (m) return { key: checkKey(m[1]!), op: 'notExists', values: [] };
    if (/^\S+$/.test(part)) return { key: checkKey(part), op: 'exists', values: [] };
    throw new SelectorError(`cannot parse label selector requirement "${part}"`);
  });
}

export function matchLabels(
  reqs: readonly LabelRequirement[],
  labels: Readonly<Record<string, string>> | undefined,
): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'exists':
        return has;
      case 'notExists':
        return !has;
      case 'eq':
        return has && v === r.values[0];
      case 'neq':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(v!)) return false;
        const a = Number(v);
        const b = Number(r.values[0]);
        return r.op === 'gt' ? a > b : a < b;
      }
    }
  });
}

export interface FieldRequirement {
  readonly field: string;
  readonly op: 'eq' | 'neq';
  readonly value: string;
}

export function parseFieldSelector(text: string | undefined, supported: readonly string[]): FieldRequirement[] {
  if (text === undefined || text.trim() === '') return [];
  return splitTop(text).map((part) => {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw new SelectorError(`cannot parse field selector requirement "${part}"`);
    const field = m[1]!;
    if (!supported.includes(field)) {
      throw new SelectorError(`field label not supported: ${field}`);
    }
    return { field, op: m[2] === '!=' ? 'neq' : 'eq', value: m[3]!.trim() };
  });
}

/** Reads a dotted path such as `spec.nodeName` or `metadata.name` from an object. */
export function fieldValue(obj: unknown, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[seg];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'string' ? cur : String(cur);
}

export function matchFields(reqs: readonly FieldRequirement[], obj: unknown): boolean {
  return reqs.every((r) => {
    const v = fieldValue(obj, r.field);
    return r.op === 'eq' ? v === r.value : v !== r.value;
  });
}
