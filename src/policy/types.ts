import type { ScoreResult } from '../metrics/types.js';

/** The ScoreResult fields a policy reads; a result lacking one is skipped with a reason naming it. */
export type ScoreField = 'rpr' | 'logits' | 'coords' | 'predicted';

/**
 * A selection heuristic. Sign convention: **higher score = picked first**. A policy whose natural
 * metric prefers low values (lowest-rpr) reports a complement (1 − RPR) so the convention holds and
 * the number stays meaningful in [0, 1]. `null` means this image cannot be ranked by this policy.
 * Ranking, ties, top-N, diversity and quotas are written once in `rank.ts` / `select-batch.ts`.
 */
export interface Policy {
  /** Name used in config, ledger and messages (`lowest-rpr`, `entropy`, …). */
  readonly name: string;
  readonly needs: readonly ScoreField[];
  /** The ranking key: higher is picked first. */
  score(result: ScoreResult): number | null;
  /**
   * The value users and sinks see as the image's score, when it differs from the ranking key: lowest-rpr
   * ranks by 1 − RPR_k but reports RPR_k itself. @defaultValue the ranking key
   */
  reported?(result: ScoreResult): number | null;
}

/** Weights of the hybrid policy's normalized-score fusion. */
export interface HybridOptions {
  /** Weight of the RPR term (1 − RPR_k). @defaultValue 0.5 */
  readonly rprWeight: number;
  /** Weight of the normalized uncertainty term. @defaultValue 0.5 */
  readonly uncertaintyWeight: number;
  /** Which uncertainty the RPR is fused with. @defaultValue 'entropy' */
  readonly uncertainty: UncertaintyName;
}

export type UncertaintyName = 'entropy' | 'margin' | 'least-confidence';

export interface PolicyOptions {
  /** The RPR rank k ranked by; @defaultValue the largest k present in each result */
  readonly k?: number | null;
  /** Seed of the random policy. @defaultValue 0 */
  readonly seed?: number;
  readonly hybrid?: Partial<HybridOptions>;
}
