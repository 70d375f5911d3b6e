import type { IRNode } from './ir.js';
import { planeGeometry, transposedConvGeometry } from './conv-geometry.js';
import { rprThrown } from '../../test/helpers/rpr-rejection.js';

describe('planeGeometry', () => {
  it("'valid': floor((in − dilated window) / stride) + 1 per axis, strides and dilations read per axis", () => {
    // h: (28 − 3) / 2 → 13; w: window 5 dilated by 2 spans 9, (20 − 9) / 1 → 12.
    const { gh, gw } = planeGeometry([28, 20, 3], [3, 5, 1, 8], [2, 1], [1, 2], 'valid');
    expect([gh.outSize, gh.padBefore, gh.padAfter, gh.kernel, gh.stride, gh.dilation]).toEqual([13, 0, 0, 3, 2, 1]);
    expect([gw.outSize, gw.padBefore, gw.padAfter, gw.kernel, gw.stride, gw.dilation]).toEqual([12, 0, 0, 5, 1, 2]);
  });

  it("'same': ceil(in / stride) per axis, the odd padding pixel after", () => {
    // h: 7 → 4, padding (4 − 1)·2 + 3 − 7 = 2; w: 8 → 4, padding (4 − 1)·2 + 3 − 8 = 1.
    const { gh, gw } = planeGeometry([7, 8], [3, 3], [2, 2], [1, 1], 'same');
    expect([gh.outSize, gh.padBefore, gh.padAfter]).toEqual([4, 1, 1]);
    expect([gw.outSize, gw.padBefore, gw.padAfter]).toEqual([4, 0, 1]);
  });
});

describe('transposedConvGeometry', () => {
  const node: IRNode = { name: 'up', className: 'Conv2DTranspose', op: { kind: 'input' }, inputs: [0], shape: [8, 6, 4] };

  it('is the geometry of the conv from the output size of the node back to its input size', () => {
    const { gh, gw } = transposedConvGeometry(node, [4, 3, 2], [3, 3, 4, 2], [2, 2], 'same');
    expect([gh.inSize, gh.outSize, gw.inSize, gw.outSize]).toEqual([8, 4, 6, 3]);
  });

  it('refuses an input size that conv does not produce (output padding), naming the layer', () => {
    const error = rprThrown(() => transposedConvGeometry(node, [5, 3, 2], [3, 3, 4, 2], [2, 2], 'same'));
    expect(error.code).toBe('RPR_UNSUPPORTED_LAYER');
    expect(error.message).toBe("layer 'up' of class Conv2DTranspose cannot be linearized: output padding (its output size is not the standard one)");
  });
});
