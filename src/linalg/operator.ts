/**
 * The only thing the linear algebra sees of a network: a real linear map A : R^cols → R^rows given by
 * batched products. A block of k vectors is stored row-major, one vector per row (k × n), in float64 so
 * that the algorithms accumulate in double precision whatever the engine computes in.
 */
export interface LinearOperator {
  /** Output dimension m (number of logits or output pixels). */
  readonly rows: number;
  /** Input dimension n (pixels × channels). */
  readonly cols: number;
  /** A·vᵢ for k input vectors: `v` is k × cols, the result k × rows. */
  matvec(v: Float64Array, k: number): Promise<Float64Array>;
  /** Aᵀ·uᵢ for k output vectors: `u` is k × rows, the result k × cols. */
  rmatvec(u: Float64Array, k: number): Promise<Float64Array>;
}

/** A dense row-major matrix, the shape the exact path works on. */
export interface DenseMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float64Array;
}

/** Wraps a dense matrix as an operator; the reference implementation of the contract. */
export function denseOperator(a: DenseMatrix): LinearOperator {
  const { rows, cols, data } = a;
  return {
    rows,
    cols,
    async matvec(v, k) {
      const out = new Float64Array(k * rows);
      for (let j = 0; j < k; j++) {
        for (let i = 0; i < rows; i++) {
          let s = 0;
          const ro = i * cols;
          const vo = j * cols;
          for (let c = 0; c < cols; c++) s += data[ro + c]! * v[vo + c]!;
          out[j * rows + i] = s;
        }
      }
      return out;
    },
    async rmatvec(u, k) {
      const out = new Float64Array(k * cols);
      for (let j = 0; j < k; j++) {
        const oo = j * cols;
        for (let i = 0; i < rows; i++) {
          const ui = u[j * rows + i]!;
          if (ui === 0) continue;
          const ro = i * cols;
          for (let c = 0; c < cols; c++) out[oo + c] += ui * data[ro + c]!;
        }
      }
      return out;
    },
  };
}
