import { readdir, readFile, rm, stat, mkdtemp, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { ensureDemoPool } from './demo-pool.js';
import { mnistPart } from './mnist-digits.js';

describe('ensureDemoPool', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rpr-demo-pool-'));
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it('writes the MNIST pool digits as 8-bit gray PNGs in folders of at most 1,000, once', async () => {
    const dir = join(root, 'pool');
    const count = 1100;
    expect(await ensureDemoPool(dir, { count })).toBe(dir);
    const pool = mnistPart('pool').slice(0, count);
    expect((await readdir(dir)).filter((name) => !name.startsWith('.')).sort()).toEqual(['0000', '0001']);
    const first = (await readdir(join(dir, '0000'))).sort();
    const second = await readdir(join(dir, '0001'));
    expect(first).toHaveLength(1000);
    expect(second).toHaveLength(100);
    const expectedNames = pool.map((d) => `digit-${d.index}-label-${d.label}.png`);
    expect([...first, ...second].sort()).toEqual([...expectedNames].sort());

    for (const position of [0, 999, 1000, 1099]) {
      const digit = pool[position];
      if (digit === undefined) throw new Error('no digit');
      const file = join(dir, position < 1000 ? '0000' : '0001', `digit-${digit.index}-label-${digit.label}.png`);
      const { data, info } = await sharp(await readFile(file)).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
      expect(info).toMatchObject({ width: 28, height: 28, channels: 1 });
      const worst = Math.max(...Array.from(data, (v, i) => Math.abs(v / 255 - (digit.pixels[i] as number))));
      expect(worst).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
      expect((await sharp(await readFile(file)).metadata()).depth).toBe('uchar');
    }

    const probe = join(dir, '0001', expectedNames[1050] as string);
    const before = (await stat(probe)).mtimeMs;
    await ensureDemoPool(dir, { count });
    expect((await stat(probe)).mtimeMs).toBe(before);
  });

  it('redoes an interrupted write (no completion marker), restoring missing files', async () => {
    const dir = join(root, 'interrupted');
    await ensureDemoPool(dir, { count: 20 });
    const sub = join(dir, '0000');
    const [victim] = (await readdir(sub)).sort();
    await unlink(join(sub, victim as string));
    await unlink(join(dir, '.rpr-demo-pool.json'));
    await ensureDemoPool(dir, { count: 20 });
    expect(await readdir(sub)).toHaveLength(20);
    expect((await readdir(sub)).includes(victim as string)).toBe(true);
  });

  it('rejects a count outside the pool', async () => {
    await expect(ensureDemoPool(join(root, 'bad'), { count: 0 })).rejects.toMatchObject({ code: 'RPR_USAGE' });
    await expect(ensureDemoPool(join(root, 'bad'), { count: 6001 })).rejects.toMatchObject({
      code: 'RPR_USAGE',
      message: expect.stringContaining('6000'),
    });
  });
});
