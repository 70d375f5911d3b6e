/**
 * `select` as a library call: builds a round's parts from a loaded configuration (ledger and its
 * lease, pool, scorer, policy, sink), runs the round, and closes everything whatever happens.
 */
import { existsSync } from 'node:fs';
import type { LoadedConfig, ResolvedConfig } from '../config/index.js';
import { errors } from '../errors/index.js';
import type { CreateScorerOptions, ScoringSession } from '../metrics/index.js';
import type { ScoreProgress, Scorer } from '../metrics/types.js';
import { createPolicy, type PolicyOptions } from '../policy/index.js';
import { createPoolSource, ensureDemoPool, preprocessingDigest } from '../pool/index.js';
import { createSink, sinkNames, type Sink } from '../sinks/index.js';
import { assertBudgetLeft, budgetStatus } from './budget.js';
import { imageCost } from './image-cost.js';
import { Ledger } from './ledger.js';
import { openLeasedLedger } from './leased-ledger.js';
import type { LeaseHolder } from './ledger-types.js';
import { resumeRound, runRound, type RankCandidates, type RoundHooks, type RoundReport } from './run-round.js';
import { openRoundsSink, sinkForRounds } from './rounds-sink.js';

/** A scoring session as a round needs it: createScorer's, or a test double's. */
export interface ScoringSessionLike {
  readonly scorer: Scorer;
  readonly modelDigest: string;
  readonly backend: string;
  /** The model's class names in class-index order, when it declares them. */
  readonly classNames?: readonly string[];
  /** Digest of the preprocessing images get, when known (distributed workers must match it). */
  readonly preprocessingDigest?: string;
  /** What the user should know about the session (a reference set cut to size), one line each. */
  readonly warnings?: readonly string[];
  close(): Promise<void>;
}

export type OpenScoring = (config: ResolvedConfig) => Promise<ScoringSessionLike>;

/** What a round scored elsewhere (the distributed coordinator) is told once the model is loaded. */
export interface RemoteRankingContext {
  readonly config: ResolvedConfig;
  readonly configDigest: string;
  /** The pool's directory or manifest, to be listed (not read) by whoever shards it. */
  readonly poolSpec: string;
  /** The coordinator's own scoring session: its model and preprocessing digests are what workers must match. */
  readonly session: ScoringSessionLike;
}

/** Opens what fills a fresh round's ranker with candidates scored elsewhere. */
export type RemoteRanking = (context: RemoteRankingContext) => Promise<RankCandidates>;

export interface SelectRoundOptions {
  readonly loaded: LoadedConfig;
  /** Score and choose, write nothing (the ledger is only read; no lease is taken). @defaultValue false */
  readonly dryRun?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScoreProgress) => void;
  readonly hooks?: RoundHooks;
  /** Told when the lease of a dead or stalled run is taken over. */
  readonly onTakeover?: (previous: LeaseHolder, why: string) => void;
  /** Told before a slow step starts (writing the demo pool, loading the model). */
  readonly onStep?: (step: string) => void;
  /** Told what the user should know about the scoring session (a reference set cut to size). */
  readonly onWarning?: (message: string) => void;
  /** @defaultValue the real scorer, built from the config's model and scoring sections */
  readonly openScoring?: OpenScoring;
  /**
   * Scores the pool elsewhere (`select --distributed`): the model is still loaded here, with one
   * thread, for its digests. @defaultValue the pool is scored on this machine
   */
  readonly remoteRanking?: RemoteRanking;
}

export interface SelectOutcome {
  readonly report: RoundReport;
  /** The backend that scored; null when the round was resumed (no model was loaded). */
  readonly backend: string | null;
}

export async function selectRound(options: SelectRoundOptions): Promise<SelectOutcome> {
  const { config, secrets, digest } = options.loaded;
  const dryRun = options.dryRun ?? false;
  const policy = createPolicy(config.policy.name, configuredPolicyOptions(config));
  const budget = { ...config.budget };
  const held = dryRun ? null : await openLeasedLedger(config, options);
  // A dry run on a fresh directory must not create the ledger: an empty in-memory one reads the same.
  const ledger = held?.ledger ?? Ledger.open(existsSync(config.ledger.path) ? config.ledger.path : ':memory:');
  let session: ScoringSessionLike | null = null;
  let sink: Sink | null = null;
  try {
    const open = ledger.openRound();
    if (open !== null) {
      if (dryRun) {
        // Refuses a sink or project that contradicts the round, as the real run would, without opening it.
        sinkForRounds(options.loaded, [open], 'select');
        sink = previewSink(open.sink);
      } else {
        sink = await openRoundsSink(options.loaded, [open], 'select');
      }
      const report = await resumeRound({ ledger, sink, budget, dryRun, ...(options.hooks ? { hooks: options.hooks } : {}) }, open);
      return { report, backend: null };
    }
    assertBudgetLeft(budgetStatus(budget, ledger.spent()), imageCost(budget.unit, budget.cost).minCost);
    if (config.pool.demo) options.onStep?.(`preparing the demo pool in ${config.pool.path}`);
    const poolSpec = config.pool.demo ? await ensureDemoPool(config.pool.path) : config.pool.path;
    const source = await createPoolSource(poolSpec);
    options.onStep?.(`loading the model ${config.model.path}`);
    const scoringConfig = options.remoteRanking ? { ...config, model: { ...config.model, workers: 1 } } : config;
    session = await (options.openScoring ?? openConfiguredScoring)(scoringConfig);
    for (const warning of session.warnings ?? []) options.onWarning?.(warning);
    const rankCandidates = await options.remoteRanking?.({ config, configDigest: digest, poolSpec, session });
    sink = dryRun
      ? previewSink(config.sink.name)
      : await createSink({
          config: config.sink,
          secrets,
          modelDigest: session.modelDigest,
          ...(session.classNames ? { classNames: session.classNames } : {}),
        });
    const report = await runRound({
      ledger,
      sink,
      scorer: session.scorer,
      source,
      ...(rankCandidates ? { rankCandidates } : {}),
      policy,
      budget,
      diversity: config.policy.diversity.enabled,
      maxClassShare: config.policy.quotas.maxClassShare,
      shortlistFactor: config.policy.shortlistFactor,
      configDigest: digest,
      modelDigest: session.modelDigest,
      details: {
        backend: session.backend,
        configFile: options.loaded.file,
        pool: source.description,
        mode: config.scoring.mode,
        ks: config.scoring.ks,
      },
      dryRun,
      ...(options.hooks ? { hooks: options.hooks } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    return { report, backend: session.backend };
  } finally {
    await sink?.close();
    await session?.close();
    if (held) held.close();
    else ledger.close();
  }
}

/** The real scorer. Loaded on demand, so commands that never score (rounds list, sync) start fast. */
async function openConfiguredScoring(config: ResolvedConfig): Promise<ScoringSessionLike> {
  const session = await createConfiguredScorer(config);
  return {
    scorer: session.scorer,
    modelDigest: session.modelDigest,
    backend: session.backend,
    ...(session.model.metadata?.classNames ? { classNames: session.model.metadata.classNames } : {}),
    preprocessingDigest: preprocessingDigest(session.preprocessing),
    warnings: session.warnings,
    close: () => session.close(),
  };
}

/**
 * The scorer a configuration asks for, model.backend checked, with `extra` on top (what the
 * configuration has no key for, e.g. `score --squared`). `select` and `score` both open theirs here.
 */
export async function createConfiguredScorer(config: ResolvedConfig, extra: Partial<CreateScorerOptions> = {}): Promise<ScoringSession> {
  const [{ createScorer }, { BACKEND_CHOICES, isBackendChoice }] = await Promise.all([
    import('../metrics/index.js'),
    import('../model/tf-runtime.js'),
  ]);
  const backend = config.model.backend;
  if (!isBackendChoice(backend)) {
    throw errors.config(`model.backend '${backend}' is not a backend; use one of ${BACKEND_CHOICES.join(', ')}`, { key: 'model.backend' });
  }
  return createScorer({ ...configuredScorerOptions(config), backend, engine: config.model.engine, ...extra });
}

/** The policy options a configuration asks for (distributed workers rank their shards with the same). */
export function configuredPolicyOptions(config: ResolvedConfig): PolicyOptions {
  return { k: config.policy.k ?? Math.max(...config.scoring.ks), seed: config.policy.seed, hybrid: config.policy.hybrid };
}

/** The scorer a configuration asks for, less the backend; distributed workers get the same options, less their own machine's. */
export function configuredScorerOptions(config: ResolvedConfig): Omit<CreateScorerOptions, 'backend'> {
  return {
    modelPath: config.model.path,
    mode: config.scoring.mode,
    ks: config.scoring.ks,
    svd: config.scoring.svd,
    ...(config.scoring.referenceDir ? { referenceDir: config.scoring.referenceDir } : {}),
    center: config.scoring.center,
    cachePath: config.cache.path,
    preprocessing: config.preprocessing,
    workers: config.model.workers,
    batchMemoryMB: config.model.batchMemoryMB,
  };
}

/** A dry run names its sink but never touches it (opening a queue may repair it, a server may be down). */
function previewSink(name: string): Sink {
  if (!sinkNames().includes(name)) throw errors.unknownName('sink', name, sinkNames());
  const untouched = (): never => {
    throw errors.internal('a dry run reached the sink');
  };
  return { name, push: untouched, list: untouched, fetchLabels: untouched, close: async () => undefined };
}
