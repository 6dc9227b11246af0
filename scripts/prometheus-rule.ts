/**
 * Writes manifests/components/prometheus/prometheusrule.yaml from herald-rules.yaml: the
 * same groups, text for text (comments included), under a PrometheusRule's spec, so the
 * rule file promtool tests and the object the Prometheus Operator loads cannot differ.
 *   npx tsx scripts/prometheus-rule.ts          write it
 *   npx tsx scripts/prometheus-rule.ts --check  exit 1 when the file is out of date
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const COMPONENT_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'manifests',
  'components',
  'prometheus',
);
export const RULES_FILE = join(COMPONENT_DIR, 'herald-rules.yaml');
export const PROMETHEUS_RULE_FILE = join(COMPONENT_DIR, 'prometheusrule.yaml');

/** The PrometheusRule text for a rule file's text (its leading comment block is replaced). */
export function renderPrometheusRule(rules: string): string {
  const lines = rules.split('\n');
  const start = lines.findIndex((l) => l.startsWith('groups:'));
  if (start < 0) throw new Error('herald-rules.yaml: no top-level "groups:" key');
  const body = lines
    .slice(start)
    .map((l) => (l === '' ? l : `  ${l}`))
    .join('\n');
  return [
    '# Generated from herald-rules.yaml by scripts/prometheus-rule.ts: edit that file, then run',
    '# npx tsx scripts/prometheus-rule.ts (a unit test fails while the two differ).',
    'apiVersion: monitoring.coreos.com/v1',
    'kind: PrometheusRule',
    'metadata:',
    '  name: herald',
    '  namespace: herald-system',
    '  labels:',
    '    app.kubernetes.io/name: herald',
    '    app.kubernetes.io/part-of: herald',
    'spec:',
    body,
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const want = renderPrometheusRule(readFileSync(RULES_FILE, 'utf8'));
  if (process.argv.includes('--check')) {
    let have = '';
    try {
      have = readFileSync(PROMETHEUS_RULE_FILE, 'utf8');
    } catch {
      // Missing: out of date.
    }
    if (have !== want) {
      process.stderr.write(`${PROMETHEUS_RULE_FILE} is out of date: run npx tsx scripts/prometheus-rule.ts\n`);
      process.exit(1);
    }
  } else writeFileSync(PROMETHEUS_RULE_FILE, want);
}
