/**
 * The gradient of a 2-D convolution with respect to its filter, NHWC, in plain typed-array loops.
 * TF.js's wasm backend has no Conv2DBackpropFilter kernel (so it cannot train conv layers) and the cpu
 * backend's one reads every element through TensorBuffer.get, about 80× slower than its forward conv;
 * tf-runtime registers this as the wasm kernel, which makes training on wasm practical.
 */

export interface ConvFilterGradientGeometry {
  /** [batch, height, width, inChannels] of the convolution's input. */
  readonly xShape: readonly [number, number, number, number];
  /** [batch, outHeight, outWidth, outChannels] of its output (and of dy). */
  readonly dyShape: readonly [number, number, number, number];
  /** [filterHeight, filterWidth]. */
  readonly filterSize: readonly [number, number];
  readonly strides: readonly [number, number];
  /** Rows and columns of zero padding before the input (TF's padInfo.top / .left). */
  readonly padTopLeft: readonly [number, number];
}

/**
 * dW[kh, kw, ci, co] = Σ over batch and output position (oy, ox) of
 * x[n, oy·sh + kh − top, ox·sw + kw − left, ci] · dy[n, oy, ox, co], positions in the padding counting 0.
 * Returns the [kh, kw, inChannels, outChannels] filter gradient, accumulated in float64.
 */
export function conv2dFilterGradient(
  x: Float32Array,
  dy: Float32Array,
  geometry: ConvFilterGradientGeometry,
): Float32Array {
  const [batch, inH, inW, inC] = geometry.xShape;
  const [, outH, outW, outC] = geometry.dyShape;
  const [kH, kW] = geometry.filterSize;
  const [sH, sW] = geometry.strides;
  const [top, left] = geometry.padTopLeft;
  const sums = new Float64Array(kH * kW * inC * outC);
  for (let n = 0; n < batch; n++) {
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        const dyAt = ((n * outH + oy) * outW + ox) * outC;
        for (let ky = 0; ky < kH; ky++) {
          const iy = oy * sH + ky - top;
          if (iy < 0 || iy >= inH) continue;
          for (let kx = 0; kx < kW; kx++) {
            const ix = ox * sW + kx - left;
            if (ix < 0 || ix >= inW) continue;
            const xAt = ((n * inH + iy) * inW + ix) * inC;
            const wAt = (ky * kW + kx) * inC * outC;
            for (let ci = 0; ci < inC; ci++) {
              const xv = x[xAt + ci]!;
              // Inputs after a ReLU are mostly zero; skipping them is the main saving.
              if (xv === 0) continue;
              const row = wAt + ci * outC;
              for (let co = 0; co < outC; co++) sums[row + co] += xv * dy[dyAt + co]!;
            }
          }
        }
      }
    }
  }
  return Float32Array.from(sums);
}
