/**
 * An independent RPR_k for one image file: the image decoded here with sharp, the model loaded with
 * tfjs-layers as its own files say (final softmax swapped for a linear output, so the outputs are logits),
 * the dense input→logit Jacobian A built row by row with tf.grad, and the right singular vectors taken from
 * the eigendecomposition of A Aᵀ in float64 (ml-matrix): RPR_k = ‖V_kᵀx‖/‖x‖ with
 * ‖V_kᵀx‖² = Σ_{i≤k} (u_iᵀ A x)² / λ_i (of x − x̄ instead when centred). No code of the product's model,
 * linalg or metrics folders is used.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import sharp from 'sharp';
import { initBackend, tf, tfl } from '../../../src/model/tf-runtime.js';

interface ModelFiles {
  readonly modelTopology: { config: { layers: { config: Record<string, unknown> }[] } };
  readonly weightsManifest: readonly { readonly paths: readonly string[]; readonly weights: tf.io.WeightsManifestEntry[] }[];
}

/** The model in `dir` (one weights file), ending at logits. */
export async function loadLogitModel(dir: string): Promise<tfl.LayersModel> {
  await initBackend('cpu');
  const files = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as ModelFiles;
  const last = files.modelTopology.config.layers.at(-1)!.config;
  if (last['activation'] !== 'softmax') throw new Error(`expected the last layer of ${dir} to end in softmax, got ${String(last['activation'])}`);
  last['activation'] = 'linear';
  const [group] = files.weightsManifest;
  const bytes = readFileSync(join(dir, group!.paths[0]!));
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return tfl.loadLayersModel(tf.io.fromMemory({ modelTopology: files.modelTopology, weightSpecs: group!.weights, weightData }));
}

/** A grayscale PNG as the network input: 8-bit values scaled by `scale`. */
export async function grayPixels(path: string, scale: number): Promise<Float64Array> {
  const raw = await sharp(path).greyscale().raw().toBuffer();
  return Float64Array.from(raw, (v) => v * scale);
}

/** A[x], the dense input→logit Jacobian at `x` (shape [h, w, c]), one tf.grad per output row. */
export function denseJacobian(model: tfl.LayersModel, x: Float64Array, shape: readonly number[]): Matrix {
  const outputs = (model.outputs[0]!.shape as number[]).at(-1)!;
  const rows = tf.tidy(() => {
    const input = tf.tensor(Float32Array.from(x), [1, ...shape]);
    return Array.from({ length: outputs }, (_, i) => {
      const pick = tf.tensor2d([Array.from({ length: outputs }, (_, j) => (j === i ? 1 : 0))]);
      const grad = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(model.apply(z) as tf.Tensor, pick)))(input);
      return Array.from(grad.dataSync());
    });
  });
  return new Matrix(rows);
}

/**
 * RPR_k at `x` (shape [h, w, c]) for each k in `ks`: ‖V_kᵀp‖/‖p‖ with V from A[x] and p the projected
 * vector, x itself unless given (x − x̄ for mean-centred RPR).
 */
export function denseRpr(
  model: tfl.LayersModel,
  x: Float64Array,
  shape: readonly number[],
  ks: readonly number[],
  p: Float64Array = x,
): Map<number, number> {
  const a = denseJacobian(model, x, shape);
  const ap = a.mmul(Matrix.columnVector(Array.from(p))).getColumn(0);
  const eig = new EigenvalueDecomposition(a.mmul(a.transpose()), { assumeSymmetric: true });
  const order = eig.realEigenvalues.map((value, i) => ({ value, i })).sort((p, q) => q.value - p.value);
  const u = eig.eigenvectorMatrix;
  const norm = Math.hypot(...p);
  const result = new Map<number, number>();
  for (const k of ks) {
    let energy = 0;
    for (const { value, i } of order.slice(0, k)) {
      const coord = u.getColumn(i).reduce((sum, ui, j) => sum + ui * ap[j]!, 0);
      energy += (coord * coord) / value;
    }
    result.set(k, Math.sqrt(energy) / norm);
  }
  return result;
}
