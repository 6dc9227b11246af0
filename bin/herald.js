#!/usr/bin/env node
// Entry point. In a checkout (tsx installed) it runs the TypeScript source, so it is never
// stale; in an image built with `npm run build` and production dependencies it runs dist/.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let entry;
try {
  const { register } = await import('tsx/esm/api');
  register();
  entry = join(root, 'src', 'cli', 'main.ts');
} catch {
  entry = join(root, 'dist', 'src', 'cli', 'main.js');
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
