import type { Rng } from '../util/rng.js';

/** A count × len row-major block of independent standard normal entries (probes, start vectors). */
export function gaussianBlock(rng: Rng, count: number, len: number): Float64Array {
  const out = new Float64Array(count * len);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}
