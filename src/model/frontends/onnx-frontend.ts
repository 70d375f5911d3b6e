/**
 * Frontend: an ONNX model (for instance from `torch.onnx.export`) → the engine-neutral IR.
 *
 * Layout. ONNX images are NCHW, the IR is NHWC. The model's own input shape decides the image: an input
 * [N, C, H, W] is read as IR input [H, W, C] (the pool decodes images to H×W×C, the executors transpose
 * where they need to), and an [N, H, W, C] input followed by Transpose(perm [0, 3, 1, 2]) is accepted
 * too. Weights are transposed once, here: conv kernels OIHW → HWIO, ConvTranspose IOHW → HWOI, Gemm/MatMul
 * to [in, out]. A flattened feature map keeps ONNX's C·H·W order in the file but the IR flattens H·W·C,
 * so every flattened value carries the permutation between the two, and the Gemm/MatMul (or per-feature
 * BatchNormalization) that reads it has its rows permuted to match.
 *
 * Each supported op becomes IR nodes with exactly ONNX's semantics; anything else stops with
 * RPR_UNSUPPORTED_LAYER naming the node, its op type and why.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { RprError } from '../../errors/index.js';
import type { ModelIR } from '../ir.js';
import { sizeOf } from '../ir.js';
import { irDigest } from '../ir-digest.js';
import { finalActivation } from './final-activation.js';
import type { FrontendOptions } from './layers-model-frontend.js';
import type { Value } from './onnx-converter.js';
import { Converter } from './onnx-converter.js';
import type { ExternalData, OnnxGraph } from './onnx-graph.js';
import { attrInts, readOnnxGraph } from './onnx-graph.js';
import { convertNode } from './onnx-node-converters.js';

interface Converted {
  readonly converter: Converter;
  readonly output: Value;
  readonly inputShape: readonly number[];
}

function imageInput(graph: OnnxGraph): { shape: number[]; transposed: string | null } {
  const dims = graph.input.dims;
  const fail = (why: string) =>
    new RprError('RPR_INPUT_SHAPE', `${graph.path}: the model's input '${graph.input.name}' has shape [${dims.join(', ')}]; ${why}`, { shape: dims.join(',') });
  if (dims.length !== 4 || dims.slice(1).some((d) => typeof d !== 'number' || d <= 0)) throw fail('rpr-select needs an image [N, C, H, W] of known size');
  const [, a, b, c] = dims as [unknown, number, number, number];
  // An NHWC input that the graph transposes to NCHW first (tf2onnx's pattern).
  const first = graph.nodes.find((n) => n.inputs.includes(graph.input.name));
  const perm = first?.opType === 'Transpose' ? attrInts(first, 'perm') : null;
  if (perm && perm.join() === '0,3,1,2') return { shape: [a, b, c], transposed: first!.outputs[0]! };
  return { shape: [b, c, a], transposed: null };
}

function convert(graph: OnnxGraph): Converted {
  const cv = new Converter(graph);
  const input = imageInput(graph);
  const id = cv.add('input', 'Input', { kind: 'input' }, [], input.shape);
  cv.set(input.transposed ?? graph.input.name, { kind: 'image', id });
  const batch = graph.input.dims[0]!;
  for (const node of graph.nodes) {
    if (node.outputs[0] === input.transposed) continue;
    const out = convertNode(cv, node, batch);
    cv.set(node.outputs[0]!, out);
  }
  return { converter: cv, output: cv.named(graph.output), inputShape: input.shape };
}

/**
 * The IR of an ONNX model given as bytes; `path` names the file in messages, `external` reads the weight
 * files it names (torch.onnx.export's `model.onnx.data`).
 */
export function onnxModelToIR(bytes: Uint8Array, path: string, options: FrontendOptions = {}, external: ExternalData | null = null): ModelIR {
  const graph = readOnnxGraph(bytes, path, external);
  const { converter, output, inputShape } = convert(graph);
  if (output.kind === 'flat' && output.perm) {
    throw new RprError('RPR_UNSUPPORTED_LAYER', `${path}: the model's output is a flattened feature map; rpr-select needs logits or an image`, {
      layer: graph.output,
      className: 'Output',
    });
  }
  const nodes = converter.nodes;
  let out = output.id;
  let dropped: 'softmax' | 'sigmoid' | null = null;
  const fin = finalActivation(nodes[out]!.op);
  if (fin && !options.keepFinalActivation) {
    dropped = fin;
    out = nodes[out]!.inputs[0]!;
  }
  const kept = nodes.slice(0, out + 1);
  return {
    nodes: kept,
    input: 0,
    output: out,
    inputShape,
    outputSize: sizeOf(kept[out]!.shape),
    droppedFinalActivation: dropped,
    digest: irDigest(kept, out),
  };
}

/** Reads and converts an .onnx file, with the external weight files beside it that it names. */
export async function loadOnnxModel(path: string, options: FrontendOptions = {}): Promise<ModelIR> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch {
    throw new RprError('RPR_MODEL_NOT_FOUND', `ONNX model '${path}' cannot be read; give the path of an .onnx file`, { path });
  }
  const files = new Map<string, Uint8Array>();
  const external: ExternalData = (location) => {
    let file = files.get(location);
    if (!file) {
      const where = join(dirname(path), location);
      try {
        file = readFileSync(where);
      } catch {
        throw new RprError('RPR_MODEL_INVALID', `ONNX model '${path}' keeps its weights in '${where}', which cannot be read; copy it beside the model`, { path: where });
      }
      files.set(location, file);
    }
    return file;
  };
  return onnxModelToIR(bytes, path, options, external);
}
