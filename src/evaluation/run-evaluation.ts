/**
 * `npm run evaluate`: the whole evaluation in one call. Writes the pool's PNG files once, runs every
 * (scenario, policy variant, seed) simulation and the segmentation study over child processes, and
 * rewrites docs/evaluation/ after each finished run, so an interrupted evaluation leaves partial results.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { errors } from '../errors/index.js';
import { writeEvaluation, type EvaluationResults } from './evaluation-report.js';
import { pickVariants, type PolicyVariant } from './policy-variants.js';
import { writePoolFiles } from './pool-files.js';
import { runJobs, type EvaluationJob } from './run-jobs.js';
import type { SegmentationStudyOptions, SegmentationStudyResult } from './segmentation-study.js';
import type { CurveResult, Scenario, SimulationSetup } from './simulate-curve.js';
import { summarizeScenario } from './summarize.js';
import { describeRecipe, EVALUATION_RECIPE, type TrainingRecipe } from './training-recipe.js';

export interface EvaluationOptions {
  readonly outDir: string;
  /** The command line, recorded in the README. */
  readonly command: string;
  /** @defaultValue 6000 (the whole MNIST `pool` part) */
  readonly poolSize?: number;
  /** @defaultValue 2000 (the whole `test` part) */
  readonly testCount?: number;
  /** @defaultValue 100 */
  readonly initialLabeled?: number;
  /** @defaultValue 100 */
  readonly batchSize?: number;
  /** @defaultValue 9 (100 → 1,000 labels) */
  readonly rounds?: number;
  /** @defaultValue 300 */
  readonly candidatesPerRound?: number;
  /** @defaultValue 60 (600 Jacobian rows: the reference SVD stays on its cheap wide path) */
  readonly referenceCap?: number;
  /** @defaultValue 2 */
  readonly shortlistFactor?: number;
  /** Seeds 1…n of the standard scenario. @defaultValue 5 */
  readonly seeds?: number;
  /** Seeds 1…n of the missing-class scenario (0 skips it). @defaultValue 3 */
  readonly missingClassSeeds?: number;
  /** @defaultValue 7 */
  readonly heldOutClass?: number;
  /** Variant ids (policy-variants.ts); @defaultValue all */
  readonly variants?: readonly string[] | null;
  /** The missing-class scenario runs these (diversity-off variants by default). */
  readonly missingClassVariants?: readonly string[] | null;
  /** null skips the segmentation study. */
  readonly segmentation?: SegmentationStudyOptions | null;
  /** Accuracy targets of the labels-to-target table. @defaultValue [0.85, 0.9] */
  readonly targets?: readonly number[];
  /** Child processes (one core each). @defaultValue 2 */
  readonly workers?: number;
  readonly recipe?: TrainingRecipe;
  readonly onProgress?: (line: string) => void;
}

function checkPositive(name: string, value: number, min = 1): void {
  if (!Number.isInteger(value) || value < min) {
    throw errors.usage(`evaluate: --${name} is ${value}; it must be an integer ≥ ${min}`, { option: name });
  }
}

function machineLine(): string {
  const list = cpus();
  return `${list.length} × ${list[0]?.model.trim() ?? 'unknown CPU'} (shared), ${process.platform}/${process.arch}`;
}

export async function runEvaluation(options: EvaluationOptions): Promise<EvaluationResults> {
  const poolSize = options.poolSize ?? 6000;
  const rounds = options.rounds ?? 9;
  const seeds = options.seeds ?? 5;
  const missingSeeds = options.missingClassSeeds ?? 3;
  const heldOutClass = options.heldOutClass ?? 7;
  const workers = options.workers ?? 2;
  const recipe = options.recipe ?? EVALUATION_RECIPE;
  const targets = options.targets ?? [0.85, 0.9];
  for (const [name, value, min] of [
    ['pool-size', poolSize, 1],
    ['rounds', rounds, 1],
    ['seeds', seeds, 1],
    ['missing-class-seeds', missingSeeds, 0],
    ['workers', workers, 1],
  ] as const) {
    checkPositive(name, value, min);
  }
  const standardVariants = pickVariants(options.variants ?? null);
  const missingVariants = pickVariants(options.missingClassVariants ?? null).filter(
    (v) => options.missingClassVariants != null || !v.diversity,
  );
  const started = Date.now();
  const workDir = await mkdtemp(join(tmpdir(), 'rpr-evaluate-'));
  await mkdir(options.outDir, { recursive: true });
  try {
    const pool = await writePoolFiles(workDir, poolSize);
    const setup: SimulationSetup = {
      pool,
      testCount: options.testCount ?? 2000,
      initialLabeled: options.initialLabeled ?? 100,
      batchSize: options.batchSize ?? 100,
      rounds,
      candidatesPerRound: options.candidatesPerRound ?? 300,
      referenceCap: options.referenceCap ?? 60,
      shortlistFactor: options.shortlistFactor ?? 2,
      ks: [1, 5, 10],
      recipe,
      workDir,
    };
    const missing: Scenario = { name: 'missing-class', heldOutClass };
    const curveJobs = (scenario: Scenario, variants: readonly PolicyVariant[], seed: number): EvaluationJob[] =>
      variants.map((variant) => ({ kind: 'curve', spec: { scenario, variant, seed }, setup }));
    // Most important first, seed by seed within each phase, so that whatever has finished compares
    // policies on the same seeds: diversity off, then the missing class, then diversity on.
    const bySeed = (count: number, make: (seed: number) => EvaluationJob[]) => Array.from({ length: count }, (_, s) => make(s + 1)).flat();
    const jobs: EvaluationJob[] = [
      ...(options.segmentation === null ? [] : [{ kind: 'segmentation', options: options.segmentation ?? {} } as const]),
      ...bySeed(seeds, (seed) => curveJobs({ name: 'standard' }, standardVariants.filter((v) => !v.diversity), seed)),
      ...bySeed(missingSeeds, (seed) => curveJobs(missing, missingVariants, seed)),
      ...bySeed(seeds, (seed) => curveJobs({ name: 'standard' }, standardVariants.filter((v) => v.diversity), seed)),
    ];
    const curves: CurveResult[] = [];
    let segmentation: SegmentationStudyResult | null = null;
    let done = 0;
    const describeSetup = [
      `Pool: the first ${poolSize} digits of the fixed MNIST \`pool\` part (src/pool/mnist-digits.ts) as 8-bit PNG files; test accuracy on the first ${setup.testCount} of the \`test\` part.`,
      `Labels: ${setup.initialLabeled} seeded initial labels, then ${rounds} rounds of ${setup.batchSize} (to ${setup.initialLabeled + rounds * setup.batchSize}); the oracle answers with the true label.`,
      `Candidates: each round scores a seeded random subset of ${setup.candidatesPerRound} still-unlabeled pool images (the same subset for every policy while their labeled sets agree), to fit the compute budget.`,
      `Model: a CNN smaller than the demo model (${JSON.stringify(recipe.architecture)}, src/model/train-classifier.ts), ${describeRecipe(recipe)}; the same recipe and training seed for every policy.`,
      `Scoring: the product's createScorer on the saved model (TF.js wasm, exact SVD, k = 1, 5, 10; policies rank by k = 10 = m): per-sample for entropy, margin, hybrid, lowest- and highest-RPR; reference mode for lowest-rpr/reference with the basis of a seeded sample of at most ${setup.referenceCap} of the current labeled images. Random scores nothing.`,
      `Choice: createPolicy + Ranker + selectBatch as \`select\` does; "+div" = diversity on (greedy k-center over the scorer's coords) from a shortlist of ${setup.shortlistFactor} × the batch (policy.shortlistFactor ${setup.shortlistFactor}).`,
      `Seeds: ${seeds} for the standard scenario; ${missingSeeds} for the missing-class scenario (${missingVariants.map((v) => v.id).join(', ')}).`,
    ];
    const write = async (status: 'complete' | 'partial') => {
      const results: EvaluationResults = {
        meta: {
          command: options.command,
          commit: '<COMMIT_ID — filled in by whoever commits these results>',
          machine: machineLine(),
          date: new Date().toISOString(),
          node: process.version,
          setup: describeSetup,
          status,
          jobsDone: done,
          jobsTotal: jobs.length,
          wallSeconds: (Date.now() - started) / 1000,
        },
        standard: summarizeScenario(
          curves.filter((c) => c.spec.scenario.name === 'standard'),
          targets,
        ),
        missingClass: summarizeScenario(
          curves.filter((c) => c.spec.scenario.name === 'missing-class'),
          targets,
        ),
        segmentation,
        curves,
      };
      await writeEvaluation(options.outDir, results);
      return results;
    };
    await runJobs(jobs, workers, async (outcome) => {
      done++;
      if (outcome.kind === 'segmentation') {
        segmentation = outcome.result;
        options.onProgress?.(`[${done}/${jobs.length}] segmentation: rho ${outcome.result.correlation.rho.toFixed(3)}`);
      } else {
        curves.push(outcome.result);
        const r = outcome.result;
        const last = r.rounds[r.rounds.length - 1]!;
        options.onProgress?.(
          `[${done}/${jobs.length}] ${r.spec.scenario.name} ${r.spec.variant.id} seed ${r.spec.seed}: ` +
            `${(100 * last.accuracy).toFixed(1)} % at ${last.labeled} labels, ${r.seconds.toFixed(0)} s`,
        );
      }
      await write('partial');
    });
    return await write('complete');
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
