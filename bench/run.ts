/**
 * `npm run bench [-- --quick] [-- --engine auto|onnxruntime|tfjs]`: every benchmark of the project in one
 * run, on one machine, side by side, each section in its own process(es):
 *
 * 1. scoring (issue 7, scoring-cases.ts): decode, forward, entropy, exact per-sample RPR (1 and 2 worker
 *    threads), reference-mode RPR and warm-cache re-runs, for the demo model and a ~1M-parameter 64×64×3 CNN;
 * 2. engines (issue 9, engines.ts = `npm run bench:engines`): forward, Jacobian and exact RPR on ONNX
 *    Runtime and TF.js, and the m-forward floor, for both models;
 * 3. pool size (issue 4, pool-rss.ts = `npm run bench:rss`): `score` in reference mode on 20k, 200k and
 *    1M PNG files and a whole `select` round on 20k and 200k, peak RSS of each;
 * 4. distributed (issue 8, distributed.ts = `npm run bench:distributed`): 1, 2 and 3 worker processes
 *    through BullMQ on a Redis from scripts/redis.sh, against a local run of the same pool;
 * 5. the PyTorch peer (bench/peer/, peer-compare.ts) on both models: agreement and throughput ratio.
 *
 * A section that cannot run (no Redis, no PyTorch) is recorded with the reason, and the rest still runs.
 * Writes bench/results.json (`cases`: one entry per measured case; `peer`: the demo model's peer
 * comparison; the sections' details; the targets checked) and bench/results.md; --quick uses tiny sizes
 * and writes under bench/out/ instead.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ENGINE_CHOICES, isEngineChoice, type EngineChoice } from '../src/model/load-model.js';
import { packageRoot } from '../src/util/package-root.js';
import type { BenchCaseRecord } from './bench-case-record.js';
import type { DistributedResults } from './distributed.js';
import { engineCases, runEnginesSection, type EnginesSection } from './engines-section.js';
import { LARGE_CNN_NAME } from './large-cnn.js';
import { comparePeer, peerPython, type PeerComparison } from './peer-compare.js';
import { poolSizeMarkdown, runPoolSizeSection, type PoolSizeSection } from './pool-rss.js';
import { describeRun, runInfo } from './run-info.js';
import { prepareModels, runScoringSection, type ModelUnderTest, type ScoringPlan } from './scoring-cases.js';
import { checkTargets, targetLine, type TargetCheck } from './targets.js';
import { runWatched } from './watch-process.js';

const DEMO = 'mnist-cnn';

interface Plan {
  readonly quick: boolean;
  readonly scoring: ScoringPlan;
  readonly poolSize: { readonly scoreSizes: readonly number[]; readonly selectSizes: readonly number[]; readonly referenceImages: number };
  /** Images the PyTorch peer and rpr-select both score, per model. */
  readonly peerImages: Readonly<Record<string, number>>;
}

function plan(quick: boolean, engine: EngineChoice): Plan {
  return quick
    ? {
        quick,
        scoring: { engine, small: 500, large: 2000, capSeconds: 5, referenceImages: { digits: 50, rgb: 10 } },
        poolSize: { scoreSizes: [2000, 5000, 10_000], selectSizes: [2000, 5000], referenceImages: 50 },
        peerImages: { [DEMO]: 32, [LARGE_CNN_NAME]: 8 },
      }
    : {
        quick,
        // The 64×64×3 basis takes ~20 s for 200 images (exact Gram path); it is set-up time, not throughput.
        scoring: { engine, small: 10_000, large: 100_000, capSeconds: 20, referenceImages: { digits: 200, rgb: 200 } },
        poolSize: { scoreSizes: [20_000, 200_000, 1_000_000], selectSizes: [20_000, 200_000], referenceImages: 200 },
        peerImages: { [DEMO]: 256, [LARGE_CNN_NAME]: 64 },
      };
}

/** A section's outcome: what it measured, or why it did not run. */
type Outcome<T> = { readonly ran: true; readonly value: T } | { readonly ran: false; readonly reason: string };

async function attempt<T>(name: string, run: () => Promise<T>): Promise<Outcome<T>> {
  const started = performance.now();
  process.stderr.write(`== ${name}\n`);
  try {
    const value = await run();
    process.stderr.write(`== ${name}: done in ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
    return { ran: true, value };
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!;
    process.stderr.write(`== ${name}: not run: ${reason}\n`);
    return { ran: false, reason };
  }
}

function valueOf<T>(outcome: Outcome<T>): T | null {
  return outcome.ran ? outcome.value : null;
}

function reasonOf<T>(outcome: Outcome<T>): string | null {
  return outcome.ran ? null : outcome.reason;
}

/** The distributed section in its own process (its local run's peak RSS is then its own). */
async function distributedInChild(quick: boolean, workDir: string): Promise<DistributedResults> {
  const out = join(workDir, 'distributed.json');
  await runWatched(process.execPath, [join(packageRoot(), 'dist', 'bench', 'distributed.js'), ...(quick ? ['--quick'] : []), '--out', out], { timeoutMs: 1_800_000 });
  return JSON.parse(await readFile(out, 'utf8')) as DistributedResults;
}

function poolSizeCases(section: PoolSizeSection): BenchCaseRecord[] {
  return section.runs.map((r) => ({
    section: 'pool-size',
    case: r.command === 'score' ? 'score-cli-reference' : 'select-round-reference',
    model: DEMO,
    poolSize: r.poolImages,
    images: r.poolImages,
    timeCapped: false,
    workers: 1,
    imagesPerSecond: r.imagesPerSecond,
    peakRssMB: r.peakRssMB,
    backend: `${section.backend} (the reference basis only)`,
    seconds: r.seconds,
    setupSeconds: null,
    loadAverage: r.loadAverage,
    note: `the whole CLI command: start-up and the reference basis of ${section.referenceImages} images included in the rate`,
  }));
}

function distributedCases(results: DistributedResults): BenchCaseRecord[] {
  const base = { section: 'distributed' as const, model: DEMO, poolSize: results.poolSize, images: results.poolSize, timeCapped: false, backend: results.backend, setupSeconds: null };
  return [
    {
      ...base,
      case: 'local-rank-per-sample',
      workers: 1,
      imagesPerSecond: results.local.imagesPerSecond,
      peakRssMB: results.local.peakRssMB,
      seconds: results.local.seconds,
      loadAverage: results.local.loadAverage,
      note: 'one process, model loaded',
    },
    ...results.distributed.map((d) => ({
      ...base,
      loadAverage: d.loadAverage,
      case: 'distributed-rank-per-sample',
      workers: d.workers,
      imagesPerSecond: d.imagesPerSecond,
      peakRssMB: d.peakWorkerRssMB,
      seconds: d.seconds,
      rssScope: 'the largest worker process',
      note: `${d.workers} worker process(es), ${d.shards} shards of ${results.shardSize}, through BullMQ on a local Redis`,
    })),
  ];
}

/** Ratio of rpr-select to PyTorch for a peer comparison. */
function peerRatio(p: PeerComparison): number {
  return p.ratio.rprSelectPerSecond / p.ratio.pytorchPerSecond;
}

async function runPeers(models: readonly ModelUnderTest[], p: Plan, workDir: string): Promise<Record<string, PeerComparison>> {
  const python = await peerPython();
  const peers: Record<string, PeerComparison> = {};
  for (const m of models) peers[m.name] = await comparePeer(python, m.path, p.scoring.engine, p.peerImages[m.name] ?? 32, workDir);
  return peers;
}

interface Results {
  readonly run: ReturnType<typeof runInfo> & { readonly quick: boolean; readonly engine: EngineChoice; readonly seconds: number; readonly loadAverageAtEnd: readonly number[] };
  readonly plan: Plan;
  readonly largeCnnParameters: number;
  readonly cases: readonly BenchCaseRecord[];
  /** The demo model's peer comparison (issue 7's contract); null when the peer did not run. */
  readonly peer: PeerComparison | null;
  readonly peerByModel: Readonly<Record<string, PeerComparison>>;
  readonly peerError: string | null;
  readonly engines: EnginesSection | null;
  readonly poolSize: PoolSizeSection | null;
  readonly distributed: DistributedResults | null;
  /** Why a section did not run, by section. */
  readonly notRun: Readonly<Record<string, string>>;
  readonly failures: readonly string[];
  readonly targets: readonly TargetCheck[];
  readonly notes: readonly string[];
}

const int = (v: number) => v.toLocaleString('en-US');
const fixed = (v: number | null | undefined, digits = 0) => (v === null || v === undefined ? '–' : v.toFixed(digits));

function scoringTable(cases: readonly BenchCaseRecord[]): string[] {
  return [
    '| case | model | backend | workers | pool | images timed | images/s | peak RSS MB | setup s | load avg |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...cases.map(
      (c) =>
        `| ${c.case} | ${c.model} | ${c.backend} | ${c.workers} | ${int(c.poolSize)} | ${c.timeCapped ? `**${int(c.images)}** (time cap)` : `${int(c.images)} (all)`} | ` +
        `${fixed(c.imagesPerSecond, 1)}${c.coldImagesPerSecond === undefined ? '' : ` (cold ${fixed(c.coldImagesPerSecond, 1)})`} | ${fixed(c.peakRssMB)} | ${fixed(c.setupSeconds, 1)} | ${fixed(c.loadAverage, 1)} |`,
    ),
  ];
}

function enginesTable(section: EnginesSection): string[] {
  return [
    `One process, ${section.seconds.toFixed(0)} s, peak RSS ${section.peakRssMB.toFixed(0)} MB; decoded images in memory (${Object.entries(section.imagesPerModel).map(([m, n]) => `${int(n)} for ${m}`).join(', ')}), best of ${section.results.rounds ?? '?'} interleaved rounds.`,
    '',
    '| model | engine | setting | forward img/s | Jacobian img/s | Gram img/s | exact RPR img/s | m-forward floor img/s | exact RPR in floors (wall) | (CPU) |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...section.results.rows.map(
      (r) =>
        `| ${r.model} | ${r.engine} | ${r.setting} | ${fixed(r.forward?.perSecond)} | ${fixed(r.jacobian?.perSecond, 1)} | ${fixed(r.gram?.perSecond, 1)} | ${fixed(r.exactRpr.perSecond, 1)} | ` +
        `${fixed(r.floorPerSecond, 1)} | ${fixed(r.costInFloors, 2)} | ${fixed(r.cpuCostInFloors, 2)} |`,
    ),
  ];
}

function distributedTable(d: DistributedResults): string[] {
  return [
    `${int(d.poolSize)} MNIST digit files, exact per-sample RPR on ${d.backend}, shards of ${d.shardSize}. Local, one process: ${fixed(d.local.imagesPerSecond, 1)} images/s.`,
    '',
    '| worker processes | images/s | seconds | shards | peak RSS MB (largest worker) |',
    '|---|---|---|---|---|',
    ...d.distributed.map((c) => `| ${c.workers} | ${fixed(c.imagesPerSecond, 1)} | ${fixed(c.seconds, 2)} | ${c.shards} | ${fixed(c.peakWorkerRssMB)} |`),
    '',
    `Queue overhead against the local run: ${d.queueOverheadMsPerImage.toFixed(2)} ms per image. ${d.notes[0] ?? ''}`,
  ];
}

function peerLines(results: Results): string[] {
  const entries = Object.entries(results.peerByModel);
  if (entries.length === 0) return [`Not run: ${results.peerError ?? 'no reason recorded'}.`];
  return entries.map(
    ([model, p]) =>
      `- ${model}: torch ${p.torch} (CPU) vs rpr-select on ${p.backend}: max |RPR diff| ${p.agreement.maxAbsRprDiff.toExponential(2)} over ${p.agreement.images} images (k = ${p.ks.join(', ')}); ` +
      `2 threads each: ${fixed(p.ratio.rprSelectPerSecond, 1)} vs ${fixed(p.ratio.pytorchPerSecond, 1)} images/s (${peerRatio(p).toFixed(2)}×); ` +
      `1 thread each: ${fixed(p.oneCore.rprSelectPerSecond, 1)} vs ${fixed(p.oneCore.pytorchPerSecond, 1)}. Timed: ${p.timed}.`,
  );
}

function markdown(results: Results): string {
  const section = (title: string, body: string[] | null, key: string) => [`## ${title}`, '', ...(body ?? [`Not run: ${results.notRun[key] ?? 'unknown reason'}.`]), ''];
  const r = results.run;
  return [
    `# rpr-select benchmark${r.quick ? ' (--quick: tiny sizes, not for quoting)' : ''}`,
    '',
    `${describeRun(r)}; load average at end ${r.loadAverageAtEnd.map((l) => l.toFixed(1)).join(' / ')}; engine choice ${r.engine}; ${(r.seconds / 60).toFixed(1)} min in all.`,
    '',
    '## Targets',
    '',
    ...results.targets.map(targetLine),
    '',
    ...section('Scoring (issue 7)', [
      ...scoringTable(results.cases.filter((c) => c.section === 'scoring')),
      '',
      '"pool" is the pool offered; "images timed" is what the rate was measured on: a case marked "time cap" stopped streaming at the cap, so its rate comes from that many images, not from the whole pool.',
      ...(results.failures.length > 0 ? ['', 'Failed cases (after one retry):', ...results.failures.map((f) => `- ${f}`)] : []),
    ], 'scoring'),
    ...section('Engines (issue 9)', results.engines ? enginesTable(results.engines) : null, 'engines'),
    ...section('Memory against pool size (issues 4 and 7)', results.poolSize ? [`Reference mode, 28×28 PNG files on disk, the real CLI (${results.poolSize.commands.score}; select: ${results.poolSize.commands.select}).`, '', ...poolSizeMarkdown(results.poolSize)] : null, 'poolSize'),
    ...section('More than one machine (issue 8)', results.distributed ? distributedTable(results.distributed) : null, 'distributed'),
    ...section('PyTorch peer (issues 7 and 9)', peerLines(results), 'peer'),
    '## Notes',
    '',
    ...results.notes.map((n) => `- ${n}`),
  ].join('\n');
}

async function main(): Promise<void> {
  const started = performance.now();
  const info = runInfo();
  const engineArg = process.argv.indexOf('--engine');
  const engine = engineArg >= 0 ? process.argv[engineArg + 1] ?? '' : 'auto';
  if (!isEngineChoice(engine)) throw new Error(`--engine must be one of ${ENGINE_CHOICES.join(', ')} (got '${engine}')`);
  const p = plan(process.argv.includes('--quick'), engine);
  const out = p.quick ? join(packageRoot(), 'bench', 'out') : join(packageRoot(), 'bench');
  await mkdir(out, { recursive: true });
  const workDir = await mkdtemp(join(tmpdir(), 'rpr-bench-'));
  try {
    const { models, largeParams } = await prepareModels(workDir, p.scoring);
    const scoring = await attempt('scoring', () => runScoringSection(models, p.scoring, workDir));
    const engines = await attempt('engines', () => runEnginesSection({ quick: p.quick }));
    const poolSize = await attempt('pool size', () =>
      runPoolSizeSection({ ...p.poolSize, dir: join(p.quick ? workDir : join(packageRoot(), 'bench', 'out'), 'rss-pool'), keep: false }),
    );
    const distributed = await attempt('distributed', () => distributedInChild(p.quick, workDir));
    const peers = await attempt('PyTorch peer', () => runPeers(models, p, workDir));

    const cases = [
      ...(valueOf(scoring)?.cases ?? []),
      ...(engines.ran ? engineCases(engines.value) : []),
      ...(poolSize.ran ? poolSizeCases(poolSize.value) : []),
      ...(distributed.ran ? distributedCases(distributed.value) : []),
    ];
    const peerByModel = valueOf(peers) ?? {};
    const outcomes: Record<string, Outcome<unknown>> = { scoring, engines, poolSize, distributed, peer: peers };
    const notRun = Object.fromEntries(Object.entries(outcomes).flatMap(([key, outcome]) => (outcome.ran ? [] : [[key, outcome.reason]])));
    const targets = checkTargets({
      cases,
      engines: valueOf(engines),
      poolSize: valueOf(poolSize),
      peers: peerByModel,
      peerError: reasonOf(peers),
      demoModel: DEMO,
      models: models.map((m) => m.name),
    });
    const results: Results = {
      run: { ...info, quick: p.quick, engine, seconds: (performance.now() - started) / 1000, loadAverageAtEnd: loadavg() },
      plan: p,
      largeCnnParameters: largeParams,
      cases,
      peer: peerByModel[DEMO] ?? null,
      peerByModel,
      peerError: reasonOf(peers),
      engines: valueOf(engines),
      poolSize: valueOf(poolSize),
      distributed: valueOf(distributed),
      notRun,
      failures: valueOf(scoring)?.failures ?? [],
      targets,
      notes: [
        `Scoring pools are generated in memory (bench/synthetic-pool.ts): real MNIST test digits as 28×28 PNGs, or 64×64 RGB PNGs drawn from them, each made unique by a PNG text chunk holding its index, so ids never repeat; decode and reference cases measure hashing, PNG decoding and (reference) the projection, not disk reads — the pool-size section reads files from disk.`,
        `Cases that run the network stop after ${p.scoring.capSeconds} s of streaming; their "images timed" says how many images the rate comes from. Entropy = decode + forward + entropy, the cost of an uncertainty-only scorer.`,
        `${LARGE_CNN_NAME}: conv 32-64-128 (3×3, max-pool after each) + dense 112 + dense 10, ${int(largeParams)} parameters, seeded untrained weights. Reference sets: ${p.scoring.referenceImages.digits} MNIST training digits (mnist-cnn), ${p.scoring.referenceImages.rgb} RGB images (${LARGE_CNN_NAME}); building the basis is setup time, not in the rate.`,
        "Peak RSS is the case process's own (maxRSS or VmHWM, worker threads included) unless rssScope says what else the process ran. Warm-cache: the images/s of a second pass over the images the cold pass cached; the cold pass's rate is beside it.",
        'The load average is recorded at the start, at the end and after each case: on a shared machine every number is a lower bound of what an idle one gives.',
      ],
    };
    await writeFile(join(out, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
    const md = markdown(results);
    await writeFile(join(out, 'results.md'), `${md}\n`);
    process.stdout.write(`${md}\n`);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
