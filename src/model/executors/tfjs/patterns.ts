/**
 * Frozen patterns of a batch of B images, one per nonlinear node: a derivative tensor for element-wise
 * activations, the softmax output for an inner softmax, switches for max-pools. A batch of vectors to
 * push through A[x] holds r vectors per image (B·r rows, image-major); patterns broadcast over the r.
 */
import { tf } from '../../tf-runtime.js';

type T = tf.Tensor;

export type Pattern =
  | { readonly kind: 'scale'; readonly d: T }
  | { readonly kind: 'softmax'; readonly s: T }
  | {
      readonly kind: 'switch';
      /** B × outSize indices into each image's flattened input. */
      readonly base: Int32Array;
      readonly inSize: number;
      readonly outSize: number;
      /** Flattened gather indices over B·r rows, per r. */
      readonly byGroup: Map<number, tf.Tensor1D>;
    };

export class Patterns {
  readonly #byNode = new Map<number, Pattern>();
  constructor(readonly count: number) {}

  set(node: number, pattern: Pattern): void {
    this.#byNode.set(node, pattern);
  }

  get(node: number): Pattern {
    const p = this.#byNode.get(node);
    if (!p) throw new Error(`no frozen pattern recorded for node ${node}`);
    return p;
  }

  /** Gather indices for a max-pool node with r vectors per image. */
  switchIndices(node: number, r: number): tf.Tensor1D {
    const p = this.get(node);
    if (p.kind !== 'switch') throw new Error(`node ${node} has no switches`);
    let t = p.byGroup.get(r);
    if (!t) {
      const idx = new Int32Array(this.count * r * p.outSize);
      let o = 0;
      for (let b = 0; b < this.count; b++) {
        const src = b * p.outSize;
        for (let j = 0; j < r; j++) {
          const offset = (b * r + j) * p.inSize;
          for (let q = 0; q < p.outSize; q++) idx[o++] = offset + p.base[src + q]!;
        }
      }
      // Kept: it is created inside the tidy of a pass but cached for the next passes.
      t = tf.keep(tf.tensor1d(idx, 'int32'));
      p.byGroup.set(r, t);
    }
    return t;
  }

  /** The patterns of image b alone, for a per-image matrix-free operator. */
  select(b: number): Patterns {
    const one = new Patterns(1);
    for (const [node, p] of this.#byNode) {
      if (p.kind === 'switch') {
        const base = p.base.slice(b * p.outSize, (b + 1) * p.outSize);
        one.set(node, { kind: 'switch', base, inSize: p.inSize, outSize: p.outSize, byGroup: new Map() });
      } else {
        const t = p.kind === 'scale' ? p.d : p.s;
        const sliced = tf.slice(t, [b], [1]);
        one.set(node, p.kind === 'scale' ? { kind: 'scale', d: sliced } : { kind: 'softmax', s: sliced });
      }
    }
    return one;
  }

  dispose(): void {
    for (const p of this.#byNode.values()) {
      if (p.kind === 'scale') p.d.dispose();
      else if (p.kind === 'softmax') p.s.dispose();
      else for (const t of p.byGroup.values()) t.dispose();
    }
    this.#byNode.clear();
  }
}

/** v (B·r rows) times d (B rows), d broadcast over each image's r vectors and over size-1 axes of v. */
export function scaleGroups(v: T, d: T, r: number): T {
  if (r === 1) return tf.mul(v, d);
  const b = d.shape[0]!;
  const grouped = tf.mul(tf.reshape(v, [b, r, ...v.shape.slice(1)]), tf.expandDims(d, 1));
  return tf.reshape(grouped, [b * r, ...grouped.shape.slice(2)]);
}
