/**
 * Max-pools whose windows tile the input (stride = window, as in nearly every CNN, and every global
 * max-pool) record their switches as a one-hot mask over the input instead of indices: the adjoint is
 * then one broadcast multiply and the frozen forward one multiply and a sum, with no scatter or gather.
 */
import { axisGeometry } from '../../conv-geometry.js';
import type { ModelIR } from '../../ir.js';

export interface PoolTiling {
  readonly channels: number;
  readonly inH: number;
  readonly inW: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  /** Rows/columns added before the input ('same' padding); the tiled extent is oh·kh × ow·kw. */
  readonly top: number;
  readonly left: number;
}

/** The tiling of max-pool node i, or null when its windows overlap or leave gaps. */
export function poolTiling(ir: ModelIR, i: number): PoolTiling | null {
  const node = ir.nodes[i]!;
  const [inH, inW, channels] = ir.nodes[node.inputs[0]!]!.shape as [number, number, number];
  if (node.op.kind === 'globalMaxPool') return { channels, inH, inW, kh: inH, kw: inW, oh: 1, ow: 1, top: 0, left: 0 };
  if (node.op.kind !== 'maxPool') return null;
  const { pool, strides, padding } = node.op;
  if (strides[0] !== pool[0] || strides[1] !== pool[1]) return null;
  const gh = axisGeometry(inH, pool[0], strides[0], 1, padding);
  const gw = axisGeometry(inW, pool[1], strides[1], 1, padding);
  return { channels, inH, inW, kh: pool[0], kw: pool[1], oh: gh.outSize, ow: gw.outSize, top: gh.padBefore, left: gw.padBefore };
}

/** Graph dims of the mask: [C, oh·kh, ow·kw]. */
export function tiledDims(t: PoolTiling): number[] {
  return [t.channels, t.oh * t.kh, t.ow * t.kw];
}
