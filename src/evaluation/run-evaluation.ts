/**
 * `npm run evaluate`: the whole evaluation in one call. Writes the pool's PNG files once, runs every
 * (scenario, policy variant, seed) simulation and the segmentation study over child processes, and
 * rewrites docs/evaluation/ after each finished run, so an interrupted evaluation leaves partial results.
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { errors } from '../errors/index.js';
import { sourceRevision } from '../util/source-revision.js';
import { curveKey, writeEvaluation, type EvaluationResults, type EvaluationSession, type ReproductionCheck } from './evaluation-report.js';
import { pickVariants, type PolicyVariant } from './policy-variants.js';
import { writePoolFiles } from './pool-files.js';
import { runJobs, type EvaluationJob } from './run-jobs.js';
import type { SegmentationStudyOptions } from './segmentation-study.js';
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
  /**
   * Start over even if `outDir` holds results of the same setup. By default those runs are kept, only the
   * missing ones run, and the first kept run is run again to check that the current code reproduces it.
   * @defaultValue false
   */
  readonly fresh?: boolean;
  readonly onProgress?: (line: string) => void;
}

/** The results already in `dir`, or null when there are none. */
async function previousResults(dir: string): Promise<EvaluationResults | null> {
  let text: string;
  try {
    text = await readFile(join(dir, 'results.json'), 'utf8');
  } catch {
    return null;
  }
  return JSON.parse(text) as EvaluationResults;
}

/**
 * The setup lines that decide the numbers: those before the seed counts (which only decide how many runs
 * there are) and the notes a merge appends after them.
 */
function comparableSetup(setup: readonly string[]): readonly string[] {
  const seeds = setup.findIndex((line) => line.startsWith('Seeds:'));
  return seeds < 0 ? setup : setup.slice(0, seeds);
}

function compareCurves(job: string, stored: CurveResult, rerun: CurveResult): ReproductionCheck {
  const diffs = stored.rounds.map((r, i) => Math.abs(r.accuracy - (rerun.rounds[i]?.accuracy ?? Number.NaN)));
  const maxAccuracyDiff = diffs.length === rerun.rounds.length ? Math.max(...diffs) : Number.NaN;
  return { job, identical: maxAccuracyDiff === 0, maxAccuracyDiff };
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

/** The one session of a results file written before sessions were recorded. */
function legacySession(previous: EvaluationResults): EvaluationSession {
  const { meta } = previous;
  const started = new Date(Date.parse(meta.date) - meta.wallSeconds * 1000).toISOString();
  // Those files carry a placeholder where the commit belongs.
  const commit = meta.commit.startsWith('<') ? 'not recorded' : meta.commit;
  return { commit, started, jobs: meta.jobsDone, wallSeconds: meta.wallSeconds };
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
  const commit = sourceRevision();
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
    const describeSetup = [
      `Pool: the first ${poolSize} digits of the fixed MNIST \`pool\` part (src/pool/mnist-digits.ts) as 8-bit PNG files; test accuracy on the first ${setup.testCount} of the \`test\` part.`,
      `Labels: ${setup.initialLabeled} seeded initial labels, then ${rounds} rounds of ${setup.batchSize} (to ${setup.initialLabeled + rounds * setup.batchSize}); the oracle answers with the true label.`,
      `Candidates: each round scores a seeded random subset of ${setup.candidatesPerRound} still-unlabeled pool images (the same subset for every policy while their labeled sets agree), to fit the compute budget.`,
      `Model: a CNN smaller than the demo model (${JSON.stringify(recipe.architecture)}, src/model/train-classifier.ts), ${describeRecipe(recipe)}; the same recipe and training seed for every policy.`,
      `Scoring: the product's createScorer on the saved model (TF.js wasm, exact SVD, k = 1, 5, 10; policies rank by k = 10 = m): per-sample for entropy, margin, hybrid, lowest- and highest-RPR; reference mode for lowest-rpr/reference with the basis of a seeded sample of at most ${setup.referenceCap} of the current labeled images. Random scores nothing.`,
      `Choice: createPolicy + Ranker + selectBatch as \`select\` does; "+div" = diversity on (greedy k-center over the scorer's coords) from a shortlist of ${setup.shortlistFactor} × the batch (policy.shortlistFactor ${setup.shortlistFactor}).`,
      `Seeds: ${seeds} for the standard scenario; ${missingSeeds} for the missing-class scenario (${missingVariants.map((v) => v.id).join(', ')}).`,
    ];
    const previous = options.fresh ? null : await previousResults(options.outDir);
    if (previous && JSON.stringify(comparableSetup(previous.meta.setup)) !== JSON.stringify(comparableSetup(describeSetup))) {
      throw errors.usage(
        `evaluate: ${join(options.outDir, 'results.json')} holds runs of another setup; pass --fresh to replace them or --out DIR to write elsewhere`,
        { option: 'out' },
      );
    }
    const planned = new Set(jobs.map((job) => (job.kind === 'curve' ? curveKey(job.spec) : 'segmentation')));
    const curves: CurveResult[] = (previous?.curves ?? []).filter((c) => planned.has(curveKey(c.spec)));
    let segmentation: EvaluationResults['segmentation'] = (planned.has('segmentation') ? previous?.segmentation : null) ?? null;
    const kept = new Set(curves.map((c) => curveKey(c.spec)));
    const todo = jobs.filter((job) => (job.kind === 'curve' ? !kept.has(curveKey(job.spec)) : segmentation === null));
    const sessions: EvaluationSession[] = [...(previous?.meta.sessions ?? (previous ? [legacySession(previous)] : []))];
    const priorSeconds = sessions.reduce((sum, s) => sum + s.wallSeconds, 0);
    let done = jobs.length - todo.length;
    let reproduction: ReproductionCheck | null = previous?.meta.reproduction ?? null;
    // Kept runs are only comparable with new ones if the current code still produces them: one of them
    // (the cheapest that scores, so both training and scoring are checked) runs again beside the missing ones.
    const check = todo.length > 0 ? (curves.find((c) => c.spec.variant.id === 'lowest-rpr') ?? curves[0]) : undefined;
    const runs: EvaluationJob[] = check ? [{ kind: 'curve', spec: check.spec, setup }, ...todo] : todo;
    if (previous) options.onProgress?.(`kept ${jobs.length - todo.length} of ${jobs.length} runs from ${options.outDir}; ${todo.length} to run`);
    const newJobs = () => done - (jobs.length - todo.length);
    const write = async (status: 'complete' | 'partial') => {
      const wallSeconds = (Date.now() - started) / 1000;
      const results: EvaluationResults = {
        meta: {
          command: options.command,
          commit,
          machine: machineLine(),
          date: new Date().toISOString(),
          node: process.version,
          setup: describeSetup,
          status,
          jobsDone: done,
          jobsTotal: jobs.length,
          wallSeconds: priorSeconds + wallSeconds,
          sessions: [...sessions, { commit, started: new Date(started).toISOString(), jobs: newJobs(), wallSeconds }],
          reproduction,
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
    await runJobs(runs, workers, async (outcome) => {
      if (outcome.kind === 'curve' && check && curveKey(outcome.result.spec) === curveKey(check.spec)) {
        reproduction = compareCurves(curveKey(check.spec), check, outcome.result);
        options.onProgress?.(
          `re-ran ${reproduction.job}: ${reproduction.identical ? 'identical to the kept run' : `differs from the kept run by up to ${reproduction.maxAccuracyDiff} accuracy`}`,
        );
        await write(done === jobs.length ? 'complete' : 'partial');
        return;
      }
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
      await write(done === jobs.length ? 'complete' : 'partial');
    });
    return await write(done === jobs.length ? 'complete' : 'partial');
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}
