/**
 * `rpr-select worker`: scores shards of distributed rounds (`select --distributed`) taken from a
 * BullMQ queue on Redis, until SIGINT/SIGTERM (it finishes the shards it holds, then exits). One line
 * per shard on stderr; with --json a summary object on stdout at exit.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { errors } from '../../errors/index.js';
import { ENGINE_CHOICES, isEngineChoice } from '../../model/load-model.js';
import { BACKEND_CHOICES, isBackendChoice } from '../../model/tf-runtime.js';
import { bundledModelPath } from '../../util/package-root.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';
import { commandEnv } from '../command-env.js';
import { positiveIntegerFlag } from '../flag-values.js';

export interface WorkerArgs extends GlobalArgs {
  readonly redis: string;
  readonly concurrency: string;
  readonly model?: string;
  readonly engine: string;
  readonly backend: string;
  readonly workers: string;
  readonly cache: string | false;
  readonly redisQueue?: string;
  readonly lockSeconds: string;
  readonly name?: string;
}

export function workerCommand(ctx: CliContext): CommandModule<GlobalArgs, WorkerArgs> {
  return {
    command: 'worker',
    describe: 'Score shards of distributed rounds (select --distributed) taken from a BullMQ queue on Redis',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('redis', { type: 'string', demandOption: true, describe: 'The Redis the coordinator uses: redis://HOST:PORT (rediss:// for TLS); the password from REDIS_PASSWORD in the environment' })
        .option('concurrency', { type: 'string', default: '1', describe: 'Shards this process scores at once' })
        .option('model', { type: 'string', describe: "This worker's copy of the model (directory, model.json or .onnx file); jobs for a model with another digest are refused (default: the bundled MNIST model)" })
        .option('engine', { type: 'string', default: 'auto', describe: `Engine: ${ENGINE_CHOICES.join(', ')}; use the coordinator's for identical scores` })
        .option('backend', { type: 'string', default: 'auto', describe: `TF.js backend: ${BACKEND_CHOICES.join(', ')}; use the coordinator's for identical scores` })
        .option('workers', { type: 'string', default: 'auto', describe: "Scoring threads, or 'auto' for one per core" })
        .option('cache', { type: 'string', default: '.rpr-select/cache.sqlite', describe: "This worker's score cache (SQLite); --no-cache to disable" })
        .option('redis-queue', { type: 'string', describe: "BullMQ queue name (default 'rpr-select'); the coordinator's --redis-queue" })
        .option('lock-seconds', { type: 'string', default: '30', describe: 'A shard whose worker stopped answering for this long goes to another worker' })
        .option('name', { type: 'string', describe: 'The name reports give this worker (default host:pid)' })
        .example('$0 worker --redis redis://10.0.0.5:6379 --model /models/cnn', 'score shards until stopped with Ctrl-C')
        .epilogue('Exit status: 0 stopped by SIGINT/SIGTERM, 2 bad usage or model, 5 Redis unreachable, 1 other failures.') as unknown as Argv<WorkerArgs>,
    handler: async (args) => {
      const { log } = commandEnv(ctx, args);
      const { parseRedisUrl, runShardWorker } = await import('../../distributed/index.js');
      const redis = parseRedisUrl(args.redis, '--redis', ctx.env['REDIS_PASSWORD']);
      const modelPath = args.model === undefined ? bundledModelPath() : resolve(ctx.cwd, args.model);
      if (!isEngineChoice(args.engine)) throw errors.usage(`--engine must be one of ${ENGINE_CHOICES.join(', ')} (got '${args.engine}')`, { flag: 'engine' });
      if (!isBackendChoice(args.backend)) throw errors.usage(`--backend must be one of ${BACKEND_CHOICES.join(', ')} (got '${args.backend}')`, { flag: 'backend' });
      const cachePath = args.cache === false ? undefined : resolve(ctx.cwd, args.cache);
      if (cachePath !== undefined) await mkdir(dirname(cachePath), { recursive: true });
      const { readModelMetadata } = await import('../../model/load-model.js');
      // A wrong --model fails now, not at the first job.
      await readModelMetadata(modelPath);
      const summary = await runShardWorker({
        redis,
        ...(args.redisQueue ? { queue: args.redisQueue } : {}),
        concurrency: positiveIntegerFlag('concurrency', args.concurrency),
        modelPath,
        engine: args.engine,
        backend: args.backend,
        threads: args.workers === 'auto' ? 'auto' : positiveIntegerFlag('workers', args.workers),
        ...(cachePath === undefined ? {} : { cachePath }),
        lockMs: positiveIntegerFlag('lock-seconds', args.lockSeconds) * 1000,
        ...(args.name ? { name: args.name } : {}),
        signal: ctx.signal,
        onEvent: (event) => {
          switch (event.kind) {
            case 'ready':
              return log.info(`worker ${event.worker} ready: queue '${event.queue}' on ${redis.display}, model ${modelPath}`);
            case 'model':
              return log.info(`model loaded on ${event.backend} (digest ${event.modelDigest.slice(0, 12)})`);
            case 'started':
              return log.info(`shard ${event.shard}: scoring ${event.entries} entries (job ${event.job})`);
            case 'finished':
              return log.info(`shard ${event.shard}: ${event.images} images in ${event.seconds.toFixed(1)} s (${(event.images / Math.max(event.seconds, 1e-3)).toFixed(1)} images/s)`);
            case 'refused':
              return log.warn(`refused shard ${event.shard} (job ${event.job}): ${event.reason}`);
            case 'failed':
              return log.warn(`job ${event.job} failed: ${event.reason}`);
            case 'connection':
              return log.warn(`Redis at ${redis.display}: ${event.message}`);
            case 'stopping':
              return log.info(`stopping${event.active > 0 ? `: finishing ${event.active} shard(s) in hand` : ''} (signal again to exit at once)`);
          }
        },
      });
      log.info(`stopped: ${summary.shards} shards, ${summary.images} images in ${summary.seconds.toFixed(1)} s of scoring`);
      if (args.json) ctx.stdout.write(`${JSON.stringify(summary)}\n`);
    },
  };
}
