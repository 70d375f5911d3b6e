import { Matrix } from 'ml-matrix';
import { addColumnGramUpper, addNormalProduct, columnGram, mirrorUpper, rowGram } from './gram.js';
import { randomMatrix } from './test-matrices.js';

function expectClose(got: Float64Array, want: Matrix, tol: number) {
  for (let i = 0; i < want.rows; i++) for (let j = 0; j < want.columns; j++) expect(Math.abs(got[i * want.columns + j]! - want.get(i, j))).toBeLessThan(tol);
}

describe('Gram matrices', () => {
  const a = randomMatrix(3, 29, 13);
  const dense = Matrix.from1DArray(29, 13, a.data);

  it('columnGram is AᵀA and rowGram is AAᵀ (ml-matrix)', () => {
    expectClose(columnGram(a.data, 29, 13), dense.transpose().mmul(dense), 1e-12);
    expectClose(rowGram(a.data, 29, 13), dense.mmul(dense.transpose()), 1e-12);
  });

  it('accumulates AᵀA over parts of any row count (eight-row blocks and the rest), from float32 rows in float64', () => {
    const f32 = Float32Array.from(a.data);
    const exact = Matrix.from1DArray(29, 13, Float64Array.from(f32));
    const g = new Float64Array(13 * 13);
    let start = 0;
    for (const count of [8, 3, 17, 1]) {
      addColumnGramUpper(g, f32.subarray(start * 13, (start + count) * 13), count, 13);
      start += count;
    }
    mirrorUpper(g, 13);
    expectClose(g, exact.transpose().mmul(exact), 1e-12);
  });

  it('addNormalProduct adds AᵀA·vⱼ for each vector, from float32 rows', () => {
    const f32 = Float32Array.from(a.data);
    const exact = Matrix.from1DArray(29, 13, Float64Array.from(f32));
    const v = randomMatrix(4, 3, 13);
    const out = Float64Array.from({ length: 3 * 13 }, (_, i) => i);
    addNormalProduct(out, f32, 29, 13, v.data, 3);
    const want = exact.transpose().mmul(exact).mmul(Matrix.from1DArray(3, 13, v.data).transpose()).transpose();
    for (let j = 0; j < 3; j++) for (let c = 0; c < 13; c++) expect(Math.abs(out[j * 13 + c]! - j * 13 - c - want.get(j, c))).toBeLessThan(1e-11);
  });
});
