/**
 * One simulated active-learning run: a seeded initial labeled set, then rounds of choose → the oracle
 * labels the batch with the true class → retrain from scratch → test accuracy. One call is one policy
 * variant, one seed, one scenario; the runs of a seed share the initial set and the candidates as long
 * as their labeled sets agree.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errors } from '../errors/index.js';
import { saveLayersModelToDir } from '../model/tfjs-file-io.js';
import { classifierAccuracy, trainDigitClassifier, type LabeledImage } from '../model/train-classifier.js';
import { mnistPart } from '../pool/index.js';
import { createRng, shuffleInPlace } from '../util/rng.js';
import { chooseBatch } from './choose-batch.js';
import type { PolicyVariant } from './policy-variants.js';
import { poolDigits, quantized, type PoolImage } from './pool-files.js';
import { trainingOptions, type TrainingRecipe } from './training-recipe.js';

/** `standard`, or `missing-class`: the initial labeled set holds no image of `heldOutClass`. */
export type Scenario = { readonly name: 'standard' } | { readonly name: 'missing-class'; readonly heldOutClass: number };

export interface SimulationSetup {
  /** The pool's files and labels (writePoolFiles). */
  readonly pool: readonly PoolImage[];
  /** Test images: the first `testCount` of the MNIST `test` part. */
  readonly testCount: number;
  readonly initialLabeled: number;
  readonly batchSize: number;
  /** Selection rounds after the initial set (labels end at initial + rounds·batch). */
  readonly rounds: number;
  /**
   * Unlabeled images scored per round: a seeded random subset of the unlabeled pool, the same for every
   * variant whose labeled set is the same (all of it when the pool is smaller).
   */
  readonly candidatesPerRound: number;
  /** Reference-mode scoring uses a seeded sample of at most this many labeled images. */
  readonly referenceCap: number;
  readonly shortlistFactor: number;
  readonly ks: readonly number[];
  readonly recipe: TrainingRecipe;
  /** Scratch directory (models, manifests); removed afterwards. */
  readonly workDir: string;
}

export interface CurveSpec {
  readonly scenario: Scenario;
  readonly variant: PolicyVariant;
  readonly seed: number;
}

export interface RoundRecord {
  /** 0 = the initial set. */
  readonly round: number;
  readonly labeled: number;
  readonly accuracy: number;
  /** Labeled images per class (index = class) after this round's labels arrived. */
  readonly classCounts: readonly number[];
  readonly trainSeconds: number;
  /** Scoring and choosing the batch that follows this round's model (0 after the last round). */
  readonly selectSeconds: number;
  readonly scored: number;
}

export interface CurveResult {
  readonly spec: CurveSpec;
  readonly rounds: readonly RoundRecord[];
  readonly seconds: number;
}

function scenarioSalt(scenario: Scenario): number {
  return scenario.name === 'standard' ? 0 : 1000 + scenario.heldOutClass;
}

/** The seeded initial labeled set of a seed and scenario. */
export function initialSet(pool: readonly PoolImage[], size: number, seed: number, scenario: Scenario): PoolImage[] {
  const eligible = pool.filter((image) => scenario.name === 'standard' || image.label !== scenario.heldOutClass);
  if (eligible.length < size) {
    throw errors.usage(`evaluation: the pool has ${eligible.length} eligible images; the initial labeled set needs ${size}`);
  }
  return shuffleInPlace([...eligible], createRng(seed * 1_000_003 + scenarioSalt(scenario))).slice(0, size);
}

/** The round's candidates: the first `count` unlabeled images in an order seeded by (seed, scenario, round). */
export function roundCandidates(
  unlabeled: readonly PoolImage[],
  count: number,
  seed: number,
  scenario: Scenario,
  round: number,
): PoolImage[] {
  const rng = createRng(seed * 7919 + round * 104_729 + scenarioSalt(scenario));
  return shuffleInPlace([...unlabeled], rng).slice(0, count);
}

function classCounts(labeled: readonly PoolImage[]): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const image of labeled) counts[image.label]!++;
  return counts;
}

const seconds = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

export async function simulateCurve(spec: CurveSpec, setup: SimulationSetup): Promise<CurveResult> {
  const started = process.hrtime.bigint();
  const digits = poolDigits(setup.pool.length);
  const images = digits.map(quantized);
  const test = mnistPart('test').slice(0, setup.testCount).map(quantized);
  const dir = join(setup.workDir, `${spec.scenario.name}-${spec.variant.id.replace(/[^a-z0-9-]+/gi, '_')}-seed${spec.seed}`);
  await mkdir(dir, { recursive: true });
  try {
    const labeled = initialSet(setup.pool, setup.initialLabeled, spec.seed, spec.scenario);
    const isLabeled = new Set(labeled.map((image) => image.position));
    const rounds: RoundRecord[] = [];
    for (let round = 0; round <= setup.rounds; round++) {
      const trainStart = process.hrtime.bigint();
      const train: LabeledImage[] = labeled.map((image) => images[image.position]!);
      const model = await trainDigitClassifier(train, trainingOptions(setup.recipe, train.length, spec.seed));
      const trainSeconds = seconds(trainStart);
      const accuracy = classifierAccuracy(model, test);
      const counts = classCounts(labeled);
      if (round === setup.rounds) {
        model.dispose();
        rounds.push({ round, labeled: labeled.length, accuracy, classCounts: counts, trainSeconds, selectSeconds: 0, scored: 0 });
        break;
      }
      const selectStart = process.hrtime.bigint();
      const modelDir = join(dir, 'model');
      try {
        await saveLayersModelToDir(model, modelDir);
      } finally {
        model.dispose();
      }
      const unlabeled = setup.pool.filter((image) => !isLabeled.has(image.position));
      const candidates = roundCandidates(unlabeled, setup.candidatesPerRound, spec.seed, spec.scenario, round);
      const reference =
        labeled.length > setup.referenceCap
          ? shuffleInPlace([...labeled], createRng(spec.seed * 31 + round)).slice(0, setup.referenceCap)
          : labeled;
      const chosen = await chooseBatch({
        variant: spec.variant,
        modelDir,
        candidates,
        reference,
        batchSize: setup.batchSize,
        shortlistFactor: setup.shortlistFactor,
        ks: setup.ks,
        seed: spec.seed,
        workDir: dir,
      });
      rounds.push({
        round,
        labeled: labeled.length,
        accuracy,
        classCounts: counts,
        trainSeconds,
        selectSeconds: seconds(selectStart),
        scored: chosen.scored,
      });
      for (const image of chosen.picked) {
        if (isLabeled.has(image.position)) throw errors.internal(`evaluation: ${spec.variant.id} picked a labeled image twice`);
        isLabeled.add(image.position);
        labeled.push(image);
      }
    }
    return { spec, rounds, seconds: seconds(started) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
