/**
 * Axis permutation of row-major weight data, shared by the frontends (ONNX's NCHW layouts to the IR's
 * NHWC) and the executors (the IR's layouts to an engine's).
 */

/** A row-major tensor's data with its axes permuted: out axis i is in axis perm[i]. */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const rank = shape.length;
  const outShape = perm.map((p) => shape[p]!);
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= shape[i]!;
  }
  const strides = perm.map((p) => inStrides[p]!);
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  let src = 0;
  for (let o = 0; o < out.length; o++) {
    out[o] = data[src]!;
    for (let a = rank - 1; a >= 0; a--) {
      index[a]!++;
      src += strides[a]!;
      if (index[a]! < outShape[a]!) break;
      src -= strides[a]! * outShape[a]!;
      index[a] = 0;
    }
  }
  return out;
}
