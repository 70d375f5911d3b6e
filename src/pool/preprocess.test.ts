import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { RprError } from '../errors/index.js';
import { encodeDigitPng, writeDigitPngs } from './demo-pool.js';
import { mnistPart } from './mnist-digits.js';
import { checkPreprocessing, createImageDecoder, decodeImage, defaultPreprocessing, preprocessingDigest } from './preprocess.js';
import type { Preprocessing } from './types.js';

const digits = mnistPart('pool').slice(0, 4);
const gray28 = defaultPreprocessing([28, 28, 1]);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

/** sRGB gray as libvips computes it: luminance (BT.709 weights) of the linearized channels, re-encoded. */
function srgbLuminance255(r: number, g: number, b: number): number {
  const linear = (v: number) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  };
  const y = 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b);
  return 255 * (y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055);
}

function rawPng(pixels: number[], width: number, height: number, channels: 1 | 2 | 3 | 4): Promise<Buffer> {
  return sharp(Buffer.from(pixels), { raw: { width, height, channels } }).png().toBuffer();
}

describe('decodeImage', () => {
  let dir: string;
  let paths: string[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpr-preprocess-'));
    paths = await writeDigitPngs(dir, digits);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('round-trips real MNIST digits written as PNG to within 1/255 of the original pixels', async () => {
    for (const [i, digit] of digits.entries()) {
      const pixels = await decodeImage(await readFile(paths[i] as string), gray28);
      expect(pixels).toHaveLength(28 * 28);
      expect(maxAbsDiff(pixels, digit.pixels)).toBeLessThanOrEqual(1 / 255);
    }
  });

  it('writes the digits as 8-bit single-channel PNG files', async () => {
    const meta = await sharp(await readFile(paths[0] as string)).metadata();
    expect(meta).toMatchObject({ format: 'png', channels: 1, depth: 'uchar', width: 28, height: 28 });
  });

  it('resizes to another size: shape follows, mean intensity and a 2×2 box average are matched', async () => {
    const digit = digits[0];
    if (digit === undefined) throw new Error('no digit');
    const small = await decodeImage(await encodeDigitPng(digit), defaultPreprocessing([14, 14, 1]));
    expect(small).toHaveLength(14 * 14);
    const box = new Float32Array(14 * 14);
    for (let y = 0; y < 14; y++) {
      for (let x = 0; x < 14; x++) {
        const at = (dy: number, dx: number) => digit.pixels[(2 * y + dy) * 28 + 2 * x + dx] as number;
        box[y * 14 + x] = (at(0, 0) + at(0, 1) + at(1, 0) + at(1, 1)) / 4;
      }
    }
    const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean(small) - mean(digit.pixels))).toBeLessThan(0.02);
    expect(correlation(small, box)).toBeGreaterThan(0.95);

    const wide = await decodeImage(await encodeDigitPng(digit), { ...gray28, width: 40, height: 20 });
    expect(wide).toHaveLength(40 * 20);
  });

  it('keeps a constant image constant through resize (fill ignores the aspect ratio)', async () => {
    const png = await rawPng(new Array(10 * 6).fill(90), 10, 6, 1);
    const out = await decodeImage(png, { ...gray28, width: 7, height: 13 });
    expect(out).toHaveLength(7 * 13);
    expect(maxAbsDiff(out, new Float32Array(out.length).fill(90 / 255))).toBeLessThanOrEqual(1 / 255);
  });

  it('converts RGB and RGBA to gray as the luminance of linearized sRGB, ignoring alpha', async () => {
    const colors = [
      [200, 100, 50],
      [10, 20, 30],
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255],
      [128, 128, 128],
    ];
    const expected = colors.map(([r, g, b]) => srgbLuminance255(r as number, g as number, b as number) / 255);
    const rgb = await rawPng(colors.flat(), colors.length, 1, 3);
    const rgba = await rawPng(colors.flatMap((c) => [...c, 77]), colors.length, 1, 4);
    for (const png of [rgb, rgba]) {
      const out = await decodeImage(png, { ...gray28, width: colors.length, height: 1 });
      expect(maxAbsDiff(out, expected)).toBeLessThanOrEqual(1 / 255);
    }
  });

  it('expands gray to three equal channels, and drops alpha from RGBA without premultiplying', async () => {
    const digit = digits[1];
    if (digit === undefined) throw new Error('no digit');
    const rgb = await decodeImage(await encodeDigitPng(digit), defaultPreprocessing([28, 28, 3]));
    expect(rgb).toHaveLength(28 * 28 * 3);
    const expanded = Array.from(digit.pixels).flatMap((v) => [v, v, v]);
    expect(maxAbsDiff(rgb, expanded)).toBeLessThanOrEqual(1 / 255);

    const rgba = await rawPng([200, 100, 50, 10, 1, 2, 3, 255], 2, 1, 4);
    const out = await decodeImage(rgba, { ...defaultPreprocessing([1, 2, 3]), scale: 1 });
    expect(Array.from(out)).toEqual([200, 100, 50, 1, 2, 3]);
  });

  it('applies scale, then per-channel mean and std', async () => {
    const png = await rawPng([0, 51, 102, 255, 153, 204], 2, 1, 3);
    const pre: Preprocessing = { width: 2, height: 1, channels: 3, scale: 1 / 255, mean: [0.1, 0.2, 0.3], std: [0.5, 0.25, 2] };
    const out = await decodeImage(png, pre);
    const raw = [0, 51, 102, 255, 153, 204];
    const expected = raw.map((v, i) => (v / 255 - (pre.mean[i % 3] as number)) / (pre.std[i % 3] as number));
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-6);

    const single = await decodeImage(png, { ...pre, mean: [0.5], std: [0.5] });
    expect(maxAbsDiff(single, raw.map((v) => (v / 255 - 0.5) / 0.5))).toBeLessThan(1e-6);
  });

  it('decodes JPEG (lossy, close) and lossless WebP (exact) too', async () => {
    const digit = digits[2];
    if (digit === undefined) throw new Error('no digit');
    const png = await encodeDigitPng(digit);
    const webp = await sharp(png).webp({ lossless: true }).toBuffer();
    expect(maxAbsDiff(await decodeImage(webp, gray28), digit.pixels)).toBeLessThanOrEqual(1 / 255);
    const jpeg = await sharp(png).jpeg({ quality: 100 }).toBuffer();
    const fromJpeg = await decodeImage(jpeg, gray28);
    expect(correlation(fromJpeg, digit.pixels)).toBeGreaterThan(0.99);
  });

  it('decodes an all-zero image to zeros (a zero image is not a decode error)', async () => {
    const out = await decodeImage(await rawPng(new Array(28 * 28).fill(0), 28, 28, 1), gray28);
    expect(out.every((v) => v === 0)).toBe(true);
  });

  it('rejects truncated PNG and JPEG data and random bytes with RPR_IMAGE_DECODE and a one-line reason', async () => {
    const png = await readFile(paths[0] as string);
    const truncated = png.subarray(0, Math.floor(png.length / 2));
    const noise = Buffer.from(Array.from({ length: 128 * 128 * 3 }, (_, i) => (i * 7919) % 251));
    const jpeg = await sharp(noise, { raw: { width: 128, height: 128, channels: 3 } }).jpeg().toBuffer();
    const truncatedJpeg = jpeg.subarray(0, Math.floor(jpeg.length * 0.7));
    const random = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7919 + 13) % 256));
    for (const bytes of [truncated, truncatedJpeg, random, Buffer.alloc(0)]) {
      const error = await decodeImage(bytes, gray28).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(RprError);
      expect(error).toMatchObject({ code: 'RPR_IMAGE_DECODE' });
      expect((error as Error).message).toMatch(/^cannot decode image: \S/);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});

describe('createImageDecoder', () => {
  const bytes = Array.from({ length: 256 }, (_, v) => v);

  it('maps every byte value to ((v · scale) − mean) / std, on the plain-PNG path and through libvips alike', async () => {
    const pre: Preprocessing = { width: 256, height: 1, channels: 1, scale: 1 / 255, mean: [0.3], std: [0.2] };
    const decode = createImageDecoder(pre);
    const png = await rawPng(bytes, 256, 1, 1);
    const webp = await sharp(png).webp({ lossless: true }).toBuffer();
    const expected = bytes.map((v) => (v / 255 - 0.3) / 0.2);
    for (const image of [png, webp]) expect(maxAbsDiff(await decode(image), expected)).toBeLessThan(1e-5);
  });

  it('expands gray to RGB with each channel its own mean and std', async () => {
    const pre: Preprocessing = { width: 256, height: 1, channels: 3, scale: 1, mean: [10, 20, 30], std: [2, 4, 8] };
    const out = await createImageDecoder(pre)(await rawPng(bytes, 256, 1, 1));
    const expected = bytes.flatMap((v) => [(v - 10) / 2, (v - 20) / 4, (v - 30) / 8]);
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-5);
  });

  it('decodes many real digits exactly as decodeImage does, one at a time', async () => {
    const decode = createImageDecoder(gray28);
    const pngs = await Promise.all(mnistPart('test').slice(0, 20).map((d) => encodeDigitPng(d)));
    const together = await Promise.all(pngs.map((png) => decode(png)));
    for (const [i, png] of pngs.entries()) expect(together[i]).toEqual(await decodeImage(png, gray28));
  });

  it('checks the preprocessing when it is made, before any image', () => {
    expect(() => createImageDecoder({ ...gray28, std: [0] })).toThrow(expect.objectContaining({ code: 'RPR_CONFIG' }));
  });
});

describe('preprocessing', () => {
  it('defaultPreprocessing resizes to the model input and scales to [0, 1]', () => {
    expect(defaultPreprocessing([32, 24, 3])).toEqual({
      width: 24,
      height: 32,
      channels: 3,
      scale: 1 / 255,
      mean: [0, 0, 0],
      std: [1, 1, 1],
    });
    expect(() => defaultPreprocessing([28, 28, 4])).toThrow(expect.objectContaining({ code: 'RPR_INPUT_SHAPE' }));
  });

  it('rejects bad fields with RPR_CONFIG naming the field', () => {
    const bad: [Partial<Preprocessing>, string][] = [
      [{ width: 0 }, 'preprocessing.width'],
      [{ height: 2.5 }, 'preprocessing.height'],
      [{ channels: 2 as 1 }, 'preprocessing.channels'],
      [{ scale: Number.NaN }, 'preprocessing.scale'],
      [{ mean: [0, 0] }, 'preprocessing.mean'],
      [{ std: [0] }, 'preprocessing.std'],
    ];
    for (const [change, field] of bad) {
      expect(() => checkPreprocessing({ ...gray28, ...change })).toThrow(
        expect.objectContaining({ code: 'RPR_CONFIG', context: { field } }),
      );
    }
  });

  it('digests equal preprocessings equally and any change differently', () => {
    const rgb = defaultPreprocessing([28, 28, 3]);
    const digest = preprocessingDigest(rgb);
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    expect(preprocessingDigest({ ...rgb, mean: [0], std: [1] })).toBe(digest);
    expect(preprocessingDigest({ ...rgb, mean: [...rgb.mean], std: [...rgb.std] })).toBe(digest);
    const changes: Partial<Preprocessing>[] = [
      { width: 27 },
      { height: 27 },
      { channels: 1, mean: [0], std: [1] },
      { scale: 1 },
      { mean: [0, 0, 0.1] },
      { std: [1, 2, 1] },
    ];
    const digests = changes.map((change) => preprocessingDigest({ ...rgb, ...change }));
    expect(new Set([digest, ...digests]).size).toBe(changes.length + 1);
  });
});

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}
