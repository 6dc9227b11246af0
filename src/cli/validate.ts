/** `herald validate -f <file|dir>...`: offline validation of YAML/JSON manifests. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { CommandModule } from 'yargs';
import { formatObjectRef } from '../core/errors.js';
import { parseConfig } from '../config/parse.js';
import { isObject } from '../config/reader.js';
import type { CliIO } from './io.js';

export interface LoadedObject {
  readonly source: string;
  readonly object: unknown;
}

export interface LoadProblem {
  readonly source: string;
  readonly message: string;
}

async function listFiles(path: string): Promise<string[]> {
  const st = await stat(path);
  if (!st.isDirectory()) return [path];
  const out: string[] = [];
  for (const entry of (await readdir(path, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const full = join(path, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    // A kustomization file is a build recipe, not a Kubernetes object.
    else if (/\.(ya?ml|json)$/i.test(entry.name) && !/^kustomization\.ya?ml$/i.test(entry.name)) out.push(full);
  }
  return out;
}

/** Reads every YAML document (and the items of `kind: List`) from the given paths. */
export async function loadManifests(paths: readonly string[]): Promise<{ objects: LoadedObject[]; problems: LoadProblem[] }> {
  const objects: LoadedObject[] = [];
  const problems: LoadProblem[] = [];
  for (const p of paths) {
    let files: string[];
    try {
      files = await listFiles(p);
    } catch (err) {
      problems.push({ source: p, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const doc of parseAllDocuments(text)) {
        if (doc.errors.length > 0) {
          for (const e of doc.errors) {
            const line = e.linePos?.[0]?.line;
            problems.push({ source: line ? `${file}:${line}` : file, message: `YAML: ${e.message.split('\n')[0]}` });
          }
          continue;
        }
        const value: unknown = doc.toJS();
        if (value === null || value === undefined) continue;
        if (isObject(value) && value['kind'] === 'List' && Array.isArray(value['items'])) {
          for (const item of value['items'] as unknown[]) objects.push({ source: file, object: item });
        } else objects.push({ source: file, object: value });
      }
    }
  }
  return { objects, problems };
}

export async function runValidate(paths: readonly string[], io: CliIO): Promise<number> {
  const { objects, problems } = await loadManifests(paths);
  for (const p of problems) io.stdout.write(`${p.source}: ${p.message}\n`);
  const result = parseConfig(objects.map((o) => o.object));
  for (const e of result.errors) {
    const index = result.inputIndex.get(e.object);
    const src = index === undefined ? '' : (objects[index]?.source ?? '');
    const where = e.field ? `${e.field}: ` : '';
    const note = e.transient ? ' (reference: may resolve once the object exists)' : '';
    io.stdout.write(`${src ? src + ': ' : ''}${formatObjectRef(e.object)}: ${where}${e.reason}${note}\n`);
  }
  const total = problems.length + result.errors.length;
  if (total > 0) {
    io.stderr.write(`herald validate: ${total} error(s) in ${objects.length} object(s)\n`);
    return 1;
  }
  const counts = Object.entries(result.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const ignored = result.ignored.length > 0 ? `; ${result.ignored.length} other object(s) not checked` : '';
  io.stdout.write(`valid: ${objects.length} object(s)${counts ? ` (${counts})` : ''}${ignored}\n`);
  return 0;
}

export function validateCommand(io: CliIO, setExit: (code: number) => void): CommandModule<object, { file: string[] }> {
  return {
    command: 'validate',
    describe: 'check Herald manifests offline: prints each error with object, field and reason',
    builder: (y) =>
      y.option('file', { alias: 'f', type: 'string', array: true, demandOption: true, describe: 'file or directory (repeatable)' }),
    handler: async (args) => {
      setExit(await runValidate(args.file, io));
    },
  };
}
