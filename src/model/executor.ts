/**
 * What every engine (TF.js now, ONNX Runtime later) offers for one network: the real forward pass, and
 * the linearization A[x] at a batch of images with its frozen forward and adjoint. Scoring and the
 * linear algebra see only this and the LinearOperator contract, never an engine's tensors.
 */
import type { LinearOperator } from '../linalg/operator.js';
import type { ModelIR } from './ir.js';

/** Rows start … start + count − 1 of a Jacobian. */
export interface RowRange {
  readonly start: number;
  readonly count: number;
}

/** A[x_b] for a batch of B images, each with its own frozen patterns. Free it with `dispose`. */
export interface Linearization {
  /** Number of images B. */
  readonly count: number;
  /** f(x_b), the real network output (with biases), B × m. */
  readonly outputs: Float32Array;
  /**
   * Every A[x_b] as a dense m × n matrix (B × m × n, row-major): the exact path, one batched adjoint
   * pass of the B·m unit cotangents. With `rows`, only those rows of each A[x_b] (B × rows.count × n):
   * the engine then holds the activations of B·rows.count cotangents instead of B·m.
   */
  jacobians(rows?: RowRange): Promise<Float32Array>;
  /**
   * c[x_b] = the frozen-pattern network with biases at input 0, B × m: f(x_b) = A[x_b]x_b + c[x_b] when
   * the network is piecewise linear (ReLU family, max-pool); smooth activations make f only locally linear.
   */
  offsets(): Promise<Float32Array>;
  /** A[x_b] as a matrix-free operator (frozen forward / adjoint), for randomized SVD and Lanczos. */
  operator(b: number): LinearOperator;
  dispose(): void;
}

/** What exact per-sample scoring needs of A[x_b] for B images (Executor.gramians). */
export interface Gramians {
  /** f(x_b), the real network output, B × m. */
  readonly outputs: Float32Array;
  /** A[x_b]·A[x_b]ᵀ, B × m × m, accumulated in float64 from the float32 Jacobians. */
  readonly gram: Float64Array;
  /** A[x_b]·p_b for each image's probe p_b, B × m, in float64. */
  readonly products: Float64Array;
}

export interface Executor {
  /** Engine and backend, printed in every result summary (e.g. `tfjs-wasm`). */
  readonly backend: string;
  readonly ir: ModelIR;
  /** Real forward pass of `count` images (count × n in, count × m out). */
  forward(images: Float32Array, count: number): Promise<Float32Array>;
  /** Runs the forward pass recording the frozen patterns, and returns the linearization. */
  linearize(images: Float32Array, count: number): Promise<Linearization>;
  /**
   * The exact per-sample path in one call: f(x_b), and per image the Gram matrix of A[x_b] and A[x_b]·p_b
   * for a probe p_b (the image, or the image minus a centre), `count` × n like `images`. RPR needs
   * nothing else of A (linalg/gram-svd.ts), so an engine may keep the m × n Jacobians to itself.
   */
  gramians(images: Float32Array, count: number, probes: Float32Array): Promise<Gramians>;
  /** Number of forward/adjoint network passes made so far (tests count them to prove a cache hit). */
  readonly passes: number;
  dispose(): void;
}
