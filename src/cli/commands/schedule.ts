/**
 * `rpr-select schedule --cron "0 2 * * *"`: runs `select` at each time the cron expression fires,
 * each round under the ledger's lease, re-reading the config every time. `--print-crontab` prints a
 * crontab line that does the same through the system's cron instead.
 *
 * A round that fails for a passing reason (ledger busy, sink unreachable: the round resumes next
 * time) is logged and the schedule goes on; a spent budget (exit 3) or a bad configuration (exit 2)
 * stops it, since every later run would fail the same way.
 */
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { ExitCode, RprError } from '../../errors/index.js';
import { parseCron, runSchedule, selectRound } from '../../rounds/index.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';
import { commandEnv, takeoverWarning } from '../command-env.js';
import { loadCliConfig, withConfigFlags } from '../config-flags.js';
import { crontabLine } from '../crontab-line.js';
import { selectJson, selectSummary } from '../format-select.js';
import { reportError } from '../report-error.js';
import { SELECT_FLAGS } from './select.js';

interface ScheduleArgs extends GlobalArgs {
  readonly cron: string;
  readonly printCrontab?: boolean;
  readonly utc?: boolean;
  readonly maxRuns?: string;
  readonly [flag: string]: unknown;
}

export function scheduleCommand(ctx: CliContext): CommandModule<GlobalArgs, ScheduleArgs> {
  return {
    command: 'schedule',
    describe: 'Run select on a cron schedule (or print a crontab line with --print-crontab)',
    builder: (y: Argv<GlobalArgs>) =>
      withConfigFlags(y, SELECT_FLAGS)
        .option('cron', { type: 'string', demandOption: true, describe: 'Five-field cron expression (minute hour day month weekday), e.g. "0 2 * * *", or @daily, @hourly…' })
        .option('print-crontab', { type: 'boolean', describe: 'Print a crontab line running select with these flags, and exit' })
        .option('utc', { type: 'boolean', describe: 'Read the expression in UTC instead of local time' })
        .option('max-runs', { type: 'string', describe: 'Stop after this many runs' })
        .example('$0 schedule --cron "0 2 * * *" --config rpr.yaml', 'a round every night at 02:00, in this process')
        .example('$0 schedule --cron "0 2 * * *" --config rpr.yaml --print-crontab >> my.crontab', 'the same through cron') as Argv<ScheduleArgs>,
    handler: async (args) => {
      const { log } = commandEnv(ctx, args);
      const schedule = parseCron(args.cron, { utc: args.utc ?? false });
      if (args.printCrontab) {
        ctx.stdout.write(`${crontabLine({ cron: args.cron, cwd: ctx.cwd, command: selectInvocation(ctx, args), logFile: resolve(ctx.cwd, '.rpr-select', 'cron.log') })}\n`);
        return;
      }
      const maxRuns = args.maxRuns === undefined ? Infinity : Number(args.maxRuns);
      if (!(maxRuns >= 1 && (Number.isInteger(maxRuns) || maxRuns === Infinity))) {
        throw new RprError('RPR_USAGE', `--max-runs must be a positive integer (got '${args.maxRuns}')`);
      }
      const halted: { error: RprError | null } = { error: null };
      const controller = new AbortController();
      ctx.signal.addEventListener('abort', () => controller.abort(ctx.signal.reason), { once: true });
      await runSchedule({
        schedule,
        maxTicks: maxRuns,
        signal: controller.signal,
        onWait: (next) => log.info(`next round at ${next.toISOString()} (${args.cron})`),
        tick: async () => {
          try {
            const loaded = await loadCliConfig(ctx, args, SELECT_FLAGS);
            const outcome = await selectRound({
              loaded,
              signal: controller.signal,
              onTakeover: takeoverWarning(log),
              onWarning: (message) => log.warn(message),
              ...(ctx.openScoring ? { openScoring: ctx.openScoring } : {}),
            });
            if (args.json) ctx.stdout.write(`${JSON.stringify(selectJson(outcome, loaded.config))}\n`);
            else log.info(selectSummary(outcome, loaded.config).trimEnd());
          } catch (error) {
            if (controller.signal.aborted) throw error;
            const code = reportError(error, log, ctx.env);
            if (error instanceof RprError && (code === ExitCode.usage || code === ExitCode.budgetSpent)) {
              halted.error = error;
              controller.abort();
            }
          }
        },
      });
      if (halted.error !== null) {
        throw new RprError(halted.error.code, `schedule stopped: ${halted.error.message}`, halted.error.context);
      }
      if (ctx.signal.aborted) log.info('schedule stopped');
    },
  };
}

/** This CLI's `select` with the configuration flags given to `schedule`; the line runs from the same directory. */
function selectInvocation(ctx: CliContext, args: ScheduleArgs): string[] {
  const words: string[] = [...ctx.entry, 'select'];
  if (args.config !== undefined) words.push('--config', resolve(ctx.cwd, args.config));
  for (const flag of SELECT_FLAGS) {
    const value = args[flag];
    if (value === true) words.push(`--${flag}`);
    else if (value === false) words.push(`--no-${flag}`);
    else if (value !== undefined) words.push(`--${flag}`, String(value));
  }
  return [...words, '--json', '--log-format', 'json'];
}
