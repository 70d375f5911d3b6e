/**
 * `npm run bench [-- --quick]`: what scoring costs, side by side in one run on one backend, for the demo
 * model and a ~1M-parameter 64×64×3 CNN: decode only, forward pass only (the floor for anything that runs
 * the network), entropy scoring, exact per-sample RPR, reference-mode RPR (no network pass) and a
 * warm-cache re-run; pools of 10k, 100k and 1M images (1M in reference mode); 1 and 2 worker threads;
 * then the PyTorch peer (bench/peer/) on the same weights and images. Each case runs in a fresh child
 * process, so its peak RSS is its own. Writes bench/results.json and bench/results.md.
 *
 * Cases that run the network stream until the pool ends or a time cap passes (the throughput is
 * measured on what streamed; `images` says how many): a 100k-image exact-RPR pass would take hours here.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ENGINE_CHOICES, isEngineChoice, type EngineChoice } from '../src/model/load-model.js';
import { writeDigitPngs } from '../src/pool/demo-pool.js';
import { mnistPart } from '../src/pool/mnist-digits.js';
import { bundledModelPath, packageRoot } from '../src/util/package-root.js';
import { runCase, type CaseName, type CaseOutcome, type CaseSpec } from './bench-case.js';
import { LARGE_CNN_NAME, saveLargeCnn } from './large-cnn.js';
import { comparePeer, peerPython, type PeerComparison } from './peer-compare.js';
import { rgbBases } from './synthetic-pool.js';

const run = promisify(execFile);
const SELF = fileURLToPath(import.meta.url);
const RESULT_TAG = 'BENCH-CASE ';

interface BenchCase {
  readonly case: string;
  readonly model: string;
  readonly poolSize: number;
  readonly workers: number;
  readonly imagesPerSecond: number;
  readonly peakRssMB: number;
  readonly backend: string;
  /** Images actually timed (fewer than poolSize when the time cap stopped the stream). */
  readonly images: number;
  readonly seconds: number;
  readonly setupSeconds: number;
  /** 1-minute load average when the case ended: other work on this shared machine slows every case. */
  readonly loadAverage: number;
  readonly coldImagesPerSecond?: number;
}

interface ModelUnderTest {
  readonly name: string;
  readonly path: string;
  readonly referenceDir: string;
  /** Whether the 1M-image reference pool runs for it (the 28×28 target is about this model). */
  readonly million: boolean;
}

interface Plan {
  readonly quick: boolean;
  readonly engine: EngineChoice;
  readonly sizes: { readonly small: number; readonly large: number; readonly million: number };
  readonly capSeconds: number;
  readonly peerImages: number;
}

function plan(quick: boolean, engine: EngineChoice): Plan {
  return quick
    ? { quick, engine, sizes: { small: 500, large: 2000, million: 0 }, capSeconds: 6, peerImages: 32 }
    : { quick, engine, sizes: { small: 10_000, large: 100_000, million: 1_000_000 }, capSeconds: 20, peerImages: 256 };
}

function caseList(models: readonly ModelUnderTest[], p: Plan, workDir: string): CaseSpec[] {
  const { small, large, million } = p.sizes;
  const cap = p.capSeconds;
  return models.flatMap((m) => {
    const spec = (name: CaseName, poolSize: number, workers: number, capSeconds: number | null = cap): CaseSpec => ({
      case: name,
      model: m.name,
      modelPath: m.path,
      engine: p.engine,
      poolSize,
      workers,
      capSeconds,
      referenceDir: m.referenceDir,
      cachePath: join(workDir, `cache-${m.name}-${workers}.sqlite`),
    });
    return [
      spec('decode', small, 1, null),
      spec('decode', large, 1, null),
      spec('forward', small, 1),
      spec('entropy', small, 1),
      spec('exact-rpr', small, 1),
      spec('exact-rpr', small, 2),
      spec('reference-rpr', small, 1, null),
      spec('reference-rpr', large, 1, null),
      ...(m.million && million > 0 ? [spec('reference-rpr', million, 1, null)] : []),
      spec('warm-cache', small, 1),
      spec('warm-cache', small, 2),
    ];
  });
}

async function inChild(spec: CaseSpec): Promise<CaseOutcome> {
  const { stdout } = await run(process.execPath, ['--no-warnings', SELF, '--case', JSON.stringify(spec)], {
    maxBuffer: 1 << 24,
    timeout: 3_600_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith(RESULT_TAG));
  if (line === undefined) throw new Error(`case ${spec.case} (${spec.model}, ${spec.poolSize}) printed no result`);
  return JSON.parse(line.slice(RESULT_TAG.length)) as CaseOutcome;
}

async function prepareModels(workDir: string, p: Plan): Promise<{ models: ModelUnderTest[]; largeParams: number }> {
  const demoRefs = join(workDir, 'reference-mnist');
  await writeDigitPngs(demoRefs, mnistPart('train').slice(0, 200));
  const largePath = join(workDir, LARGE_CNN_NAME);
  const largeParams = await saveLargeCnn(largePath);
  const largeRefs = join(workDir, 'reference-rgb');
  await mkdir(largeRefs, { recursive: true });
  // 64×64×3 = 12,288 inputs × 10 outputs per image: 150 images keep the reference SVD's matrix small.
  const rgb = await rgbBases(p.quick ? 20 : 150);
  await Promise.all(rgb.map((png, i) => writeFile(join(largeRefs, `ref-${i}.png`), png)));
  return {
    models: [
      { name: 'mnist-cnn', path: bundledModelPath(), referenceDir: demoRefs, million: true },
      { name: LARGE_CNN_NAME, path: largePath, referenceDir: largeRefs, million: false },
    ],
    largeParams,
  };
}

function find(cases: readonly BenchCase[], name: string, model: string, workers = 1, poolSize?: number): BenchCase | undefined {
  return cases.find((c) => c.case === name && c.model === model && c.workers === workers && (poolSize === undefined || c.poolSize === poolSize));
}

function targetLines(cases: readonly BenchCase[], peer: PeerComparison | null, outputs: number, million: number): string[] {
  const lines: string[] = [];
  const check = (ok: boolean, text: string) => lines.push(`- ${ok ? 'met' : '**missed**'}: ${text}`);
  const model = 'mnist-cnn';
  const fwd = find(cases, 'forward', model);
  const exact = find(cases, 'exact-rpr', model);
  const entropy = find(cases, 'entropy', model);
  const ref = find(cases, 'reference-rpr', model, 1, 10_000) ?? find(cases, 'reference-rpr', model);
  if (peer) {
    const r = peer.ratio.rprSelectPerSecond / peer.ratio.pytorchPerSecond;
    check(r >= 1, `exact per-sample RPR ≥ 1.0× the PyTorch peer: ${r.toFixed(2)}× (${peer.ratio.rprSelectPerSecond.toFixed(0)} vs ${peer.ratio.pytorchPerSecond.toFixed(0)} images/s, both on 2 cores)`);
    check(peer.agreement.maxAbsRprDiff < 1e-3, `agreement with the peer < 1e-3: max |RPR diff| ${peer.agreement.maxAbsRprDiff.toExponential(2)} over ${peer.agreement.images} images`);
  }
  for (const m of [model, LARGE_CNN_NAME]) {
    const f = find(cases, 'forward', m);
    const e = find(cases, 'exact-rpr', m);
    if (f && e) {
      const cost = f.imagesPerSecond / outputs / e.imagesPerSecond;
      check(cost <= 2, `${m}: exact RPR within 2× of m = ${outputs} forward passes: ${cost.toFixed(2)}× (exact RPR includes decoding; the forward case does not)`);
    }
  }
  if (ref && entropy) {
    const r = ref.imagesPerSecond / entropy.imagesPerSecond;
    check(r >= 5, `reference-mode RPR ≥ 5× entropy scoring: ${r.toFixed(1)}×`);
  }
  if (ref) check(ref.imagesPerSecond >= 10_000, `reference-mode RPR ≥ 10,000 images/s on 28×28, decode included: ${ref.imagesPerSecond.toFixed(0)} images/s`);
  const big = find(cases, 'reference-rpr', model, 1, million);
  if (big) check(big.peakRssMB < 500, `peak RSS with ${million.toLocaleString('en-US')} images < 500 MB: ${big.peakRssMB.toFixed(0)} MB`);
  const warm = find(cases, 'warm-cache', model);
  if (warm?.coldImagesPerSecond) {
    const r = warm.imagesPerSecond / warm.coldImagesPerSecond;
    check(r >= 50, `warm-cache re-run ≥ 50× the cold run: ${r.toFixed(0)}× (${warm.imagesPerSecond.toFixed(0)} vs ${warm.coldImagesPerSecond.toFixed(0)} images/s)`);
  }
  if (fwd && exact) lines.push(`- exact RPR / forward throughput on the demo model: ${(exact.imagesPerSecond / fwd.imagesPerSecond).toFixed(3)}`);
  return lines;
}

function markdown(results: { machine: string; date: string; engine: string; cases: readonly BenchCase[]; failures: readonly string[]; peer: PeerComparison | null; peerError: string | null; targets: readonly string[]; notes: readonly string[] }): string {
  const rows = results.cases.map(
    (c) =>
      `| ${c.case} | ${c.model} | ${c.poolSize.toLocaleString('en-US')} | ${c.images.toLocaleString('en-US')} | ${c.workers} | ${c.imagesPerSecond.toFixed(1)} | ${c.peakRssMB.toFixed(0)} | ${c.setupSeconds.toFixed(1)} | ${c.backend} | ${c.loadAverage.toFixed(1)} |`,
  );
  const peer = results.peer
    ? [
        `PyTorch peer (torch ${results.peer.torch}, CPU) vs rpr-select on ${results.peer.backend}: max |RPR diff| ${results.peer.agreement.maxAbsRprDiff.toExponential(2)} over ${results.peer.agreement.images} images (k = ${results.peer.ks.join(', ')}).`,
        `Throughput, ${results.peer.timed}: rpr-select ${results.peer.ratio.rprSelectPerSecond.toFixed(1)} vs PyTorch ${results.peer.ratio.pytorchPerSecond.toFixed(1)} images/s on 2 cores ` +
          `(ratio ${(results.peer.ratio.rprSelectPerSecond / results.peer.ratio.pytorchPerSecond).toFixed(2)}); on 1 core ${results.peer.oneCore.rprSelectPerSecond.toFixed(1)} vs ${results.peer.oneCore.pytorchPerSecond.toFixed(1)}.`,
      ]
    : [`PyTorch peer: not run (${results.peerError ?? 'unknown reason'}).`];
  return [
    `Machine: ${results.machine}; ${results.date}; engine choice: ${results.engine}`,
    '',
    '| case | model | pool | images timed | workers | images/s | peak RSS MB | setup s | backend | load avg |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...(results.failures.length > 0 ? ['Failed cases (after one retry):', ...results.failures.map((f) => `- ${f}`), ''] : []),
    ...peer,
    '',
    'Targets:',
    ...results.targets,
    '',
    'Notes:',
    ...results.notes.map((n) => `- ${n}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const caseArg = process.argv.indexOf('--case');
  if (caseArg >= 0) {
    const outcome = await runCase(JSON.parse(process.argv[caseArg + 1]!) as CaseSpec);
    process.stdout.write(`${RESULT_TAG}${JSON.stringify(outcome)}\n`);
    process.exit(0);
  }
  const engineArg = process.argv.indexOf('--engine');
  const engine = engineArg >= 0 ? process.argv[engineArg + 1] ?? '' : 'auto';
  if (!isEngineChoice(engine)) throw new Error(`--engine must be one of ${ENGINE_CHOICES.join(', ')} (got '${engine}')`);
  const p = plan(process.argv.includes('--quick'), engine);
  const workDir = await mkdtemp(join(tmpdir(), 'rpr-bench-'));
  try {
    const { models, largeParams } = await prepareModels(workDir, p);
    const cases: BenchCase[] = [];
    const failures: string[] = [];
    for (const spec of caseList(models, p, workDir)) {
      const label = `${spec.case} ${spec.model} pool ${spec.poolSize} workers ${spec.workers}`;
      let outcome: CaseOutcome | null = null;
      for (let attempt = 1; attempt <= 2 && outcome === null; attempt++) {
        try {
          outcome = await inChild(spec);
        } catch (error) {
          const why = error instanceof Error ? error.message.split('\n').slice(-2).join(' ').trim() : String(error);
          process.stderr.write(`${label}: attempt ${attempt} failed: ${why}\n`);
          if (attempt === 2) failures.push(`${label}: ${why}`);
        }
      }
      if (outcome === null) continue;
      const { coldImagesPerSecond, ...rest } = outcome;
      cases.push({
        case: spec.case,
        model: spec.model,
        poolSize: spec.poolSize,
        workers: spec.workers,
        ...rest,
        loadAverage: loadavg()[0]!,
        ...(coldImagesPerSecond === undefined ? {} : { coldImagesPerSecond }),
      });
      process.stderr.write(`${label}: ${outcome.imagesPerSecond.toFixed(1)} images/s, ${outcome.peakRssMB.toFixed(0)} MB\n`);
    }
    let peer: PeerComparison | null = null;
    let peerError: string | null = null;
    try {
      peer = await comparePeer(await peerPython(), bundledModelPath(), p.engine, p.peerImages, workDir);
    } catch (error) {
      peerError = error instanceof Error ? error.message.split('\n')[0]! : String(error);
      process.stderr.write(`PyTorch peer failed: ${peerError}\n`);
    }
    const list = cpus();
    const machine = `${list.length} × ${list[0]?.model.trim() ?? 'unknown CPU'} (shared), Node ${process.version}, ${process.platform}/${process.arch}`;
    const notes = [
      `Pools are generated in memory (bench/synthetic-pool.ts): ${p.quick ? 'quick run' : '2,000 real MNIST digits (28×28 PNG) or 500 64×64 RGB images drawn from them'}, each image made unique by a PNG text chunk holding its index, so ids never repeat; decode cases measure PNG decoding and hashing, not disk reads.`,
      `Cases that run the network stop after ${p.capSeconds} s of streaming ("images timed" < pool); decode and reference cases stream the whole pool. Entropy = decode + forward + entropy, the cost of an uncertainty-only scorer (the product's scorer also computes RPR).`,
      `${LARGE_CNN_NAME}: conv 32-64-128 (3×3, max-pool after each) + dense 112 + dense 10, ${largeParams.toLocaleString('en-US')} parameters, seeded untrained weights. Reference sets: 200 MNIST train digits (mnist-cnn), ${p.quick ? 20 : 150} RGB images (${LARGE_CNN_NAME}); basis building is the setup time.`,
      'Peak RSS is the case process\'s maxRSS (worker threads included). Warm-cache: the images/s of the second pass over the images the cold pass cached; the cold pass\'s rate is beside it.',
      'The machine is shared with other work (the load average column): every number here is a lower bound of what an idle 2-core machine gives.',
    ];
    const date = new Date().toISOString();
    const targets = targetLines(cases, peer, 10, p.sizes.million);
    const results = { machine, date, quick: p.quick, engine: p.engine, cases, failures, peer, peerError, targets, notes };
    const out = p.quick ? join(packageRoot(), 'bench', 'out') : join(packageRoot(), 'bench');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'results.json'), JSON.stringify(results, null, 2) + '\n');
    const md = markdown(results);
    await writeFile(join(out, 'results.md'), md + '\n');
    process.stdout.write(md + '\n');
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
