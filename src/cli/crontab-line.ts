/** A crontab line that runs `select` from this directory with the same configuration, logging to a file. */
export function crontabLine(options: {
  readonly cron: string;
  readonly cwd: string;
  readonly command: readonly string[];
  readonly logFile: string;
}): string {
  const command = options.command.map(shellQuote).join(' ');
  // A literal % ends a crontab command (the rest becomes stdin), so every % is escaped.
  return `${options.cron} cd ${shellQuote(options.cwd)} && ${command} >> ${shellQuote(options.logFile)} 2>&1`.replaceAll('%', '\\%');
}

/** POSIX shell single quoting, left bare when nothing needs quoting. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}
