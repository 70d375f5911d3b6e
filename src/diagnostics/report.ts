/**
 * The diagnostics report: the shape of report.json, the per-layer analysis that fills its `layers`
 * (spectrum → ESD → Marchenko–Pastur fit → power-law α → verdict), and the model section.
 */
import { alphaVerdict, modelAlphaScore, type AlphaVerdict, type ModelAlphaScore } from './alpha-verdict.js';
import type { ClassImbalanceReport } from './class-imbalance.js';
import { esdFromSingularValues } from './esd.js';
import type { GainOverCheckpoints } from './gain.js';
import type { LayerSpectrum } from './kernel-spectrum.js';
import { fitMarchenkoPastur, type MpFit, type MpFitOptions } from './marchenko-pastur.js';
import { fitPowerLaw, type PowerLawFit, type PowerLawOptions } from './power-law.js';
import type { SvdNeuronsReport } from './svd-neurons-report.js';

export const REPORT_FORMAT_VERSION = 1;

export const ESD_NORMALIZATION = 'λ = σ²/N, N = the larger dimension of the unfolded kernel (of one block for depthwise layers)';

export interface OperatorSpectrumReport {
  readonly height: number;
  readonly width: number;
  /** Largest singular value of the circular stride-1 operator: its Lipschitz constant. */
  readonly spectralNorm: number;
  /** The largest values, descending (at most `operatorTopK`). */
  readonly singularValues: readonly number[];
}

export interface LayerReport {
  readonly name: string;
  readonly className: string;
  readonly kind: LayerSpectrum['kind'];
  readonly kernelShape: readonly number[];
  readonly matrixShape: readonly [number, number];
  readonly blocks: number;
  readonly parameters: number;
  /** Of the unfolded kernel, descending. */
  readonly singularValues: readonly number[];
  readonly esd: {
    readonly normalization: string;
    readonly n: number;
    readonly m: number;
    readonly q: number;
    readonly lambdaMax: number;
  };
  readonly mp: MpFit;
  /** Power-law exponent of the ESD tail; null when the layer has too few eigenvalues. */
  readonly alpha: number | null;
  readonly powerLaw: PowerLawFit | null;
  readonly verdict: AlphaVerdict;
  readonly verdictText: string;
  readonly operator?: OperatorSpectrumReport;
}

export interface ModelReport extends ModelAlphaScore {
  readonly layers: number;
  /** Layers with at least one spike above the Marchenko–Pastur edge. */
  readonly layersWithSpikes: number;
}

export interface DiagnosticsReport {
  readonly formatVersion: number;
  readonly modelDigest: string;
  readonly layers: readonly LayerReport[];
  readonly model: ModelReport;
  readonly classImbalance: ClassImbalanceReport | null;
  readonly gain: GainOverCheckpoints | null;
  /** Pool images that excite each leading singular direction of each weight layer; null without a pool. */
  readonly svdNeurons: SvdNeuronsReport | null;
  /** Things left out and why (for example, strided layers without an operator spectrum). */
  readonly notes: readonly string[];
}

export interface LayerAnalysisOptions {
  readonly mp?: MpFitOptions;
  readonly powerLaw?: PowerLawOptions;
}

/** ESD, MP fit, power-law α and verdict of one layer's spectrum. */
export function analyzeLayer(spectrum: LayerSpectrum, options: LayerAnalysisOptions = {}): LayerReport {
  const [rows, cols] = spectrum.matrixShape;
  const esd = esdFromSingularValues(spectrum.singularValues, rows, cols);
  const powerLaw = fitPowerLaw(esd.eigenvalues, options.powerLaw);
  const alpha = powerLaw?.alpha ?? null;
  const { verdict, text } = alphaVerdict(alpha);
  return {
    name: spectrum.name,
    className: spectrum.className,
    kind: spectrum.kind,
    kernelShape: spectrum.kernelShape,
    matrixShape: spectrum.matrixShape,
    blocks: spectrum.blocks,
    parameters: spectrum.parameters,
    singularValues: spectrum.singularValues,
    esd: { normalization: ESD_NORMALIZATION, n: esd.n, m: esd.m, q: esd.q, lambdaMax: esd.eigenvalues[0] ?? 0 },
    mp: fitMarchenkoPastur(esd, options.mp),
    alpha,
    powerLaw,
    verdict,
    verdictText: text,
  };
}

/** The model section from the layer reports. */
export function modelReport(layers: readonly LayerReport[]): ModelReport {
  return {
    ...modelAlphaScore(layers.map((l) => ({ alpha: l.alpha, parameters: l.parameters, lambdaMax: l.esd.lambdaMax }))),
    layers: layers.length,
    layersWithSpikes: layers.filter((l) => l.mp.spikes > 0).length,
  };
}
