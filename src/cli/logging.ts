/** The winston adapter behind the Logger interface: JSON when not a TTY, readable lines in one. */
import winston from 'winston';
import type { LogFields, Logger, LogLevel } from '../core/logger.js';

export interface WinstonLoggerOptions {
  readonly level: LogLevel;
  /** Readable coloured lines instead of JSON; defaults to whether stdout is a TTY. */
  readonly pretty?: boolean;
  /** Where lines go; defaults to stderr so command output on stdout stays clean. */
  readonly stream?: NodeJS.WritableStream;
}

function readable(): winston.Logform.Format {
  return winston.format.printf((info) => {
    const { level, message, timestamp, ...rest } = info;
    const fields = Object.entries(rest)
      .filter(([k]) => typeof k === 'string')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    return `${String(timestamp)} ${level} ${String(message)}${fields ? ' ' + fields : ''}`;
  });
}

export function createWinstonLogger(opts: WinstonLoggerOptions): Logger {
  const pretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  const format = pretty
    ? winston.format.combine(winston.format.timestamp(), winston.format.colorize(), readable())
    : winston.format.combine(winston.format.timestamp(), winston.format.json());
  const transport = new winston.transports.Stream({ stream: opts.stream ?? process.stderr });
  return wrap(winston.createLogger({ level: opts.level, format, transports: [transport] }));
}

function wrap(w: winston.Logger): Logger {
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    w.log(level, message, fields ? { ...fields } : {});
  };
  return {
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    child: (fields: LogFields) => wrap(w.child({ ...fields })),
  };
}
