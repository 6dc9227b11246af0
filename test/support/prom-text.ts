/** Reads the Prometheus text exposition a registry serves, for tests that check metric values. */
import type { Registry } from 'prom-client';

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      if (name && type) types.set(name, type);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL))
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, types };
}

/** The samples of one metric, each as its labels (minus `omit`) and value, sorted for deep-equal. */
export async function samplesOf(
  registry: Registry,
  name: string,
  omit: readonly string[] = [],
): Promise<{ labels: Record<string, string>; value: number }[]> {
  const { samples } = parseExposition(await registry.metrics());
  return samples
    .filter((s) => s.name === name)
    .map((s) => ({
      labels: Object.fromEntries(Object.entries(s.labels).filter(([k]) => !omit.includes(k))),
      value: s.value,
    }))
    .sort((a, b) => JSON.stringify(a.labels).localeCompare(JSON.stringify(b.labels)));
}
