/**
 * TEST DOUBLE: a pool source over real MNIST digits (the project's `pool` split) encoded as PNG in
 * memory, so round tests run the real decode path without writing thousands of files.
 */
import { encodeDigitPng, mnistPart, type PoolEntry, type PoolSource } from '../../pool/index.js';

const pngs: Buffer[] = [];

/** PNG bytes of the first `count` pool digits (encoded once per process). */
export async function mnistPoolPngs(count: number): Promise<readonly Buffer[]> {
  const digits = mnistPart('pool');
  for (let i = pngs.length; i < count; i++) pngs.push(await encodeDigitPng(digits[i]!));
  return pngs.slice(0, count);
}

/** The uri the test pool gives the i-th digit. */
export function mnistPoolUri(index: number): string {
  return `mnist-pool/${String(index).padStart(4, '0')}.png`;
}

/** A pool of the first `count` digits, then `extra` entries (blank or corrupt images, skips). */
export async function mnistPngPool(count: number, extra: readonly PoolEntry[] = []): Promise<PoolSource> {
  const bytes = await mnistPoolPngs(count);
  return {
    description: `test pool of ${count} MNIST digits`,
    async *entries() {
      for (let i = 0; i < bytes.length; i++) yield { kind: 'image', uri: mnistPoolUri(i), bytes: bytes[i]! };
      yield* extra;
    },
  };
}
