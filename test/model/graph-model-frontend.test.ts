/**
 * The GraphModel frontend against TF.js's converter executor, an independent implementation of the same
 * graph: our IR run by TfjsExecutor reproduces `GraphModel.execute` at the logits node, A[x]ᵀu equals
 * tf.grad through `GraphModel.execute`, the explicit adjoint passes the adjoint test, folded constants
 * equal their closed forms, and ops or settings without a rule stop with the node and op named.
 */
import { adjointTest } from '../../src/linalg/index.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RprError } from '../../src/errors/index.js';
import { TfjsExecutor } from '../../src/model/executors/tfjs/tfjs-executor.js';
import { graphModelToIR } from '../../src/model/frontends/graph-model-frontend.js';
import type { IRNode, ModelIR, Op } from '../../src/model/ir.js';
import { sizeOf } from '../../src/model/ir.js';
import { initBackend, tf } from '../../src/model/tf-runtime.js';
import type { tfconv } from '../../src/model/tf-runtime.js';
import { loadGraphModelFromDir } from '../../src/model/tfjs-file-io.js';
import { createRng } from '../../src/util/rng.js';
import { randomImages } from '../fixtures/architectures.js';
import { GraphDefBuilder, attr, spatialAttrs } from '../fixtures/graph-models/graph-def-builder.js';
import { GRAPH_FIXTURES, depthwiseGap, mixedOps, singleOpGraph } from '../fixtures/graph-models/graph-fixtures.js';
import { maxAbs, maxAbsDiff } from '../helpers/compare.js';

let scratch: string;
let written = 0;

beforeAll(async () => {
  await initBackend('cpu');
  scratch = await mkdtemp(join(tmpdir(), 'rpr-graph-model-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function load(builder: GraphDefBuilder, signatureOutput?: string): Promise<tfconv.GraphModel> {
  const dir = join(scratch, `model-${written++}`);
  await builder.write(dir, signatureOutput);
  return loadGraphModelFromDir(dir);
}

function run(model: tfconv.GraphModel, x: Float32Array, ir: ModelIR, count: number, node: string): Float32Array {
  return tf.tidy(() => (model.execute(tf.tensor(x, [count, ...ir.inputShape]), node) as tf.Tensor).dataSync() as Float32Array);
}

/** Aᵀu from A's columns (row j of `columns` = A e_j, m values). */
function transposeTimes(columns: Float32Array | null, n: number, m: number, u: Float32Array): Float32Array {
  if (columns === null) throw new Error('no matrix for a graph that is not linear');
  return Float32Array.from({ length: n }, (_, j) => {
    let sum = 0;
    for (let i = 0; i < m; i++) sum += columns[j * m + i]! * u[i]!;
    return sum;
  });
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4): void {
  expect(maxAbsDiff(actual, expected)).toBeLessThan(tol * Math.max(1, maxAbs(expected)));
}

describe.each(GRAPH_FIXTURES)('$name', (fixture) => {
  let builder: GraphDefBuilder;
  let model: tfconv.GraphModel;
  let ir: ModelIR;
  let executor: TfjsExecutor;

  beforeAll(async () => {
    builder = fixture.build();
    model = await load(builder, fixture.signatureOutput);
    ir = await graphModelToIR(model);
    executor = new TfjsExecutor(ir, 'cpu');
  });
  afterAll(() => {
    executor.dispose();
    model.dispose();
  });

  it('maps the graph to the expected IR nodes', () => {
    expect(ir.nodes.map((n) => n.op.kind)).toEqual(fixture.kinds);
    expect(ir.droppedFinalActivation).toBe(fixture.dropped);
    expect(ir.output).toBe(ir.nodes.length - 1);
    ir.nodes.forEach((node, i) => node.inputs.forEach((j) => expect(j).toBeLessThan(i)));
    expect(ir.outputSize).toBe(sizeOf(ir.nodes[ir.output]!.shape));
  });

  it("reproduces the converter's execution of the logits node", async () => {
    const x = randomImages(ir.inputShape, 3, 31);
    const ours = await executor.forward(x, 3);
    expectClose(ours, run(model, x, ir, 3, fixture.logits));
  });

  it(`A[x]ᵀu equals ${fixture.linearBecause ? "the converter's own matrix (built from unit images)" : 'tf.grad through the converter'}, image by image in a batch`, async () => {
    const count = 2;
    const n = sizeOf(ir.inputShape);
    const m = ir.outputSize;
    const outShape = ir.nodes[ir.output]!.shape;
    const x = randomImages(ir.inputShape, count, 32);
    const lin = await executor.linearize(x, count);
    // A linear graph's matrix: its forward pass on the n unit images, row j = A e_j.
    const columns = fixture.linearBecause ? run(model, Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)), ir, n, fixture.logits) : null;
    const rng = createRng(33);
    // Unit cotangents give whole rows of A for classifiers; random ones probe image outputs.
    const us =
      m <= 10
        ? Array.from({ length: m }, (_, i) => Float32Array.from({ length: m }, (_, j) => (i === j ? 1 : 0)))
        : Array.from({ length: 3 }, () => Float32Array.from({ length: m }, () => rng.normal()));
    for (let b = 0; b < count; b++) {
      const stacked = new Float64Array(us.length * m);
      us.forEach((u, k) => stacked.set(u, k * m));
      const ours = await lin.operator(b).rmatvec(stacked, us.length);
      us.forEach((u, k) => {
        const ref = fixture.linearBecause
          ? transposeTimes(columns, n, m, u)
          : tf.tidy(() => {
              const ut = tf.tensor(u, [1, ...outShape]);
              const f = (z: tf.Tensor) => tf.sum(tf.mul(model.execute(z, fixture.logits) as tf.Tensor, ut));
              return tf.grad(f)(tf.tensor(x.subarray(b * n, (b + 1) * n), [1, ...ir.inputShape])).dataSync() as Float32Array;
            });
        expectClose(ours.subarray(k * n, (k + 1) * n), ref);
      });
    }
    lin.dispose();
  });

  it('passes the adjoint test ⟨Av, u⟩ = ⟨v, Aᵀu⟩', async () => {
    const x = randomImages(ir.inputShape, 2, 34);
    const lin = await executor.linearize(x, 2);
    for (let b = 0; b < 2; b++) {
      const { maxRelError } = await adjointTest(lin.operator(b), { trials: 3, seed: 35 + b });
      expect(maxRelError).toBeLessThan(1e-5);
    }
    lin.dispose();
  });

  if (fixture.dropped !== null) {
    it('keeps the final activation when asked and then reproduces predict', async () => {
      const kept = await graphModelToIR(model, { keepFinalActivation: true });
      expect(kept.droppedFinalActivation).toBeNull();
      expect(kept.nodes.length).toBe(ir.nodes.length + 1);
      const ex = new TfjsExecutor(kept, 'cpu');
      const x = randomImages(kept.inputShape, 2, 36);
      const ref = tf.tidy(() => (model.predict(tf.tensor(x, [2, ...kept.inputShape])) as tf.Tensor).dataSync() as Float32Array);
      expectClose(await ex.forward(x, 2), ref);
      ex.dispose();
    });
  }
});

function nodeNamed(ir: ModelIR, name: string): IRNode {
  const node = ir.nodes.find((n) => n.name === name);
  if (!node) throw new Error(`no IR node ${name}`);
  return node;
}

function opOf<K extends Op['kind']>(node: IRNode, kind: K): Extract<Op, { kind: K }> {
  expect(node.op.kind).toBe(kind);
  return node.op as Extract<Op, { kind: K }>;
}

describe('folded constants', () => {
  it('puts BiasAdd into the depthwise conv and Mul + AddV2 into one batchNorm of exactly those constants', async () => {
    const b = depthwiseGap();
    const model = await load(b);
    const ir = await graphModelToIR(model);
    const dw = opOf(nodeNamed(ir, 'dw'), 'depthwiseConv2d');
    expect(Array.from(dw.bias!.data)).toEqual(Array.from(b.values('dw/bias')));
    const bn = opOf(nodeNamed(ir, 'bn/mul'), 'batchNorm');
    expect(Array.from(bn.scale)).toEqual(Array.from(b.values('bn/scale')));
    expect(Array.from(bn.shift)).toEqual(Array.from(b.values('bn/offset')));
    // MatMul with transpose_b holds W as [out, in]; the IR kernel is [in, out].
    const head = opOf(nodeNamed(ir, 'head'), 'dense');
    const wt = b.values('head/kernelT');
    expect(head.kernel.shape).toEqual([6, 4]);
    for (let i = 0; i < 6; i++) for (let o = 0; o < 4; o++) expect(head.kernel.data[i * 4 + o]).toBe(wt[o * 6 + i]);
    expect(Array.from(head.bias!.data)).toEqual(Array.from(b.values('head/bias')));
    model.dispose();
  });

  it('folds Sub + RealDiv to scale 1/s, shift −m/s, and FusedBatchNormV3 to γ/√(σ²+ε), β − μγ/√(σ²+ε)', async () => {
    const b = mixedOps();
    const model = await load(b);
    const ir = await graphModelToIR(model);
    const norm = opOf(nodeNamed(ir, 'norm/sub'), 'batchNorm');
    const mean = b.values('norm/mean');
    const std = b.values('norm/std');
    mean.forEach((m, c) => {
      expect(norm.scale[c]).toBeCloseTo(1 / std[c]!, 6);
      expect(norm.shift[c]).toBeCloseTo(-m / std[c]!, 6);
    });
    const bn = opOf(nodeNamed(ir, 'bn'), 'batchNorm');
    const [gamma, beta, mu, variance] = ['bn/gamma', 'bn/beta', 'bn/mean', 'bn/variance'].map((k) => b.values(k)) as [
      Float32Array,
      Float32Array,
      Float32Array,
      Float32Array,
    ];
    gamma.forEach((g, c) => {
      const s = g / Math.sqrt(variance[c]! + 0.001);
      expect(bn.scale[c]).toBeCloseTo(s, 6);
      expect(bn.shift[c]).toBeCloseTo(beta[c]! - mu[c]! * s, 6);
    });
    expect(opOf(nodeNamed(ir, 'conv'), 'conv2d').bias).toBeUndefined();
    expect(opOf(nodeNamed(ir, 'fc/activation'), 'activation').alpha).toBeCloseTo(0.3, 6);
    expect(opOf(nodeNamed(ir, 'lrelu'), 'activation').alpha).toBeCloseTo(0.1, 6);
    model.dispose();
  });
});

interface Rejection {
  readonly name: string;
  readonly build: (b: GraphDefBuilder) => void;
  readonly node: string;
  readonly op: string;
  readonly why: RegExp;
}

const REJECTIONS: readonly Rejection[] = [
  {
    name: 'an op without a rule (Cumsum)',
    build: (b) => {
      b.ints('axis', [], [1]);
      b.op('running/total', 'Cumsum', ['x', 'axis'], { T: attr.float(), Tidx: { type: 'DT_INT32' } });
    },
    node: 'running/total',
    op: 'Cumsum',
    why: /cannot be linearized$/,
  },
  {
    name: 'an NCHW convolution',
    build: (b) => {
      b.random('k', [1, 1, 2, 2]);
      b.op('conv', 'Conv2D', ['x', 'k'], { ...spatialAttrs(1, 'VALID'), data_format: attr.s('NCHW') });
    },
    node: 'conv',
    op: 'Conv2D',
    why: /data_format NCHW/,
  },
  {
    name: 'EXPLICIT padding',
    build: (b) => {
      b.random('k', [1, 1, 2, 2]);
      b.op('conv', 'Conv2D', ['x', 'k'], { ...spatialAttrs(1, 'VALID'), padding: attr.s('EXPLICIT'), explicit_paddings: attr.ints([0, 0, 1, 1, 1, 1, 0, 0]) });
    },
    node: 'conv',
    op: 'Conv2D',
    why: /padding EXPLICIT/,
  },
  {
    name: 'a resize by a fractional factor',
    build: (b) => {
      b.ints('size', [2], [6, 6]);
      b.op('up', 'ResizeNearestNeighbor', ['x', 'size'], { T: attr.float() });
    },
    node: 'up',
    op: 'ResizeNearestNeighbor',
    why: /integer scale factors/,
  },
  {
    name: 'nearest resize with aligned corners',
    build: (b) => {
      b.ints('size', [2], [8, 8]);
      b.op('up', 'ResizeNearestNeighbor', ['x', 'size'], { T: attr.float(), align_corners: attr.b(true) });
    },
    node: 'up',
    op: 'ResizeNearestNeighbor',
    why: /align_corners/,
  },
  {
    name: 'a product of two tensors',
    build: (b) => {
      b.op('r', 'Relu', ['x'], { T: attr.float() });
      b.op('gate', 'Mul', ['x', 'r'], { T: attr.float() });
    },
    node: 'gate',
    op: 'Mul',
    why: /both operands depend on the input/,
  },
  {
    name: 'a reshape that folds the batch into the features',
    build: (b) => {
      b.ints('shape', [2], [1, -1]);
      b.op('flat', 'Reshape', ['x', 'shape'], { T: attr.float(), Tshape: { type: 'DT_INT32' } });
    },
    node: 'flat',
    op: 'Reshape',
    why: /does not keep the batch/,
  },
  {
    name: 'a constant that is not per-channel',
    build: (b) => {
      b.random('w', [4, 4, 2]);
      b.op('scaled', 'Mul', ['x', 'w'], { T: attr.float() });
    },
    node: 'scaled',
    op: 'Mul',
    why: /only a scalar or a per-channel vector/,
  },
];

describe.each(REJECTIONS)('rejects $name', (rejection) => {
  it('with RPR_UNSUPPORTED_LAYER naming the node and its op', async () => {
    const model = await load(singleOpGraph(rejection.build));
    const error = await graphModelToIR(model).catch((e: unknown) => e);
    model.dispose();
    expect(error).toBeInstanceOf(RprError);
    const e = error as RprError;
    expect(e.code).toBe('RPR_UNSUPPORTED_LAYER');
    expect(e.message).toContain(`'${rejection.node}'`);
    expect(e.message).toContain(rejection.op);
    expect(e.message).toMatch(rejection.why);
    expect(e.context).toEqual({ layer: rejection.node, className: rejection.op });
  });
});

describe('model-level checks', () => {
  async function failure(builder: GraphDefBuilder): Promise<RprError> {
    const model = await load(builder);
    const error = await graphModelToIR(model).catch((e: unknown) => e);
    model.dispose();
    expect(error).toBeInstanceOf(RprError);
    return error as RprError;
  }

  it('refuses an input of unknown height and width with RPR_INPUT_SHAPE', async () => {
    const b = new GraphDefBuilder(707);
    b.input('x', [-1, -1, 3]);
    b.op('r', 'Relu', ['x'], { T: attr.float() });
    const e = await failure(b);
    expect(e.code).toBe('RPR_INPUT_SHAPE');
    expect(e.message).toContain("'x'");
  });

  it('refuses a graph with two outputs with RPR_USAGE', async () => {
    const e = await failure(
      singleOpGraph((b) => {
        b.op('r', 'Relu', ['x'], { T: attr.float() });
        b.op('t', 'Tanh', ['x'], { T: attr.float() });
      }),
    );
    expect(e.code).toBe('RPR_USAGE');
    expect(e.message).toMatch(/2 outputs/);
  });
});
