/**
 * Assembles a diagnostics report from what the caller has: always the model IR (weight spectra),
 * optionally labeled evaluation records (class imbalance), forward functions of checkpoints with
 * probe images (spectral gain), and pool images with a way to run sub-networks (SVD neurons). The
 * CLI's `diagnose` command gathers those and calls this.
 */
import { RprError } from '../errors/index.js';
import type { IRNode, ModelIR } from '../model/ir.js';
import { compareWithBaseline, type ShiftOptions } from './class-imbalance-shift.js';
import { analyzeClassImbalance, type ClassImbalanceOptions, type ClassImbalanceReport, type EvalRecord } from './class-imbalance.js';
import { gainOverCheckpoints, type GainCheckpoint, type GainOptions } from './gain.js';
import type { GainTrendOptions } from './gain-trend.js';
import { layerSpectrum } from './kernel-spectrum.js';
import { isWeightLayer } from './kernel-unfold.js';
import { layerOperatorSpectrum } from './operator-spectrum.js';
import {
  analyzeLayer,
  modelReport,
  REPORT_FORMAT_VERSION,
  type DiagnosticsReport,
  type LayerAnalysisOptions,
  type LayerReport,
  type OperatorSpectrumReport,
} from './report.js';
import { svdNeuronsReport, type SvdNeuronsOptions } from './svd-neurons-report.js';

export interface DiagnoseOptions {
  /** Per-image RPR/LPR with true labels: enables the class-imbalance section. */
  readonly evalRecords?: readonly EvalRecord[];
  readonly classImbalance?: ClassImbalanceOptions;
  /** The same images, in the same order, scored by a baseline model: adds the two-model comparison. */
  readonly baselineRecords?: readonly EvalRecord[];
  readonly baselineComparison?: ShiftOptions;
  /** Checkpoints (oldest first) and probe images [H, W, C] of the model's input shape: enables the gain section. */
  readonly gain?: {
    readonly checkpoints: readonly GainCheckpoint[];
    readonly probes: readonly Float32Array[];
    readonly options?: GainOptions & GainTrendOptions;
  };
  /**
   * Adds each stride-1 conv layer's exact circular operator spectrum on its input size. Costs H·W small
   * SVDs per layer, so it is off by default.
   */
  readonly operatorSpectrum?: boolean | { readonly topK?: number };
  /** Pool images and a runner of sub-networks: enables the SVD-neurons section. */
  readonly svdNeurons?: SvdNeuronsOptions;
  readonly layers?: LayerAnalysisOptions;
}

/** The layer's operator spectrum on its input size, or why it has none. */
function operatorReport(ir: ModelIR, node: IRNode, topK: number): OperatorSpectrumReport | { readonly skipped: string } {
  const op = node.op;
  if (op.kind === 'dense') return { skipped: '' };
  if ('strides' in op && (op.strides[0] !== 1 || op.strides[1] !== 1)) {
    return { skipped: `layer '${node.name}': no operator spectrum (strides ${op.strides.join('×')}; defined for stride 1)` };
  }
  const inputShape = ir.nodes[node.inputs[0] ?? -1]?.shape;
  if (!inputShape || inputShape.length !== 3) {
    return { skipped: `layer '${node.name}': no operator spectrum (its input shape is not [H, W, C])` };
  }
  const [height, width] = inputShape as [number, number, number];
  const values = layerOperatorSpectrum(node, height, width);
  return { height, width, spectralNorm: values[0] ?? 0, singularValues: values.slice(0, topK) };
}

function classImbalanceSection(records: readonly EvalRecord[], options: DiagnoseOptions): ClassImbalanceReport {
  const report = analyzeClassImbalance(records, options.classImbalance);
  if (!options.baselineRecords) return report;
  return { ...report, baseline: compareWithBaseline(records, options.baselineRecords, options.baselineComparison) };
}

export async function diagnose(ir: ModelIR, options: DiagnoseOptions = {}): Promise<DiagnosticsReport> {
  const notes: string[] = [];
  const topK = typeof options.operatorSpectrum === 'object' ? (options.operatorSpectrum.topK ?? 64) : 64;
  const layers: LayerReport[] = ir.nodes.filter(isWeightLayer).map((node) => {
    const layer = analyzeLayer(layerSpectrum(node), options.layers);
    if (!options.operatorSpectrum) return layer;
    const operator = operatorReport(ir, node, topK);
    if ('skipped' in operator) {
      if (operator.skipped) notes.push(operator.skipped);
      return layer;
    }
    return { ...layer, operator };
  });

  let gain: DiagnosticsReport['gain'] = null;
  if (options.gain && options.gain.checkpoints.length > 0) {
    const [height, width, channels] = ir.inputShape;
    if (ir.inputShape.length !== 3) {
      throw new RprError(
        'RPR_INPUT_SHAPE',
        `gain needs an image model with input [H, W, C]; this model's input is [${ir.inputShape.join(', ')}]`,
        { inputShape: ir.inputShape.join('x') },
      );
    }
    gain = await gainOverCheckpoints(
      options.gain.checkpoints,
      options.gain.probes,
      { height: height!, width: width!, channels: channels! },
      options.gain.options,
    );
  }

  return {
    formatVersion: REPORT_FORMAT_VERSION,
    modelDigest: ir.digest,
    layers,
    model: modelReport(layers),
    classImbalance: options.evalRecords ? classImbalanceSection(options.evalRecords, options) : null,
    gain,
    svdNeurons: options.svdNeurons ? await svdNeuronsReport(ir, options.svdNeurons) : null,
    notes,
  };
}
