/** One image's scores, as the scoring stage hands them to policies, the cache and `score --out`. */
export interface ScoreResult {
  /** sha256 hex of the image bytes. */
  readonly id: string;
  readonly uri: string;
  /** RPR_k keyed by k ("1", "5", "10"); null when the image could not be scored (see `error`). */
  readonly rpr: Readonly<Record<string, number>> | null;
  /** Singular values of A[x] (per-sample mode), descending; null in reference mode or on error. */
  readonly sigma: readonly number[] | null;
  /** argmax of the network output; null when no network pass was made (reference mode) or on error. */
  readonly predicted: number | null;
  /** The network output (logits) when a forward pass was made: what uncertainty policies need. */
  readonly logits: readonly number[] | null;
  /**
   * Coordinates of x/‖x‖ on the top right singular vectors (V_kᵀx/‖x‖ for the largest k): a cheap
   * embedding for batch diversity. Null when not computed.
   */
  readonly coords: readonly number[] | null;
  /** Why the image has no score (zero image, corrupt file…). */
  readonly error?: string;
}
