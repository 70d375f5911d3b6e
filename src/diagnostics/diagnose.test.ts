import { diagnose } from './diagnose.js';
import { layerSpectrum } from './kernel-spectrum.js';
import { convOperatorSpectrum } from './operator-spectrum.js';
import { conv2dOp, denseOp, modelOf, randomTensor, weightNode } from './test-fixtures.js';

describe('diagnose', () => {
  const k1 = randomTensor([3, 3, 1, 12], 1);
  const ir = modelOf(
    [
      weightNode('c1', conv2dOp(k1)),
      weightNode('c2', conv2dOp(randomTensor([3, 3, 12, 12], 2), [2, 2])),
      weightNode('fc', denseOp(randomTensor([48, 10], 3))),
    ],
    [6, 6, 1],
  );

  it('reports the weight layers alone when given only the IR', async () => {
    const report = await diagnose(ir);
    expect(report.layers.map((l) => l.name)).toEqual(['c1', 'c2', 'fc']);
    expect(report.layers[0]!.singularValues).toEqual(layerSpectrum(ir.nodes[1]!).singularValues);
    expect(report.layers.every((l) => l.operator === undefined)).toBe(true);
    expect(report.classImbalance).toBeNull();
    expect(report.gain).toBeNull();
    expect(report.notes).toEqual([]);
    expect(report.modelDigest).toBe('test');
  });

  it('adds operator spectra of stride-1 convs on their input size and notes the strided ones', async () => {
    const report = await diagnose(ir, { operatorSpectrum: { topK: 4 } });
    const expected = convOperatorSpectrum(k1, 6, 6);
    expect(report.layers[0]!.operator).toEqual({ height: 6, width: 6, spectralNorm: expected[0], singularValues: expected.slice(0, 4) });
    expect(report.layers[1]!.operator).toBeUndefined();
    expect(report.notes).toEqual(["layer 'c2': no operator spectrum (strides 2×2; defined for stride 1)"]);
  });

  it('refuses gain on a model whose input is not an image', async () => {
    const flat = { ...ir, inputShape: [36] };
    await expect(
      diagnose(flat, { gain: { checkpoints: [{ name: 'a', forward: async (b) => b }], probes: [new Float32Array(36)] } }),
    ).rejects.toMatchObject({ code: 'RPR_INPUT_SHAPE' });
  });
});
