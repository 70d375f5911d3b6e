export { layerSpectra, layerSpectrum, layerSvd } from './kernel-spectrum.js';
export type { LayerSpectrum, LayerSvd } from './kernel-spectrum.js';
export { isWeightLayer, unfoldKernel } from './kernel-unfold.js';
export type { KernelBlock, UnfoldedKernel, WeightLayerKind } from './kernel-unfold.js';
export { convOperatorSpectrum, layerOperatorSpectrum } from './operator-spectrum.js';
export { esdFromSingularValues, esdHistogram } from './esd.js';
export type { Esd, HistogramBin } from './esd.js';
export { fitMarchenkoPastur, mpCdf, mpCurve, mpDensity, mpQuantile, TRACY_WIDOM_99 } from './marchenko-pastur.js';
export type { MpFit, MpFitOptions } from './marchenko-pastur.js';
export { fitPowerLaw } from './power-law.js';
export type { PowerLawFit, PowerLawOptions } from './power-law.js';
export { alphaVerdict, modelAlphaScore } from './alpha-verdict.js';
export type { AlphaVerdict, LayerVerdict, ModelAlphaScore } from './alpha-verdict.js';
export { directionExcitation, svdNeuronExemplars } from './svd-neurons.js';
export type { Exemplar, ExemplarImage, SvdNeuronExemplars, SvdNeuronOptions } from './svd-neurons.js';
export { svdNeuronsReport, SVD_NEURON_EXCITATION } from './svd-neurons-report.js';
export type { SubNetworkRunner, SvdNeuronsLayer, SvdNeuronsOptions, SvdNeuronsReport } from './svd-neurons-report.js';
export { gainOverCheckpoints, gainPatterns, spectralGain } from './gain.js';
export type { BatchForward, GainCheckpoint, GainCurve, GainOptions, GainOverCheckpoints, GainPattern, ImageShape } from './gain.js';
export { classifyGainTrend } from './gain-trend.js';
export type { GainTrend, GainTrendKind, GainTrendOptions } from './gain-trend.js';
export { analyzeClassImbalance, labelStrength, strengthBand } from './class-imbalance.js';
export type {
  ClassFamilyResult,
  ClassImbalanceClass,
  ClassImbalanceOptions,
  ClassImbalanceReport,
  EvalRecord,
  ImbalanceMetric,
  LabelStrength,
} from './class-imbalance.js';
export { classImbalanceRecords } from './class-imbalance-records.js';
export type { ImbalanceRecordOptions } from './class-imbalance-records.js';
export { compareWithBaseline, robustZ } from './class-imbalance-shift.js';
export type { BaselineComparison, ClassShift, ShiftOptions } from './class-imbalance-shift.js';
export { holmAdjust, mannWhitneyU, normalCdf } from './mann-whitney.js';
export type { MannWhitneyResult } from './mann-whitney.js';
export { analyzeLayer, modelReport, REPORT_FORMAT_VERSION } from './report.js';
export type { DiagnosticsReport, LayerReport, ModelReport, OperatorSpectrumReport } from './report.js';
export { renderReportHtml } from './report-html.js';
export type { ReportAssets } from './report-html.js';
export { writeReport } from './write-report.js';
export { diagnose } from './diagnose.js';
export type { DiagnoseOptions } from './diagnose.js';
export { runDiagnose } from './run-diagnose.js';
export type { RunDiagnoseOptions, RunDiagnoseResult } from './run-diagnose.js';
