/**
 * The report's "SVD neurons" section: for every weight layer, the model cut after that layer (its bias
 * dropped, model/pre-activation-ir.ts) runs on the images; each pre-activation is projected on the left
 * singular vectors of the layer's unfolded kernel, and each leading direction lists the images that
 * excite it most (svd-neurons.ts). The executor comes from the caller, so the section runs on whichever
 * engine loaded the model.
 */
import type { ModelIR } from '../model/ir.js';
import { sizeOf } from '../model/ir.js';
import { preActivationIR } from '../model/pre-activation-ir.js';
import { positiveInteger } from './check-option.js';
import type { BatchForward } from './gain.js';
import { layerSvd } from './kernel-spectrum.js';
import { isWeightLayer, type WeightLayerKind } from './kernel-unfold.js';
import { svdNeuronExemplars, type ExemplarImage, type SvdNeuronExemplars } from './svd-neurons.js';

export const SVD_NEURON_EXCITATION =
  "mean over output positions p of |uᵢᵀy_p|, y_p the layer's output before its bias, activation and any following batch norm, uᵢ the i-th left singular vector of the unfolded kernel";

/** What runs a sub-network of the model: an Executor of the model's engine fits. */
export interface SubNetworkRunner {
  readonly forward: BatchForward;
  dispose(): void;
}

export interface SvdNeuronsOptions {
  /** Images [H, W, C] of the model's input shape, with their sample id and uri. */
  readonly images: readonly ExemplarImage<Float32Array>[];
  /** Opens a runner for an IR derived from the model (the model cut after one layer). */
  readonly runnerFor: (ir: ModelIR) => Promise<SubNetworkRunner>;
  /**
   * Leading singular directions ranked per layer.
   * @defaultValue 8
   */
  readonly directions?: number;
  /**
   * Images listed per direction.
   * @defaultValue 9
   */
  readonly topN?: number;
  /**
   * Images per forward call.
   * @defaultValue 32
   */
  readonly batchSize?: number;
}

export interface SvdNeuronsLayer {
  readonly name: string;
  readonly className: string;
  readonly kind: WeightLayerKind;
  /** One image's pre-activation: [H, W, out] for conv layers, [out] for dense ones. */
  readonly preActivationShape: readonly number[];
  readonly directions: readonly SvdNeuronExemplars[];
}

export interface SvdNeuronsReport {
  /** Images every layer was run on. */
  readonly images: number;
  /** How an image's excitation of a direction is measured. */
  readonly excitation: string;
  readonly layers: readonly SvdNeuronsLayer[];
}

export async function svdNeuronsReport(ir: ModelIR, options: SvdNeuronsOptions): Promise<SvdNeuronsReport> {
  const directions = positiveInteger('SVD neurons', 'directions', options.directions ?? 8);
  const topN = positiveInteger('SVD neurons', 'topN', options.topN ?? 9);
  const inputSize = sizeOf(ir.inputShape);
  const layers: SvdNeuronsLayer[] = [];
  for (const [index, node] of ir.nodes.entries()) {
    if (!isWeightLayer(node)) continue;
    const svd = layerSvd(node);
    const outputSize = sizeOf(node.shape);
    const runner = await options.runnerFor(preActivationIR(ir, index));
    try {
      const ranked = await svdNeuronExemplars({
        leftSingularVectors: svd.leftSingularVectors,
        singularValues: svd.singularValues,
        images: options.images,
        preActivations: async (inputs) => {
          const batch = new Float32Array(inputs.length * inputSize);
          inputs.forEach((x, b) => batch.set(x, b * inputSize));
          const y = await runner.forward(batch, inputs.length);
          return inputs.map((_, b) => y.subarray(b * outputSize, (b + 1) * outputSize));
        },
        directions,
        topN,
        ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      });
      layers.push({ name: node.name, className: node.className, kind: svd.kind, preActivationShape: node.shape, directions: ranked });
    } finally {
      runner.dispose();
    }
  }
  return { images: options.images.length, excitation: SVD_NEURON_EXCITATION, layers };
}
