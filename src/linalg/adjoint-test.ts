import { createRng } from '../util/rng.js';
import { dot } from './block-ops.js';
import { requireInteger, requireOperatorShape } from './check-args.js';
import { countingOperator } from './counting-operator.js';
import type { LinearOperator } from './operator.js';
import { gaussianBlock } from './random-block.js';

/** Options for {@link adjointTest}. */
export interface AdjointTestOptions {
  /**
   * Random (v, u) pairs, all sent in one batched matvec and one batched rmatvec.
   * @defaultValue 4
   */
  trials?: number;
  /** @defaultValue 0 */
  seed?: number;
}

/** Outcome of {@link adjointTest}: compare `maxRelError` with the engine's precision (~1e-6 for float32). */
export interface AdjointTestResult {
  /** max over trials of |⟨Av, u⟩ − ⟨v, Aᵀu⟩| / (‖Av‖·‖u‖ + tiny). */
  readonly maxRelError: number;
  readonly trials: number;
}

/** Keeps the ratio finite for the zero operator, whose inner products are exactly 0. */
const TINY = 1e-300;

/**
 * The contract every operator must meet: ⟨A v, u⟩ = ⟨v, Aᵀ u⟩ for random Gaussian v and u. A wrong
 * transpose (mismatched masks, a flipped kernel, a missing scale) shows up as an O(1) relative error.
 */
export async function adjointTest(op: LinearOperator, options: AdjointTestOptions = {}): Promise<AdjointTestResult> {
  requireOperatorShape('adjointTest', op);
  const trials = options.trials ?? 4;
  requireInteger('adjointTest', 'trials', trials, 1, 1_000_000);
  const { rows: m, cols: n } = op;
  const checked = countingOperator(op);
  const rng = createRng(options.seed ?? 0);
  const v = gaussianBlock(rng, trials, n);
  const u = gaussianBlock(rng, trials, m);
  const av = await checked.matvec(v, trials);
  const atu = await checked.rmatvec(u, trials);
  let maxRelError = 0;
  for (let t = 0; t < trials; t++) {
    const a = dot(av, t * m, u, t * m, m);
    const b = dot(v, t * n, atu, t * n, n);
    const scale = Math.sqrt(dot(av, t * m, av, t * m, m) * dot(u, t * m, u, t * m, m));
    const rel = Math.abs(a - b) / (scale + TINY);
    // A NaN from a broken engine must surface, and NaN compares false with everything.
    if (Number.isNaN(rel) || rel > maxRelError) maxRelError = rel;
  }
  return { maxRelError, trials };
}
