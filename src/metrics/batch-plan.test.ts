import type { IRNode, ModelIR } from '../model/ir.js';
import { planPerSampleBatch } from './batch-plan.js';

const MB = 2 ** 20;

/** An IR with only what the plan reads: node shapes, input shape, output size. */
function irOf(shapes: readonly (readonly number[])[]): ModelIR {
  const nodes: IRNode[] = shapes.map((shape, i) => ({
    name: `n${i}`,
    className: i === 0 ? 'InputLayer' : 'Layer',
    op: i === 0 ? { kind: 'input' } : { kind: 'identity' },
    inputs: i === 0 ? [] : [i - 1],
    shape,
  }));
  const output = shapes[shapes.length - 1]!;
  return {
    nodes,
    input: 0,
    output: nodes.length - 1,
    inputShape: shapes[0]!,
    outputSize: output.reduce((a, b) => a * b, 1),
    droppedFinalActivation: null,
    digest: 'test',
  };
}

/**
 * 8×8×1 input (64), conv to 8×8×4 (256), its ReLU (256), flatten (256), 10 logits: 842 floats of
 * activations, 3,368 bytes per cotangent row; m = 10, n = 64.
 */
const small = irOf([[8, 8, 1], [8, 8, 4], [8, 8, 4], [256], [10]]);
const ROW = 842 * 4;
/** The fused path per image: recording pass + 10 rows, Jacobian as float32 + 2 × float64, the 10 × 10 Gram in float64. */
const FUSED = ROW * 11 + 20 * 10 * 64 + 8 * 10 * 10;
/** The row-chunked path holds the Jacobian on the host in float32 and the Gram in float64. */
const HOST = 4 * 10 * 64 + 8 * 10 * 10;

describe('planPerSampleBatch', () => {
  it('exact: as many whole images as the budget holds on the fused path', () => {
    expect(FUSED).toBe(50648);
    const plan = planPerSampleBatch(small, { ks: [1, 5, 10], svd: 'exact', batchMemoryMB: 1 });
    expect(plan).toEqual({ images: Math.floor(MB / FUSED), rowsPerPass: null, estimatedBytes: Math.floor(MB / FUSED) * FUSED });
    expect(plan.images).toBe(20);
    expect(plan.estimatedBytes).toBeLessThanOrEqual(MB);
  });

  it('exact: no more than 64 images whatever the budget', () => {
    expect(planPerSampleBatch(small, { ks: [10], svd: 'exact', batchMemoryMB: 1024 }).images).toBe(64);
  });

  it('exact: one image that does not fit runs its rows in chunks sized to the budget', () => {
    const budget = 40000;
    const plan = planPerSampleBatch(small, { ks: [10], svd: 'exact', batchMemoryMB: budget / MB });
    // (40000 − 3360) / 3368 = 10.88 activations: the recording pass and 9 rows.
    expect(plan).toEqual({ images: 1, rowsPerPass: 9, estimatedBytes: HOST + ROW * 10 });
    expect(plan.estimatedBytes).toBeLessThanOrEqual(budget);
  });

  it('exact: at least one image and one row however small the budget', () => {
    expect(planPerSampleBatch(small, { ks: [10], svd: 'exact', batchMemoryMB: 1000 / MB })).toMatchObject({ images: 1, rowsPerPass: 1 });
  });

  it('exact: between the host and the fused cost of one image, all m rows in one pass on the host', () => {
    // Fused: 50,648 bytes; host with 10 rows: 3,360 + 11 × 3,368 = 40,408.
    expect(planPerSampleBatch(small, { ks: [10], svd: 'exact', batchMemoryMB: 45000 / MB })).toMatchObject({ images: 1, rowsPerPass: 10 });
  });

  it('randomized: the operator of one image runs a block of k + p probes; each image of the batch holds 3 copies of its activations', () => {
    const operator = ROW * (1 + 3 + 10);
    const plan = planPerSampleBatch(small, { ks: [1, 3], svd: 'randomized', batchMemoryMB: 0.2 });
    expect(plan).toEqual({ images: Math.floor((0.2 * MB - operator) / (3 * ROW)), rowsPerPass: null, estimatedBytes: operator + 16 * 3 * ROW });
    expect(plan.images).toBe(16);
    const wider = planPerSampleBatch(small, { ks: [3], svd: 'randomized', oversampling: 2, batchMemoryMB: 0.2 });
    expect(wider.images).toBe(Math.floor((0.2 * MB - ROW * 6) / (3 * ROW)));
  });

  it('lanczos: one probe at a time', () => {
    expect(planPerSampleBatch(small, { ks: [3], svd: 'lanczos', batchMemoryMB: 0.2 }).images).toBe(Math.floor((0.2 * MB - 2 * ROW) / (3 * ROW)));
  });

  it('auto: exact for a classifier, the iterative plan for an image output', () => {
    expect(planPerSampleBatch(small, { ks: [10], batchMemoryMB: 1 }).images).toBe(20);
    // 20×20 in, 20×20×2 conv, 20×20×1 out: m = 400 > 256 outputs takes the randomized SVD.
    const segmenter = irOf([[20, 20, 1], [20, 20, 2], [20, 20, 1]]);
    const row = (400 + 800 + 400) * 4;
    const plan = planPerSampleBatch(segmenter, { ks: [5], batchMemoryMB: 0.5 });
    expect(plan).toMatchObject({ images: Math.floor((0.5 * MB - row * 16) / (3 * row)), rowsPerPass: null });
  });

  it('refuses a budget that is not a positive number, naming the option', () => {
    for (const batchMemoryMB of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => planPerSampleBatch(small, { ks: [1], batchMemoryMB })).toThrow(
        expect.objectContaining({ code: 'RPR_USAGE', message: expect.stringContaining('batchMemoryMB') }),
      );
    }
  });
});
