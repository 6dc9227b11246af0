/** Prometheus rule files for tests: their shape, and the metric names a PromQL expression reads. */

export interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface RuleFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Rule[] }[];
}

const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names in a PromQL expression: identifiers that are neither functions nor
 * aggregations (followed by `(`), keywords, label lists (`by (...)`, `on (...)`), matchers
 * (`{...}`), strings, durations or numbers. Enough for rule files, not a PromQL parser.
 */
export function metricsInExpr(expr: string): string[] {
  const text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const out = new Set<string>();
  for (const m of text.matchAll(/(?<![\w.])[a-zA-Z_:][a-zA-Z0-9_:]*(?=\s*(\()?)/g)) {
    const name = m[0];
    if (m[1] === '(' || KEYWORDS.has(name.toLowerCase())) continue;
    out.add(name);
  }
  return [...out];
}
