/**
 * `rpr-select score` in-process with the real scorer and the bundled model: the documented line shape,
 * errors per image, the summary, --quiet, --help, the one-line errors of bad flags and inputs, the
 * configuration file (validated, applied, overridden by flags), mean-centred RPR and reference mode
 * checked against dense tf.grad Jacobians (test/e2e/helpers/dense-rpr.ts), the reference basis taken
 * from the cache on a warm re-run, and `predicted` null for an image output.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import sharp from 'sharp';
import { runCliInProcess } from '../../src/cli/testing/in-process-cli.js';
import { initBackend } from '../../src/model/tf-runtime.js';
import { saveLayersModelToDir } from '../../src/model/tfjs-file-io.js';
import { mnistPart, writeDigitPngs } from '../../src/pool/index.js';
import { bundledModelPath } from '../../src/util/package-root.js';
import { denseJacobian, denseRpr, grayPixels, loadLogitModel } from '../e2e/helpers/dense-rpr.js';
import { ARCHITECTURES } from '../fixtures/architectures.js';

const cli = (cwd: string, argv: string[]) => runCliInProcess(cwd, argv);

interface Line {
  readonly id: string;
  readonly uri: string;
  readonly rpr?: Readonly<Record<string, number>>;
  readonly sigma?: readonly number[] | null;
  readonly predicted?: number | null;
  readonly error?: string;
}

const KS = [1, 5, 10];
let pool: string;
/** Six training digits: the reference set of reference mode and centring. */
let reference: string;
beforeAll(async () => {
  pool = mkdtempSync(join(tmpdir(), 'rpr-score-pool-'));
  await writeDigitPngs(pool, mnistPart('pool').slice(0, 24));
  writeFileSync(join(pool, 'broken.png'), 'definitely not an image');
  await sharp(Buffer.alloc(28 * 28), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(pool, 'zero.png'));
  reference = mkdtempSync(join(tmpdir(), 'rpr-score-reference-'));
  await writeDigitPngs(reference, mnistPart('train').slice(0, 6));
});

function readLines(path: string): Line[] {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Line);
}

/** Every PNG under a directory, in sorted order. */
function pngsUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.png'))
    .sort()
    .map((f) => join(dir, f));
}

/** The mean of the reference images, decoded and scaled here. */
async function referenceMean(): Promise<Float64Array> {
  const images = await Promise.all(pngsUnder(reference).map((f) => grayPixels(f, 1 / 255)));
  return Float64Array.from(images[0]!, (_, i) => images.reduce((sum, x) => sum + x[i]!, 0) / images.length);
}

/** The first `count` scored lines, each with its image decoded here. */
async function scoredWithPixels(lines: readonly Line[], count: number): Promise<{ line: Line; x: Float64Array }[]> {
  const scored = lines.filter((l) => l.rpr !== undefined).slice(0, count);
  return Promise.all(scored.map(async (line) => ({ line, x: await grayPixels(line.uri, 1 / 255) })));
}

function expectRprNear(line: Line, expected: ReadonlyMap<number, number>): void {
  for (const k of KS) expect(Math.abs(line.rpr![String(k)]! - expected.get(k)!)).toBeLessThan(1e-5);
}

describe('rpr-select score', () => {
  it('writes one line per image in the documented shape, errors in place of rpr', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const run = await cli(cwd, ['score', '--pool', pool, '--k', '1,5,10', '--out', 'scores.jsonl', '--json', '--workers', '1']);
    expect(run.code).toBe(0);
    const lines = readFileSync(join(cwd, 'scores.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(26);
    const good = lines.filter((l) => 'rpr' in l);
    expect(good).toHaveLength(24);
    for (const l of good) {
      expect(Object.keys(l).sort()).toEqual(['id', 'predicted', 'rpr', 'sigma', 'uri']);
      expect(l['id']).toMatch(/^[0-9a-f]{64}$/);
      const rpr = l['rpr'] as Record<string, number>;
      expect(Object.keys(rpr)).toEqual(['1', '5', '10']);
      expect(rpr['1']!).toBeLessThanOrEqual(rpr['5']! + 1e-12);
      expect(rpr['5']!).toBeLessThanOrEqual(rpr['10']! + 1e-12);
      expect((l['sigma'] as number[]).length).toBe(10);
      expect(Number.isInteger(l['predicted'])).toBe(true);
    }
    const broken = lines.find((l) => String(l['uri']).endsWith('broken.png'))!;
    expect(broken['error']).toMatch(/decode/);
    expect('rpr' in broken).toBe(false);
    const zero = lines.find((l) => String(l['uri']).endsWith('zero.png'))!;
    expect(zero['error']).toMatch(/zero image/);
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ scored: 24, errors: 2, mode: 'per-sample', k: [1, 5, 10] });
    expect(String(summary['backend'])).toMatch(/^tfjs-/);

    // A warm re-run comes from the cache: no network pass, the same lines.
    const again = await cli(cwd, ['score', '--pool', pool, '--out', 'again.jsonl', '--json', '--workers', '1']);
    expect(JSON.parse(again.stdout)).toMatchObject({ networkPasses: 0, cacheHits: 25 });
    expect(readFileSync(join(cwd, 'again.jsonl'), 'utf8')).toBe(readFileSync(join(cwd, 'scores.jsonl'), 'utf8'));
  });

  it('--quiet prints nothing on stderr; without --out the lines go to stdout', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const run = await cli(cwd, ['score', '--pool', pool, '--quiet', '--no-cache', '--workers', '1']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(26);
  });

  it('--help documents every flag, the ranks as --k 1,5,10', async () => {
    const run = await cli(mkdtempSync(join(tmpdir(), 'rpr-score-')), ['score', '--help']);
    expect(run.code).toBe(0);
    const flags = ['config', 'model', 'pool', 'mode', 'reference', 'svd', 'out', 'json', 'quiet', 'engine', 'backend', 'cache', 'workers', 'center', 'squared', 'complement', 'keep-final-activation'];
    // An option line starts with the flag itself, so '--k' inside '--keep-final-activation' cannot pass for it.
    for (const flag of flags) expect(run.stdout).toMatch(new RegExp(`^\\s+(-\\w, )?--${flag}\\s`, 'm'));
    // yargs prints a one-letter option as -k; its line says how the issue writes it.
    expect(run.stdout).toMatch(/^\s+-k\s+Ranks k of RPR_k.*--k 1,5,10/m);
  });

  it('--k sets the ranks of every line', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const run = await cli(cwd, ['score', '--pool', pool, '--k', '2,3', '--no-cache', '--workers', '1', '--out', 'k.jsonl', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ k: [2, 3] });
    for (const line of readLines(join(cwd, 'k.jsonl')).filter((l) => l.rpr)) expect(Object.keys(line.rpr!)).toEqual(['2', '3']);
  });

  it.each([
    [['--k', '0,5'], /--k \(scoring\.ks\)/],
    [['--center'], /--reference/],
    [['--mode', 'sideways'], /--mode \(scoring\.mode\)/],
    [['--model', '/nonexistent/model'], /nonexistent/],
    [['--mode', 'reference'], /--reference/],
    [['--pool', '/nonexistent/pool'], /nonexistent/],
  ])('bad input %j is one line and exit 2', async (extra, message) => {
    const run = await cli(mkdtempSync(join(tmpdir(), 'rpr-score-')), ['score', '--pool', pool, '--no-cache', ...extra]);
    expect(`${run.code} ${run.stderr}`).toMatch(/^2 /);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('rpr-select score --config', () => {
  it('an unknown key exits 2 with one line naming the key and the file', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    writeFileSync(join(cwd, 'bad.yaml'), 'scoring:\n  ks: [1]\n  bogus: 3\n');
    const run = await cli(cwd, ['score', '--config', 'bad.yaml', '--pool', pool, '--no-cache']);
    expect(run.code).toBe(2);
    expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/bad\.yaml.*scoring\.bogus/);
    expect(run.stdout).toBe('');
  });

  it('applies its preprocessing: each RPR is the dense one of the image scaled and mean-shifted by hand', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    writeFileSync(join(cwd, 'shifted.yaml'), 'preprocessing:\n  mean: [0.5]\n');
    const shifted = await cli(cwd, ['score', '--config', 'shifted.yaml', '--pool', pool, '--no-cache', '--workers', '1', '--out', 'shifted.jsonl']);
    const plain = await cli(cwd, ['score', '--pool', pool, '--no-cache', '--workers', '1', '--out', 'plain.jsonl']);
    expect([shifted.code, plain.code]).toEqual([0, 0]);
    const model = await loadLogitModel(bundledModelPath());
    const plainLines = readLines(join(cwd, 'plain.jsonl'));
    for (const { line, x } of await scoredWithPixels(readLines(join(cwd, 'shifted.jsonl')), 4)) {
      const input = x.map((v) => v - 0.5);
      await initBackend('cpu');
      expectRprNear(line, denseRpr(model, input, [28, 28, 1], KS));
      // The shift matters: the default [0, 1] input scores differently, as its own dense RPR says.
      const before = plainLines.find((l) => l.id === line.id)!;
      expectRprNear(before, denseRpr(model, x, [28, 28, 1], KS));
      expect(Math.abs(before.rpr!['10']! - line.rpr!['10']!)).toBeGreaterThan(1e-3);
    }
  });

  it('applies its model, scoring and cache keys (paths relative to the file); flags override them', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    mkdirSync(join(cwd, 'conf'));
    writeFileSync(
      join(cwd, 'conf', 'rpr.yaml'),
      'model:\n  engine: tfjs\n  backend: cpu\n  workers: 1\nscoring:\n  ks: [2, 3]\n  svd: exact\ncache:\n  path: my-cache.sqlite\n',
    );
    // The six reference digits as the pool: the cpu backend is slow.
    const configured = await cli(cwd, ['score', '--config', 'conf/rpr.yaml', '--pool', reference, '--out', 'a.jsonl', '--json']);
    expect(configured.code).toBe(0);
    expect(JSON.parse(configured.stdout)).toMatchObject({ backend: 'tfjs-cpu', k: [2, 3], config: join(cwd, 'conf', 'rpr.yaml') });
    expect(Object.keys(readLines(join(cwd, 'a.jsonl')).find((l) => l.rpr)!.rpr!)).toEqual(['2', '3']);
    expect(existsSync(join(cwd, 'conf', 'my-cache.sqlite'))).toBe(true);
    expect(existsSync(join(cwd, '.rpr-select', 'cache.sqlite'))).toBe(false);

    const overridden = await cli(cwd, ['score', '--config', 'conf/rpr.yaml', '--pool', reference, '--k', '1', '--backend', 'wasm', '--no-cache', '--out', 'b.jsonl', '--json']);
    expect(overridden.code).toBe(0);
    expect(JSON.parse(overridden.stdout)).toMatchObject({ backend: 'tfjs-wasm', k: [1], cacheHits: 0 });
  });
});

describe('mean-centred RPR (--center)', () => {
  it('per-sample: RPR_k of x − x̄ on the right singular vectors of A[x], x̄ the reference images\' mean', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const run = await cli(cwd, ['score', '--pool', pool, '--center', '--reference', reference, '--no-cache', '--workers', '1', '--out', 'c.jsonl', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ center: true, reference: { images: 6, limit: null, truncated: false, basisFromCache: null } });
    const mean = await referenceMean();
    const model = await loadLogitModel(bundledModelPath());
    for (const { line, x } of await scoredWithPixels(readLines(join(cwd, 'c.jsonl')), 4)) {
      await initBackend('cpu');
      expectRprNear(line, denseRpr(model, x, [28, 28, 1], KS, x.map((v, i) => v - mean[i]!)));
    }
  });

  it('reference mode: x − x̄ projected on the top right singular vectors of the stacked reference Jacobians', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const run = await cli(cwd, ['score', '--pool', pool, '--mode', 'reference', '--center', '--reference', reference, '--no-cache', '--out', 'r.jsonl']);
    expect(run.code).toBe(0);
    const mean = await referenceMean();
    const model = await loadLogitModel(bundledModelPath());
    await initBackend('cpu');
    const blocks = await Promise.all(pngsUnder(reference).map(async (f) => denseJacobian(model, await grayPixels(f, 1 / 255), [28, 28, 1])));
    const stacked = new Matrix(blocks.flatMap((b) => b.to2DArray()));
    const v = new SingularValueDecomposition(stacked, { autoTranspose: true }).rightSingularVectors;
    for (const { line, x } of await scoredWithPixels(readLines(join(cwd, 'r.jsonl')), 4)) {
      const p = x.map((xi, i) => xi - mean[i]!);
      const norm = Math.hypot(...p);
      const coords = Array.from({ length: 10 }, (_, j) => p.reduce((sum, pi, i) => sum + v.get(i, j) * pi, 0));
      const dense = new Map(KS.map((k) => [k, Math.hypot(...coords.slice(0, k)) / norm]));
      expectRprNear(line, dense);
      expect(line.predicted).toBeNull();
    }
  });

  it('is part of the cache key: centred scores are computed, not served from the uncentred ones, then cached', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const base = ['score', '--pool', pool, '--workers', '1', '--json'];
    const plain = await cli(cwd, [...base, '--out', 'plain.jsonl']);
    const centred = await cli(cwd, [...base, '--center', '--reference', reference, '--out', 'centred.jsonl']);
    const again = await cli(cwd, [...base, '--center', '--reference', reference, '--out', 'again.jsonl']);
    expect([plain.code, centred.code, again.code]).toEqual([0, 0, 0]);
    expect(JSON.parse(centred.stdout)).toMatchObject({ cacheHits: 0 });
    expect(JSON.parse(centred.stdout).networkPasses).toBeGreaterThan(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ cacheHits: 25, networkPasses: 0 });
    expect(readFileSync(join(cwd, 'again.jsonl'), 'utf8')).toBe(readFileSync(join(cwd, 'centred.jsonl'), 'utf8'));
    const byId = new Map(readLines(join(cwd, 'plain.jsonl')).map((l) => [l.id, l]));
    const changed = readLines(join(cwd, 'centred.jsonl')).filter((l) => l.rpr && Math.abs(l.rpr['10']! - byId.get(l.id)!.rpr!['10']!) > 1e-3);
    expect(changed.length).toBeGreaterThan(20);
  });
});

describe('reference mode', () => {
  it('a warm re-run takes the basis and the scores from the cache: zero network passes, identical lines', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const args = ['score', '--pool', pool, '--mode', 'reference', '--reference', reference, '--json'];
    const cold = await cli(cwd, [...args, '--out', 'cold.jsonl']);
    const warm = await cli(cwd, [...args, '--out', 'warm.jsonl']);
    expect([cold.code, warm.code]).toEqual([0, 0]);
    expect(JSON.parse(cold.stdout).networkPasses).toBeGreaterThan(0);
    expect(JSON.parse(cold.stdout).reference).toEqual({
      source: reference,
      images: 6,
      limit: expect.any(Number),
      truncated: false,
      basisFromCache: false,
      method: 'exact',
      convergence: null,
    });
    expect(JSON.parse(warm.stdout)).toMatchObject({ networkPasses: 0, cacheHits: 25, reference: { basisFromCache: true } });
    expect(readFileSync(join(cwd, 'warm.jsonl'), 'utf8')).toBe(readFileSync(join(cwd, 'cold.jsonl'), 'utf8'));
  });

  it('--svd picks how the basis is computed: lanczos puts its method and convergence in the --json summary', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const run = await cli(cwd, ['score', '--pool', pool, '--mode', 'reference', '--reference', reference, '--svd', 'lanczos', '--no-cache', '--json', '--out', 'l.jsonl']);
    expect(run.code).toBe(0);
    const { reference: summary } = JSON.parse(run.stdout) as { reference: { method: string; convergence: { converged: boolean; passes: number; residuals: number[]; tol: number } } };
    expect(summary.method).toBe('lanczos');
    expect(summary.convergence).toMatchObject({ converged: true, tol: 1e-5 });
    expect(summary.convergence.residuals).toHaveLength(10);
    expect(summary.convergence.passes).toBeGreaterThanOrEqual(1);
  });
});

describe('predicted', () => {
  it('is null for a model whose output is an image (segmentation)', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const segmenter = join(cwd, 'segmenter');
    await saveLayersModelToDir(ARCHITECTURES.find((a) => a.imageOutput)!.build(), segmenter);
    const run = await cli(cwd, ['score', '--model', segmenter, '--pool', pool, '--no-cache', '--workers', '1', '--out', 'seg.jsonl']);
    expect(run.code).toBe(0);
    const lines = readLines(join(cwd, 'seg.jsonl')).filter((l) => l.rpr);
    expect(lines).toHaveLength(24);
    for (const line of lines) expect(line.predicted).toBeNull();
  });
});
