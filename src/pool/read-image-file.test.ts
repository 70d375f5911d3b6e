import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeDigitPng } from './demo-pool.js';
import { mnistPart } from './mnist-digits.js';
import { readImageFile } from './read-image-file.js';

describe('readImageFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpr-read-image-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns the bytes of a real digit file exactly, and of a 3 MB file', async () => {
    const digit = join(dir, 'digit.png');
    await writeFile(digit, await encodeDigitPng(mnistPart('test')[0]!));
    const big = join(dir, 'big.png');
    await writeFile(big, Buffer.from(Array.from({ length: 3 * 2 ** 20 + 17 }, (_, i) => (i * 31) % 256)));
    for (const path of [digit, big]) {
      const entry = readImageFile(path);
      expect(entry).toMatchObject({ kind: 'image', uri: path });
      expect(entry.kind === 'image' && entry.bytes.equals(await readFile(path))).toBe(true);
    }
  });

  it('skips a file over the size limit, naming the size and the limit', async () => {
    const path = join(dir, 'large.png');
    await writeFile(path, Buffer.alloc(101));
    expect(readImageFile(path, 100)).toEqual({ kind: 'skipped', uri: path, reason: 'file is 101 bytes, over the 100-byte limit (maxFileBytes)' });
    expect(readImageFile(path, 101)).toMatchObject({ kind: 'image' });
  });

  it('turns a missing file and a directory into skipped entries with the reason, never an exception', async () => {
    const missing = join(dir, 'missing.png');
    const folder = join(dir, 'folder.png');
    await mkdir(folder);
    expect(readImageFile(missing)).toEqual({ kind: 'skipped', uri: missing, reason: 'cannot read file: no such file (ENOENT)' });
    expect(readImageFile(folder)).toEqual({ kind: 'skipped', uri: folder, reason: 'cannot read file: is a directory (EISDIR)' });
  });

  it('reads an empty file as an image of no bytes (decoding reports it)', async () => {
    const path = join(dir, 'empty.png');
    await writeFile(path, Buffer.alloc(0));
    const entry = readImageFile(path);
    expect(entry.kind === 'image' && entry.bytes.length).toBe(0);
  });
});
