/**
 * Acceptance (issue 6, class imbalance): two small digit classifiers trained here from real MNIST digits
 * with the same seed and recipe, one on balanced digits and one with the 7s cut to 3% of their share;
 * both scored on held-out test digits. The diagnose verdict (relative label strength, one model at a
 * time) names 7 for the imbalanced model and no digit for the balanced one, and the paper's two-model
 * comparison flags 7 too.
 *
 * The recipe is smaller than the demo model's so the test stays near a minute: conv 8/16, dense 64,
 * 1,000 training digits, 6 epochs. The verdict depends on the recipe: docs/class-imbalance.md and
 * docs/class-imbalance-more-digits.md record where it holds (the demo recipe, every cut digit tried),
 * docs/class-imbalance-fast-recipe.md where it does not (a network trained with learning rate 0.003).
 */
import { cutDigit, trainAndScore, type TrainedAndScored } from '../../scripts/experiments/class-imbalance-models.js';
import { analyzeClassImbalance, compareWithBaseline } from '../../src/diagnostics/index.js';
import { mnistPart } from '../../src/pool/index.js';

const CUT = 7;
const RECIPE = { seed: 1, epochs: 6, architecture: { convFilters: [8, 16] as const, denseUnits: 64 }, ks: [1, 5, 9] };

let balanced: TrainedAndScored;
let imbalanced: TrainedAndScored;

beforeAll(async () => {
  const train = mnistPart('train').slice(0, 1000);
  const test = mnistPart('test').slice(0, 500);
  balanced = await trainAndScore(train, test, RECIPE);
  imbalanced = await trainAndScore(cutDigit(train, CUT, 0.03), test, RECIPE);
}, 600_000);

it('cutting the 7s costs the model its 7s', () => {
  expect(balanced.classAccuracy[CUT]).toBeGreaterThan(0.8);
  expect(imbalanced.classAccuracy[CUT]).toBeLessThan(0.3);
  expect(balanced.records).toHaveLength(500);
});

it('the verdict names 7 for the imbalanced model and no digit for the balanced one', () => {
  const onBalanced = analyzeClassImbalance(balanced.records);
  const onImbalanced = analyzeClassImbalance(imbalanced.records);
  expect(onBalanced.underRepresented).toEqual([]);
  expect(onBalanced.verdict).toBe('no class is under-represented by the model');
  expect(onImbalanced.underRepresented).toEqual([String(CUT)]);
  expect(onImbalanced.verdict).toBe(`the model under-represents class ${CUT}`);
  // The 7 is the weakest label of the imbalanced model, measured on all 500 images of every class.
  const seven = onImbalanced.classes.find((c) => c.label === String(CUT))!;
  expect(seven.strength!.summary.n).toBe(500);
  expect(Math.min(...onImbalanced.classes.map((c) => c.strength!.ratio))).toBe(seven.strength!.ratio);
});

it('the two-model comparison, paired by image, flags 7 and only 7', () => {
  const comparison = compareWithBaseline(imbalanced.records, balanced.records);
  expect(comparison.flagged).toEqual([String(CUT)]);
  const seven = comparison.classes.find((c) => c.label === String(CUT))!;
  expect(seven.lprArea.median).toBeLessThan(0);
});
