/** `herald validate -f <file|dir>...`: offline validation of YAML/JSON manifests. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { Argv } from 'yargs';
import type { Command, GlobalArgs } from './command.js';
import { errorMessage, formatObjectRef } from '../core/errors.js';
import { parseConfig } from '../config/parse.js';
import { capList, isObject } from '../config/reader.js';
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

/** Objects of one file, or the problems that kept them from being read. Never throws. */
async function loadFile(file: string, objects: LoadedObject[], problems: LoadProblem[]): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    problems.push({ source: file, message: `cannot read: ${errorMessage(err)}` });
    return;
  }
  let docs;
  try {
    docs = parseAllDocuments(text);
  } catch (err) {
    problems.push({ source: file, message: `YAML: ${errorMessage(err).split('\n')[0]}` });
    return;
  }
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        const line = e.linePos?.[0]?.line;
        problems.push({ source: line ? `${file}:${line}` : file, message: `YAML: ${e.message.split('\n')[0]}` });
      }
      continue;
    }
    let value: unknown;
    try {
      // Aliases are resolved here: an unknown anchor or an alias bomb throws.
      value = doc.toJS();
    } catch (err) {
      const line = doc.range ? lineOf(text, doc.range[0]) : undefined;
      problems.push({ source: line ? `${file}:${line}` : file, message: `YAML: ${errorMessage(err).split('\n')[0]}` });
      continue;
    }
    if (value === null || value === undefined) continue;
    if (isObject(value) && value['kind'] === 'List' && Array.isArray(value['items'])) {
      for (const item of value['items'] as unknown[]) objects.push({ source: file, object: item });
    } else objects.push({ source: file, object: value });
  }
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Reads every YAML document (and the items of `kind: List`) from the given paths. A file
 * that cannot be read or parsed is a problem naming that file; the other files are still read.
 */
export async function loadManifests(
  paths: readonly string[],
): Promise<{ objects: LoadedObject[]; problems: LoadProblem[]; files: string[] }> {
  const objects: LoadedObject[] = [];
  const problems: LoadProblem[] = [];
  const all: string[] = [];
  for (const p of paths) {
    let files: string[];
    try {
      files = await listFiles(p);
    } catch (err) {
      problems.push({ source: p, message: `cannot read: ${errorMessage(err)}` });
      continue;
    }
    for (const file of files) {
      all.push(file);
      await loadFile(file, objects, problems);
    }
  }
  return { objects, problems, files: all };
}

/** Lines printed for configuration errors at most; the rest are counted. */
export const MAX_REPORTED_ERRORS = 1000;

export async function runValidate(paths: readonly string[], io: CliIO): Promise<number> {
  const { objects, problems, files } = await loadManifests(paths);
  const perFile = new Map<string, number>();
  const count = (source: string): void => {
    const file = source.replace(/:\d+$/, '');
    perFile.set(file, (perFile.get(file) ?? 0) + 1);
  };
  for (const p of problems) {
    io.stdout.write(`${p.source}: ${p.message}\n`);
    count(p.source);
  }
  const result = parseConfig(objects.map((o) => o.object));
  const { shown, omitted } = capList(result.errors, MAX_REPORTED_ERRORS);
  result.errors.forEach((e) => {
    const index = result.inputIndex.get(e.object);
    const src = index === undefined ? '' : (objects[index]?.source ?? '');
    if (src) count(src);
  });
  for (const e of shown) {
    const index = result.inputIndex.get(e.object);
    const src = index === undefined ? '' : (objects[index]?.source ?? '');
    const where = e.field ? `${e.field}: ` : '';
    const note = e.transient ? ' (reference: may resolve once the object exists)' : '';
    io.stdout.write(`${src ? src + ': ' : ''}${formatObjectRef(e.object)}: ${where}${e.reason}${note}\n`);
  }
  if (omitted > 0) io.stdout.write(`... ${omitted} more error(s) not printed\n`);
  const total = problems.length + result.errors.length;
  if (total > 0) {
    const bad = [...perFile.entries()].map(([f, n]) => `${f} (${n})`).join(', ');
    io.stderr.write(
      `herald validate: ${total} error(s) in ${objects.length} object(s) from ${files.length} file(s)${bad ? `; errors in ${bad}` : ''}\n`,
    );
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

const builder = (y: Argv<GlobalArgs>) =>
  y.option('file', {
    alias: 'f',
    type: 'string',
    array: true,
    demandOption: true,
    describe: 'file or directory (repeatable)',
  });

export function validateCommand(io: CliIO, setExit: (code: number) => void): Command<typeof builder> {
  return {
    command: 'validate',
    describe: 'check Herald manifests offline: prints each error with object, field and reason',
    builder,
    handler: async (args) => {
      setExit(await runValidate(args.file, io));
    },
  };
}
