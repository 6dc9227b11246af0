/** In-memory stdout/stderr for a command under test, and what was written to each. */
import { PassThrough } from 'node:stream';

export function capture(): { io: { stdout: PassThrough; stderr: PassThrough }; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const o: Buffer[] = [];
  const e: Buffer[] = [];
  stdout.on('data', (b: Buffer) => o.push(b));
  stderr.on('data', (b: Buffer) => e.push(b));
  return { io: { stdout, stderr }, out: () => Buffer.concat(o).toString(), err: () => Buffer.concat(e).toString() };
}
