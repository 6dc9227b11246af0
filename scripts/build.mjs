#!/usr/bin/env node
// `npm run build [-- --outDir DIR]`: compiles the TypeScript (tsconfig.build.json) into DIR
// (default dist/), then replaces DIR/src/k8s/client-node.js with an esbuild bundle of the few
// @kubernetes/client-node exports Herald uses (see src/k8s/client-node.ts: the package as a
// whole costs every process about 55 MB of memory).
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const i = process.argv.indexOf('--outDir');
const outDir = resolve(i >= 0 ? process.argv[i + 1] : join(root, 'dist'));

const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir],
  { stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

await build({
  entryPoints: [join(root, 'src', 'k8s', 'client-node.ts')],
  outfile: join(outDir, 'src', 'k8s', 'client-node.js'),
  allowOverwrite: true,
  bundle: true,
  treeShaking: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
  // Some of client-node's dependencies are CommonJS and call require(): give the bundle one.
  banner: {
    js: "import { createRequire as __heraldCreateRequire } from 'node:module'; const require = __heraldCreateRequire(import.meta.url);",
  },
  legalComments: 'eof',
  // Smaller source text is less memory (V8 keeps it); names stay for readable stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  keepNames: true,
});
