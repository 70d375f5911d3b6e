/**
 * Max-pool switches: for every output of a max-pool, the one input position it copies. Ties pick the
 * first maximum in row-major window order, as TF.js's own max-pool gradient does; routing a gradient
 * through every tied position is wrong on real images, whose flat backgrounds make ties common.
 */
import type { AxisGeometry } from '../../conv-geometry.js';

/**
 * @param input  B images of shape [H, W, C], row-major.
 * @returns B × (outH·outW·C) indices into each image's flattened [H, W, C] input.
 */
export function maxPoolSwitches(
  input: Float32Array,
  count: number,
  channels: number,
  gh: AxisGeometry,
  gw: AxisGeometry,
): Int32Array {
  const H = gh.inSize;
  const W = gw.inSize;
  const inSize = H * W * channels;
  const outSize = gh.outSize * gw.outSize * channels;
  const out = new Int32Array(count * outSize);
  let o = 0;
  for (let b = 0; b < count; b++) {
    const base = b * inSize;
    for (let oy = 0; oy < gh.outSize; oy++) {
      const y0 = oy * gh.stride - gh.padBefore;
      for (let ox = 0; ox < gw.outSize; ox++) {
        const x0 = ox * gw.stride - gw.padBefore;
        for (let c = 0; c < channels; c++) {
          let best = -Infinity;
          let bestIndex = -1;
          for (let dy = 0; dy < gh.kernel; dy++) {
            const y = y0 + dy * gh.dilation;
            if (y < 0 || y >= H) continue;
            for (let dx = 0; dx < gw.kernel; dx++) {
              const x = x0 + dx * gw.dilation;
              if (x < 0 || x >= W) continue;
              const index = (y * W + x) * channels + c;
              const value = input[base + index]!;
              if (value > best || bestIndex < 0) {
                best = value;
                bestIndex = index;
              }
            }
          }
          out[o++] = bestIndex;
        }
      }
    }
  }
  return out;
}
