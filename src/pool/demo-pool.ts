import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import PQueue from 'p-queue';
import sharp from 'sharp';
import { RprError } from '../errors/index.js';
import { errorMessage } from './error-message.js';
import { mnistPart, type Digit } from './mnist-digits.js';

/** MNIST digits are 28×28. */
const SIDE = 28;
/** Files per subfolder, so no directory grows huge. */
const FILES_PER_FOLDER = 1000;
/** Written after every image, so its presence means the pool is complete. */
const MARKER = '.rpr-demo-pool.json';
const FOLDER_PATTERN = /^\d{4}$/;

/** An 8-bit grayscale PNG of one digit (pixels in [0, 1] → round(255·v)). */
export async function encodeDigitPng(digit: Digit): Promise<Buffer> {
  const gray = Buffer.alloc(SIDE * SIDE);
  for (let i = 0; i < gray.length; i++) gray[i] = Math.round(255 * Math.min(1, Math.max(0, digit.pixels[i] ?? 0)));
  return sharp(gray, { raw: { width: SIDE, height: SIDE, channels: 1 } })
    .toColourspace('b-w')
    .png()
    .toBuffer();
}

/** The path of the i-th digit under `dir`: `NNNN/digit-<index>-label-<label>.png`, 1,000 per folder. */
export function digitPngPath(dir: string, position: number, digit: Digit): string {
  const folder = String(Math.floor(position / FILES_PER_FOLDER)).padStart(4, '0');
  return join(resolve(dir), folder, `digit-${digit.index}-label-${digit.label}.png`);
}

export interface WriteDigitPngsOptions {
  /**
   * PNG files encoded and written at once.
   * @defaultValue 8
   */
  readonly concurrency?: number;
}

/** Writes digits as PNG files under `dir` (see `digitPngPath`); returns their paths in the same order. */
export async function writeDigitPngs(
  dir: string,
  digits: readonly Digit[],
  options: WriteDigitPngsOptions = {},
): Promise<string[]> {
  const queue = new PQueue({ concurrency: options.concurrency ?? 8 });
  const paths = digits.map((digit, position) => digitPngPath(dir, position, digit));
  const folders = new Set(paths.map((path) => dirname(path)));
  for (const folder of folders) await mkdir(folder, { recursive: true });
  const write = async (digit: Digit, i: number) => writeFile(paths[i] as string, await encodeDigitPng(digit));
  await Promise.all(digits.map((digit, i) => queue.add(() => write(digit, i))));
  return paths;
}

export interface DemoPoolOptions {
  /**
   * How many digits of the MNIST `pool` part to write (the first ones in the fixed order).
   * @defaultValue all 6,000
   */
  readonly count?: number;
}

/**
 * Makes `dir` hold the demo pool: the MNIST `pool` digits as PNG files, written only when the marker
 * of a complete pool with the same count is missing. An interrupted or different pool is rewritten:
 * the `NNNN/` subfolders belong to the demo pool. Returns the directory.
 */
export async function ensureDemoPool(dir: string, options: DemoPoolOptions = {}): Promise<string> {
  const root = resolve(dir);
  const part = mnistPart('pool');
  const count = options.count ?? part.length;
  if (!Number.isInteger(count) || count < 1 || count > part.length) {
    throw new RprError('RPR_USAGE', `demo pool count ${count} is out of range; use 1 to ${part.length}`, { count });
  }
  const marker = join(root, MARKER);
  if ((await readMarkerCount(marker)) === count) return root;
  try {
    await mkdir(root, { recursive: true });
    await rm(marker, { force: true });
    for (const name of await readdir(root)) {
      if (FOLDER_PATTERN.test(name)) await rm(join(root, name), { recursive: true, force: true });
    }
    await writeDigitPngs(root, part.slice(0, count));
    await writeFile(`${marker}.tmp`, JSON.stringify({ count }));
    await rename(`${marker}.tmp`, marker);
  } catch (error) {
    const message = `cannot write the demo pool in '${dir}': ${errorMessage(error)}`;
    throw new RprError('RPR_USAGE', message, { path: root }, { cause: error });
  }
  return root;
}

async function readMarkerCount(marker: string): Promise<number | null> {
  try {
    const parsed: unknown = JSON.parse(await readFile(marker, 'utf8'));
    const count = (parsed as { count?: unknown } | null)?.count;
    return typeof count === 'number' ? count : null;
  } catch {
    return null;
  }
}
