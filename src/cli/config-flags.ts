/**
 * Command-line flags that override configuration keys: one table, so each flag's key, parsing and
 * help text are written once, and every command offers the ones it uses.
 */
import type { Argv, Options } from 'yargs';
import { loadConfig, type ConfigOverride, type LoadedConfig } from '../config/index.js';
import { errors } from '../errors/index.js';
import type { CliContext, GlobalArgs } from './cli-context.js';

type Kind = 'string' | 'number' | 'list' | 'boolean' | 'id-or-name' | 'workers';

interface FlagSpec {
  readonly path: readonly string[];
  readonly kind: Kind;
  readonly describe: string;
}

export const CONFIG_FLAGS = {
  pool: { path: ['pool', 'path'], kind: 'string', describe: 'Unlabeled images: a directory or a .jsonl/.csv/.txt manifest (pool.path; default: the MNIST demo pool)' },
  model: { path: ['model', 'path'], kind: 'string', describe: 'TF.js model directory or model.json, or an .onnx file (model.path; default: the bundled MNIST CNN)' },
  engine: { path: ['model', 'engine'], kind: 'string', describe: 'Engine: auto (ONNX Runtime when it loads, else TF.js), onnxruntime, tfjs (model.engine)' },
  backend: { path: ['model', 'backend'], kind: 'string', describe: 'TF.js backend: auto, tensorflow, wasm, cpu (model.backend)' },
  workers: { path: ['model', 'workers'], kind: 'workers', describe: "Scoring worker threads, or 'auto' for one per core (model.workers; default auto)" },
  mode: { path: ['scoring', 'mode'], kind: 'string', describe: 'per-sample (the SVD of A[x] at every image; the default) or reference (one basis from --reference, no network pass per image) (scoring.mode)' },
  k: { path: ['scoring', 'ks'], kind: 'list', describe: 'Ranks k of RPR_k, comma-separated: --k 1,5,10 (scoring.ks; default 1,5,10)' },
  svd: { path: ['scoring', 'svd'], kind: 'string', describe: 'exact, randomized, lanczos or auto (the default: per image, exact up to 256 outputs, randomized above; the reference basis, exact while it fits 256 MiB, lanczos above) (scoring.svd)' },
  reference: { path: ['scoring', 'referenceDir'], kind: 'string', describe: 'Reference images (e.g. the labeled set): the basis of --mode reference, the mean of --center (scoring.referenceDir)' },
  center: { path: ['scoring', 'center'], kind: 'boolean', describe: 'Mean-centred RPR: score x − x̄, x̄ the mean image of the --reference set (scoring.center)' },
  cache: { path: ['cache', 'path'], kind: 'string', describe: 'Score and reference-basis cache file (cache.path; default .rpr-select/cache.sqlite)' },
  policy: { path: ['policy', 'name'], kind: 'string', describe: 'lowest-rpr, highest-rpr, random, entropy, margin, least-confidence or hybrid (policy.name)' },
  'policy-k': { path: ['policy', 'k'], kind: 'number', describe: 'The k whose RPR_k ranks images; one of --k (policy.k; default: the largest)' },
  seed: { path: ['policy', 'seed'], kind: 'number', describe: 'Seed of the random policy (policy.seed)' },
  diversity: { path: ['policy', 'diversity', 'enabled'], kind: 'boolean', describe: 'Spread each round over the projection coordinates (policy.diversity.enabled)' },
  'max-class-share': { path: ['policy', 'quotas', 'maxClassShare'], kind: 'number', describe: 'Largest share of a round one predicted class may take, 0–1 (policy.quotas.maxClassShare)' },
  budget: { path: ['budget', 'total'], kind: 'number', describe: 'Labeling budget over all rounds (budget.total; default 1000)' },
  'round-size': { path: ['budget', 'perRound'], kind: 'number', describe: 'Cap of one round (budget.perRound; default 100)' },
  sink: { path: ['sink', 'name'], kind: 'string', describe: 'Where selections go: jsonl or label-studio (sink.name)' },
  'ls-project': { path: ['sink', 'labelStudio', 'project'], kind: 'id-or-name', describe: 'Label Studio project: its numeric id, or a title (created when missing) (sink.labelStudio.project)' },
  'ls-url': { path: ['sink', 'labelStudio', 'url'], kind: 'string', describe: 'Label Studio URL (sink.labelStudio.url; default: $LABEL_STUDIO_URL)' },
  queue: { path: ['sink', 'jsonl', 'path'], kind: 'string', describe: 'The local queue file of the jsonl sink (sink.jsonl.path)' },
  ledger: { path: ['ledger', 'path'], kind: 'string', describe: 'The ledger file (ledger.path; default .rpr-select/ledger.sqlite)' },
  wait: { path: ['ledger', 'waitSeconds'], kind: 'number', describe: 'Seconds to wait for a ledger another run holds; 0 = exit with code 4 (ledger.waitSeconds)' },
} as const satisfies Record<string, FlagSpec>;

export type ConfigFlag = keyof typeof CONFIG_FLAGS;

/** Declares the given flags on a command (all as strings: values are parsed and checked here, naming the flag). */
export function withConfigFlags<T>(y: Argv<T>, flags: readonly ConfigFlag[]): Argv<T> {
  for (const flag of flags) {
    const spec: FlagSpec = CONFIG_FLAGS[flag];
    const options: Options = { describe: spec.describe, type: spec.kind === 'boolean' ? 'boolean' : 'string', group: 'Configuration overrides:' };
    y.option(flag, options);
  }
  return y;
}

/** Loads --config (or the defaults) with the given flags' values on top. */
export async function loadCliConfig(ctx: CliContext, args: GlobalArgs & Readonly<Record<string, unknown>>, flags: readonly ConfigFlag[]): Promise<LoadedConfig> {
  const overrides: ConfigOverride[] = [];
  for (const flag of flags) {
    const raw = args[flag];
    if (raw === undefined) continue;
    const spec: FlagSpec = CONFIG_FLAGS[flag];
    overrides.push({ flag: `--${flag}`, path: spec.path, value: parseFlag(flag, spec.kind, raw) });
  }
  return loadConfig({ file: args.config ?? null, overrides, cwd: ctx.cwd, env: ctx.env });
}

function parseFlag(flag: string, kind: Kind, raw: unknown): unknown {
  if (kind === 'boolean' || kind === 'string') return raw;
  if (kind === 'workers' && raw === 'auto') return raw;
  if (kind === 'id-or-name') return /^\d+$/.test(String(raw)) ? Number(raw) : String(raw);
  const numbers = String(raw)
    .split(',')
    .map((part) => part.trim());
  const parsed = numbers.map(Number);
  if (numbers.some((part) => part === '') || parsed.some((n) => !Number.isFinite(n)) || (kind !== 'list' && parsed.length !== 1)) {
    throw errors.usage(`--${flag} must be ${kind === 'list' ? 'a comma-separated list of numbers such as 1,5,10' : 'a number'} (got '${String(raw)}')`, { flag });
  }
  return kind === 'list' ? parsed : parsed[0];
}
