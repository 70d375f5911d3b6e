/**
 * The engines section of `npm run bench`: bench/engines.ts (the same script as `npm run bench:engines`)
 * run in a child process — forward, Jacobian and exact per-sample RPR images/s on ONNX Runtime and TF.js
 * side by side, and the m-forward floor, for both models — its rows read back from the file it writes.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/util/package-root.js';
import type { BenchCaseRecord } from './bench-case-record.js';
import { runWatched } from './watch-process.js';

/** A rate as engines.ts reports it: the best of its interleaved rounds. */
export interface EngineRate {
  readonly perSecond: number;
  readonly cpuMicrosPerImage: number;
}

/** The part of an engines.ts row this section reads (the row has more; it is kept whole in the results). */
export interface EngineRow {
  readonly model: string;
  readonly engine: string;
  /** 'main thread' or '2 workers'. */
  readonly setting: string;
  /** m, the rows of the Jacobian. */
  readonly outputs: number;
  readonly forward: EngineRate | null;
  readonly jacobian: EngineRate | null;
  /** Executor.gramians: A·Aᵀ and A·x in the engine, its whole share of exact RPR. */
  readonly gram?: EngineRate | null;
  readonly exactRpr: EngineRate;
  readonly floorPerSecond: number | null;
  /** Exact RPR time ÷ m forward passes (wall): the target is ≤ 2. */
  readonly costInFloors: number | null;
  readonly cpuCostInFloors: number | null;
}

export interface EnginesSection {
  readonly seconds: number;
  /** Peak RSS of the engines process, which runs every engine case of both models. */
  readonly peakRssMB: number;
  /** Images per model in each timed round. */
  readonly imagesPerModel: Readonly<Record<string, number>>;
  /** What engines.ts wrote in this run. */
  readonly results: {
    readonly rows: readonly EngineRow[];
    readonly rounds?: number;
    readonly imagesPerModel: Readonly<Record<string, number>>;
    readonly [field: string]: unknown;
  };
}

/** Runs engines.ts, its results written to a scratch file (bench/engines-results.json is `npm run bench:engines`'s). */
export async function runEnginesSection(options: { readonly quick: boolean }): Promise<EnginesSection> {
  const dir = await mkdtemp(join(tmpdir(), 'rpr-bench-engines-section-'));
  try {
    const out = join(dir, 'engines-results.json');
    const run = await runWatched(process.execPath, [join(packageRoot(), 'dist', 'bench', 'engines.js'), '--out', out, ...(options.quick ? ['--quick'] : [])], {
      timeoutMs: 3_600_000,
    });
    const results = JSON.parse(await readFile(out, 'utf8')) as EnginesSection['results'];
    return { seconds: run.seconds, peakRssMB: run.peakRssMB, imagesPerModel: results.imagesPerModel, results };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One case per measured engine rate: forward, Jacobian and Gram on the calling thread, exact RPR in each setting. */
export function engineCases(section: EnginesSection): BenchCaseRecord[] {
  const load = loadavg()[0]!;
  const rounds = section.results.rounds ?? 1;
  return section.results.rows.flatMap((row) => {
    const images = section.imagesPerModel[row.model] ?? 0;
    const workers = row.setting === '2 workers' ? 2 : 1;
    const record = (name: string, rate: EngineRate): BenchCaseRecord => ({
      section: 'engines',
      case: name,
      model: row.model,
      poolSize: images,
      images,
      timeCapped: false,
      workers,
      imagesPerSecond: rate.perSecond,
      peakRssMB: section.peakRssMB,
      backend: row.engine,
      seconds: images / rate.perSecond,
      setupSeconds: null,
      loadAverage: load,
      rssScope: 'the engines process (every engine case of both models)',
      note: `${row.setting}; best of ${rounds} interleaved rounds; decoded images in memory`,
    });
    const onCallingThread = workers === 1;
    return [
      ...(onCallingThread && row.forward ? [record('forward', row.forward)] : []),
      ...(onCallingThread && row.jacobian ? [record('jacobian', row.jacobian)] : []),
      ...(onCallingThread && row.gram ? [record('gram', row.gram)] : []),
      record('exact-rpr', row.exactRpr),
    ];
  });
}
