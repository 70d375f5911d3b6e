import { createHash } from 'node:crypto';
import sharp, { type OutputInfo } from 'sharp';
import { RprError } from '../errors/index.js';
import { errorMessage } from './error-message.js';
import { decodePlainPng } from './fast-png.js';
import type { Preprocessing } from './types.js';

/**
 * Bumped whenever decoding changes what pixels an image yields, so cached scores computed with the old
 * pipeline stop matching (the version is part of `preprocessingDigest`).
 */
const PIPELINE_VERSION = 1;

/** Resize to the model input, scale 0..255 to [0, 1], no normalization. */
export function defaultPreprocessing(inputShape: readonly [number, number, number]): Preprocessing {
  const [height, width, channels] = inputShape;
  if (channels !== 1 && channels !== 3) {
    throw new RprError(
      'RPR_INPUT_SHAPE',
      `model input [${inputShape.join(', ')}] has ${channels} channels; ` +
        'images can be fed as 1 (grayscale) or 3 (RGB) channels',
      { channels },
    );
  }
  const pre: Preprocessing = {
    width,
    height,
    channels,
    scale: 1 / 255,
    mean: new Array<number>(channels).fill(0),
    std: new Array<number>(channels).fill(1),
  };
  checkPreprocessing(pre);
  return pre;
}

/**
 * Checks a preprocessing at the boundary: positive integer size, 1 or 3 channels, finite scale, and
 * mean/std with one value per channel (or one value for all), std never 0.
 */
export function checkPreprocessing(pre: Preprocessing): void {
  const fail = (field: string, value: unknown, fix: string): never => {
    throw new RprError('RPR_CONFIG', `preprocessing.${field} is ${JSON.stringify(value)}; ${fix}`, {
      field: `preprocessing.${field}`,
    });
  };
  for (const field of ['width', 'height'] as const) {
    if (!Number.isInteger(pre[field]) || pre[field] < 1) {
      fail(field, pre[field], 'use a positive integer number of pixels');
    }
  }
  if (pre.channels !== 1 && pre.channels !== 3) fail('channels', pre.channels, 'use 1 (grayscale) or 3 (RGB)');
  if (!Number.isFinite(pre.scale)) fail('scale', pre.scale, 'use a finite number such as 1/255');
  for (const field of ['mean', 'std'] as const) {
    const values = pre[field];
    if (!Array.isArray(values) || (values.length !== 1 && values.length !== pre.channels)) {
      fail(field, values, `give one number per channel (${pre.channels}) or a single number for all`);
    }
    if (!values.every((v) => Number.isFinite(v) && (field === 'mean' || v !== 0))) {
      fail(field, values, field === 'std' ? 'use finite, non-zero numbers' : 'use finite numbers');
    }
  }
}

/** Per-channel mean and std, with a single value repeated for every channel. */
function perChannel(values: readonly number[], channels: number): number[] {
  return Array.from({ length: channels }, (_, c) => values[values.length === 1 ? 0 : c] ?? Number.NaN);
}

/**
 * sha256 of a canonical JSON of the preprocessing (fixed key order, mean/std expanded per channel, the
 * pipeline version): the same input tensor always gets the same digest, for cache keys.
 */
export function preprocessingDigest(pre: Preprocessing): string {
  checkPreprocessing(pre);
  const canonical = JSON.stringify([
    PIPELINE_VERSION,
    pre.width,
    pre.height,
    pre.channels,
    pre.scale,
    perChannel(pre.mean, pre.channels),
    perChannel(pre.std, pre.channels),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/** Decodes image bytes to the network's input for one preprocessing (see {@link decodeImage}). */
export type ImageDecoder = (bytes: Uint8Array) => Promise<Float32Array>;

/**
 * A decoder for one preprocessing, checked once, with the normalization precomputed per channel and
 * byte value: a stream decodes every image with the same settings, and plain PNGs (fast-png.ts) cost
 * only a few µs each, so per-image set-up would otherwise be a large part of their cost.
 */
export function createImageDecoder(pre: Preprocessing): ImageDecoder {
  checkPreprocessing(pre);
  const lut = normalizationTable(pre);
  return async (bytes) => {
    const plain = decodePlainPng(bytes);
    if (plain && plain.width === pre.width && plain.height === pre.height && (plain.channels === pre.channels || plain.channels === 1)) {
      return normalize(plain.data, plain.channels, pre.channels, lut);
    }
    let raw: { data: Buffer; info: OutputInfo };
    try {
      // Constructed inside the try: sharp throws synchronously on an empty buffer. failOn 'warning' is
      // stated on purpose: a damaged image is skipped, never decoded to partly invented pixels.
      const decoded = sharp(bytes, { failOn: 'warning' })
        .autoOrient()
        .resize(pre.width, pre.height, { fit: 'fill' })
        .removeAlpha();
      const converted = pre.channels === 1 ? decoded.grayscale() : decoded.toColourspace('srgb');
      raw = await converted.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    } catch (error) {
      throw new RprError('RPR_IMAGE_DECODE', `cannot decode image: ${oneLine(error)}`, {}, { cause: error });
    }
    const { data, info } = raw;
    if (info.width !== pre.width || info.height !== pre.height || info.channels !== pre.channels) {
      throw new RprError(
        'RPR_IMAGE_DECODE',
        `decoded image is ${info.width}×${info.height}×${info.channels}, ` +
          `expected ${pre.width}×${pre.height}×${pre.channels}`,
      );
    }
    return normalize(data, info.channels, pre.channels, lut);
  };
}

/**
 * Decodes PNG/JPEG/WebP bytes to the network's input: EXIF orientation applied, resized to
 * width × height ignoring aspect ratio (fill), alpha dropped, converted to 1 channel (luminance, computed
 * by libvips in linear light) or 3 (gray expanded), then HWC float32 ((v · scale) − mean[c]) / std[c].
 * Corrupt or truncated data is an RPR_IMAGE_DECODE error with libvips' reason on one line. To decode
 * many images with one preprocessing, make the decoder once with {@link createImageDecoder}.
 */
export function decodeImage(bytes: Uint8Array, pre: Preprocessing): Promise<Float32Array> {
  return createImageDecoder(pre)(bytes);
}

/** table[c · 256 + v] = ((v · scale) − mean[c]) / std[c] as float32, for every channel c and byte v. */
function normalizationTable(pre: Preprocessing): Float32Array {
  const mean = perChannel(pre.mean, pre.channels);
  const invStd = perChannel(pre.std, pre.channels).map((s) => 1 / s);
  const table = new Float32Array(pre.channels * 256);
  for (let c = 0; c < pre.channels; c++) {
    for (let v = 0; v < 256; v++) table[c * 256 + v] = (v * pre.scale - mean[c]!) * invStd[c]!;
  }
  return table;
}

/** HWC bytes with `from` channels (1 or `channels`; gray is expanded) → their table values. */
function normalize(data: Uint8Array, from: number, channels: number, table: Float32Array): Float32Array {
  const pixels = data.length / from;
  const out = new Float32Array(pixels * channels);
  if (channels === 1) {
    for (let p = 0; p < pixels; p++) out[p] = table[data[p]!]!;
    return out;
  }
  for (let p = 0; p < pixels; p++) {
    for (let c = 0; c < channels; c++) out[p * channels + c] = table[c * 256 + data[p * from + (from === 1 ? 0 : c)]!]!;
  }
  return out;
}

/**
 * The inverse of the normalization: HWC float32 network input back to 8-bit pixel values,
 * v = (x · std[c] + mean[c]) / scale, rounded and clamped to 0..255 (for showing what the model saw).
 */
export function denormalize(pixels: Float32Array, pre: Preprocessing): Uint8Array {
  const channels = pre.channels;
  const mean = perChannel(pre.mean, channels);
  const std = perChannel(pre.std, channels);
  const out = new Uint8Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const c = i % channels;
    const v = pre.scale === 0 ? 0 : ((pixels[i] as number) * (std[c] as number) + (mean[c] as number)) / pre.scale;
    out[i] = Math.min(255, Math.max(0, Math.round(v)));
  }
  return out;
}

/** libvips messages can span lines and repeat; keep each distinct line once. */
function oneLine(error: unknown): string {
  const lines = [...new Set(errorMessage(error).split('\n').map((line) => line.trim()).filter((line) => line !== ''))];
  return lines.join('; ') || 'unknown error';
}
