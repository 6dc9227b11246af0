#!/usr/bin/env node
// Entry point. In a checkout (tsx installed) it runs the TypeScript source, so it is never
// stale; in an image built with `npm run build` and production dependencies it runs dist/.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

// A closed pipe (herald validate ... | head) is not an error.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let entry;
try {
  const { register } = await import('tsx/esm/api');
  register();
  entry = join(root, 'cmd', 'main.ts');
} catch {
  entry = join(root, 'dist', 'cmd', 'main.js');
}
const { main } = await import(pathToFileURL(entry).href);
process.exitCode = await main(process.argv.slice(2));
