/** @jest-environment ./test/fixtures/onnx/ort-jest-environment.cjs */
/**
 * ONNX models as input. Three PyTorch exports (make-fixtures.py; both of torch.onnx.export's exporters,
 * one with its default external weight file) read into the IR must (1) reproduce PyTorch's own outputs
 * on both engines, and (2) have the Jacobians and per-sample RPR of a Keras twin that holds the same
 * weights, transposed independently by NumPy (and its Jacobian must equal tf.grad of the twin).
 * Models the IR cannot express stop with RPR_UNSUPPORTED_LAYER naming the node and its op.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RprError } from '../../src/errors/index.js';
import { scorePerSample } from '../../src/metrics/per-sample.js';
import { adjointTest } from '../../src/linalg/adjoint-test.js';
import type { Executor } from '../../src/model/executor.js';
import { GraphBuilder } from '../../src/model/executors/onnx/graph-builder.js';
import { loadOrt } from '../../src/model/executors/onnx/ort-runtime.js';
import { OnnxExecutor } from '../../src/model/executors/onnx/onnx-executor.js';
import { TfjsExecutor } from '../../src/model/executors/tfjs/tfjs-executor.js';
import { layersModelToIR } from '../../src/model/frontends/layers-model-frontend.js';
import { loadOnnxModel, onnxModelToIR } from '../../src/model/frontends/onnx-frontend.js';
import type { ModelIR, ResizeCoordinates } from '../../src/model/ir.js';
import { sizeOf } from '../../src/model/ir.js';
import { loadModel } from '../../src/model/load-model.js';
import { decodeModel, encodeModel } from '../../src/model/onnx-proto.js';
import { initBackend, tf, tfl } from '../../src/model/tf-runtime.js';
import type { Sample } from '../../src/pool/types.js';
import { createRng } from '../../src/util/rng.js';
import { autogradVjps, relativeError, rowsTimes, unitRows } from '../helpers/compare.js';
import { ONNX_FIXTURES, fixturePath } from '../fixtures/onnx/tfjs-twins.js';
import { rprThrown, rprRejection } from '../helpers/rpr-rejection.js';

const TOLERANCE = 1e-4;

describe.each(ONNX_FIXTURES)('$name.onnx (exported from PyTorch)', (fixture) => {
  let ir: ModelIR;
  let twin: tfl.LayersModel;
  let onnx: OnnxExecutor;
  let reference: TfjsExecutor;

  beforeAll(async () => {
    await initBackend('cpu');
    ir = await loadOnnxModel(fixturePath(fixture.name));
    twin = fixture.twin();
    onnx = await OnnxExecutor.create(ir);
    reference = new TfjsExecutor(layersModelToIR(twin), 'cpu');
  });
  afterAll(() => {
    onnx.dispose();
    reference.dispose();
  });

  it("reads the model's NCHW input as an NHWC image of its own size", () => {
    expect(ir.inputShape).toEqual(fixture.inputShape);
  });

  it("reproduces PyTorch's outputs on both engines (final softmax kept)", async () => {
    const { inputs, outputs } = fixture.expected();
    const full = await loadOnnxModel(fixturePath(fixture.name), { keepFinalActivation: true });
    const ort = await OnnxExecutor.create(full);
    const tfjs = new TfjsExecutor(full, 'cpu');
    expect(relativeError(await ort.forward(inputs, 2), outputs)).toBeLessThan(TOLERANCE);
    expect(relativeError(await tfjs.forward(inputs, 2), outputs)).toBeLessThan(TOLERANCE);
    ort.dispose();
    tfjs.dispose();
    const twinOut = tf.tidy(() => (twin.predict(tf.tensor(inputs, [2, ...fixture.inputShape])) as tf.Tensor).dataSync() as Float32Array);
    expect(relativeError(twinOut, outputs)).toBeLessThan(TOLERANCE);
  });

  it('has the Jacobians of the Keras twin, and of tf.grad on it', async () => {
    const { inputs } = fixture.expected();
    const n = sizeOf(ir.inputShape);
    const m = ir.outputSize;
    const lin = await onnx.linearize(inputs, 2);
    const ref = await reference.linearize(inputs, 2);
    const jac = await lin.jacobians();
    expect(relativeError(jac, await ref.jacobians())).toBeLessThan(TOLERANCE);
    const rng = createRng(41);
    const k = m <= 10 ? m : 3;
    const us = m <= 10 ? unitRows(m) : Float32Array.from({ length: k * m }, () => rng.normal());
    // tf.grad of the twin on logits, as the frontend drops a final softmax.
    const logits = fixture.twin(true);
    for (let b = 0; b < 2; b++) {
      const grad = autogradVjps(logits, inputs.slice(b * n, (b + 1) * n), ir.inputShape, us, k);
      expect(relativeError(rowsTimes(us, k, jac.subarray(b * m * n, (b + 1) * m * n), m, n), grad)).toBeLessThan(TOLERANCE);
    }
    lin.dispose();
    ref.dispose();
  });

  it('scores per-sample RPR like the Keras twin', async () => {
    const { inputs } = fixture.expected();
    const n = sizeOf(ir.inputShape);
    const samples: Sample[] = [0, 1].map((b) => ({ id: `x${b}`, uri: `x${b}`, pixels: inputs.slice(b * n, (b + 1) * n) }));
    const options = { ks: [1, 2, 4], svd: 'exact' as const };
    const ours = await scorePerSample(onnx, samples, options);
    const theirs = await scorePerSample(reference, samples, options);
    ours.forEach((r, b) => {
      for (const k of ['1', '2', '4']) expect(Math.abs(r.rpr![k]! - theirs[b]!.rpr![k]!)).toBeLessThan(1e-3);
    });
  });
});

describe('loadModel with an .onnx file', () => {
  it('runs on ONNX Runtime by default and on TF.js when asked, with the same scores', async () => {
    const path = fixturePath('digit-cnn');
    const auto = await loadModel(path);
    const tfjs = await loadModel(path, { engine: 'tfjs', backend: 'cpu' });
    expect(auto.backend).toBe('onnxruntime-cpu');
    expect(tfjs.backend).toBe('tfjs-cpu');
    expect(auto.ir.digest).toBe(tfjs.ir.digest);
    expect(auto.ir.droppedFinalActivation).toBe('softmax');
    const { inputs } = ONNX_FIXTURES[0]!.expected();
    expect(relativeError(await auto.executor.forward(inputs, 2), await tfjs.executor.forward(inputs, 2))).toBeLessThan(TOLERANCE);
    auto.executor.dispose();
    tfjs.executor.dispose();
  });

  it('names a missing file', async () => {
    const error = await rprRejection(loadModel('/nonexistent/model.onnx'));
    expect(error.code).toBe('RPR_MODEL_NOT_FOUND');
  });
});

/** A one-input graph on an [1, C, H, W] image, built with the executors' own ONNX writer. */
function model(c: number, h: number, w: number, body: (b: GraphBuilder, x: string) => string, input: readonly number[] = [1, c, h, w]): Uint8Array {
  const b = new GraphBuilder('test');
  b.output(body(b, b.input('x', 'float32', input)), 'y');
  return b.build();
}

function conversionError(bytes: Uint8Array): RprError {
  return rprThrown(() => onnxModelToIR(bytes, 'test.onnx'));
}

describe('what the frontend refuses', () => {
  it('an unsupported op, naming the node and its op type', () => {
    const e = conversionError(model(1, 4, 4, (b, x) => b.op('Erf', [x])));
    expect(e.code).toBe('RPR_UNSUPPORTED_LAYER');
    expect(e.context).toMatchObject({ className: 'Erf' });
    expect(e.message).toMatch(/ONNX node 'n_Erf_\d+' \(op Erf\)/);
  });

  it('a grouped convolution that is neither plain nor depthwise', () => {
    const e = conversionError(model(4, 5, 5, (b, x) => b.op('Conv', [x, b.floats('w', new Float32Array(4 * 2 * 9), [4, 2, 3, 3])], { group: 2 })));
    expect(e.code).toBe('RPR_UNSUPPORTED_LAYER');
    expect(e.message).toMatch(/2 groups/);
  });

  it("a max-pool whose padding TensorFlow's rules cannot express (3×3, stride 2, pads 1 on an even size), on values that may be negative", () => {
    const e = conversionError(model(1, 8, 8, (b, x) => b.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] })));
    expect(e.code).toBe('RPR_UNSUPPORTED_LAYER');
    expect(e.context).toMatchObject({ className: 'MaxPool' });
  });

  it('bytes that are not an ONNX model, and a model with two inputs', () => {
    expect(conversionError(Uint8Array.of(0xff, 0xff, 0xff, 0x01)).code).toBe('RPR_MODEL_INVALID');
    const b = new GraphBuilder('two');
    b.output(b.op('Add', [b.input('x', 'float32', [1, 1, 2, 2]), b.input('z', 'float32', [1, 1, 2, 2])]), 'y');
    expect(conversionError(b.build()).code).toBe('RPR_MODEL_INVALID');
  });

  it('an input that is not an image of known size', () => {
    expect(conversionError(model(1, 4, 4, (b, x) => b.op('Relu', [x]), [1, 16])).code).toBe('RPR_INPUT_SHAPE');
  });
});

describe('layouts the frontend accepts', () => {
  it('an NHWC input transposed to NCHW by the graph, and MaxPool padding that matches TF same', async () => {
    const weights = Float32Array.from({ length: 4 * 3 * 9 }, (_, i) => Math.sin(i));
    const nhwc = model(
      3,
      7,
      7,
      (b, x) => {
        const t = b.op('Transpose', [x], { perm: [0, 3, 1, 2] });
        const conv = b.op('Relu', [b.op('Conv', [t, b.floats('w', weights, [4, 3, 3, 3])], { pads: [1, 1, 1, 1] })]);
        // 3×3 stride 2 with pads 1 on an odd size: the same windows as TF 'same'.
        return b.op('MaxPool', [conv], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
      },
      [1, 7, 7, 3],
    );
    const ir = onnxModelToIR(nhwc, 'nhwc.onnx');
    expect(ir.inputShape).toEqual([7, 7, 3]);
    expect(ir.nodes.map((n) => n.op.kind)).toEqual(['input', 'conv2d', 'activation', 'maxPool']);
    expect(ir.nodes[3]!.op).toMatchObject({ kind: 'maxPool', padding: 'same' });
    // The same network on an NCHW input is the same IR.
    const nchw = model(3, 7, 7, (b, x) => {
      const conv = b.op('Relu', [b.op('Conv', [x, b.floats('w', weights, [4, 3, 3, 3])], { pads: [1, 1, 1, 1] })]);
      return b.op('MaxPool', [conv], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
    });
    expect(onnxModelToIR(nchw, 'nchw.onnx').digest).toBe(ir.digest);
  });

  it("PyTorch's ResNet stem: ReLU then a 3×3/2 max-pool with pads 1 on an even size, as onnxruntime runs the file", async () => {
    const { loadOrt } = await import('../../src/model/executors/onnx/ort-runtime.js');
    const ort = await loadOrt();
    await initBackend('cpu');
    const kernel = Float32Array.from({ length: 3 * 9 }, (_, i) => Math.sin(5 * i));
    const bytes = model(1, 8, 8, (b, x) => {
      const relu = b.op('Relu', [b.op('Conv', [x, b.floats('k', kernel, [3, 1, 3, 3])], { pads: [1, 1, 1, 1] })]);
      const pooled = b.op('MaxPool', [relu], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] });
      return b.op('Gemm', [b.op('Flatten', [pooled], { axis: 1 }), b.floats('d', Float32Array.from({ length: 48 * 4 }, (_, i) => Math.cos(i)), [48, 4])]);
    });
    const ir = onnxModelToIR(bytes, 'stem.onnx');
    expect(ir.nodes.map((n) => n.op.kind)).toContain('zeroPad');
    // Negative inputs make whole windows of ReLU zeros, where a padded zero is the first maximum.
    const x = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) - 0.3);
    const session = await ort.InferenceSession.create(bytes);
    const run = async (input: Float32Array) => (await session.run({ x: new ort.Tensor('float32', input, [1, 1, 8, 8]) }))['y']!.data as Float32Array;
    const ex = await OnnxExecutor.create(ir);
    expect(relativeError(await ex.forward(x, 1), await run(x))).toBeLessThan(TOLERANCE);
    // Its Jacobian against central differences of the file itself (ONNX pads a max-pool with −∞); a small
    // step, so no ReLU or max-pool switch flips in between.
    const lin = await ex.linearize(x, 1);
    const jac = await lin.jacobians();
    const h = 1e-3;
    const fd = new Float32Array(4 * 64);
    for (let c = 0; c < 64; c++) {
      const plus = await run(Float32Array.from(x, (v, i) => (i === c ? v + h : v)));
      const minus = await run(Float32Array.from(x, (v, i) => (i === c ? v - h : v)));
      for (let i = 0; i < 4; i++) fd[i * 64 + c] = (plus[i]! - minus[i]!) / (2 * h);
    }
    await session.release();
    expect(relativeError(jac, fd)).toBeLessThan(1e-3);
    lin.dispose();
    ex.dispose();
  });

  it('a flattened feature map read by Gemm: its rows follow the IR order (checked against the file run as is)', async () => {
    const { loadOrt } = await import('../../src/model/executors/onnx/ort-runtime.js');
    const ort = await loadOrt();
    const kernel = Float32Array.from({ length: 2 * 9 }, (_, i) => Math.sin(3 * i));
    const dense = Float32Array.from({ length: 5 * 2 * 16 }, (_, i) => Math.cos(i));
    const bytes = model(1, 6, 6, (b, x) => {
      const conv = b.op('Conv', [x, b.floats('k', kernel, [2, 1, 3, 3])], {});
      return b.op('Gemm', [b.op('Flatten', [conv], { axis: 1 }), b.floats('d', dense, [5, 32])], { transB: 1 });
    });
    const x = Float32Array.from({ length: 36 }, (_, i) => Math.sin(i / 3));
    const session = await ort.InferenceSession.create(bytes);
    const expected = (await session.run({ x: new ort.Tensor('float32', x, [1, 1, 6, 6]) }))['y']!.data as Float32Array;
    await session.release();
    const ex = await OnnxExecutor.create(onnxModelToIR(bytes, 'gemm.onnx'));
    expect(relativeError(await ex.forward(x, 1), expected)).toBeLessThan(TOLERANCE);
    ex.dispose();
  });

  it('a graph of many ops reads into an IR that computes what onnxruntime computes on the file itself', async () => {
    const { loadOrt } = await import('../../src/model/executors/onnx/ort-runtime.js');
    const ort = await loadOrt();
    await initBackend('cpu');
    const rng = createRng(71);
    const w = (dims: number[], scale = 0.5) => Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => scale * rng.normal());
    const bytes = model(2, 9, 9, (b, x) => {
      const padded = b.op('Pad', [x, b.int64s([0, 0, 1, 0, 0, 0, 0, 2])]);
      // Asymmetric explicit pads: a zero padding before a 'valid' conv.
      const conv = b.op('Conv', [padded, b.floats('k1', w([4, 2, 3, 3]), [4, 2, 3, 3]), b.floats('b1', w([4]), [4])], { pads: [0, 1, 1, 0], strides: [1, 2] });
      const act = b.op('PRelu', [conv, b.floats('s', Float32Array.of(0.1, 0.2, 0.3, 0.4), [4, 1, 1])]);
      const avg = b.op('AveragePool', [act], { kernel_shape: [2, 2], pads: [1, 1, 1, 1], count_include_pad: 1 });
      const up = b.op('ConvTranspose', [avg, b.floats('k2', w([4, 3, 3, 3]), [4, 3, 3, 3]), b.floats('b2', w([3]), [3])], {
        strides: [2, 2],
        pads: [1, 0, 1, 1],
        output_padding: [1, 0],
      });
      const hs = b.op('HardSigmoid', [up]);
      const scaled = b.op('Div', [b.op('Sub', [hs, b.floats('m', w([3]), [1, 3, 1, 1])]), b.floats('d', Float32Array.of(0.5), [])]);
      const resized = b.op('Resize', [b.op('Clip', [scaled, b.floats('lo', Float32Array.of(0), []), b.floats('hi', Float32Array.of(3), [])]), '', b.floats('sc', Float32Array.of(1, 1, 2, 2), [4])], {
        mode: 'nearest',
        coordinate_transformation_mode: 'asymmetric',
        nearest_mode: 'floor',
      });
      const pooled = b.op('GlobalMaxPool', [b.op('Softplus', [resized])]);
      const features = b.op('Concat', [b.op('Flatten', [pooled], { axis: 1 }), b.op('Flatten', [b.op('MaxPool', [act], { kernel_shape: [2, 2], strides: [2, 2] })], { axis: 1 })], { axis: 1 });
      const dims = 3 + 4 * 4 * 2;
      const bn = b.op('BatchNormalization', [features, b.floats('g', w([dims]), [dims]), b.floats('be', w([dims]), [dims]), b.floats('mu', w([dims]), [dims]), b.floats('var', Float32Array.from({ length: dims }, () => 0.5 + rng.next()), [dims])]);
      const hidden = b.op('LeakyRelu', [b.op('Gemm', [bn, b.floats('fc1', w([dims, 7]), [dims, 7]), b.floats('fb1', w([7]), [7])], { alpha: { float: 0.7 } })], { alpha: { float: 0.2 } });
      return b.op('Add', [b.op('MatMul', [hidden, b.floats('fc2', w([7, 4]), [7, 4])]), b.floats('fb2', w([4]), [4])]);
    });
    const ir = onnxModelToIR(bytes, 'ops.onnx');
    const x = Float32Array.from({ length: 2 * 162 }, () => rng.next());
    const nchw = new Float32Array(x.length);
    for (let i = 0; i < 2; i++) for (let c = 0; c < 2; c++) for (let p = 0; p < 81; p++) nchw[i * 162 + c * 81 + p] = x[i * 162 + p * 2 + c]!;
    const session = await ort.InferenceSession.create(bytes);
    const expected: number[] = [];
    for (let i = 0; i < 2; i++) expected.push(...((await session.run({ x: new ort.Tensor('float32', nchw.slice(i * 162, (i + 1) * 162), [1, 2, 9, 9]) }))['y']!.data as Float32Array));
    await session.release();
    const ex = await OnnxExecutor.create(ir);
    const tfjs = new TfjsExecutor(ir, 'cpu');
    expect(relativeError(await ex.forward(x, 2), expected)).toBeLessThan(TOLERANCE);
    expect(relativeError(await tfjs.forward(x, 2), expected)).toBeLessThan(TOLERANCE);
    const lin = await ex.linearize(x, 2);
    const ref = await tfjs.linearize(x, 2);
    expect(relativeError(await lin.jacobians(), await ref.jacobians())).toBeLessThan(TOLERANCE);
    lin.dispose();
    ref.dispose();
    ex.dispose();
    tfjs.dispose();
  });

  it('weights in an external data file: a model copied without it names the missing file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rpr-onnx-'));
    const copy = join(dir, 'decoder.onnx');
    await writeFile(copy, readFileSync(fixturePath('decoder')));
    const error = await rprRejection(loadOnnxModel(copy));
    expect(error.code).toBe('RPR_MODEL_INVALID');
    expect(error.message).toContain('decoder.onnx.data');
    await rm(dir, { recursive: true });
  });
});

/** The same model bytes declaring an older opset (Upsample was removed from the default domain in opset 10). */
function withOpset(bytes: Uint8Array, opset: number): Uint8Array {
  const model = decodeModel(bytes);
  model.opsetImport = [{ domain: '', version: opset }];
  return encodeModel(model);
}

/** [C, H, W] → [H, W, C] (the IR's order) for `count` images. */
function toNhwc(data: Float32Array, count: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < count; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[(i * h * w + p) * c + ch] = data[(i * c + ch) * h * w + p]!;
  return out;
}

/** [H, W, C] → [C, H, W] for `count` images. */
function toNchw(data: Float32Array, count: number, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < count; i++) for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[(i * c + ch) * h * w + p] = data[(i * h * w + p) * c + ch]!;
  return out;
}

/** onnxruntime running the model file itself on NHWC images of shape [h, w, c], one at a time; NHWC outputs. */
async function fileRunner(bytes: Uint8Array, [h, w, c]: readonly number[], outShape: readonly number[]) {
  const ort = await loadOrt();
  const session = await ort.InferenceSession.create(bytes);
  const run = async (x: Float32Array): Promise<Float32Array> => {
    const y = (await session.run({ x: new ort.Tensor('float32', toNchw(x, 1, c!, h!, w!), [1, c!, h!, w!]) }))['y']!.data as Float32Array;
    return outShape.length === 3 ? toNhwc(y, 1, outShape[2]!, outShape[0]!, outShape[1]!) : y;
  };
  return { run, release: () => session.release() };
}

/** Both executors of an IR, for a test that checks them alike. */
async function bothEngines(ir: ModelIR): Promise<[string, Executor][]> {
  await initBackend('cpu');
  return [
    ['ONNX Runtime', await OnnxExecutor.create(ir)],
    ['TF.js', new TfjsExecutor(ir, 'cpu')],
  ];
}

describe('Resize (bilinear, every coordinate rule), Upsample, Dropout and Identity against onnxruntime running the file', () => {
  const [c, h, w] = [2, 3, 4];

  it.each<[ResizeCoordinates, 'scales' | 'sizes']>([
    ['half_pixel', 'scales'],
    ['pytorch_half_pixel', 'scales'],
    ['pytorch_half_pixel', 'sizes'],
    ['align_corners', 'sizes'],
    ['asymmetric', 'scales'],
  ])('a linear Resize with %s coordinates (%s given) is the linear map the file computes, on both engines', async (coordinates, given) => {
    const bytes = model(c, h, w, (b, x) => {
      const target = given === 'scales' ? ['', b.floats('s', Float32Array.of(1, 1, 2, 3), [4])] : ['', '', b.int64s([1, c, 2 * h, 3 * w])];
      return b.op('Resize', [x, ...target], { mode: 'linear', coordinate_transformation_mode: coordinates });
    });
    const ir = onnxModelToIR(bytes, 'resize.onnx');
    expect(ir.nodes[1]!.op).toEqual({ kind: 'upsample', size: [2, 3], interpolation: 'bilinear', ...(coordinates === 'asymmetric' ? {} : { coordinates }) });
    const n = h * w * c;
    const m = ir.outputSize;
    // The file's map, column by column: the output for each unit input.
    const file = await fileRunner(bytes, ir.inputShape, ir.nodes[ir.output]!.shape);
    const expected = new Float32Array(m * n);
    for (let j = 0; j < n; j++) {
      const column = await file.run(Float32Array.from({ length: n }, (_, i) => (i === j ? 1 : 0)));
      for (let i = 0; i < m; i++) expected[i * n + j] = column[i]!;
    }
    await file.release();
    for (const [, ex] of await bothEngines(ir)) {
      const lin = await ex.linearize(Float32Array.from({ length: n }, (_, i) => Math.sin(i)), 1);
      expect(relativeError(await lin.jacobians(), expected)).toBeLessThan(1e-6);
      expect((await adjointTest(lin.operator(0), { trials: 3, seed: 81 })).maxRelError).toBeLessThan(1e-5);
      lin.dispose();
      ex.dispose();
    }
  });

  it('half_pixel doubling blends neighbours 3:1 and repeats the border (closed form)', async () => {
    const bytes = model(1, 1, 2, (b, x) => b.op('Resize', [x, '', b.floats('s', Float32Array.of(1, 1, 1, 2), [4])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }));
    const ex = await OnnxExecutor.create(onnxModelToIR(bytes, 'two.onnx'));
    expect(Array.from(await ex.forward(Float32Array.of(4, 8), 1))).toEqual([4, 5, 7, 8]);
    ex.dispose();
  });

  it("a PyTorch-style decoder (conv, ReLU, bilinear ×2 with pytorch_half_pixel, conv): the file's outputs and Jacobian on both engines", async () => {
    const rng = createRng(83);
    const wt = (dims: number[]) => Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => 0.5 * rng.normal());
    const bytes = model(c, h, w, (b, x) => {
      const enc = b.op('Relu', [b.op('Conv', [x, b.floats('k1', wt([3, c, 3, 3]), [3, c, 3, 3]), b.floats('b1', wt([3]), [3])], { pads: [1, 1, 1, 1] })]);
      const up = b.op('Resize', [enc, '', b.floats('s', Float32Array.of(1, 1, 2, 2), [4])], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
      return b.op('Conv', [up, b.floats('k2', wt([1, 3, 3, 3]), [1, 3, 3, 3])], { pads: [1, 1, 1, 1] });
    });
    const ir = onnxModelToIR(bytes, 'decoder.onnx');
    const n = sizeOf(ir.inputShape);
    const m = ir.outputSize;
    const x = Float32Array.from({ length: n }, () => rng.next());
    const file = await fileRunner(bytes, ir.inputShape, ir.nodes[ir.output]!.shape);
    const expected = await file.run(x);
    // Central differences of the file itself; a small step, so no ReLU flips in between.
    const step = 1e-3;
    const fd = new Float32Array(m * n);
    for (let j = 0; j < n; j++) {
      const plus = await file.run(Float32Array.from(x, (v, i) => (i === j ? v + step : v)));
      const minus = await file.run(Float32Array.from(x, (v, i) => (i === j ? v - step : v)));
      for (let i = 0; i < m; i++) fd[i * n + j] = (plus[i]! - minus[i]!) / (2 * step);
    }
    await file.release();
    for (const [, ex] of await bothEngines(ir)) {
      expect(relativeError(await ex.forward(x, 1), expected)).toBeLessThan(TOLERANCE);
      const lin = await ex.linearize(x, 1);
      expect(relativeError(await lin.jacobians(), fd)).toBeLessThan(1e-3);
      expect((await adjointTest(lin.operator(0), { trials: 3, seed: 84 })).maxRelError).toBeLessThan(1e-5);
      lin.dispose();
      ex.dispose();
    }
  });

  it('an opset-9 model with Upsample (linear and nearest), Dropout and Identity: the file\'s outputs, and the same Jacobian on both engines', async () => {
    const rng = createRng(85);
    const wt = (dims: number[]) => Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => 0.5 * rng.normal());
    const bytes = withOpset(
      model(c, h, w, (b, x) => {
        const conv = b.op('Conv', [x, b.floats('k1', wt([3, c, 3, 3]), [3, c, 3, 3])], { pads: [1, 1, 1, 1] });
        const linear = b.op('Upsample', [conv, b.floats('s1', Float32Array.of(1, 1, 2, 2), [4])], { mode: 'linear' });
        const dropped = b.op('Dropout', [b.op('Relu', [linear])], { ratio: { float: 0.3 } });
        const nearest = b.op('Upsample', [b.op('Identity', [dropped]), b.floats('s2', Float32Array.of(1, 1, 1, 2), [4])], { mode: 'nearest' });
        const pooled = b.op('Flatten', [b.op('GlobalAveragePool', [b.op('Conv', [nearest, b.floats('k2', wt([4, 3, 3, 3]), [4, 3, 3, 3])], {})])], { axis: 1 });
        return b.op('Gemm', [pooled, b.floats('d', wt([4, 5]), [4, 5]), b.floats('db', wt([5]), [5])]);
      }),
      9,
    );
    const ir = onnxModelToIR(bytes, 'upsample.onnx');
    expect(ir.nodes.map((node) => node.op.kind)).toEqual(['input', 'conv2d', 'upsample', 'activation', 'upsample', 'conv2d', 'globalAvgPool', 'reshape', 'reshape', 'dense']);
    expect(ir.nodes[2]!.op).toEqual({ kind: 'upsample', size: [2, 2], interpolation: 'bilinear' });
    expect(ir.nodes[4]!.op).toEqual({ kind: 'upsample', size: [1, 2], interpolation: 'nearest' });
    const n = sizeOf(ir.inputShape);
    const x = Float32Array.from({ length: 2 * n }, () => rng.next());
    const file = await fileRunner(bytes, ir.inputShape, ir.nodes[ir.output]!.shape);
    const expected = Float32Array.from([...(await file.run(x.subarray(0, n))), ...(await file.run(x.subarray(n)))]);
    await file.release();
    const jacobians: Float32Array[] = [];
    for (const [, ex] of await bothEngines(ir)) {
      expect(relativeError(await ex.forward(x, 2), expected)).toBeLessThan(TOLERANCE);
      const lin = await ex.linearize(x, 2);
      jacobians.push(await lin.jacobians());
      expect((await adjointTest(lin.operator(1), { trials: 3, seed: 86 })).maxRelError).toBeLessThan(1e-5);
      lin.dispose();
      ex.dispose();
    }
    expect(relativeError(jacobians[0]!, jacobians[1]!)).toBeLessThan(TOLERANCE);
  });

  it('refuses resizes it cannot express: cubic, tf_crop_and_resize, a kept aspect ratio, Dropout in training mode', () => {
    const resize = (attrs: Record<string, string>) =>
      conversionError(model(1, 4, 4, (b, x) => b.op('Resize', [x, '', b.floats('s', Float32Array.of(1, 1, 2, 2), [4])], attrs))).message;
    expect(resize({ mode: 'cubic' })).toMatch(/cubic interpolation/);
    expect(resize({ mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize' })).toMatch(/tf_crop_and_resize coordinates/);
    const kept = model(1, 4, 4, (b, x) => b.op('Resize', [x, '', '', b.int64s([1, 1, 8, 8])], { mode: 'linear', keep_aspect_ratio_policy: 'not_larger' }));
    expect(conversionError(kept).message).toMatch(/keep_aspect_ratio_policy not_larger/);
    const training = model(1, 4, 4, (b, x) => b.op('Dropout', [x, b.floats('r', Float32Array.of(0.5), []), b.floats('t', Float32Array.of(1), [])]));
    expect(conversionError(training).message).toMatch(/training mode/);
  });
});

