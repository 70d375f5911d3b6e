/**
 * `rpr-select score`: one JSON line per image with its RPR_k, singular values and predicted class.
 * Configured like `select` (--config, then the flags on top); results go to --out (or stdout); the
 * summary (backend, counts, speed, reference set) to stderr, or stdout as JSON.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import type { Argv, CommandModule } from 'yargs';
import { RprError } from '../../errors/index.js';
import type { ScoreEvent } from '../../metrics/index.js';
import { createPoolSource, ensureDemoPool } from '../../pool/index.js';
import { createConfiguredScorer } from '../../rounds/index.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';
import { commandEnv } from '../command-env.js';
import { loadCliConfig, withConfigFlags, type ConfigFlag } from '../config-flags.js';

/** The configuration keys `score` reads, each also a flag; `select`'s policy, budget and sink keys are not. */
export const SCORE_FLAGS = ['model', 'pool', 'engine', 'backend', 'workers', 'mode', 'k', 'svd', 'reference', 'center', 'cache'] as const satisfies readonly ConfigFlag[];

export interface ScoreArgs extends GlobalArgs {
  readonly out?: string;
  readonly squared: boolean;
  readonly complement: boolean;
  readonly keepFinalActivation: boolean;
  readonly [flag: string]: unknown;
}

/** Parses "1,5,10" into ranks, naming the flag when it is not a list of positive integers. */
export function parseKs(value: string): number[] {
  const ks = value.split(',').map((s) => Number(s.trim()));
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) {
    throw new RprError('RPR_USAGE', `--k must be a comma-separated list of positive integers such as 1,5,10 (got '${value}')`, {
      flag: 'k',
      value,
    });
  }
  return ks;
}

/** The line a result becomes: exactly the documented shape. */
export function scoreLine(event: ScoreEvent): Record<string, unknown> {
  if (event.kind === 'skipped') {
    const s = event.skipped;
    return { id: s.id, uri: s.uri, error: s.reason, sigma: null, predicted: null };
  }
  const r = event.result;
  if (r.rpr === null) return { id: r.id, uri: r.uri, error: r.error ?? 'not scored', sigma: r.sigma, predicted: r.predicted };
  return { id: r.id, uri: r.uri, rpr: r.rpr, sigma: r.sigma, predicted: r.predicted };
}

export function scoreCommand(ctx: CliContext): CommandModule<GlobalArgs, ScoreArgs> {
  return {
    command: 'score',
    describe: 'Score every image of a pool by its Right Projection Ratio (one JSON line per image)',
    builder: (y: Argv<GlobalArgs>) =>
      withConfigFlags(y, SCORE_FLAGS)
        .option('out', { type: 'string', describe: 'Write the JSON lines to this file instead of stdout' })
        .option('squared', { type: 'boolean', default: false, describe: 'Report the energy fraction ‖V_kᵀx‖²/‖x‖²' })
        .option('complement', { type: 'boolean', default: false, describe: 'Report the nullspace part ‖x − V_kV_kᵀx‖/‖x‖ instead' })
        .option('keep-final-activation', { type: 'boolean', default: false, describe: 'Linearize through a final softmax/sigmoid instead of working on logits' })
        .epilogue(
          'Results: one JSON line per image {"id", "uri", "rpr": {"k": RPR_k}, "sigma": [...], "predicted"}, or "error" instead of "rpr" for an image that could not be scored; ' +
            '"predicted" is the class index when the model outputs one vector of class scores, null for image outputs (segmentation) and in reference mode. ' +
            'With --json the run summary is one JSON object: on stdout when --out is given, else on stderr after the results. ' +
            'Flags override --config; --no-cache disables the cache. Exit status: 0 done, 2 bad usage or config, 1 other failures.',
        )
        .example('$0 score --model models/mnist-cnn --pool ./images --k 1,5,10 --out scores.jsonl', 'score a directory')
        .example('$0 score --pool ./pool --mode reference --reference ./labeled --json --out s.jsonl', 'reference mode, summary as JSON')
        .example('$0 score --config rpr.yaml --center --reference ./labeled', 'configured, mean-centred on the labeled images') as unknown as Argv<ScoreArgs>,
    handler: async (args) => {
      const started = Date.now();
      const { log } = commandEnv(ctx, args);
      const noCache = args['cache'] === false;
      const loaded = await loadCliConfig(ctx, noCache ? { ...args, cache: undefined } : args, SCORE_FLAGS);
      const { config } = loaded;
      const poolSpec = config.pool.demo ? await ensureDemoPool(config.pool.path) : config.pool.path;
      const source = await createPoolSource(poolSpec);
      const outPath = args.out ? resolve(ctx.cwd, args.out) : null;
      if (outPath) await mkdir(dirname(outPath), { recursive: true });
      const session = await createConfiguredScorer(config, {
        squared: args.squared,
        complement: args.complement,
        keepFinalActivation: args.keepFinalActivation,
        ...(noCache ? { cachePath: undefined } : {}),
      });
      for (const warning of session.warnings) log.warn(warning);
      const file = outPath ? createWriteStream(outPath) : null;
      const write = async (text: string) => {
        if (!file) ctx.stdout.write(text);
        else if (!file.write(text)) await once(file, 'drain');
      };
      const showProgress = !args.quiet && ctx.stderr.isTTY === true;
      let scored = 0;
      let errorsCount = 0;
      try {
        for await (const event of session.scorer(source, {
          onProgress: (p) => {
            if (showProgress) ctx.stderr.write(`\rscoring: ${p.done} images, ${p.imagesPerSecond.toFixed(1)}/s   `);
          },
        })) {
          const line = scoreLine(event);
          if ('error' in line) errorsCount++;
          else scored++;
          await write(JSON.stringify(line) + '\n');
        }
      } finally {
        if (file) {
          file.end();
          await once(file, 'finish');
        }
        await session.close();
      }
      if (showProgress) ctx.stderr.write('\n');
      const seconds = (Date.now() - started) / 1000;
      const stats = session.stats();
      const summary = {
        scored,
        errors: errorsCount,
        backend: session.backend,
        mode: session.mode,
        k: session.ks,
        center: config.scoring.center,
        modelDigest: session.modelDigest,
        config: loaded.file,
        seconds,
        imagesPerSecond: (scored + errorsCount) / Math.max(seconds, 1e-3),
        cacheHits: stats.cacheHits,
        networkPasses: stats.networkPasses,
        reference: session.referenceSet,
        out: args.out ?? null,
      };
      const target = args.out ? ctx.stdout : ctx.stderr;
      if (args.json) target.write(JSON.stringify(summary) + '\n');
      else if (!args.quiet) {
        const reference = session.referenceSet;
        ctx.stderr.write(
          `scored ${scored} images (${errorsCount} with errors) in ${seconds.toFixed(1)} s on ${session.backend}, ` +
            `mode ${session.mode}, k ${session.ks.join(',')}${config.scoring.center ? ', centred' : ''}, ${stats.cacheHits} from cache` +
            `${reference ? `, reference set ${reference.images} images${reference.truncated ? ' (cut)' : ''}${reference.basisFromCache ? ', basis from cache' : ''}` : ''}` +
            `${args.out ? `, written to ${args.out}` : ''}\n`,
        );
      }
    },
  };
}
