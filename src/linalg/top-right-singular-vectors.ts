import { errors } from '../errors/index.js';
import { dot } from './block-ops.js';
import { blockLanczosNormal, type BlockLanczosNormalOptions } from './block-lanczos-normal.js';
import { requireFiniteDiagonal, requireInteger, requireNonNegative, requireOperatorShape } from './check-args.js';
import { addColumnGramUpper, columnGram, mirrorUpper } from './gram.js';
import { orthogonalizeRow, rowNorm, scaleRow } from './gram-schmidt.js';
import { denseNormal } from './normal-operator.js';
import { randomizedNormal, type RandomizedNormalOptions } from './randomized-normal.js';
import type { StackedRows } from './stacked-rows.js';
import type { NormalConvergenceReport } from './svd-types.js';

/** Which algorithm {@link topRightSingularVectors} uses; 'auto' picks one from the sizes (planTopRight). */
export const TOP_RIGHT_METHODS = ['auto', 'exact', 'randomized', 'lanczos'] as const;
export type TopRightMethod = (typeof TOP_RIGHT_METHODS)[number];
export type ResolvedTopRightMethod = Exclude<TopRightMethod, 'auto'>;

/** Memory the exact path and the Lanczos basis may take by default: 256 MiB. */
export const DEFAULT_TOP_RIGHT_BYTES = 256 * 2 ** 20;

/** Largest Gram order (min(rows, cols)) for which 'auto' takes the exact path by default. */
export const DEFAULT_MAX_GRAM_ORDER = 1024;

/**
 * Residual tolerance of the exact path's eigensolver on the explicit float64 Gram matrix, relative to
 * σ₁²: a few hundred times the rounding of a Gram product of order ≤ 4096 (order·2⁻⁵³ ≤ 5e-13), so it is
 * reached; the vectors are then as accurate as the Gram matrix itself.
 */
const EXACT_TOL = 1e-11;

/**
 * Basis growth between the exact path's convergence checks: products with an explicit Gram matrix cost
 * b·order² against d³ for a check, so checking every pass would dominate on a slowly converging (flat)
 * spectrum; at 1.25 the checks cost at most about twice the last one and overshoot by a quarter.
 */
const EXACT_CHECK_GROWTH = 1.25;

/** Options for {@link topRightSingularVectors} and {@link planTopRight}. */
export interface TopRightOptions extends RandomizedNormalOptions, BlockLanczosNormalOptions {
  /**
   * 'exact': the Gram matrix on the smaller side, formed in float64 (SᵀS streamed part by part, or SSᵀ
   * with S held), and its top k eigenvectors to rounding. 'lanczos': block Lanczos on SᵀS, matrix-free,
   * to `tol`. 'randomized': randomized subspace iteration on SᵀS, k + oversampling probes,
   * powerIterations passes. 'auto': exact when the Gram order is ≤ maxGramOrder and the exact path
   * fits memoryBytes, else lanczos.
   * @defaultValue 'auto'
   */
  method?: TopRightMethod;
  /**
   * Bytes the exact path may hold (Gram matrix, held rows, eigensolver basis) and the Lanczos basis
   * may grow to (it stops earlier, unconverged, when it would not fit).
   * @defaultValue 256 MiB ({@link DEFAULT_TOP_RIGHT_BYTES})
   */
  memoryBytes?: number;
  /** Largest Gram order min(rows, cols) for which 'auto' goes exact. @defaultValue 1024 ({@link DEFAULT_MAX_GRAM_ORDER}) */
  maxGramOrder?: number;
}

/** What {@link topRightSingularVectors} will do for an operator of a given shape. */
export interface TopRightPlan {
  readonly method: ResolvedTopRightMethod;
  /**
   * The exact path's Gram matrix: 'columns' = SᵀS (cols × cols, accumulated part by part), 'rows' =
   * SSᵀ (rows × rows, S held); null on the iterative paths.
   */
  readonly gram: 'columns' | 'rows' | null;
  /** Bytes the chosen path holds at its peak (an upper bound: the eigensolver's basis at full size). */
  readonly bytes: number;
  /** The memory budget it was planned against. */
  readonly budget: number;
  /** Passes over S the Lanczos path may make within the budget (its maxPasses); null on other paths. */
  readonly maxPasses: number | null;
}

/** The top right singular vectors of a stacked operator and how they were found. */
export interface TopRightResult {
  /** V_kᵀ, rank × cols row-major: row j = the j-th right singular vector. */
  readonly v: Float64Array;
  /** Leading singular values, descending (length ≤ k); vectors exist for the first `rank`. */
  readonly sigma: Float64Array;
  /** Rows of v: min(k, numerical rank). */
  readonly rank: number;
  readonly method: ResolvedTopRightMethod;
  /** Convergence of an iterative path; null on the exact path, which is exact to rounding. */
  readonly report: NormalConvergenceReport | null;
}

const BYTES = 8;

/**
 * The path for an S of rows × cols and rank k, and the memory it needs. The exact path takes the
 * Gram matrix on the side with the smaller footprint: SᵀS costs 16·cols² bytes (the matrix and, at
 * worst, an eigensolver basis as large), SSᵀ 8·rows·cols + 16·rows² (S held as well). The Lanczos
 * basis holds (passes + 1)·b vectors of cols values; its passes are cut to fit the budget.
 */
export function planTopRight(rows: number, cols: number, k: number, options: TopRightOptions = {}): TopRightPlan {
  requireOperatorShape('topRightSingularVectors', { rows, cols });
  requireInteger('topRightSingularVectors', 'k', k, 1, Math.min(rows, cols));
  const method = options.method ?? 'auto';
  if (!TOP_RIGHT_METHODS.includes(method)) {
    throw errors.unknownName('topRightSingularVectors method', String(method), TOP_RIGHT_METHODS);
  }
  const budget = options.memoryBytes ?? DEFAULT_TOP_RIGHT_BYTES;
  const maxGramOrder = options.maxGramOrder ?? DEFAULT_MAX_GRAM_ORDER;
  requireNonNegative('topRightSingularVectors', 'memoryBytes', budget);
  requireNonNegative('topRightSingularVectors', 'maxGramOrder', maxGramOrder);

  const columnsBytes = 2 * BYTES * cols * cols;
  const rowsBytes = BYTES * rows * cols + 2 * BYTES * rows * rows;
  const gram = columnsBytes <= rowsBytes ? 'columns' : 'rows';
  const exactBytes = Math.min(columnsBytes, rowsBytes);
  const exact = method === 'exact' || (method === 'auto' && Math.min(rows, cols) <= maxGramOrder && exactBytes <= budget);
  if (exact) return { method: 'exact', gram, bytes: exactBytes, budget, maxPasses: null };
  if (method === 'randomized') {
    const l = Math.min(k + (options.oversampling ?? 10), cols);
    return { method, gram: null, bytes: 3 * BYTES * l * cols, budget, maxPasses: null };
  }
  const b = options.blockSize ?? Math.min(cols, Math.max(k, 4));
  // The basis and the block being applied: (passes + 2)·b vectors.
  const fits = Math.floor(budget / (BYTES * b * cols)) - 2;
  const maxPasses = Math.max(1, Math.min(options.maxPasses ?? 40, fits));
  return { method: 'lanczos', gram: null, bytes: (maxPasses + 2) * b * cols * BYTES, budget, maxPasses };
}

/**
 * V_k of a stacked operator S — for the reference scoring mode, S = [A[x₁]; …; A[x_N]] over a
 * reference set, whose right singular vectors are the eigenvectors of SᵀS = Σ AᵢᵀAᵢ. The path comes
 * from {@link planTopRight}. The exact path is refused when it does not fit the memory budget; the
 * iterative ones never hold S, only their basis, and report their residuals.
 */
export async function topRightSingularVectors(s: StackedRows, k: number, options: TopRightOptions = {}): Promise<TopRightResult> {
  const plan = planTopRight(s.rows, s.cols, k, options);
  if (plan.method === 'exact') {
    if (plan.bytes > plan.budget) {
      throw errors.usage(
        `topRightSingularVectors: the exact path needs ${mib(plan.bytes)} for a Gram matrix of order ${Math.min(s.rows, s.cols)}, ` +
          `over the memoryBytes budget of ${mib(plan.budget)}; use method 'lanczos' or 'randomized', or raise memoryBytes`,
        { bytes: plan.bytes, budget: plan.budget },
      );
    }
    const exact = plan.gram === 'columns' ? await exactFromColumnGram(s, k, options) : await exactFromRowGram(s, k, options);
    return { ...exact, method: 'exact', report: null };
  }
  const svd =
    plan.method === 'randomized'
      ? await randomizedNormal(s, k, options)
      : await blockLanczosNormal(s, k, { ...options, maxPasses: plan.maxPasses! });
  return { v: svd.v, sigma: svd.sigma, rank: svd.rank, method: plan.method, report: svd.report };
}

type ExactParts = Pick<TopRightResult, 'v' | 'sigma' | 'rank'>;

/** Block Lanczos on an explicit Gram matrix, run to rounding (or to a complete basis, which is exact). */
function gramEigenOptions(order: number, k: number, options: TopRightOptions): BlockLanczosNormalOptions {
  const blockSize = Math.min(order, Math.max(k, 4));
  return {
    blockSize,
    maxPasses: Math.ceil(order / blockSize),
    tol: EXACT_TOL,
    checkGrowth: EXACT_CHECK_GROWTH,
    seed: options.seed ?? 0,
    ...(options.eps !== undefined ? { eps: options.eps } : {}),
  };
}

/** SᵀS (cols × cols) accumulated part by part in float64; its top eigenvectors are V. */
async function exactFromColumnGram(s: StackedRows, k: number, options: TopRightOptions): Promise<ExactParts> {
  const { rows, cols } = s;
  const g = new Float64Array(cols * cols);
  await s.eachPart((part, count) => addColumnGramUpper(g, part, count, cols));
  mirrorUpper(g, cols);
  requireFiniteDiagonal('topRightSingularVectors', g, cols, (i) => `column ${i} of the ${rows} × ${cols} operator`, { rows, cols });
  const svd = await blockLanczosNormal(denseNormal(g, rows, cols), k, gramEigenOptions(cols, k, options));
  return { v: svd.v, sigma: svd.sigma, rank: svd.rank };
}

/**
 * SSᵀ (rows × rows) of the held S; its top eigenvectors are U, and vⱼ = Sᵀuⱼ/σⱼ, re-orthonormalized by
 * Gram–Schmidt twice (the Gram matrix squares the condition number). A vector that loses more than
 * half its norm to the ones before it is numerically dependent: the rank stops there, as in thinSvd.
 * S is held transposed, so that SSᵀ accumulates as the column Gram matrix of Sᵀ, eight of its rows per
 * pass over the result (3× faster than a dot product per pair of S's long rows at 1,000 × 12,288).
 */
async function exactFromRowGram(s: StackedRows, k: number, options: TopRightOptions): Promise<ExactParts> {
  const { rows, cols } = s;
  const st = new Float64Array(cols * rows);
  let filled = 0;
  await s.eachPart((part, count) => {
    for (let r = 0; r < count; r++) for (let c = 0; c < cols; c++) st[c * rows + filled + r] = part[r * cols + c]!;
    filled += count;
  });
  if (filled !== rows) throw errors.internal(`topRightSingularVectors: the parts held ${filled} rows, expected ${rows}`);
  const g = columnGram(st, cols, rows);
  requireFiniteDiagonal('topRightSingularVectors', g, rows, (i) => `row ${i} of the ${rows} × ${cols} operator`, { rows, cols });
  const left = await blockLanczosNormal(denseNormal(g, cols, rows), k, gramEigenOptions(rows, k, options));
  const v = new Float64Array(left.rank * cols);
  let rank = left.rank;
  for (let j = 0; j < left.rank; j++) {
    const inv = 1 / left.sigma[j]!;
    for (let c = 0; c < cols; c++) v[j * cols + c] = dot(st, c * rows, left.v, j * rows, rows) * inv;
    const before = rowNorm(v, j, cols);
    const after = orthogonalizeRow(v, j, cols);
    if (!(after > 0.5 * before)) {
      rank = j;
      break;
    }
    scaleRow(v, j, cols, 1 / after);
  }
  return { v: v.slice(0, rank * cols), sigma: left.sigma, rank };
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(0)} MiB`;
}
