/**
 * The simulated pool on disk: the MNIST `pool` digits as PNG files (what `select` would read), their
 * sample ids, and their pixels as the network sees them after decoding (round(255·v)/255), so that
 * training, scoring and the test set all see the same 8-bit images.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabeledImage } from '../model/train-classifier.js';
import { mnistPart, sampleId, writeDigitPngs, type Digit } from '../pool/index.js';

/** One pool image: its position in the pool, the oracle's label, and its file and sample id. */
export interface PoolImage {
  readonly position: number;
  readonly label: number;
  readonly path: string;
  readonly id: string;
}

const INDEX_FILE = 'pool-index.json';

/** Pixels after an 8-bit PNG round trip. */
export function quantized(digit: Digit): LabeledImage {
  return { pixels: digit.pixels.map((v) => Math.round(255 * Math.min(1, Math.max(0, v))) / 255), label: digit.label };
}

/** The first `count` digits of the pool part. */
export function poolDigits(count: number): readonly Digit[] {
  return mnistPart('pool').slice(0, count);
}

/** Writes the first `count` pool digits under `dir` and returns their index (also saved in `dir`). */
export async function writePoolFiles(dir: string, count: number): Promise<PoolImage[]> {
  const digits = poolDigits(count);
  const paths = await writeDigitPngs(join(dir, 'pool'), digits);
  const images: PoolImage[] = [];
  for (const [position, digit] of digits.entries()) {
    const path = paths[position]!;
    images.push({ position, label: digit.label, path, id: sampleId(await readFile(path)) });
  }
  await writeFile(join(dir, INDEX_FILE), JSON.stringify(images));
  return images;
}

export async function readPoolFiles(dir: string): Promise<PoolImage[]> {
  return JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8')) as PoolImage[];
}

/** A .txt manifest listing the images' files, one absolute path per line. */
export async function writeManifest(path: string, images: readonly PoolImage[]): Promise<string> {
  await writeFile(path, images.map((image) => image.path).join('\n') + '\n');
  return path;
}
