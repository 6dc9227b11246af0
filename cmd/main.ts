/**
 * The `herald` binary's composition root: the only place that sees every program
 * (src/, controller/, speaker/, lab/) and reads argv.
 */
import yargs from 'yargs';
import { errorMessage, HeraldError } from '../src/core/errors.js';
import { LOG_LEVELS } from '../src/core/logger.js';
import type { CliIO } from '../src/cli/io.js';
import { validateCommand } from '../src/cli/validate.js';

export async function main(argv: readonly string[], io: CliIO = process): Promise<number> {
  let exitCode = 0;
  const setExit = (code: number): void => {
    exitCode = code;
  };
  const parser = yargs([...argv])
    .scriptName('herald')
    .usage('$0 <command> [options]')
    .option('log-level', { choices: LOG_LEVELS, default: 'info' as const, describe: 'log verbosity' })
    .command(validateCommand(io, setExit))
    .demandCommand(1, 'name a command')
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs calls this for usage mistakes (msg) and for errors thrown by handlers (err).
      throw err ?? new HeraldError('Usage', msg);
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    const usage = err instanceof HeraldError && err.code === 'Usage';
    io.stderr.write(`herald: ${errorMessage(err)}\n${usage ? "run 'herald --help' for usage\n" : ''}`);
    return usage ? 2 : 1;
  }
  return exitCode;
}
