/** Kubernetes LabelSelector: parsing with field-path errors, and matching. */
import type { FieldReader } from './reader.js';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface SelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  readonly values: readonly string[];
}

/** An empty selector (no labels, no expressions) matches everything, as in Kubernetes. */
export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly SelectorRequirement[];
}

export type Labels = Readonly<Record<string, string>>;

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `label key prefix "${prefix}" must be a DNS subdomain`;
  }
  if (!NAME.test(name))
    return `label key "${key}" must be 1-63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric`;
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === '' || NAME.test(value)) return undefined;
  return `label value "${value}" must be at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric`;
}

const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export function readLabelSelector(r: FieldReader): LabelSelector {
  r.only(['matchLabels', 'matchExpressions']);
  const matchLabels: Record<string, string> = {};
  const ml = r.object('matchLabels');
  if (ml) {
    for (const [k, v] of Object.entries(ml.value)) {
      const kp = labelKeyProblem(k);
      if (kp) ml.error(k, kp);
      else if (typeof v !== 'string') ml.error(k, 'label values are strings');
      else {
        const vp = labelValueProblem(v);
        if (vp) ml.error(k, vp);
        else matchLabels[k] = v;
      }
    }
  }
  const matchExpressions: SelectorRequirement[] = [];
  for (const e of r.objectList('matchExpressions')) {
    e.only(['key', 'operator', 'values']);
    const key = e.string('key');
    const op = e.string('operator');
    const values = e.stringList('values');
    if (key === undefined) e.error('key', 'required');
    else {
      const kp = labelKeyProblem(key);
      if (kp) e.error('key', kp);
    }
    if (op === undefined) e.error('operator', `required (one of ${OPERATORS.join(', ')})`);
    else if (!(OPERATORS as readonly string[]).includes(op))
      e.error('operator', `"${op}" is not one of ${OPERATORS.join(', ')}`);
    else if ((op === 'In' || op === 'NotIn') && values.length === 0)
      e.error('values', `must not be empty for operator ${op}`);
    else if ((op === 'Exists' || op === 'DoesNotExist') && values.length > 0)
      e.error('values', `must be empty for operator ${op}`);
    else if (key !== undefined) matchExpressions.push({ key, operator: op as SelectorOperator, values });
  }
  return { matchLabels, matchExpressions };
}

export function selectorMatches(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) if (labels[k] !== v) return false;
  for (const req of sel.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const v = labels[req.key];
    switch (req.operator) {
      case 'In':
        if (!has || !req.values.includes(v!)) return false;
        break;
      case 'NotIn':
        if (has && req.values.includes(v!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/**
 * MetalLB's rule for a list of selectors: an empty list matches everything, otherwise
 * any one selector matching is enough.
 */
export function anySelectorMatches(selectors: readonly LabelSelector[], labels: Labels): boolean {
  return selectors.length === 0 || selectors.some((s) => selectorMatches(s, labels));
}
