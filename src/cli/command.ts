/**
 * Typed yargs commands: each command's arguments are the type yargs infers from its builder
 * (`ArgsOf`), so the options and the type the handler reads cannot drift apart.
 */
import type { Argv, CommandModule } from 'yargs';
import { LOG_LEVELS } from '../core/logger.js';

/** The options every command has (declared once, on the top-level parser). */
export function globalOptions<T>(y: Argv<T>) {
  return y.option('log-level', { choices: LOG_LEVELS, default: 'info' as const, describe: 'log verbosity' });
}

/** The arguments a builder declares, as yargs infers them. */
type ArgsOf<B extends (y: Argv<GlobalArgs>) => Argv<unknown>> = ReturnType<B> extends Argv<infer A> ? A : never;

export type GlobalArgs = ReturnType<typeof globalOptions<object>> extends Argv<infer A> ? A : never;

/** A command whose builder adds options to the global ones. */
export type Command<B extends (y: Argv<GlobalArgs>) => Argv<unknown>> = CommandModule<GlobalArgs, ArgsOf<B>>;
