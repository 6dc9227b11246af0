/**
 * The Logger interface the whole code base takes in its options. The winston adapter
 * lives in src/cli/logging.ts; tests use RecordingLogger.
 */

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export interface LogRecord {
  readonly level: LogLevel;
  readonly message: string;
  readonly fields: LogFields;
}

/** Keeps every record in memory; children share the parent's list. */
export class RecordingLogger implements Logger {
  readonly records: LogRecord[];
  private readonly base: LogFields;

  constructor(base: LogFields = {}, records: LogRecord[] = []) {
    this.base = base;
    this.records = records;
  }

  error(message: string, fields?: LogFields): void {
    this.push('error', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.push('warn', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.push('info', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.push('debug', message, fields);
  }
  child(fields: LogFields): Logger {
    return new RecordingLogger({ ...this.base, ...fields }, this.records);
  }

  private push(level: LogLevel, message: string, fields?: LogFields): void {
    this.records.push({ level, message, fields: { ...this.base, ...fields } });
  }
}

/** Discards everything. */
export const nullLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => nullLogger,
};
