/**
 * One simulated round's choice, made with the product's own parts: the current model saved as a TF.js
 * LayersModel, createScorer over a manifest of candidate files, the policy from createPolicy, a Ranker
 * shortlist and selectBatch (k-center diversity when on), exactly as `select` chains them.
 */
import { join } from 'node:path';
import { errors } from '../errors/index.js';
import { createScorer } from '../metrics/index.js';
import type { ScoreResult } from '../metrics/index.js';
import { Ranker, createPolicy, selectBatch } from '../policy/index.js';
import { createPoolSource } from '../pool/index.js';
import type { PolicyVariant } from './policy-variants.js';
import { writeManifest, type PoolImage } from './pool-files.js';

export interface ChooseBatchInput {
  readonly variant: PolicyVariant;
  /** Directory of the current model (model.json + weights). */
  readonly modelDir: string;
  readonly candidates: readonly PoolImage[];
  /** The reference set of reference-mode scoring (the labeled images, or a sample of them). */
  readonly reference: readonly PoolImage[];
  readonly batchSize: number;
  /** Shortlist = factor × batch when diversity must choose (the product's policy.shortlistFactor). */
  readonly shortlistFactor: number;
  readonly ks: readonly number[];
  /** The random policy's seed. */
  readonly seed: number;
  /** Where the round's manifests are written. */
  readonly workDir: string;
}

export interface ChosenBatch {
  readonly picked: readonly PoolImage[];
  /** Images the scorer scored (0 for random, which runs no network). */
  readonly scored: number;
}

/** Random scores nothing: its ranking key is hash(seed, id), so candidates carry empty scores. */
function unscored(image: PoolImage): ScoreResult {
  return { id: image.id, uri: image.path, rpr: {}, sigma: null, predicted: null, logits: null, coords: null };
}

async function scoreCandidates(input: ChooseBatchInput): Promise<ScoreResult[]> {
  const mode = input.variant.scoring === 'reference' ? 'reference' : 'per-sample';
  const session = await createScorer({
    modelPath: input.modelDir,
    mode,
    ks: input.ks,
    svd: 'exact',
    // The engine the committed results were scored on; training is TF.js wasm too.
    engine: 'tfjs',
    backend: 'wasm',
    workers: 1,
    ...(mode === 'reference'
      ? { referenceDir: await writeManifest(join(input.workDir, 'reference.txt'), input.reference) }
      : {}),
  });
  try {
    const source = await createPoolSource(await writeManifest(join(input.workDir, 'candidates.txt'), input.candidates));
    const results: ScoreResult[] = [];
    for await (const event of session.scorer(source)) {
      if (event.kind === 'skipped') throw errors.internal(`evaluation: candidate ${event.skipped.uri} was skipped: ${event.skipped.reason}`);
      results.push(event.result);
    }
    return results;
  } finally {
    await session.close();
  }
}

export async function chooseBatch(input: ChooseBatchInput): Promise<ChosenBatch> {
  const { variant } = input;
  const results = variant.scoring === 'none' ? input.candidates.map(unscored) : await scoreCandidates(input);
  const policy = createPolicy(variant.policy, { k: Math.max(...input.ks), seed: input.seed });
  const ranker = new Ranker(policy, input.batchSize * (variant.diversity ? input.shortlistFactor : 1));
  for (const result of results) {
    const outcome = ranker.offer(result);
    if (outcome.kind === 'skipped') throw errors.internal(`evaluation: ${variant.id} could not rank ${result.uri}: ${outcome.reason}`);
  }
  const batch = selectBatch(ranker.shortlist(), { capacity: input.batchSize, diversity: variant.diversity });
  const byPath = new Map(input.candidates.map((image) => [image.path, image]));
  const picked = batch.picked.map((c) => {
    const image = byPath.get(c.result.uri);
    if (image === undefined) throw errors.internal(`evaluation: the scorer returned an unknown uri ${c.result.uri}`);
    return image;
  });
  return { picked, scored: variant.scoring === 'none' ? 0 : results.length };
}
