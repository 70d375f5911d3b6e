/**
 * In-memory pools of any size for the benchmark, made cheaply and with unique ids: a few thousand base
 * PNGs (real MNIST digits, or 64×64 RGB images drawn from them) are encoded once, and image i is base
 * i mod B with a tEXt chunk holding i inserted after IHDR. The pixels decode exactly as the base image,
 * but the bytes, and so the sha256 sample id, differ for every i. Nothing touches the disk, so the
 * decode cases measure sharp and hashing, not the filesystem (said so in the results).
 */
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { encodeDigitPng } from '../src/pool/demo-pool.js';
import { mnistPart } from '../src/pool/mnist-digits.js';
import type { PoolEntry, PoolSource } from '../src/pool/types.js';
import { createRng } from '../src/util/rng.js';

/** PNG signature (8 bytes) + IHDR chunk (4 length + 4 type + 13 data + 4 CRC). */
const AFTER_IHDR = 8 + 25;

function textChunk(text: string): Buffer {
  const data = Buffer.from(`rpr-bench\u0000${text}`, 'latin1');
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('tEXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  return chunk;
}

/** `base` with a tEXt chunk naming `index`: same pixels, unique bytes. */
export function uniquePng(base: Buffer, index: number): Buffer {
  return Buffer.concat([base.subarray(0, AFTER_IHDR), textChunk(String(index)), base.subarray(AFTER_IHDR)]);
}

/** 28×28 grayscale PNGs of the first `count` MNIST test digits. */
export async function digitBases(count: number): Promise<Buffer[]> {
  return Promise.all(mnistPart('test').slice(0, count).map((d) => encodeDigitPng(d)));
}

/** 64×64 RGB PNGs: a digit scaled up, tinted with a seeded colour, over seeded noise. */
export async function rgbBases(count: number, side = 64): Promise<Buffer[]> {
  const rng = createRng(64);
  const digits = mnistPart('test').slice(0, count);
  return Promise.all(
    digits.map((digit) => {
      const color = [rng.next(), rng.next(), rng.next()];
      const rgb = Buffer.alloc(side * side * 3);
      for (let y = 0; y < side; y++) {
        for (let x = 0; x < side; x++) {
          const v = digit.pixels[Math.floor((y * 28) / side) * 28 + Math.floor((x * 28) / side)]!;
          for (let c = 0; c < 3; c++) rgb[(y * side + x) * 3 + c] = Math.round(255 * Math.min(1, 0.15 * rng.next() + v * color[c]!));
        }
      }
      return sharp(rgb, { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
    }),
  );
}

/** A pool of `size` unique images cycling through `bases`, generated as it is read. */
export function syntheticPool(bases: readonly Buffer[], size: number): PoolSource {
  return {
    description: `${size} in-memory PNGs (${bases.length} base images, unique bytes)`,
    async *entries(): AsyncIterable<PoolEntry> {
      for (let i = 0; i < size; i++) yield { kind: 'image', uri: `mem:${i}`, bytes: uniquePng(bases[i % bases.length]!, i) };
    },
  };
}
