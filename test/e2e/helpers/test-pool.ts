/**
 * Small real pools on disk for the end-to-end tests: MNIST digits as PNG files (the project's `pool`
 * split), plus the bad files DESIGN.md §6 names — a corrupt file, a truncated PNG, an all-zero image.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import sharp from 'sharp';
import { encodeDigitPng, mnistPart, writeDigitPngs } from '../../../src/pool/index.js';

export interface TestPool {
  readonly dir: string;
  /** The digit files, in pool order. */
  readonly digits: readonly string[];
  /** Bytes that are no image at all (named .png). */
  readonly corrupt: string;
  /** The first half of a real digit PNG. */
  readonly truncated: string;
  /** A valid 28×28 PNG whose pixels are all 0 (‖x‖ = 0: no RPR). */
  readonly zero: string;
}

export interface TestPoolOptions {
  /** Digits written. */
  readonly digits: number;
  /** Also write the corrupt, truncated and all-zero files. @defaultValue true */
  readonly bad?: boolean;
}

/** Writes a pool under `dir`; the bad files sit at its top level, the digits in `0000/`…. */
export async function writeTestPool(dir: string, options: TestPoolOptions): Promise<TestPool> {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true });
  const part = mnistPart('pool');
  const digits = await writeDigitPngs(root, part.slice(0, options.digits), { concurrency: 4 });
  const corrupt = join(root, 'corrupt.png');
  const truncated = join(root, 'truncated.png');
  const zero = join(root, 'zero.png');
  if (options.bad ?? true) {
    writeFileSync(corrupt, 'this is not an image, whatever its name says\n');
    // A digit the pool does not hold, so its id is new.
    const whole = await encodeDigitPng(part[part.length - 1]!);
    writeFileSync(truncated, whole.subarray(0, Math.floor(whole.length / 2)));
    writeFileSync(zero, await zeroPng());
  }
  return { dir: root, digits, corrupt, truncated, zero };
}

/** A 28×28 8-bit grayscale PNG of zeros. */
export function zeroPng(): Promise<Buffer> {
  return sharp(Buffer.alloc(28 * 28), { raw: { width: 28, height: 28, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/** The sample id of a file: sha256 of its bytes, computed here independently of src/pool. */
export function fileId(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
