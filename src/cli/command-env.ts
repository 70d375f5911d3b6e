import type { CliContext, CommandEnv, GlobalArgs } from './cli-context.js';
import type { LeaseHolder } from '../rounds/index.js';
import { createLogger, type Logger } from './logger.js';
import { createProgressBar, type ProgressBar } from './progress-bar.js';

/** The logger a command uses, from the global flags. */
export function commandEnv(ctx: CliContext, args: GlobalArgs): CommandEnv {
  const debug = ctx.env.RPR_DEBUG === '1' || ctx.env.RPR_DEBUG === 'true';
  return { ctx, log: createLogger({ stream: ctx.stderr, format: args.logFormat, quiet: args.quiet, debug }) };
}

/** Scoring progress on stderr: only on a terminal, never with --quiet or JSON logs. */
export function scoringProgress(ctx: CliContext, args: GlobalArgs): ProgressBar {
  return createProgressBar({ stream: ctx.stderr, enabled: !args.quiet && args.logFormat === 'text' });
}

/** What a command that opens the ledger says when it takes the ledger over from a dead or stuck run. */
export function takeoverWarning(log: Logger): (previous: LeaseHolder, why: string) => void {
  return (previous, why) => log.warn(`took over the ledger from pid ${previous.pid} on ${previous.host}: ${why}`);
}
