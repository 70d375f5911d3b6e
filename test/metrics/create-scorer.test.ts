/**
 * The scoring stage end to end on real digit PNGs: pool order, corrupt and zero images reported, a warm
 * cache re-run that decodes no cached image, makes zero network passes and returns identical results
 * (per-sample, and reference mode with its basis cached), a partly warm run that scores only its
 * misses, a reference set cut to size with a warning, and worker threads that return exactly what one
 * thread returns.
 */
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { createScorer } from '../../src/metrics/index.js';
import type { ScoreEvent } from '../../src/metrics/index.js';
import { initBackend, tfl } from '../../src/model/tf-runtime.js';
import { saveLayersModelToDir } from '../../src/model/tfjs-file-io.js';
import { createDirectorySource, createPoolSource, mnistPart, writeDigitPngs } from '../../src/pool/index.js';
import { seedWeights } from '../fixtures/architectures.js';

let dir: string;
let modelDir: string;
let poolDir: string;

async function collect(iterable: AsyncIterable<ScoreEvent>): Promise<ScoreEvent[]> {
  const out: ScoreEvent[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

beforeAll(async () => {
  await initBackend('wasm');
  dir = await mkdtemp(join(tmpdir(), 'rpr-scorer-'));
  modelDir = join(dir, 'model');
  poolDir = join(dir, 'pool');
  const m = tfl.sequential();
  m.add(tfl.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, activation: 'relu' }));
  m.add(tfl.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tfl.layers.flatten());
  m.add(tfl.layers.dense({ units: 10, activation: 'softmax' }));
  await saveLayersModelToDir(seedWeights(m, 61), modelDir);
  await writeDigitPngs(poolDir, mnistPart('pool').slice(0, 150));
  await writeFile(join(poolDir, 'corrupt.png'), Buffer.from('not a png at all'));
  await sharp(Buffer.alloc(28 * 28), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(poolDir, 'zero.png'));
});

describe('createScorer', () => {
  it('scores a directory in order, reports corrupt and zero images, and a warm re-run makes no network pass', async () => {
    const cachePath = join(dir, 'cache.sqlite');
    const first = await createScorer({ modelPath: modelDir, ks: [1, 5, 10], cachePath, backend: 'wasm' });
    const cold = await collect(first.scorer(await createDirectorySource(poolDir)));
    expect(first.stats().networkPasses).toBeGreaterThan(0);
    expect(first.stats().imagesDecoded).toBe(152);
    await first.close();

    const scored = cold.filter((e) => e.kind === 'score');
    expect(scored.length).toBe(151);
    const skipped = cold.filter((e) => e.kind === 'skipped');
    expect(skipped.map((e) => (e.kind === 'skipped' ? e.skipped.uri : ''))).toEqual([join(poolDir, 'corrupt.png')]);
    const zero = scored.find((e) => e.kind === 'score' && e.result.uri.endsWith('zero.png'));
    expect(zero?.kind === 'score' && zero.result.rpr).toBeNull();
    expect(zero?.kind === 'score' && zero.result.error).toMatch(/zero image/);
    // Pool order: the directory source walks sorted names.
    const uris = cold.map((e) => (e.kind === 'score' ? e.result.uri : e.skipped.uri));
    expect(uris).toEqual([...uris].sort());

    const second = await createScorer({ modelPath: modelDir, ks: [1, 5, 10], cachePath, backend: 'wasm' });
    const warm = await collect(second.scorer(await createDirectorySource(poolDir)));
    expect(second.stats().networkPasses).toBe(0);
    expect(second.stats().cacheHits).toBe(151);
    // The corrupt file has no score to find: it is the one image decoded again, and skipped again.
    expect(second.stats().imagesDecoded).toBe(1);
    expect(warm).toEqual(cold);
    await second.close();
  });

  it('a warm re-run decodes no image and returns exactly the cold run', async () => {
    const cleanDir = join(dir, 'clean-pool');
    await writeDigitPngs(cleanDir, mnistPart('pool').slice(200, 240));
    const cachePath = join(dir, 'cache-clean.sqlite');
    const first = await createScorer({ modelPath: modelDir, ks: [1, 5, 10], cachePath, backend: 'wasm' });
    const cold = await collect(first.scorer(await createDirectorySource(cleanDir)));
    expect(first.stats().imagesDecoded).toBe(40);
    await first.close();
    const second = await createScorer({ modelPath: modelDir, ks: [1, 5, 10], cachePath, backend: 'wasm' });
    const warm = await collect(second.scorer(await createDirectorySource(cleanDir)));
    expect(second.stats()).toMatchObject({ imagesDecoded: 0, networkPasses: 0, cacheHits: 40, cacheMisses: 0 });
    await second.close();
    expect(cold.length).toBe(40);
    expect(warm).toEqual(cold);
  });

  it('a partly warm run decodes and scores only the misses, in pool order, giving what a cold run gives (2 workers, small batches)', async () => {
    const paths = (await readdir(poolDir, { recursive: true })).filter((p) => p.endsWith('.png')).map((p) => join(poolDir, p)).sort();
    expect(paths.length).toBe(152);
    const manifest = join(dir, 'every-third.txt');
    await writeFile(manifest, paths.filter((_, i) => i % 3 === 0).join('\n') + '\n');
    const cachePath = join(dir, 'cache-partial.sqlite');
    const options = { modelPath: modelDir, ks: [1, 5, 10], backend: 'wasm' as const, workers: 2, batchMemoryMB: 4 };
    const warming = await createScorer({ ...options, cachePath });
    const cached = (await collect(warming.scorer(await createPoolSource(manifest)))).filter((e) => e.kind === 'score').length;
    await warming.close();
    expect(cached).toBeGreaterThan(40);

    const plain = await createScorer(options);
    const cold = await collect(plain.scorer(await createDirectorySource(poolDir)));
    await plain.close();
    const partial = await createScorer({ ...options, cachePath });
    const mixed = await collect(partial.scorer(await createDirectorySource(poolDir)));
    expect(partial.stats()).toMatchObject({ cacheHits: cached, imagesDecoded: 152 - cached });
    await partial.close();
    expect(mixed).toEqual(cold);
  });

  it('two worker threads return exactly what one thread returns', async () => {
    const one = await createScorer({ modelPath: modelDir, ks: [1, 10], backend: 'wasm' });
    const a = await collect(one.scorer(await createDirectorySource(poolDir)));
    await one.close();
    const two = await createScorer({ modelPath: modelDir, ks: [1, 10], backend: 'wasm', workers: 2 });
    const b = await collect(two.scorer(await createDirectorySource(poolDir)));
    expect(two.stats().networkPasses).toBeGreaterThan(0);
    await two.close();
    expect(b).toEqual(a);
  });

  it('centred on a reference mean, two worker threads still return exactly what one thread returns', async () => {
    const refDir = join(dir, 'refs-centre');
    await writeDigitPngs(refDir, mnistPart('train').slice(40, 44));
    const options = { modelPath: modelDir, ks: [1, 10], backend: 'wasm' as const, center: true, referenceDir: refDir };
    const one = await createScorer(options);
    const a = await collect(one.scorer(await createDirectorySource(poolDir)));
    await one.close();
    const two = await createScorer({ ...options, workers: 2 });
    const b = await collect(two.scorer(await createDirectorySource(poolDir)));
    await two.close();
    expect(b).toEqual(a);
    const plain = await createScorer({ modelPath: modelDir, ks: [1, 10], backend: 'wasm' });
    const c = await collect(plain.scorer(await createDirectorySource(poolDir)));
    await plain.close();
    expect(c).not.toEqual(a);
  });

  it('reference mode: a warm re-run takes the basis from the cache (zero network passes, identical results); another reference set does not', async () => {
    const refDir = join(dir, 'refs-cached');
    await writeDigitPngs(refDir, mnistPart('train').slice(0, 12));
    const cachePath = join(dir, 'reference-cache.sqlite');
    const open = (referenceDir: string) => createScorer({ modelPath: modelDir, mode: 'reference', referenceDir, ks: [1, 10], cachePath, backend: 'wasm' });
    const first = await open(refDir);
    expect(first.stats().networkPasses).toBeGreaterThan(0);
    expect(first.referenceSet).toMatchObject({ images: 12, truncated: false, basisFromCache: false });
    const cold = await collect(first.scorer(await createDirectorySource(poolDir)));
    await first.close();

    const second = await open(refDir);
    const warm = await collect(second.scorer(await createDirectorySource(poolDir)));
    expect(second.stats().networkPasses).toBe(0);
    expect(second.referenceSet?.basisFromCache).toBe(true);
    expect(second.reference?.digest).toBe(first.reference?.digest);
    expect(warm).toEqual(cold);
    await second.close();

    // One more reference image is another set: its basis is built, not served.
    await writeDigitPngs(refDir, mnistPart('train').slice(12, 13));
    const third = await open(refDir);
    expect(third.stats().networkPasses).toBeGreaterThan(0);
    expect(third.referenceSet).toMatchObject({ images: 13, basisFromCache: false });
    await third.close();
  });

  it('reference mode follows svd: lanczos reports its convergence, scores within 1e-3 of the exact basis, and each method caches its own basis', async () => {
    const refDir = join(dir, 'refs-methods');
    await writeDigitPngs(refDir, mnistPart('train').slice(60, 100));
    const cachePath = join(dir, 'reference-methods.sqlite');
    const open = (svd: 'exact' | 'lanczos' | 'randomized', extra: { powerIterations?: number } = {}) =>
      createScorer({ modelPath: modelDir, mode: 'reference', referenceDir: refDir, ks: [1, 10], cachePath, backend: 'wasm', svd, ...extra });
    const exact = await open('exact');
    expect(exact.referenceSet).toMatchObject({ method: 'exact', convergence: null, basisFromCache: false });
    const exactScores = await collect(exact.scorer(await createDirectorySource(poolDir)));
    await exact.close();

    const lanczos = await open('lanczos');
    expect(lanczos.referenceSet).toMatchObject({ method: 'lanczos', basisFromCache: false, convergence: { converged: true, tol: 1e-5 } });
    expect(lanczos.referenceSet?.convergence?.passes).toBeGreaterThan(1);
    expect(lanczos.warnings).toEqual([]);
    const lanczosScores = await collect(lanczos.scorer(await createDirectorySource(poolDir)));
    await lanczos.close();
    lanczosScores.forEach((e, i) => {
      const x = exactScores[i]!;
      if (e.kind !== 'score' || x.kind !== 'score' || e.result.rpr === null) return;
      for (const k of ['1', '10']) expect(Math.abs(e.result.rpr[k]! - x.result.rpr![k]!)).toBeLessThan(1e-3);
    });

    const again = await open('lanczos');
    expect(again.referenceSet).toMatchObject({ method: 'lanczos', basisFromCache: true, convergence: lanczos.referenceSet?.convergence });
    expect(again.stats().networkPasses).toBe(0);
    await again.close();

    // Subspace iteration with no power iteration does not converge on these flat spectra: a warning says so.
    const rough = await open('randomized', { powerIterations: 0 });
    expect(rough.referenceSet).toMatchObject({ method: 'randomized', convergence: { converged: false, passes: 1 } });
    expect(rough.warnings).toEqual([expect.stringMatching(/^the reference basis \(randomized, 1 passes over 40 images\) did not converge: .*set scoring\.svd \(--svd\) to lanczos or auto/)]);
    await rough.close();
  });

  it('a reference set larger than the limit is cut to its first images in source order, with a warning', async () => {
    const refDir = join(dir, 'refs-large');
    const firstFive = join(dir, 'refs-first-five');
    const digits = mnistPart('train').slice(20, 28);
    await writeDigitPngs(refDir, digits);
    await writeDigitPngs(firstFive, digits.slice(0, 5));
    const cut = await createScorer({ modelPath: modelDir, mode: 'reference', referenceDir: refDir, referenceLimit: 5, ks: [10], backend: 'wasm' });
    const whole = await createScorer({ modelPath: modelDir, mode: 'reference', referenceDir: firstFive, ks: [10], backend: 'wasm' });
    expect(cut.warnings).toEqual([expect.stringMatching(/refs-large has more than 5 usable images.*first 5/)]);
    expect(cut.referenceSet).toMatchObject({ images: 5, limit: 5, truncated: true });
    expect(whole.warnings).toEqual([]);
    expect(whole.referenceSet).toMatchObject({ images: 5, truncated: false });
    expect(cut.reference?.digest).toBe(whole.reference?.digest);
    await cut.close();
    await whole.close();
  });

  it('reference mode scores with no network pass per pool image and gives no predicted class', async () => {
    const refDir = join(dir, 'refs');
    await writeDigitPngs(refDir, mnistPart('train').slice(0, 20));
    const s = await createScorer({ modelPath: modelDir, mode: 'reference', referenceDir: refDir, ks: [1, 10], backend: 'wasm' });
    const passesAfterBasis = s.stats().networkPasses;
    const events = await collect(s.scorer(await createDirectorySource(poolDir)));
    expect(s.stats().networkPasses).toBe(passesAfterBasis);
    const r = events.find((e) => e.kind === 'score' && e.result.rpr !== null);
    expect(r?.kind === 'score' && r.result.predicted).toBeNull();
    expect(s.reference?.rank).toBe(10);
    await s.close();
  });
});
