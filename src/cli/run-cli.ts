/**
 * The CLI as a function: parses the arguments, runs the command, and returns the exit status. All
 * failures come out through `reportError`, the one place that maps them to exit statuses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yargs, { type Argv } from 'yargs';
import { RprError, type ExitCodeValue } from '../errors/index.js';
import { packageRoot } from '../util/package-root.js';
import type { CliContext, GlobalArgs } from './cli-context.js';
import { roundsCommand } from './commands/rounds.js';
import { scheduleCommand } from './commands/schedule.js';
import { diagnoseCommand } from './commands/diagnose.js';
import { scoreCommand } from './commands/score.js';
import { serveCommand } from './commands/serve.js';
import { selectCommand } from './commands/select.js';
import { syncCommand } from './commands/sync.js';
import { webhookCommand } from './commands/webhook.js';
import { workerCommand } from './commands/worker.js';
import { createLogger } from './logger.js';
import { reportError } from './report-error.js';

const ABOUT = `Picks which unlabeled images to label next: scores a pool by the Right Projection Ratio of a CNN
linearized at each image, selects within a labeling budget, queues the images for annotation, and
remembers every round in a ledger so nothing is lost or labeled twice.`;

export async function runCli(argv: readonly string[], ctx: CliContext): Promise<ExitCodeValue> {
  const jsonLogs = argv.some((word, i) => word === '--log-format=json' || (word === '--log-format' && argv[i + 1] === 'json'));
  const log = createLogger({ stream: ctx.stderr, format: jsonLogs ? 'json' : 'text' });
  let output = '';
  try {
    await buildCli(ctx).parseAsync([...argv], {}, (_error, _args, text) => {
      output = text;
    });
    if (output !== '') ctx.stdout.write(`${output}\n`);
    return 0;
  } catch (error) {
    return reportError(error, log, ctx.env);
  }
}

function buildCli(ctx: CliContext): Argv<GlobalArgs> {
  // yargs infers `log-format`; the commands read it camel-cased, as yargs also provides it.
  const global = yargs()
    // A flag given twice takes its last value (as most CLIs do) instead of becoming an array.
    .parserConfiguration({ 'duplicate-arguments-array': false })
    .scriptName('rpr-select')
    .usage(`$0 <command> [options]\n\n${ABOUT}`)
    .option('config', { type: 'string', describe: 'YAML configuration file (every key: config/default.yaml); without it the built-in defaults' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON on stdout' })
    .option('quiet', { type: 'boolean', default: false, describe: 'No progress bar, summary or informational messages; warnings and errors still go to stderr' })
    .option('log-format', { choices: ['text', 'json'] as const, default: 'text' as const, describe: 'Messages on stderr as text or as JSON lines' }) as unknown as Argv<GlobalArgs>;
  return global
    .command(selectCommand(ctx))
    .command(roundsCommand(ctx))
    .command(syncCommand(ctx))
    .command(webhookCommand(ctx))
    .command(scheduleCommand(ctx))
    .command(scoreCommand(ctx))
    .command(diagnoseCommand(ctx))
    .command(serveCommand(ctx))
    .command(workerCommand(ctx))
    .demandCommand(1, 'name a command: select, rounds, sync, schedule, score, diagnose, serve or worker')
    .recommendCommands()
    .strict()
    .exitProcess(false)
    .fail((message, error) => {
      throw error ?? new RprError('RPR_USAGE', `${message.replace(/\s*\n\s*/g, ' ')}; see rpr-select --help`);
    })
    .help()
    .alias('help', 'h')
    .version(packageVersion())
    .wrap(Math.min(110, ctx.stderr.columns ?? 100))
    .epilogue('Environment: LABEL_STUDIO_API_KEY (the Label Studio token; never put it in a config file), RPR_DEBUG=1 (stack traces).');
}

function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}
