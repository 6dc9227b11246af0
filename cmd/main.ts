/**
 * The `herald` binary's composition root: the only place that sees every program
 * (src/, controller/, speaker/, lab/) and reads argv. Each command loads its program when it
 * runs (a dynamic import in its handler): a speaker never loads the controller, the lab or
 * the embedded API server (about 20 MB of memory per process).
 */
import yargs from 'yargs';
import { errorMessage, HeraldError } from '../src/core/errors.js';
import { globalOptions } from '../src/cli/command.js';
import type { CliIO } from '../src/cli/io.js';
import { validateCommand } from '../src/cli/validate.js';
import { importCommand } from '../src/cli/import.js';
import { statusCommand } from '../src/cli/status.js';
import { collectCommand } from '../src/cli/collect.js';
import { apiserverCommand } from './apiserver.js';
import { controllerCommand } from './controller.js';
import { speakerCommand } from './speaker.js';
import { labCommand } from './lab.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout (cmd/ in a checkout, dist/cmd/ in a build). */
const HERE = dirname(fileURLToPath(import.meta.url));
const REPO_ROOT = HERE.endsWith(join('dist', 'cmd')) ? join(HERE, '..', '..') : join(HERE, '..');

/** The whole command line: every command, the global options, strict parsing, `--help`. */
export function heraldParser(io: CliIO, waitForStop: () => Promise<void>, setExit: (code: number) => void) {
  return globalOptions(yargs())
    .scriptName('herald')
    .usage('$0 <command> [options]')
    .command(validateCommand(io, setExit))
    .command(importCommand(io, setExit))
    .command(statusCommand(io, setExit))
    .command(collectCommand(io, setExit))
    .command(apiserverCommand(io, waitForStop))
    .command(controllerCommand(io, waitForStop, setExit))
    .command(speakerCommand(io, waitForStop))
    .command(labCommand(io, REPO_ROOT, waitForStop, setExit))
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs calls this for usage mistakes (msg) and for errors thrown by handlers (err).
      throw err ?? new HeraldError('Usage', msg);
    });
}

export async function main(
  argv: readonly string[],
  io: CliIO = process,
  waitForStop: () => Promise<void> = signalled,
): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  try {
    await heraldParser(io, waitForStop, setExit).parseAsync([...argv]);
  } catch (err) {
    const usage = err instanceof HeraldError && err.code === 'Usage';
    io.stderr.write(`herald: ${errorMessage(err)}\n${usage ? "run 'herald --help' for usage\n" : ''}`);
    return usage ? 2 : 1;
  }
  return exitCode;
}

/** Resolves on the first SIGINT or SIGTERM; long-running commands stop then. */
function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
}
