import { directionExcitation, svdNeuronExemplars } from './svd-neurons.js';

describe('svdNeuronExemplars', () => {
  // Two orthonormal directions in a 3-channel output space.
  const u0 = Float64Array.from([1, 0, 0]);
  const u1 = Float64Array.from([0, Math.SQRT1_2, Math.SQRT1_2]);

  it('scores an image by the mean over positions of |uᵀy_p|', () => {
    // Two positions: y_0 = (2, 1, 1), y_1 = (−4, 0, −2).
    const y = Float32Array.from([2, 1, 1, -4, 0, -2]);
    const s = directionExcitation(y, [u0, u1], 2);
    expect(s[0]).toBeCloseTo((2 + 4) / 2, 12);
    expect(s[1]).toBeCloseTo((Math.SQRT2 + Math.SQRT2) / 2, 6);
  });

  it('ranks images per direction, batching the injected pre-activation function', async () => {
    // Image k's pre-activation at its single position is a planted mixture of the two directions.
    const plans: Record<string, [number, number]> = { a: [5, 0], b: [1, 3], c: [-7, 1], d: [0, -9], e: [2, 2] };
    const calls: number[] = [];
    const result = await svdNeuronExemplars({
      leftSingularVectors: [u0, u1],
      singularValues: [4, 2],
      images: Object.keys(plans).map((id) => ({ id, uri: `${id}.png`, input: id })),
      preActivations: async (inputs) => {
        calls.push(inputs.length);
        return inputs.map((id) => {
          const [a, b] = plans[id]!;
          return Float32Array.from([0, 1, 2].map((o) => a * u0[o]! + b * u1[o]!));
        });
      },
      topN: 3,
      batchSize: 2,
    });
    expect(calls).toEqual([2, 2, 1]);
    expect(result.map((r) => r.top.map((t) => t.id))).toEqual([
      ['c', 'a', 'e'],
      ['d', 'b', 'e'],
    ]);
    expect(result[0]!.top[0]).toEqual({ id: 'c', uri: 'c.png', activation: expect.closeTo(7, 5) as number });
    // |u₀ᵀy| over the five images is 5, 1, 7, 0, 2.
    expect(result[0]!.summary).toMatchObject({ n: 5, min: expect.closeTo(0, 5) as number, median: expect.closeTo(2, 5) as number, max: expect.closeTo(7, 5) as number });
    expect(result[1]!.singularValue).toBe(2);
  });

  it('refuses an empty image set', async () => {
    await expect(
      svdNeuronExemplars({ leftSingularVectors: [u0], images: [], preActivations: async () => [] }),
    ).rejects.toMatchObject({ code: 'RPR_POOL_EMPTY' });
  });

  it('rejects pre-activations that are not whole positions of the channel count', async () => {
    await expect(
      svdNeuronExemplars({
        leftSingularVectors: [u0],
        images: [{ id: 'x', uri: 'x.png', input: 0 }],
        preActivations: async () => [new Float32Array(4)],
      }),
    ).rejects.toMatchObject({ code: 'RPR_INPUT_SHAPE' });
  });
});
