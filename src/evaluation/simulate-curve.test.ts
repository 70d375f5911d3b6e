import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLayersModelFromDir } from '../model/tfjs-file-io.js';
import { tf } from '../model/tf-runtime.js';
import { decodeImage, defaultPreprocessing } from '../pool/index.js';
import { readFile } from 'node:fs/promises';
import { chooseBatch } from './choose-batch.js';
import { pickVariants } from './policy-variants.js';
import { writePoolFiles, type PoolImage } from './pool-files.js';
import { initialSet, roundCandidates, simulateCurve, type SimulationSetup } from './simulate-curve.js';
import { EVALUATION_RECIPE } from './training-recipe.js';

const TINY_RECIPE = { ...EVALUATION_RECIPE, imagePasses: 60, minEpochs: 1, maxEpochs: 2 };

describe('simulated active learning (tiny pool, 2 rounds, 1 seed)', () => {
  let dir: string;
  let pool: PoolImage[];
  let setup: SimulationSetup;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpr-eval-test-'));
    pool = await writePoolFiles(dir, 120);
    setup = {
      pool,
      testCount: 50,
      initialLabeled: 20,
      batchSize: 10,
      rounds: 2,
      candidatesPerRound: 40,
      referenceCap: 15,
      shortlistFactor: 2,
      ks: [1, 5, 10],
      recipe: TINY_RECIPE,
      workDir: dir,
    };
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('draws the initial set reproducibly, without the held-out class when asked', () => {
    const a = initialSet(pool, 20, 4, { name: 'missing-class', heldOutClass: 7 });
    expect(a.map((i) => i.position)).toEqual(initialSet(pool, 20, 4, { name: 'missing-class', heldOutClass: 7 }).map((i) => i.position));
    expect(a.some((i) => i.label === 7)).toBe(false);
    expect(new Set(a.map((i) => i.position)).size).toBe(20);
    expect(initialSet(pool, 20, 5, { name: 'standard' }).map((i) => i.position)).not.toEqual(
      initialSet(pool, 20, 4, { name: 'standard' }).map((i) => i.position),
    );
  });

  it('takes round candidates from the unlabeled images only', () => {
    const unlabeled = pool.slice(30);
    const picked = roundCandidates(unlabeled, 25, 1, { name: 'standard' }, 3);
    expect(picked).toHaveLength(25);
    for (const image of picked) expect(unlabeled).toContain(image);
    expect(roundCandidates(unlabeled, 500, 1, { name: 'standard' }, 3)).toHaveLength(unlabeled.length);
  });

  it.each(['random', 'entropy+div', 'lowest-rpr/reference', 'hybrid'])('%s grows the labeled set by one batch per round, never twice the same image', async (id) => {
    const [variant] = pickVariants([id]);
    const scenario = { name: 'missing-class', heldOutClass: 7 } as const;
    const curve = await simulateCurve({ scenario, variant: variant!, seed: 1 }, setup);
    expect(curve.rounds.map((r) => r.labeled)).toEqual([20, 30, 40]);
    expect(curve.rounds[0]!.classCounts[7]).toBe(0);
    for (const r of curve.rounds) {
      expect(r.classCounts.reduce((a, b) => a + b, 0)).toBe(r.labeled);
      expect(r.accuracy).toBeGreaterThanOrEqual(0);
      expect(r.accuracy).toBeLessThanOrEqual(1);
    }
    // Class counts only grow: labels are never taken back.
    for (let r = 1; r < curve.rounds.length; r++) {
      curve.rounds[r]!.classCounts.forEach((c, k) => expect(c).toBeGreaterThanOrEqual(curve.rounds[r - 1]!.classCounts[k]!));
    }
    expect(curve.rounds[0]!.scored).toBe(variant!.scoring === 'none' ? 0 : 40);
  });

  describe('chooseBatch against independent rankings', () => {
    const candidates = () => pool.slice(60, 100);
    const choose = (id: string, modelDir: string) =>
      chooseBatch({
        variant: pickVariants([id])[0]!,
        modelDir,
        candidates: candidates(),
        reference: pool.slice(0, 10),
        batchSize: 8,
        shortlistFactor: 2,
        ks: [1, 5, 10],
        seed: 3,
        workDir: dir,
      });

    it('random picks the 8 candidates with the highest sha256(seed, id) key, whatever the model', async () => {
      const key = (image: PoolImage) => createHash('sha256').update(`3\u0000${image.id}`).digest().readUIntBE(0, 6);
      const expected = [...candidates()].sort((a, b) => key(b) - key(a)).slice(0, 8);
      const chosen = await choose('random', join(dir, 'no-model'));
      expect(chosen.picked.map((i) => i.position)).toEqual(expected.map((i) => i.position));
      expect(chosen.scored).toBe(0);
    });

    it('entropy picks the 8 candidates whose softmax has the highest entropy under the saved model', async () => {
      const modelDir = join(dir, 'entropy-model');
      const { trainDigitClassifier } = await import('../model/train-classifier.js');
      const { saveLayersModelToDir } = await import('../model/tfjs-file-io.js');
      const { quantized, poolDigits } = await import('./pool-files.js');
      const digits = poolDigits(60).map(quantized);
      const model = await trainDigitClassifier(digits, { ...TINY_RECIPE, epochs: 1, architecture: TINY_RECIPE.architecture, backend: 'wasm' });
      await saveLayersModelToDir(model, modelDir);
      model.dispose();
      // Reference: the TF.js model itself on the decoded PNG pixels, softmax entropy in float64.
      const reloaded = await loadLayersModelFromDir(modelDir);
      const pre = defaultPreprocessing([28, 28, 1]);
      const entropies: number[] = [];
      for (const image of candidates()) {
        const pixels = await decodeImage(await readFile(image.path), pre);
        const probs = tf.tidy(() => (reloaded.predict(tf.tensor4d(pixels, [1, 28, 28, 1])) as tf.Tensor).dataSync());
        entropies.push(-Array.from(probs).reduce((a, p) => a + (p > 0 ? p * Math.log(p) : 0), 0));
      }
      reloaded.dispose();
      const order = candidates()
        .map((image, i) => ({ image, h: entropies[i]! }))
        .sort((a, b) => b.h - a.h);
      const chosen = await choose('entropy', modelDir);
      expect(new Set(chosen.picked.map((i) => i.position))).toEqual(new Set(order.slice(0, 8).map((o) => o.image.position)));
      expect(chosen.scored).toBe(40);
    });
  });
});
