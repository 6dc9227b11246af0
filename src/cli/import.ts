/** `herald import -f <file|dir>... [-o DIR] [--namespace NS]`: MetalLB objects → Herald objects. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Argv } from 'yargs';
import type { Command, GlobalArgs } from './command.js';
import { importMetalLB, type OutputObject } from '../migrate/index.js';
import type { CliIO } from './io.js';
import { loadManifests } from './validate.js';
import { HERALD_NAMESPACE } from '../api/names.js';

export interface ImportOptions {
  readonly paths: readonly string[];
  /** Directory to write one file per object into; stdout when unset. */
  readonly outDir?: string;
  readonly namespace: string;
}

function fileName(o: OutputObject): string {
  return `${o.kind.toLowerCase()}-${o.metadata.name}.yaml`;
}

/** Exit status: 0 when everything was carried over, 1 when something was not (or could not be read). */
export async function runImport(opts: ImportOptions, io: CliIO): Promise<number> {
  const { objects, problems } = await loadManifests(opts.paths);
  for (const p of problems) io.stderr.write(`${p.source}: ${p.message}\n`);
  const result = importMetalLB(
    objects.map((o) => o.object),
    { namespace: opts.namespace },
  );
  let unsupported = 0;
  for (const i of result.issues) {
    if (i.severity === 'unsupported') unsupported++;
    const src = i.input >= 0 ? (objects[i.input]?.source ?? '') : '';
    io.stderr.write(
      `${src ? `${src}: ` : ''}${i.object}: ${i.field ? `${i.field}: ` : ''}${i.severity}: ${i.reason}\n`,
    );
  }
  if (opts.outDir !== undefined) {
    await mkdir(opts.outDir, { recursive: true });
    for (const o of result.objects) await writeFile(join(opts.outDir, fileName(o)), stringify(o));
  } else {
    io.stdout.write(result.objects.map((o) => stringify(o)).join('---\n'));
  }
  const where = opts.outDir !== undefined ? ` into ${opts.outDir}` : '';
  const other = result.ignored > 0 ? `; ${result.ignored} other object(s) left alone` : '';
  io.stderr.write(
    `herald import: wrote ${result.objects.length} Herald object(s)${where} for namespace ${opts.namespace}; ${unsupported} unsupported field(s) or object(s)${other}\n`,
  );
  return unsupported > 0 || problems.length > 0 ? 1 : 0;
}

const builder = (y: Argv<GlobalArgs>) =>
  y
    .option('file', {
      alias: 'f',
      type: 'string',
      array: true,
      demandOption: true,
      describe: 'file or directory (repeatable)',
    })
    .option('output', {
      alias: 'o',
      type: 'string',
      describe: 'directory to write one YAML file per object (default: stdout)',
    })
    .option('namespace', {
      alias: 'n',
      type: 'string',
      default: HERALD_NAMESPACE,
      describe: "Herald's namespace, where the objects are written",
    });

export function importCommand(io: CliIO, setExit: (code: number) => void): Command<typeof builder> {
  return {
    command: 'import',
    describe:
      "convert MetalLB objects (metallb.io CRs, the legacy ConfigMap) to Herald's; names every field it cannot carry over",
    builder,
    handler: async (args) => {
      setExit(
        await runImport(
          {
            paths: args.file,
            ...(args.output !== undefined ? { outDir: args.output } : {}),
            namespace: args.namespace,
          },
          io,
        ),
      );
    },
  };
}
