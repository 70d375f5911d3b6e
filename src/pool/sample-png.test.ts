import { encodeDigitPng } from './demo-pool.js';
import { decodePlainPng, type RawImage } from './fast-png.js';
import { mnistPart } from './mnist-digits.js';
import { decodeImage, denormalize } from './preprocess.js';
import { encodeSamplePng } from './sample-png.js';
import type { Preprocessing } from './types.js';

const digit = mnistPart('test')[0]!;
/** MNIST's usual normalization: the network input is far from the 0..255 bytes. */
const normalized: Preprocessing = { width: 28, height: 28, channels: 1, scale: 1 / 255, mean: [0.1307], std: [0.3081] };

/** The PNG's own pixels, read by the plain-PNG decoder (which sharp's raw output would expand to RGB). */
function rawOf(png: Buffer): RawImage {
  const raw = decodePlainPng(png);
  expect(raw).not.toBeNull();
  return raw!;
}

describe('denormalize and encodeSamplePng', () => {
  it('give back the 8-bit digit the sample was decoded from', async () => {
    const bytes = Uint8Array.from(digit.pixels, (v) => Math.round(255 * v));
    const pixels = await decodeImage(await encodeDigitPng(digit), normalized);
    expect(Array.from(denormalize(pixels, normalized))).toEqual(Array.from(bytes));
    const png = rawOf(await encodeSamplePng(pixels, normalized));
    expect([png.width, png.height, png.channels]).toEqual([28, 28, 1]);
    expect(Array.from(png.data)).toEqual(Array.from(bytes));
  });

  it('clamp values outside the byte range and shrink large RGB images to fit', async () => {
    const rgb: Preprocessing = { width: 100, height: 50, channels: 3, scale: 1 / 255, mean: [0], std: [1] };
    const pixels = Float32Array.from({ length: 100 * 50 * 3 }, (_, i) => (i % 3 === 0 ? 2 : i % 3 === 1 ? -1 : 0.5));
    expect(Array.from(denormalize(pixels, rgb).subarray(0, 3))).toEqual([255, 0, 128]);
    const png = rawOf(await encodeSamplePng(pixels, rgb, 40));
    expect([png.width, png.height, png.channels]).toEqual([40, 20, 3]);
    expect(Array.from(png.data.subarray(0, 3))).toEqual([255, 0, 128]);
  });
});
