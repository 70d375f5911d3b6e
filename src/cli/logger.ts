/**
 * Diagnostics on stderr: one line per message, plain text or JSON lines (`--log-format json`, for
 * cron and CI logs). `--quiet` keeps warnings and errors only. Results never go through the logger:
 * they go to stdout.
 */
export type LogFormat = 'text' | 'json';
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  readonly format: LogFormat;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  readonly stream: { write(text: string): unknown };
  /** @defaultValue 'text' */
  readonly format?: LogFormat;
  /** Only warnings and errors. @defaultValue false */
  readonly quiet?: boolean;
  /** Also debug messages. @defaultValue false */
  readonly debug?: boolean;
  /** @defaultValue () => new Date() */
  readonly now?: () => Date;
}

const PREFIX: Readonly<Record<LogLevel, string>> = { debug: 'debug: ', info: '', warn: 'warning: ', error: 'error: ' };

export function createLogger(options: LoggerOptions): Logger {
  const format = options.format ?? 'text';
  const now = options.now ?? (() => new Date());
  const write = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (level === 'debug' && !options.debug) return;
    if (level === 'info' && options.quiet) return;
    if (format === 'json') {
      options.stream.write(`${JSON.stringify({ time: now().toISOString(), level, msg: message, ...fields })}\n`);
    } else {
      options.stream.write(`rpr-select: ${PREFIX[level]}${message}\n`);
    }
  };
  return {
    format,
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
  };
}
