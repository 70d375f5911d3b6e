/**
 * The network cut right after one weight layer, with that layer's bias dropped: running its forward
 * pass gives the layer's pre-activation — W̄x_p at every output position p of a conv (depthwise,
 * transposed), Wx for a dense layer — before the bias, the activation and any batch norm that follows.
 * Frontends put fused activations in nodes of their own, so the cut node's output is exactly that.
 *
 * It is an ordinary IR, so any executor runs it (engine-neutral); the diagnostics' "SVD neurons"
 * project it on the layer's left singular vectors.
 */
import { errors } from '../errors/index.js';
import type { IRNode, ModelIR, Op } from './ir.js';
import { sizeOf } from './ir.js';
import { irDigest } from './ir-digest.js';

function withoutBias(node: IRNode): Op {
  const op = node.op;
  switch (op.kind) {
    case 'conv2d':
    case 'depthwiseConv2d':
    case 'conv2dTranspose':
    case 'dense': {
      const { bias: _dropped, ...rest } = op;
      return rest;
    }
    default:
      throw errors.internal(`layer '${node.name}' (${op.kind}) is not a weight layer; its pre-activation is not defined`, { layer: node.name });
  }
}

/** The sub-network whose output is node `index`'s pre-activation (batch dimension left out, as everywhere in the IR). */
export function preActivationIR(ir: ModelIR, index: number): ModelIR {
  const target = ir.nodes[index];
  if (!target || index === ir.input) throw errors.internal(`node ${index} is not a layer of this model (it has ${ir.nodes.length} nodes)`, { index });
  const nodes = ir.nodes.slice(0, index + 1).map((node, i) => (i === index ? { ...node, op: withoutBias(node) } : node));
  return {
    nodes,
    input: ir.input,
    output: index,
    inputShape: ir.inputShape,
    outputSize: sizeOf(target.shape),
    droppedFinalActivation: null,
    digest: irDigest(nodes, index),
  };
}
