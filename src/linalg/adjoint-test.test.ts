import { RprError } from '../errors/index.js';
import { adjointTest } from './adjoint-test.js';
import { denseFromOperator } from './dense-from-operator.js';
import { countingOperator } from './counting-operator.js';
import { denseOperator, type LinearOperator } from './operator.js';
import { randomMatrix, roundToFloat32 } from './test-matrices.js';

describe('adjointTest', () => {
  it('passes on a dense operator to float64 precision', async () => {
    const result = await adjointTest(denseOperator(randomMatrix(1, 12, 90)), { trials: 5, seed: 3 });
    expect(result.trials).toBe(5);
    expect(result.maxRelError).toBeLessThan(1e-13);
  });

  it('fails with an O(1) error when rmatvec is the transpose of a different matrix', async () => {
    const right = denseOperator(randomMatrix(2, 8, 40));
    const other = denseOperator(randomMatrix(3, 8, 40));
    const wrong: LinearOperator = { rows: 8, cols: 40, matvec: right.matvec, rmatvec: other.rmatvec };
    const result = await adjointTest(wrong, { trials: 4, seed: 1 });
    expect(result.maxRelError).toBeGreaterThan(1e-2);
  });

  it('sees a float32-rounded transpose as a float32-sized error', async () => {
    const a = randomMatrix(4, 10, 60);
    const rounded = denseOperator(roundToFloat32(a));
    const exact = denseOperator(a);
    const op: LinearOperator = { rows: 10, cols: 60, matvec: exact.matvec, rmatvec: rounded.rmatvec };
    const { maxRelError } = await adjointTest(op, { trials: 8 });
    expect(maxRelError).toBeGreaterThan(1e-10);
    expect(maxRelError).toBeLessThan(1e-5);
  });

  it('reports NaN from an operator that returns NaN instead of passing', async () => {
    const base = denseOperator(randomMatrix(5, 3, 7));
    const op: LinearOperator = {
      ...base,
      async rmatvec(u, k) {
        const out = await base.rmatvec(u, k);
        out[0] = Number.NaN;
        return out;
      },
    };
    expect(Number.isNaN((await adjointTest(op, { trials: 3 })).maxRelError)).toBe(true);
  });

  it('is 0 for the zero operator', async () => {
    const result = await adjointTest(denseOperator({ rows: 3, cols: 4, data: new Float64Array(12) }));
    expect(result.maxRelError).toBe(0);
  });

  it('rejects a non-integer trial count', async () => {
    await expect(adjointTest(denseOperator(randomMatrix(1, 2, 2)), { trials: 1.5 })).rejects.toBeInstanceOf(RprError);
  });
});

describe('denseFromOperator', () => {
  it('rebuilds the matrix exactly, in one call or in batches of rows', async () => {
    const a = randomMatrix(6, 7, 13);
    const op = countingOperator(denseOperator(a));
    expect(Array.from((await denseFromOperator(op)).data)).toEqual(Array.from(a.data));
    expect(op.counts.rmatvecCalls).toBe(1);
    const batched = await denseFromOperator(op, { batchRows: 3 });
    expect(Array.from(batched.data)).toEqual(Array.from(a.data));
    expect(op.counts.rmatvecCalls).toBe(1 + 3);
    expect(op.counts.rmatvecs).toBe(7 + 7);
  });

  it('names an operator whose rmatvec returns the wrong length', async () => {
    const base = denseOperator(randomMatrix(1, 3, 5));
    const short: LinearOperator = { ...base, rmatvec: async (u, k) => (await base.rmatvec(u, k)).subarray(1) };
    await expect(denseFromOperator(short)).rejects.toMatchObject({ code: 'RPR_INTERNAL' });
  });
});
