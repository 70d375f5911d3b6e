import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { decodePlainPng } from './fast-png.js';
import { decodeImage } from './preprocess.js';
import { mnistPart } from './mnist-digits.js';
import { encodeDigitPng } from './demo-pool.js';
import { createRng } from '../util/rng.js';

/** libvips' decode of the same bytes: the independent reference. */
async function viaSharp(bytes: Buffer, channels: 1 | 3): Promise<Uint8Array> {
  const img = sharp(bytes).removeAlpha();
  return (channels === 1 ? img.grayscale() : img.toColourspace('srgb')).raw().toBuffer();
}

function randomRgb(width: number, height: number, seed: number): Buffer {
  const rng = createRng(seed);
  // Smooth gradients plus noise, so the encoder's adaptive filtering picks every filter type.
  return Buffer.from(
    Array.from({ length: width * height * 3 }, (_, i) => {
      const p = Math.floor(i / 3);
      const base = ((p % width) * 7 + Math.floor(p / width) * 3 + (i % 3) * 50) % 256;
      return rng.next() < 0.3 ? rng.int(256) : base;
    }),
  );
}


function chunk(type: string, data: Buffer): Buffer {
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  typed.copy(out, 4);
  out.writeUInt32BE(crc32(typed), 8 + data.length);
  return out;
}

/**
 * A PNG whose row y is filtered with filterOf(y), encoded here from the PNG specification's forward
 * filters (x − predictor mod 256), so every filter type — on the first row too — is checked.
 */
function filteredPng(raw: Buffer, width: number, height: number, bpp: 1 | 3, filterOf: (y: number) => number): Buffer {
  const stride = width * bpp;
  const at = (x: number, y: number) => (x < 0 || y < 0 ? 0 : raw[y * stride + x]!);
  const rows = Buffer.alloc(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    const type = filterOf(y);
    rows[y * (stride + 1)] = type;
    for (let x = 0; x < stride; x++) {
      const a = at(x - bpp, y);
      const b = at(x, y - 1);
      const c = at(x - bpp, y - 1);
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][type] ?? 0;
      rows[y * (stride + 1) + 1 + x] = (at(x, y) - predictor + 256) % 256;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = bpp === 1 ? 0 : 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

describe('decodePlainPng', () => {
  it('decodes real digit PNGs exactly as libvips does', async () => {
    for (const digit of mnistPart('test').slice(0, 20)) {
      const png = await encodeDigitPng(digit);
      const fast = decodePlainPng(png);
      expect(fast).not.toBeNull();
      expect(fast!.channels).toBe(1);
      expect(Buffer.from(fast!.data).equals(Buffer.from(await viaSharp(png, 1)))).toBe(true);
    }
  });

  it.each([0, 6, 9])('decodes RGB PNGs with every filter type (compression %i) exactly as libvips does', async (level) => {
    const raw = randomRgb(37, 23, level + 1);
    const png = await sharp(raw, { raw: { width: 37, height: 23, channels: 3 } })
      .png({ compressionLevel: level, adaptiveFiltering: true })
      .toBuffer();
    const fast = decodePlainPng(png);
    expect(fast).not.toBeNull();
    expect(Buffer.from(fast!.data).equals(raw)).toBe(true);
    expect(Buffer.from(fast!.data).equals(Buffer.from(await viaSharp(png, 3)))).toBe(true);
  });

  it.each([0, 1, 2, 3, 4])('undoes filter type %i on every row, the first included, in gray and RGB', (first) => {
    for (const bpp of [1, 3] as const) {
      const raw = randomRgb(12, 6, first + 10).subarray(0, 12 * 6 * bpp);
      const fast = decodePlainPng(filteredPng(raw, 12, 6, bpp, (y) => (first + y) % 5));
      expect(fast).not.toBeNull();
      expect(Buffer.from(fast!.data).equals(raw)).toBe(true);
    }
  });

  it('refuses a filter type the specification does not define', () => {
    expect(decodePlainPng(filteredPng(randomRgb(4, 2, 1), 4, 2, 3, (y) => (y === 1 ? 5 : 0)))).toBeNull();
  });

  it('leaves palette, alpha, 16-bit and damaged PNGs to libvips', async () => {
    const raw = randomRgb(8, 8, 3);
    const palette = await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } }).png({ palette: true }).toBuffer();
    const rgba = await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } }).ensureAlpha().png().toBuffer();
    const deep = await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } }).png().toColourspace('rgb16').toBuffer();
    expect(decodePlainPng(palette)).toBeNull();
    expect(decodePlainPng(rgba)).toBeNull();
    expect(decodePlainPng(deep)).toBeNull();
    const good = await sharp(raw, { raw: { width: 8, height: 8, channels: 3 } }).png().toBuffer();
    const flipped = Buffer.from(good);
    flipped[good.length - 20]! ^= 0xff;
    expect(decodePlainPng(flipped)).toBeNull();
    expect(decodePlainPng(good.subarray(0, good.length - 30))).toBeNull();
  });

  it('makes decodeImage give the same tensor on the fast path and through libvips', async () => {
    const digit = mnistPart('test')[0]!;
    const png = await encodeDigitPng(digit);
    const pre = { width: 28, height: 28, channels: 3 as const, scale: 1 / 255, mean: [0.1, 0.2, 0.3], std: [0.5, 0.5, 0.25] };
    const fast = await decodeImage(png, pre);
    const ref = await viaSharp(png, 3);
    expect(fast.length).toBe(ref.length);
    ref.forEach((v, i) => expect(fast[i]).toBeCloseTo((v / 255 - pre.mean[i % 3]!) / pre.std[i % 3]!, 6));
    const truncated = png.subarray(0, png.length - 30);
    await expect(decodeImage(truncated, pre)).rejects.toMatchObject({ code: 'RPR_IMAGE_DECODE' });
  });
});
