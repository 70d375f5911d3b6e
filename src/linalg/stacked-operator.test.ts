import { RprError } from '../errors/index.js';
import { adjointTest } from './adjoint-test.js';
import { countingOperator } from './counting-operator.js';
import { denseFromOperator } from './dense-from-operator.js';
import { denseOperator, type DenseMatrix } from './operator.js';
import { stackOperators } from './stacked-operator.js';
import { randomMatrix } from './test-matrices.js';

function concatRows(parts: DenseMatrix[]): DenseMatrix {
  const cols = parts[0]!.cols;
  const rows = parts.reduce((s, p) => s + p.rows, 0);
  const data = new Float64Array(rows * cols);
  let off = 0;
  for (const p of parts) {
    data.set(p.data, off);
    off += p.data.length;
  }
  return { rows, cols, data };
}

describe('stackOperators', () => {
  const dense = [randomMatrix(1, 4, 30), randomMatrix(2, 6, 30), randomMatrix(3, 3, 30)];

  it('is the vertically stacked matrix: matvec concatenates, rmatvec sums', async () => {
    const stacked = stackOperators(dense.map(denseOperator));
    expect([stacked.rows, stacked.cols]).toEqual([13, 30]);
    const built = await denseFromOperator(stacked);
    const expected = concatRows(dense);
    built.data.forEach((x, i) => expect(x).toBeCloseTo(expected.data[i]!, 13));
    const v = randomMatrix(4, 2, 30).data;
    const got = await stacked.matvec(v, 2);
    const want = await denseOperator(expected).matvec(v, 2);
    got.forEach((x, i) => expect(x).toBeCloseTo(want[i]!, 12));
    expect((await adjointTest(stacked, { trials: 6 })).maxRelError).toBeLessThan(1e-13);
  });

  it('calls each part only for the vectors that touch its rows', async () => {
    const counted = dense.map((d) => countingOperator(denseOperator(d)));
    await denseFromOperator(stackOperators(counted));
    expect(counted.map((c) => c.counts.rmatvecs)).toEqual([4, 6, 3]);
    expect(counted.map((c) => c.counts.rmatvecCalls)).toEqual([1, 1, 1]);
  });

  it('rejects an empty list and parts of different input sizes', () => {
    expect(() => stackOperators([])).toThrow(RprError);
    const mismatch = [denseOperator(randomMatrix(1, 2, 5)), denseOperator(randomMatrix(2, 2, 6))];
    expect(() => stackOperators(mismatch)).toThrow(/operator 1 has 6 columns, operator 0 has 5/);
  });
});
