/**
 * Heavy-Tailed Self-Regularization verdicts on a layer's power-law exponent α (Martin & Mahoney,
 * "Traditional and Heavy-Tailed Self Regularization in Neural Network Models", ICML 2019,
 * arXiv:1901.08276; "Predicting trends in the quality of state-of-the-art neural networks without
 * access to training or testing data", Nat. Commun. 12, 4122 (2021), arXiv:2002.06716), as the
 * WeightWatcher tool applies them (its layer warnings "over-trained" / "under-trained"; maintainer's
 * statement in CalculatedContent/WeightWatcher issue #235: α < 2 may be over-fit, well-fit α lies in
 * [2, 6], larger α is under-fit):
 *   α < 2        very heavy tailed: over-trained / over-fit;
 *   2 ≤ α ≤ 6    well trained, best in 2–4;
 *   α > 6        under-trained, close to a random matrix.
 * DeepDataProfiler's narrower bands (μ = 2(α − 1)) are not used; thresholds are heuristics from those
 * papers, not guarantees.
 */

export type AlphaVerdict = 'over-trained' | 'well-trained' | 'under-trained' | 'unknown';

export const ALPHA_VERDICTS: readonly AlphaVerdict[] = ['over-trained', 'well-trained', 'under-trained', 'unknown'];

export interface LayerVerdict {
  readonly verdict: AlphaVerdict;
  /** One sentence for the report. */
  readonly text: string;
}

export function alphaVerdict(alpha: number | null): LayerVerdict {
  if (alpha === null || !Number.isFinite(alpha)) {
    return { verdict: 'unknown', text: 'too few eigenvalues for a power-law fit; no verdict' };
  }
  const a = alpha.toFixed(2);
  if (alpha < 2) {
    return { verdict: 'over-trained', text: `α = ${a} < 2: very heavy-tailed spectrum; the layer may be over-trained or over-fit` };
  }
  if (alpha <= 4) return { verdict: 'well-trained', text: `α = ${a} in [2, 4]: well trained (the best range)` };
  if (alpha <= 6) return { verdict: 'well-trained', text: `α = ${a} in (4, 6]: well trained, though less strongly correlated` };
  return { verdict: 'under-trained', text: `α = ${a} > 6: close to a random matrix; the layer looks under-trained` };
}

export interface LayerAlpha {
  readonly alpha: number | null;
  /** Layer size used as weight (number of kernel parameters). */
  readonly parameters: number;
  /** Largest ESD eigenvalue, for the α̂ metric. */
  readonly lambdaMax: number;
}

export interface ModelAlphaScore {
  /** Number of layers with an α. */
  readonly fitted: number;
  readonly meanAlpha: number | null;
  /** Σ αₗ·paramsₗ / Σ paramsₗ over fitted layers. */
  readonly weightedMeanAlpha: number | null;
  /** Martin–Peng–Mahoney α̂ = mean αₗ·ln λ_max,ₗ (natural log, as DeepDataProfiler). */
  readonly alphaHat: number | null;
  readonly verdictCounts: Readonly<Record<AlphaVerdict, number>>;
  /** The verdict of the parameter-weighted mean α. */
  readonly verdict: AlphaVerdict;
  readonly text: string;
}

export function modelAlphaScore(layers: readonly LayerAlpha[]): ModelAlphaScore {
  const counts: Record<AlphaVerdict, number> = { 'over-trained': 0, 'well-trained': 0, 'under-trained': 0, unknown: 0 };
  for (const l of layers) counts[alphaVerdict(l.alpha).verdict] += 1;
  const fitted = layers.filter((l): l is LayerAlpha & { alpha: number } => l.alpha !== null && Number.isFinite(l.alpha));
  if (fitted.length === 0) {
    return {
      fitted: 0,
      meanAlpha: null,
      weightedMeanAlpha: null,
      alphaHat: null,
      verdictCounts: counts,
      verdict: 'unknown',
      text: 'no layer had enough eigenvalues for a power-law fit',
    };
  }
  const mean = fitted.reduce((s, l) => s + l.alpha, 0) / fitted.length;
  const totalParams = fitted.reduce((s, l) => s + l.parameters, 0);
  const weighted = fitted.reduce((s, l) => s + l.alpha * l.parameters, 0) / totalParams;
  const positive = fitted.filter((l) => l.lambdaMax > 0);
  const alphaHat = positive.length > 0 ? positive.reduce((s, l) => s + l.alpha * Math.log(l.lambdaMax), 0) / positive.length : null;
  const verdict = alphaVerdict(weighted).verdict;
  const parts = ALPHA_VERDICTS.filter((v) => counts[v] > 0)
    .map((v) => `${counts[v]} ${v}`);
  return {
    fitted: fitted.length,
    meanAlpha: mean,
    weightedMeanAlpha: weighted,
    alphaHat,
    verdictCounts: counts,
    verdict,
    text: `parameter-weighted mean α = ${weighted.toFixed(2)} (${verdict}); layers: ${parts.join(', ')}`,
  };
}
