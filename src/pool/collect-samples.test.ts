import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectSamples } from './collect-samples.js';
import { createPoolSource, resolvePoolSpec } from './create-pool-source.js';
import { writeDigitPngs } from './demo-pool.js';
import { mnistPart } from './mnist-digits.js';
import { defaultPreprocessing } from './preprocess.js';
import { sampleId } from './sample-id.js';

const pre = defaultPreprocessing([28, 28, 1]);

describe('collectSamples', () => {
  let dir: string;
  let paths: string[];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rpr-collect-'));
    paths = await writeDigitPngs(dir, mnistPart('pool').slice(0, 5));
    // Sorts first in the directory walk: met before any digit.
    await writeFile(join(dir, '0000', 'aaa-broken.png'), 'not an image');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('stops at the limit, in pool order, and lists what it skipped on the way', async () => {
    const { samples, skipped } = await collectSamples(await createPoolSource(dir), pre, 3);
    expect(samples.map((s) => s.uri)).toEqual(paths.slice(0, 3));
    expect(samples[0]!.pixels).toHaveLength(784);
    expect(skipped.map((s) => s.uri)).toEqual([join(dir, '0000', 'aaa-broken.png')]);
  });

  it('reads the whole pool when it is smaller than the limit; the ids are the content hashes', async () => {
    const { samples } = await collectSamples(await createPoolSource(dir), pre, 100);
    expect(samples).toHaveLength(5);
    expect(samples[4]!.id).toBe(sampleId(await readFile(paths[4]!)));
    expect((await collectSamples(await createPoolSource(dir), pre, 0)).samples).toEqual([]);
  });
});

describe('resolvePoolSpec', () => {
  it('makes paths absolute and leaves specs with a kind or scheme as written', () => {
    expect(resolvePoolSpec('/work', 'images')).toBe('/work/images');
    expect(resolvePoolSpec('/work', '/abs/list.txt')).toBe('/abs/list.txt');
    for (const spec of ['label-studio:12', 'manifest:list.txt', 'https://example.com/list.txt']) expect(resolvePoolSpec('/work', spec)).toBe(spec);
  });
});
