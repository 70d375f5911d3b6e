import { conv2dFilterGradient } from './conv2d-filter-gradient.js';
import { initBackend, tf } from './tf-runtime.js';

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid';

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

function wave(length: number, phase: number, zeroEvery = 0): Float32Array {
  return Float32Array.from({ length }, (_, i) =>
    zeroEvery > 0 && i % zeroEvery === 0 ? 0 : Math.sin(i * 0.37 + phase),
  );
}

/** The reference: a dy for the conv's output and the gradient tfjs-backend-cpu's own kernel computes. */
function cpuReference(x: Float32Array, xShape: Shape4, filterShape: Shape4, stride: number, pad: Pad) {
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, xShape);
    const w0 = tf.zeros(filterShape) as tf.Tensor4D;
    const dyShape = tf.conv2d(xt, w0, stride, pad).shape as Shape4;
    const dy = wave(count(dyShape), 1.3);
    const dyt = tf.tensor4d(dy, dyShape);
    const grad = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xt, w as tf.Tensor4D, stride, pad), dyt)))(w0);
    return { dy, dyShape, gradient: grad.dataSync() as Float32Array };
  });
}

/** TF's padding before the input: for 'same' the smaller half of the total (the larger goes after). */
function padBefore(inSize: number, k: number, stride: number, pad: Pad): number {
  if (pad === 'valid') return 0;
  const out = Math.ceil(inSize / stride);
  return Math.floor(Math.max((out - 1) * stride + k - inSize, 0) / 2);
}

describe('conv2dFilterGradient', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it.each([
    { name: '3x3 stride 1 same', xShape: [2, 6, 5, 3], k: [3, 3], stride: 1, pad: 'same' },
    { name: '3x2 stride 2 same, even input (uneven padding)', xShape: [1, 8, 6, 2], k: [3, 2], stride: 2, pad: 'same' },
    { name: '3x3 stride 2 valid', xShape: [2, 7, 7, 2], k: [3, 3], stride: 2, pad: 'valid' },
    { name: '1x1 filter', xShape: [3, 4, 4, 5], k: [1, 1], stride: 1, pad: 'valid' },
    { name: '1x1 image', xShape: [1, 1, 1, 1], k: [3, 3], stride: 1, pad: 'same' },
  ] as const)('matches the tfjs cpu kernel: $name', ({ xShape, k, stride, pad }) => {
    const x = wave(count(xShape), 0.1, 3);
    const reference = cpuReference(x, [...xShape], [k[0], k[1], xShape[3], 4], stride, pad);
    const gradient = conv2dFilterGradient(x, reference.dy, {
      xShape: [...xShape],
      dyShape: reference.dyShape,
      filterSize: [k[0], k[1]],
      strides: [stride, stride],
      padTopLeft: [padBefore(xShape[1], k[0], stride, pad), padBefore(xShape[2], k[1], stride, pad)],
    });
    expect(gradient.length).toBe(reference.gradient.length);
    gradient.forEach((v, i) => expect(v).toBeCloseTo(reference.gradient[i]!, 4));
  });

  it('is zero for an all-zero input', () => {
    const gradient = conv2dFilterGradient(new Float32Array(2 * 3 * 3), wave(2 * 3 * 3 * 2, 0), {
      xShape: [2, 3, 3, 1],
      dyShape: [2, 3, 3, 2],
      filterSize: [3, 3],
      strides: [1, 1],
      padTopLeft: [1, 1],
    });
    expect(Array.from(gradient)).toEqual(new Array(3 * 3 * 2).fill(0));
  });
});
