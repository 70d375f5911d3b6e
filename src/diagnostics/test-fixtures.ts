/**
 * Tiny IR nodes with seeded random kernels, shared by the diagnostics tests (not exported by the
 * folder's index).
 */
import type { IRNode, ModelIR, Op, WeightTensor } from '../model/ir.js';
import { createRng } from '../util/rng.js';

export function randomTensor(shape: readonly number[], seed: number, scale = 1): WeightTensor {
  const rng = createRng(seed);
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = scale * rng.normal();
  return { shape, data };
}

export function weightNode(name: string, op: Op, className: string = op.kind): IRNode {
  return { name, className, op, inputs: [0], shape: [] };
}

export function conv2dOp(kernel: WeightTensor, strides: readonly [number, number] = [1, 1]): Op {
  return { kind: 'conv2d', kernel, strides, dilations: [1, 1], padding: 'same' };
}

export function depthwiseOp(kernel: WeightTensor): Op {
  return { kind: 'depthwiseConv2d', kernel, strides: [1, 1], dilations: [1, 1], padding: 'same' };
}

export function transposeOp(kernel: WeightTensor): Op {
  return { kind: 'conv2dTranspose', kernel, strides: [1, 1], padding: 'same' };
}

export function denseOp(kernel: WeightTensor): Op {
  return { kind: 'dense', kernel };
}

/** A model IR around the given nodes (an input node is prepended; topology is not checked here). */
export function modelOf(nodes: readonly IRNode[], inputShape: readonly number[] = [8, 8, 1]): ModelIR {
  const input: IRNode = { name: 'input', className: 'InputLayer', op: { kind: 'input' }, inputs: [], shape: inputShape };
  return {
    nodes: [input, ...nodes],
    input: 0,
    output: nodes.length,
    inputShape,
    outputSize: 10,
    droppedFinalActivation: null,
    digest: 'test',
  };
}
