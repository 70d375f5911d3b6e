/**
 * `rpr-select select`: one acquisition round. Scores the pool, picks images within the budget with
 * the policy, hands them to the sink, and records everything in the ledger; an interrupted round is
 * finished by the next run. `--json` prints one object (see format-select.ts); otherwise a summary.
 * For tests, RPR_TEST_PAUSE_AT stops it at a chosen step (see test-pause.ts).
 */
import type { Argv, CommandModule } from 'yargs';
import { selectRound } from '../../rounds/index.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';
import { commandEnv, scoringProgress } from '../command-env.js';
import { CONFIG_FLAGS, loadCliConfig, withConfigFlags, type ConfigFlag } from '../config-flags.js';
import { selectJson, selectSummary } from '../format-select.js';
import { testPauseHooks } from '../test-pause.js';

export const SELECT_FLAGS = Object.keys(CONFIG_FLAGS) as ConfigFlag[];

export interface SelectArgs extends GlobalArgs {
  readonly dryRun?: boolean;
  readonly [flag: string]: unknown;
}

export function selectCommand(ctx: CliContext): CommandModule<GlobalArgs, SelectArgs> {
  return {
    command: 'select',
    describe: 'Run one acquisition round: score the pool, select within the budget, queue for labeling',
    builder: (y: Argv<GlobalArgs>) =>
      withConfigFlags(y, SELECT_FLAGS)
        .option('dry-run', { type: 'boolean', describe: 'Score and select, but write nothing to the ledger or the sink' })
        .example('$0 select', 'a round on the demo pool with the bundled model (no config needed)')
        .example('$0 select --config rpr.yaml --json', 'a configured round, result as one JSON object')
        .example('$0 select --pool ./images --budget 500 --round-size 50 --policy entropy', 'configured from flags alone')
        .epilogue(
          'Exit status: 0 done, 2 bad usage or config, 3 budget spent, 4 ledger held by another run, 5 sink unreachable or refused, 1 other failures.',
        ) as Argv<SelectArgs>,
    handler: async (args) => {
      const { log } = commandEnv(ctx, args);
      const loaded = await loadCliConfig(ctx, args, SELECT_FLAGS);
      const progress = scoringProgress(ctx, args);
      const hooks = testPauseHooks(ctx);
      let outcome;
      try {
        outcome = await selectRound({
          loaded,
          dryRun: args.dryRun ?? false,
          signal: ctx.signal,
          onProgress: (p) => progress.update(p),
          onStep: (step) => log.info(step),
          onTakeover: (previous, why) => log.warn(`took over the ledger from pid ${previous.pid} on ${previous.host}: ${why}`),
          ...(hooks ? { hooks } : {}),
          ...(ctx.openScoring ? { openScoring: ctx.openScoring } : {}),
        });
      } finally {
        progress.done();
      }
      if (args.json) ctx.stdout.write(`${JSON.stringify(selectJson(outcome, loaded.config))}\n`);
      else if (!args.quiet) ctx.stdout.write(selectSummary(outcome, loaded.config));
    },
  };
}
