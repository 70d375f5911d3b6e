/**
 * `rpr-select score`: one JSON line per image with its RPR_k, singular values and predicted class.
 * Results go to --out (or stdout); the summary (backend, counts, speed) to stderr, or stdout as JSON.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { once } from 'node:events';
import type { Argv, CommandModule } from 'yargs';
import { RprError } from '../../errors/index.js';
import { SCORING_MODES, SVD_METHODS, createScorer } from '../../metrics/index.js';
import type { ScoreEvent, ScoringMode, SvdMethod } from '../../metrics/index.js';
import { ENGINE_CHOICES } from '../../model/load-model.js';
import type { EngineChoice } from '../../model/load-model.js';
import { BACKEND_CHOICES } from '../../model/tf-runtime.js';
import type { BackendChoice } from '../../model/tf-runtime.js';
import { createPoolSource, ensureDemoPool } from '../../pool/index.js';
import { bundledModelPath } from '../../util/package-root.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';

export interface ScoreArgs extends GlobalArgs {
  model?: string;
  pool?: string;
  mode: string;
  reference?: string;
  k: string;
  svd: string;
  out?: string;
  backend: string;
  engine: string;
  cache: string | false;
  squared: boolean;
  complement: boolean;
  'keep-final-activation': boolean;
  workers: string;
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

function parseWorkers(value: string): number | 'auto' {
  if (value === 'auto') return 'auto';
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new RprError('RPR_USAGE', `--workers must be a positive integer or 'auto' (got '${value}')`, { flag: 'workers', value });
  return n;
}

function oneOf<T extends string>(flag: string, value: string, valid: readonly T[]): T {
  if ((valid as readonly string[]).includes(value)) return value as T;
  throw new RprError('RPR_USAGE', `--${flag} must be one of ${valid.join(', ')} (got '${value}')`, { flag, value });
}

export function scoreCommand(ctx: CliContext): CommandModule<GlobalArgs, ScoreArgs> {
  return {
  command: 'score',
  describe: 'Score every image of a pool by its Right Projection Ratio (one JSON line per image)',
  builder: (y: Argv) =>
    y
      .option('model', { type: 'string', describe: 'TF.js LayersModel: a directory with model.json, or the file; or an ONNX model (.onnx) (default: the bundled MNIST model)' })
      .option('pool', { type: 'string', describe: 'Images to score: a directory (recursive; png, jpg, jpeg, webp) or a manifest (.jsonl, .csv, .txt of paths or http(s) URLs) (default: the bundled MNIST demo pool)' })
      .option('mode', { type: 'string', default: 'per-sample', choices: SCORING_MODES, describe: 'per-sample: SVD of A[x] at every image; reference: one basis from --reference, then one projection per image (no network pass)' })
      .option('reference', { type: 'string', describe: 'Reference images for --mode reference (e.g. the labeled set): a directory or manifest' })
      .option('k', { type: 'string', default: '1,5,10', describe: 'Ranks k of RPR_k, comma-separated' })
      .option('svd', { type: 'string', default: 'auto', choices: SVD_METHODS, describe: 'auto: exact when the model has at most 256 outputs, randomized above; exact | randomized | lanczos' })
      .option('out', { type: 'string', describe: 'Write the JSON lines to this file instead of stdout' })
      .option('engine', { type: 'string', default: 'auto', choices: ENGINE_CHOICES, describe: 'Engine running the network: auto takes onnxruntime when onnxruntime-node loads, else tfjs' })
      .option('backend', { type: 'string', default: 'auto', choices: BACKEND_CHOICES, describe: 'TF.js backend: auto takes tensorflow (tfjs-node, if installed), else wasm, else cpu' })
      .option('cache', { type: 'string', default: '.rpr-select/cache.sqlite', describe: 'SVD/score cache (SQLite); --no-cache to disable' })
      .option('squared', { type: 'boolean', default: false, describe: 'Report the energy fraction ‖V_kᵀx‖²/‖x‖²' })
      .option('complement', { type: 'boolean', default: false, describe: 'Report the nullspace part ‖x − V_kV_kᵀx‖/‖x‖ instead' })
      .option('workers', { type: 'string', default: 'auto', describe: "Worker threads for per-sample scoring, each with its own backend; 'auto' = one per core" })
      .option('keep-final-activation', { type: 'boolean', default: false, describe: 'Linearize through a final softmax/sigmoid instead of working on logits' })
      .epilogue('Results: one JSON line per image {"id", "uri", "rpr": {"k": RPR_k}, "sigma": [...], "predicted"}, or "error" instead of "rpr" for an image that could not be scored. With --json the run summary is one JSON object: on stdout when --out is given, else on stderr after the results.')
      .example('$0 score --model models/mnist-cnn --pool ./images --k 1,5,10 --out scores.jsonl', 'score a directory')
      .example('$0 score --pool ./pool --mode reference --reference ./labeled --json --out s.jsonl', 'reference mode, summary as JSON') as unknown as Argv<ScoreArgs>,
  handler: async (args) => {
    const started = Date.now();
    const mode = oneOf<ScoringMode>('mode', args.mode, SCORING_MODES);
    const svd = oneOf<SvdMethod>('svd', args.svd, SVD_METHODS);
    const backend = oneOf<BackendChoice>('backend', args.backend, BACKEND_CHOICES);
    const engine = oneOf<EngineChoice>('engine', args.engine, ENGINE_CHOICES);
    const ks = parseKs(args.k);
    const at = (path: string) => resolve(ctx.cwd, path);
    const poolSpec = args.pool && !/^[a-z][a-z0-9+.-]*:/i.test(args.pool) ? at(args.pool) : (args.pool ?? (await ensureDemoPool(at('.rpr-select/demo-pool'))));
    const source = await createPoolSource(poolSpec);
    if (args.cache) await mkdir(dirname(at(args.cache)), { recursive: true });
    const outPath = args.out ? at(args.out) : null;
    if (outPath) await mkdir(dirname(outPath), { recursive: true });
    const session = await createScorer({
      modelPath: args.model ? at(args.model) : bundledModelPath(),
      mode,
      ks,
      svd,
      backend,
      engine,
      ...(args.reference ? { referenceDir: at(args.reference) } : {}),
      ...(args.cache ? { cachePath: at(args.cache) } : {}),
      squared: args.squared,
      complement: args.complement,
      keepFinalActivation: args['keep-final-activation'],
      workers: parseWorkers(args.workers),
    });
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
      mode,
      k: session.ks,
      modelDigest: session.modelDigest,
      seconds,
      imagesPerSecond: (scored + errorsCount) / Math.max(seconds, 1e-3),
      cacheHits: stats.cacheHits,
      networkPasses: stats.networkPasses,
      out: args.out ?? null,
    };
    const target = args.out ? ctx.stdout : ctx.stderr;
    if (args.json) target.write(JSON.stringify(summary) + '\n');
    else if (!args.quiet) {
      ctx.stderr.write(
        `scored ${scored} images (${errorsCount} with errors) in ${seconds.toFixed(1)} s on ${session.backend}, ` +
          `mode ${mode}, k ${session.ks.join(',')}, ${stats.cacheHits} from cache${args.out ? `, written to ${args.out}` : ''}\n`,
      );
    }
  },
  };
}
