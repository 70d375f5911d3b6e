/**
 * `rpr-select select`: one acquisition round. Scores the pool, picks images within the budget with
 * the policy, hands them to the sink, and records everything in the ledger; an interrupted round is
 * finished by the next run. `--json` prints one object (see format-select.ts); otherwise a summary.
 * For tests, RPR_TEST_PAUSE_AT stops it at a chosen step (see test-pause.ts). With --distributed the
 * pool is scored by `rpr-select worker` processes through BullMQ on Redis (see src/distributed).
 */
import type { Argv, CommandModule } from 'yargs';
import type { Coordinator } from '../../distributed/index.js';
import { selectRound } from '../../rounds/index.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';
import { commandEnv, scoringProgress, takeoverWarning } from '../command-env.js';
import { positiveIntegerFlag } from '../flag-values.js';
import { CONFIG_FLAGS, loadCliConfig, withConfigFlags, type ConfigFlag } from '../config-flags.js';
import { selectJson, selectSummary } from '../format-select.js';
import type { Logger } from '../logger.js';
import { testPauseHooks } from '../test-pause.js';

export const SELECT_FLAGS = Object.keys(CONFIG_FLAGS) as ConfigFlag[];

export interface SelectArgs extends GlobalArgs {
  readonly dryRun?: boolean;
  readonly distributed?: string;
  readonly shardSize?: string;
  readonly redisQueue?: string;
  readonly [flag: string]: unknown;
}

export function selectCommand(ctx: CliContext): CommandModule<GlobalArgs, SelectArgs> {
  return {
    command: 'select',
    describe: 'Run one acquisition round: score the pool, select within the budget, queue for labeling',
    builder: (y: Argv<GlobalArgs>) =>
      withConfigFlags(y, SELECT_FLAGS)
        .option('dry-run', { type: 'boolean', describe: 'Score and select, but write nothing to the ledger or the sink' })
        .option('distributed', { type: 'string', describe: 'Score on worker processes through BullMQ on this Redis (redis://HOST:PORT; a password from REDIS_PASSWORD); start them with: rpr-select worker --redis URL' })
        .option('shard-size', { type: 'string', describe: 'Pool entries per job with --distributed (default 1000)' })
        .option('redis-queue', { type: 'string', describe: "BullMQ queue name with --distributed (default 'rpr-select'); workers must use the same" })
        .example('$0 select', 'a round on the demo pool with the bundled model (no config needed)')
        .example('$0 select --config rpr.yaml --json', 'a configured round, result as one JSON object')
        .example('$0 select --pool ./images --budget 500 --round-size 50 --policy entropy', 'configured from flags alone')
        .example('$0 select --pool /shared/images --distributed redis://10.0.0.5:6379', 'scored by the workers connected to that Redis')
        .epilogue(
          'Exit status: 0 done, 2 bad usage or config, 3 budget spent, 4 ledger held by another run, 5 sink unreachable or refused, 1 other failures.',
        ) as Argv<SelectArgs>,
    handler: async (args) => {
      const { log } = commandEnv(ctx, args);
      const loaded = await loadCliConfig(ctx, args, SELECT_FLAGS);
      const progress = scoringProgress(ctx, args);
      const hooks = testPauseHooks(ctx);
      const coordinator = args.distributed === undefined ? null : await openCoordinator(args, log, ctx.env['REDIS_PASSWORD']);
      let outcome;
      try {
        outcome = await selectRound({
          loaded,
          dryRun: args.dryRun ?? false,
          signal: ctx.signal,
          onProgress: (p) => progress.update(p),
          onStep: (step) => log.info(step),
          onTakeover: takeoverWarning(log),
          onWarning: (message) => log.warn(message),
          ...(hooks ? { hooks } : {}),
          ...(ctx.openScoring ? { openScoring: ctx.openScoring } : {}),
          ...(coordinator ? { remoteRanking: coordinator.ranking } : {}),
        });
      } finally {
        progress.done();
      }
      // The round is in the ledger: its jobs' results are no longer needed in Redis.
      if (coordinator && !outcome.report.dryRun) await coordinator.finish().catch((error: unknown) => log.warn(`could not remove the round's jobs from Redis: ${error instanceof Error ? error.message : String(error)}`));
      const distributed = coordinator?.report() ?? null;
      if (args.json) ctx.stdout.write(`${JSON.stringify({ ...selectJson(outcome, loaded.config), ...(coordinator ? { distributed } : {}) })}\n`);
      else if (!args.quiet) {
        ctx.stdout.write(selectSummary(outcome, loaded.config));
        if (distributed) {
          const rates = distributed.workers.map((w) => `${w.worker} ${w.shards} shards ${w.imagesPerSecond.toFixed(1)} images/s`);
          ctx.stdout.write(`  distributed: ${distributed.shards} shards on ${distributed.workers.length} workers (${rates.join(', ')})\n`);
        }
      }
    },
  };
}

/** The coordinator of `--distributed`; BullMQ is loaded only when asked for. */
async function openCoordinator(args: SelectArgs, log: Logger, redisPassword: string | undefined): Promise<Coordinator> {
  const { Coordinator, DEFAULT_QUEUE, parseRedisUrl } = await import('../../distributed/index.js');
  const shardSize = args.shardSize === undefined ? undefined : positiveIntegerFlag('shard-size', args.shardSize);
  const coordinator = new Coordinator({
    redis: parseRedisUrl(args.distributed!, '--distributed', redisPassword),
    ...(args.redisQueue ? { queue: args.redisQueue } : {}),
    ...(shardSize ? { shardSize } : {}),
    onProgress: (p) =>
      // Workers are counted once they have finished a shard; before that there is no rate to share out.
      log.info(`shards ${p.shardsDone}/${p.shardsTotal ?? '?'} done, ${p.images} images scored, ${p.imagesPerSecond.toFixed(1)} images/s${p.workers > 0 ? ` across ${p.workers} workers` : ''}`),
    onEnqueued: (e) => log.info(`round ${e.round}: ${e.shards} shards on queue '${args.redisQueue ?? DEFAULT_QUEUE}'${e.reused > 0 ? `, ${e.reused} already scored by an earlier run` : ''}`),
    onNotice: (message) => log.warn(message),
  });
  await coordinator.connect();
  return coordinator;
}
