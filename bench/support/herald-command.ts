/**
 * The command line of a Herald program for a bench. By default `npm run build`'s output (what
 * the image runs), built into `dir` with this checkout's node_modules and native build linked
 * in; with `tsx`, bin/herald.js as in a checkout (tsx compiles at load time and costs memory).
 */
import { spawnSync } from 'node:child_process';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../test/support/crds.js';

export function heraldCommand(dir: string, tsx: boolean): string[] {
  if (tsx) return [join(REPO_ROOT, 'bin', 'herald.js')];
  const out = join(dir, 'build');
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'build.mjs'), '--outDir', join(out, 'dist')], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`npm run build failed:\n${r.stdout}${r.stderr}`);
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(out, 'node_modules'));
  symlinkSync(join(REPO_ROOT, 'build'), join(out, 'build'));
  writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
  writeFileSync(
    join(out, 'herald.js'),
    "import { main } from './dist/cmd/main.js';\nprocess.exitCode = await main(process.argv.slice(2));\n",
  );
  return [join(out, 'herald.js')];
}
