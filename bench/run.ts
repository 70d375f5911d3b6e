/**
 * `npm run bench`: throughput of the scoring paths on the bundled model, side by side in one run on one
 * backend: the forward pass (the floor for anything that runs the network), exact per-sample RPR, and
 * reference-mode RPR (one projection, no network pass). Writes bench/results.json and bench/results.md.
 */
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { buildReferenceBasis, perSampleBatchSize, rightProjectionRatios, scorePerSample } from '../src/metrics/index.js';
import { loadModel } from '../src/model/load-model.js';
import { mnistPart } from '../src/pool/mnist-digits.js';
import type { Sample } from '../src/pool/types.js';
import { bundledModelPath, packageRoot } from '../src/util/package-root.js';

interface BenchCase {
  readonly case: string;
  readonly model: string;
  readonly poolSize: number;
  readonly workers: number;
  readonly imagesPerSecond: number;
  readonly peakRssMB: number;
  readonly backend: string;
}

let peakRss = 0;
const sampleRss = () => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

async function timed(run: () => Promise<void>): Promise<number> {
  peakRss = 0;
  const timer = setInterval(sampleRss, 50);
  const start = process.hrtime.bigint();
  await run();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  clearInterval(timer);
  sampleRss();
  return seconds;
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const loaded = await loadModel(bundledModelPath());
  const ex = loaded.executor;
  const digits = mnistPart('pool');
  const poolSize = quick ? 256 : 2048;
  const samples: Sample[] = digits.slice(0, poolSize).map((d) => ({ id: String(d.index), uri: String(d.index), pixels: d.pixels }));
  const n = 784;
  const cases: BenchCase[] = [];
  const record = (name: string, count: number, seconds: number) => {
    cases.push({
      case: name,
      model: 'mnist-cnn',
      poolSize: count,
      workers: 1,
      imagesPerSecond: count / seconds,
      peakRssMB: peakRss / 2 ** 20,
      backend: loaded.backend,
    });
    process.stderr.write(`${name}: ${(count / seconds).toFixed(1)} images/s\n`);
  };

  const images = new Float32Array(samples.length * n);
  samples.forEach((s, i) => images.set(s.pixels, i * n));
  const fwdBatch = 256;
  await ex.forward(images.subarray(0, fwdBatch * n), fwdBatch);
  record(
    'forward',
    samples.length,
    await timed(async () => {
      for (let i = 0; i < samples.length; i += fwdBatch) {
        const count = Math.min(fwdBatch, samples.length - i);
        await ex.forward(images.subarray(i * n, (i + count) * n), count);
      }
    }),
  );

  const batch = perSampleBatchSize(ex);
  const ks = [1, 5, 10];
  record(
    'exact-rpr',
    samples.length,
    await timed(async () => {
      for (let i = 0; i < samples.length; i += batch) await scorePerSample(ex, samples.slice(i, i + batch), { ks, svd: 'exact' });
    }),
  );

  const refs = mnistPart('train')
    .slice(0, 200)
    .map((d) => ({ id: String(d.index), uri: String(d.index), pixels: d.pixels }));
  const basis = await buildReferenceBasis(ex, refs, 10);
  const refPool = digits.map((d) => d.pixels);
  record(
    'reference-rpr',
    refPool.length,
    await timed(async () => {
      for (const x of refPool) rightProjectionRatios(basis.v, basis.rank, x, ks);
    }),
  );

  const m = ex.ir.outputSize;
  const fwd = cases.find((c) => c.case === 'forward')!.imagesPerSecond;
  const exact = cases.find((c) => c.case === 'exact-rpr')!.imagesPerSecond;
  const results = {
    machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version },
    date: new Date().toISOString(),
    cases,
    ratios: {
      outputs: m,
      exactVsForward: exact / fwd,
      /** Cost of exact RPR in units of m forward passes: 1 is the floor, the target is ≤ 2. */
      exactCostInMForwardPasses: fwd / m / exact,
    },
  };
  const dir = join(packageRoot(), 'bench');
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  const rows = cases.map((c) => `| ${c.case} | ${c.model} | ${c.poolSize} | ${c.workers} | ${c.imagesPerSecond.toFixed(1)} | ${c.peakRssMB.toFixed(0)} | ${c.backend} |`);
  const md = [
    `Machine: ${results.machine.cpus} × ${results.machine.model}, Node ${results.machine.node}, ${results.date}`,
    '',
    '| case | model | images | workers | images/s | peak RSS MB | backend |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Exact per-sample RPR costs ${results.ratios.exactCostInMForwardPasses.toFixed(2)}× the time of m = ${m} forward passes (target ≤ 2).`,
  ].join('\n');
  writeFileSync(join(dir, 'results.md'), md + '\n');
  process.stdout.write(md + '\n');
  ex.dispose();
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
