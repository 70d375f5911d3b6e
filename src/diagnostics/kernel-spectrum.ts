/**
 * Per-layer singular values of the unfolded kernel W̄ (see kernel-unfold.ts for the reshape and the
 * depthwise choice). Layers come in the IR's node order, which is topological: execution order.
 */
import type { IRNode, ModelIR } from '../model/ir.js';
import { thinSvd } from './dense-svd.js';
import { isWeightLayer, unfoldKernel, type UnfoldedKernel, type WeightLayerKind } from './kernel-unfold.js';

export interface LayerSpectrum {
  readonly name: string;
  readonly className: string;
  readonly kind: WeightLayerKind;
  /** The kernel's stored shape (TF layout). */
  readonly kernelShape: readonly number[];
  /**
   * Shape [rows, cols] of the matrix the spectrum belongs to: W̄ itself, or for depthwise layers one
   * per-channel block (all blocks share it). The ESD's normalization and aspect ratio come from it.
   */
  readonly matrixShape: readonly [number, number];
  /** Number of diagonal blocks (input channels for depthwise, 1 otherwise). */
  readonly blocks: number;
  /** Number of weights in the kernel. */
  readonly parameters: number;
  /** Descending; min(rows, cols) per block. */
  readonly singularValues: readonly number[];
}

export interface LayerSvd {
  readonly kind: WeightLayerKind;
  readonly singularValues: readonly number[];
  /** Unit vectors in output-channel space (length = output channels), in the order of the values. */
  readonly leftSingularVectors: readonly Float64Array[];
}

function decompose(unfolded: UnfoldedKernel, withLeft: boolean): LayerSvd {
  const pairs: { value: number; vector: Float64Array | null }[] = [];
  for (const block of unfolded.blocks) {
    const svd = thinSvd(block.rows, block.cols, block.data, withLeft);
    svd.values.forEach((value, i) => {
      let vector: Float64Array | null = null;
      if (withLeft) {
        vector = new Float64Array(unfolded.outChannels);
        vector.set(svd.left[i]!, block.rowOffset);
      }
      pairs.push({ value, vector });
    });
  }
  pairs.sort((a, b) => b.value - a.value);
  return {
    kind: unfolded.kind,
    singularValues: pairs.map((p) => p.value),
    leftSingularVectors: withLeft ? pairs.map((p) => p.vector!) : [],
  };
}

/** Singular values and left singular vectors of one weight layer's unfolded kernel. */
export function layerSvd(node: IRNode): LayerSvd {
  return decompose(unfoldKernel(node), true);
}

/** The spectrum of one conv, depthwise, transposed-conv or dense node. */
export function layerSpectrum(node: IRNode): LayerSpectrum {
  const unfolded = unfoldKernel(node);
  const first = unfolded.blocks[0]!;
  return {
    name: node.name,
    className: node.className,
    kind: unfolded.kind,
    kernelShape: unfolded.kernelShape,
    matrixShape: [first.rows, first.cols],
    blocks: unfolded.blocks.length,
    parameters: unfolded.kernelShape.reduce((a, b) => a * b, 1),
    singularValues: decompose(unfolded, false).singularValues,
  };
}

/** Spectra of every weight layer of the model, in execution order. */
export function layerSpectra(ir: ModelIR): LayerSpectrum[] {
  return ir.nodes.filter(isWeightLayer).map(layerSpectrum);
}
