import type { PoolSource, Skipped } from "../pool/types.js";
/** One image's scores, as the scoring stage hands them to policies, the cache and `score --out`. */
export interface ScoreResult {
  /** sha256 hex of the image bytes. */
  readonly id: string;
  readonly uri: string;
  /** RPR_k keyed by k ("1", "5", "10"); null when the image could not be scored (see `error`). */
  readonly rpr: Readonly<Record<string, number>> | null;
  /** Singular values of A[x] (per-sample mode), descending; null in reference mode or on error. */
  readonly sigma: readonly number[] | null;
  /**
   * The class index (argmax of the output) when the output is one vector of class scores; null for an
   * image output (segmentation), a single unit, when no network pass was made (reference mode) or on error.
   */
  readonly predicted: number | null;
  /** The network output (logits) when a forward pass was made: what uncertainty policies need. */
  readonly logits: readonly number[] | null;
  /**
   * Coordinates of x/‖x‖ on the top right singular vectors (V_kᵀx/‖x‖ for the largest k): a cheap
   * embedding for batch diversity. Null when not computed.
   */
  readonly coords: readonly number[] | null;
  /** LPR_k of the image's true label (one-hot), keyed by k; only when labels were given (diagnostics). */
  readonly lpr?: Readonly<Record<string, number>>;
  /** Why the image has no score (zero image, corrupt file…). */
  readonly error?: string;
}


/** What scoring a pool yields, in pool order: a scored image, or one that was skipped and why. */
export type ScoreEvent =
  | { readonly kind: 'score'; readonly result: ScoreResult }
  | { readonly kind: 'skipped'; readonly skipped: Skipped };

/** Progress of a long scoring run, for progress bars and logs. */
export interface ScoreProgress {
  readonly done: number;
  readonly skipped: number;
  /** Total when known (directory pools are counted lazily: null until known). */
  readonly total: number | null;
  readonly imagesPerSecond: number;
}

/** Scores a stream of images; rounds, the CLI and distributed workers all receive one of these. */
export type Scorer = (
  source: PoolSource,
  options?: { readonly signal?: AbortSignal; readonly onProgress?: (p: ScoreProgress) => void },
) => AsyncIterable<ScoreEvent>;
