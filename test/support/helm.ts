/**
 * The Helm chart in tests: the pinned helm binary (scripts/go-tool.sh builds it once per
 * machine; a caller waits on its lock), `helm template`/`helm lint` with a values object,
 * `kubectl kustomize`, and the object-by-object comparison the drift test uses.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './crds.js';
import { hasTool } from './tools.js';

export const CHART_DIR = join(REPO_ROOT, 'charts', 'herald');
export const MANIFESTS_DIR = join(REPO_ROOT, 'manifests');

export type K8sObject = Record<string, unknown> & {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(cmd: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: REPO_ROOT, env });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/**
 * The pinned helm (scripts/go-tool.sh helm). Without a cached binary and without Go the
 * suite skips locally and fails under CI; with Go it builds (or waits for the build
 * scripts/test.sh started at the beginning of the run).
 */
export async function helmBinary(ctx: Mocha.Context): Promise<string> {
  const cached = await run('sh', ['scripts/go-tool.sh', 'helm'], { ...process.env, HERALD_TOOL_BUILD: 'never' });
  if (cached.code === 0) return cached.stdout.trim();
  if (!hasTool('go')) {
    if (process.env['CI'] === 'true')
      throw new Error(
        `helm is not built and Go is missing; CI must install Go (scripts/install-deps.sh): ${cached.stderr.trim()}`,
      );
    ctx.skip();
  }
  const built = await run('sh', ['scripts/go-tool.sh', 'helm']);
  if (built.code !== 0) throw new Error(`building helm failed: ${built.stderr.trim()}`);
  return built.stdout.trim();
}

export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && typeof o === 'object');
}

/** Runs helm with a values file written from `values` (removed afterwards); `args` go before `-f`. */
export async function helmWithValues(helm: string, args: readonly string[], values: object): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-helm-'));
  try {
    const file = join(dir, 'values.json');
    writeFileSync(file, JSON.stringify(values));
    return await run(helm, [...args, '-f', file]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `helm template herald charts/herald -n <namespace> -f <values>`; throws with helm's message on failure. */
export async function helmTemplate(
  helm: string,
  values: object = {},
  namespace = 'herald-system',
): Promise<K8sObject[]> {
  const r = await helmWithValues(helm, ['template', 'herald', CHART_DIR, '--namespace', namespace], values);
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr.trim()}`);
  return parseObjects(r.stdout);
}

export async function kustomize(dir: string): Promise<K8sObject[]> {
  const r = await run('kubectl', ['kustomize', dir]);
  if (r.code !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${r.stderr.trim()}`);
  return parseObjects(r.stdout);
}

/** `kubectl kustomize` of an overlay of manifests/ with the given components (a throwaway directory). */
export async function kustomizeWithComponents(components: readonly string[]): Promise<K8sObject[]> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-overlay-'));
  try {
    // kustomize takes only relative paths to other kustomizations.
    const rel = (p: string): string => relative(dir, p);
    const lines = [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${rel(MANIFESTS_DIR)}`,
      'components:',
      ...components.map((c) => `  - ${rel(join(MANIFESTS_DIR, 'components', c))}`),
    ];
    writeFileSync(join(dir, 'kustomization.yaml'), `${lines.join('\n')}\n`);
    return await kustomize(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The labels every Helm release adds; the drift comparison removes them (and only them). */
export const HELM_RELEASE_LABELS = [
  'helm.sh/chart',
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
] as const;

export function withoutReleaseLabels(o: K8sObject): K8sObject {
  const copy = structuredClone(o);
  const labels = copy.metadata.labels;
  if (labels) {
    for (const l of HELM_RELEASE_LABELS) delete labels[l];
    if (Object.keys(labels).length === 0) delete copy.metadata.labels;
  }
  return copy;
}

export function objectKey(o: K8sObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

export interface Difference {
  /** e.g. `spec.template.spec.containers[0].args[2]`, `metadata.labels["app.kubernetes.io/name"]`. */
  readonly path: string;
  readonly a: unknown;
  readonly b: unknown;
}

function child(path: string, key: string): string {
  const k = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  if (k !== key) return `${path}[${k}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** The first field (in key order) where `a` and `b` differ, with both values; undefined when equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): Difference | undefined {
  if (a === b) return undefined;
  const here = { path: path === '' ? '(root)' : path, a, b };
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b)) return here;
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return here;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort()) {
    const d = firstDifference(ra[k], rb[k], child(path, k));
    if (d) return d;
  }
  return undefined;
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : JSON.stringify(v);
}

/**
 * Compares the chart's objects with kustomize's, object by object: every object missing on
 * either side and, for each object on both, its first differing field with both values.
 * Release labels are removed from the chart's objects first. Empty when they agree.
 */
export function compareObjects(chart: readonly K8sObject[], kust: readonly K8sObject[]): string[] {
  const problems: string[] = [];
  const byKey = (list: readonly K8sObject[]): Map<string, K8sObject> => {
    const m = new Map<string, K8sObject>();
    for (const o of list) {
      if (m.has(objectKey(o))) problems.push(`${objectKey(o)} appears twice`);
      m.set(objectKey(o), o);
    }
    return m;
  };
  const c = byKey(chart.map(withoutReleaseLabels));
  const k = byKey(kust);
  for (const key of k.keys()) if (!c.has(key)) problems.push(`${key}: in manifests/, not in the chart`);
  for (const key of c.keys()) if (!k.has(key)) problems.push(`${key}: in the chart, not in manifests/`);
  for (const [key, ko] of k) {
    const co = c.get(key);
    if (!co) continue;
    const d = firstDifference(co, ko);
    if (d) problems.push(`${key}: first difference at ${d.path}: chart ${show(d.a)}, manifests/ ${show(d.b)}`);
  }
  return problems;
}
