/** A preprocessed sample back to a small PNG: what the network saw, for reports. */
import sharp from 'sharp';
import { denormalize } from './preprocess.js';
import type { Preprocessing } from './types.js';

/**
 * The sample's pixels (HWC, the model's input) as an 8-bit PNG, shrunk to fit `maxSide` × `maxSide`
 * when larger and never enlarged (a page can scale it up without blurring: CSS image-rendering: pixelated).
 */
export async function encodeSamplePng(pixels: Float32Array, pre: Preprocessing, maxSide = 64): Promise<Buffer> {
  const image = sharp(denormalize(pixels, pre), { raw: { width: pre.width, height: pre.height, channels: pre.channels } });
  const fitted = pre.width > maxSide || pre.height > maxSide ? image.resize(maxSide, maxSide, { fit: 'inside' }) : image;
  return (pre.channels === 1 ? fitted.toColourspace('b-w') : fitted).png().toBuffer();
}
