/**
 * Bilinear resizing along one axis as a matrix, shared by every executor: the IR's bilinear upsampling
 * is a product with one such matrix per spatial axis, so its frozen forward and its adjoint (the
 * transposes) are exact by construction.
 */
import type { ResizeCoordinates } from './ir.js';

/** Where output sample o reads the input, before clamping (ONNX Resize's coordinate_transformation_mode). */
function sourceCoordinate(o: number, inSize: number, outSize: number, coordinates: ResizeCoordinates): number {
  const scale = outSize / inSize;
  switch (coordinates) {
    case 'asymmetric':
      return o / scale;
    case 'half_pixel':
      return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return outSize > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
  }
}

/**
 * The [outSize, inSize] row-major matrix of linear interpolation: output o takes (1 − t)·x[i] + t·x[i + 1]
 * at the source coordinate i + t, clamped into [0, inSize − 1] as ONNX Runtime and TensorFlow clamp it
 * (both edges repeat the border sample).
 */
export function bilinearWeights(inSize: number, outSize: number, coordinates: ResizeCoordinates = 'asymmetric'): Float32Array {
  const m = new Float32Array(outSize * inSize);
  for (let o = 0; o < outSize; o++) {
    const src = Math.min(Math.max(sourceCoordinate(o, inSize, outSize, coordinates), 0), inSize - 1);
    const lo = Math.floor(src);
    const hi = Math.min(lo + 1, inSize - 1);
    const t = src - lo;
    m[o * inSize + lo]! += 1 - t;
    m[o * inSize + hi]! += t;
  }
  return m;
}
