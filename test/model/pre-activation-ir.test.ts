/** @jest-environment ./test/fixtures/onnx/ort-jest-environment.cjs */
/**
 * The model cut after a weight layer (preActivationIR) gives that layer's output before its bias and
 * activation, on both engines: checked layer by layer on every test architecture against TF.js itself
 * (fixtures/layer-pre-activation.ts).
 */
import type { Executor } from '../../src/model/executor.js';
import { OnnxExecutor } from '../../src/model/executors/onnx/onnx-executor.js';
import { TfjsExecutor } from '../../src/model/executors/tfjs/tfjs-executor.js';
import { layersModelToIR } from '../../src/model/frontends/layers-model-frontend.js';
import type { ModelIR } from '../../src/model/ir.js';
import { sizeOf } from '../../src/model/ir.js';
import { preActivationIR } from '../../src/model/pre-activation-ir.js';
import { initBackend, tf, tfl } from '../../src/model/tf-runtime.js';
import { ARCHITECTURES, randomImages } from '../fixtures/architectures.js';
import { layerPreActivation, WEIGHT_LAYER_CLASSES } from '../fixtures/layer-pre-activation.js';
import { relativeError } from '../helpers/compare.js';

const TOLERANCE = 1e-4;

describe.each(ARCHITECTURES)('$name: pre-activations of every weight layer', (arch) => {
  let model: tfl.LayersModel;
  let ir: ModelIR;

  beforeAll(async () => {
    await initBackend('cpu');
    model = arch.build();
    ir = layersModelToIR(model);
  });
  afterAll(() => model.dispose());

  it.each([
    ['TF.js', async (sub: ModelIR): Promise<Executor> => new TfjsExecutor(sub, 'cpu')],
    ['ONNX Runtime', async (sub: ModelIR): Promise<Executor> => OnnxExecutor.create(sub)],
  ])('on %s equal the layer applied to its input without bias', async (_engine, open) => {
    const count = 3;
    const x = randomImages(ir.inputShape, count, 31);
    const layers = model.layers.filter((l) => WEIGHT_LAYER_CLASSES.includes(l.getClassName()));
    expect(layers.length).toBeGreaterThan(0);
    for (const layer of layers) {
      const index = ir.nodes.findIndex((n) => n.name === layer.name);
      const sub = preActivationIR(ir, index);
      expect(sub.output).toBe(index);
      expect(sub.outputSize).toBe(sizeOf(ir.nodes[index]!.shape));
      expect(sub.digest).not.toBe(ir.digest);
      const executor = await open(sub);
      try {
        const ours = await executor.forward(x, count);
        const theirs = tf.tidy(() => layerPreActivation(model, layer, tf.tensor(x, [count, ...ir.inputShape])));
        expect({ layer: layer.name, error: relativeError(ours, theirs) < TOLERANCE }).toEqual({ layer: layer.name, error: true });
      } finally {
        executor.dispose();
      }
    }
  });
});

describe('preActivationIR', () => {
  it('leaves the model untouched and refuses a node without a kernel', async () => {
    await initBackend('cpu');
    const model = ARCHITECTURES[0]!.build();
    const ir = layersModelToIR(model);
    model.dispose();
    const conv = ir.nodes.findIndex((n) => n.op.kind === 'conv2d');
    const before = ir.nodes[conv]!.op;
    const sub = preActivationIR(ir, conv);
    expect(ir.nodes[conv]!.op).toBe(before);
    expect('bias' in before && before.bias).toBeTruthy();
    expect('bias' in sub.nodes[conv]!.op).toBe(false);
    const activation = ir.nodes.findIndex((n) => n.op.kind === 'activation');
    expect(() => preActivationIR(ir, activation)).toThrow(expect.objectContaining({ code: 'RPR_INTERNAL' }) as Error);
    expect(() => preActivationIR(ir, 0)).toThrow(expect.objectContaining({ code: 'RPR_INTERNAL' }) as Error);
  });
});
