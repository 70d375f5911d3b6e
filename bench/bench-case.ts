/**
 * One case of the scoring section, run in a fresh child process (`node bench-case.js --case JSON`, which
 * prints one tagged result line) so that its peak RSS (the process's maxRSS, worker threads included)
 * belongs to that case alone. Streams a synthetic pool (synthetic-pool.ts) through the product's own
 * paths and stops at the pool's end or at the time cap, whichever comes first.
 */
import { performance } from 'node:perf_hooks';
import { createScorer, modelPreprocessing } from '../src/metrics/index.js';
import { loadModel, type EngineChoice } from '../src/model/load-model.js';
import { sizeOf } from '../src/model/ir.js';
import { uncertaintyScore } from '../src/policy/index.js';
import { decodeImage, streamSamples } from '../src/pool/index.js';
import type { Sample } from '../src/pool/types.js';
import { isEntryPoint } from './run-info.js';
import { digitBases, rgbBases, syntheticPool } from './synthetic-pool.js';

/** Prefix of the line a case child prints its outcome on. */
export const CASE_RESULT_TAG = 'BENCH-CASE ';

export const CASE_NAMES = ['decode', 'forward', 'entropy', 'exact-rpr', 'reference-rpr', 'warm-cache'] as const;
export type CaseName = (typeof CASE_NAMES)[number];

export interface CaseSpec {
  readonly case: CaseName;
  readonly model: string;
  readonly modelPath: string;
  /** The executor engine (`auto`: ONNX Runtime when it loads, else TF.js). */
  readonly engine: EngineChoice;
  readonly poolSize: number;
  readonly workers: number;
  /** Stop streaming after this many seconds (the throughput is measured on what was streamed); null: no cap. */
  readonly capSeconds: number | null;
  /** Reference images (reference-rpr). */
  readonly referenceDir?: string;
  /** SQLite cache file (warm-cache). */
  readonly cachePath?: string;
}

export interface CaseOutcome {
  /** Images actually streamed and timed (< poolSize when the time cap stopped the stream). */
  readonly images: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  readonly peakRssMB: number;
  readonly backend: string;
  /** One-off work before streaming (reference basis, worker start-up), not in the throughput. */
  readonly setupSeconds: number;
  /** warm-cache: the cold pass that filled the cache. */
  readonly coldImagesPerSecond?: number;
}

const BASES = { digits: 2000, rgb: 500 };
const FORWARD_BATCH = 256;

interface Stream {
  readonly images: number;
  readonly seconds: number;
}

async function bases(inputShape: readonly number[]): Promise<Buffer[]> {
  return inputShape[2] === 1 ? digitBases(BASES.digits) : rgbBases(BASES.rgb);
}

/**
 * Counts `items` until they end or the cap passes; `each` runs per item inside the timing. The time is
 * taken at the last item counted, so stopping early (which waits for batches still in flight) is not
 * charged to the images that were counted.
 */
async function timeStream<T>(items: AsyncIterable<T>, capSeconds: number | null, each: (item: T) => number): Promise<Stream> {
  const start = performance.now();
  let images = 0;
  let last = start;
  for await (const item of items) {
    images += each(item);
    last = performance.now();
    if (capSeconds !== null && (last - start) / 1000 > capSeconds) break;
  }
  return { images, seconds: (last - start) / 1000 };
}

async function scorerStream(spec: CaseSpec, mode: 'per-sample' | 'reference', pool: Buffer[], size: number, cachePath?: string) {
  const setupStart = performance.now();
  const session = await createScorer({
    modelPath: spec.modelPath,
    mode,
    svd: 'exact',
    engine: spec.engine,
    backend: 'wasm',
    workers: spec.workers,
    ...(spec.referenceDir ? { referenceDir: spec.referenceDir } : {}),
    ...(cachePath ? { cachePath } : {}),
  });
  const setupSeconds = (performance.now() - setupStart) / 1000;
  try {
    const stream = await timeStream(session.scorer(syntheticPool(pool, size)), spec.capSeconds, (event) => (event.kind === 'score' ? 1 : 0));
    return { stream, setupSeconds, backend: session.backend };
  } finally {
    await session.close();
  }
}

export async function runCase(spec: CaseSpec): Promise<CaseOutcome> {
  const model = await loadModel(spec.modelPath, { engine: spec.engine, backend: 'wasm' });
  const pre = modelPreprocessing(model);
  const pool = await bases(model.ir.inputShape);
  let stream: Stream;
  let setupSeconds = 0;
  let coldImagesPerSecond: number | undefined;
  const ex = model.executor;
  const n = sizeOf(model.ir.inputShape);
  const m = model.ir.outputSize;
  switch (spec.case) {
    case 'decode':
      stream = await timeStream(streamSamples(syntheticPool(pool, spec.poolSize), pre), spec.capSeconds, (e) => (e.kind === 'sample' ? 1 : 0));
      break;
    case 'forward': {
      const decoded = await Promise.all(pool.slice(0, FORWARD_BATCH).map((bytes) => decodeImage(bytes, pre)));
      const batch = new Float32Array(FORWARD_BATCH * n);
      decoded.forEach((pixels, i) => batch.set(pixels, i * n));
      await ex.forward(batch.subarray(0, 8 * n), 8);
      async function* batches() {
        for (let done = 0; done < spec.poolSize; done += FORWARD_BATCH) {
          const count = Math.min(FORWARD_BATCH, spec.poolSize - done);
          await ex.forward(batch.subarray(0, count * n), count);
          yield count;
        }
      }
      stream = await timeStream(batches(), spec.capSeconds, (count) => count);
      break;
    }
    case 'entropy': {
      async function* scored() {
        let pending: Sample[] = [];
        const flush = async () => {
          const input = new Float32Array(pending.length * n);
          pending.forEach((s, i) => input.set(s.pixels, i * n));
          const logits = await ex.forward(input, pending.length);
          for (let i = 0; i < pending.length; i++) uncertaintyScore.entropy(Array.from(logits.subarray(i * m, (i + 1) * m)));
          const count = pending.length;
          pending = [];
          return count;
        };
        for await (const event of streamSamples(syntheticPool(pool, spec.poolSize), pre)) {
          if (event.kind !== 'sample') continue;
          pending.push(event.sample);
          if (pending.length === FORWARD_BATCH) yield await flush();
        }
        if (pending.length > 0) yield await flush();
      }
      stream = await timeStream(scored(), spec.capSeconds, (count) => count);
      break;
    }
    case 'exact-rpr':
    case 'reference-rpr': {
      const run = await scorerStream(spec, spec.case === 'exact-rpr' ? 'per-sample' : 'reference', pool, spec.poolSize);
      stream = run.stream;
      setupSeconds = run.setupSeconds;
      break;
    }
    case 'warm-cache': {
      const cold = await scorerStream(spec, 'per-sample', pool, spec.poolSize, spec.cachePath);
      coldImagesPerSecond = cold.stream.images / cold.stream.seconds;
      // The same images again (same bytes, same ids): every score comes from the cache.
      const warm = await scorerStream({ ...spec, capSeconds: null }, 'per-sample', pool, cold.stream.images, spec.cachePath);
      stream = warm.stream;
      setupSeconds = warm.setupSeconds;
      break;
    }
  }
  ex.dispose();
  return {
    images: stream.images,
    seconds: stream.seconds,
    imagesPerSecond: stream.images / stream.seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    backend: model.backend,
    setupSeconds,
    ...(coldImagesPerSecond === undefined ? {} : { coldImagesPerSecond }),
  };
}

if (isEntryPoint(import.meta.url)) {
  const arg = process.argv.indexOf('--case');
  const outcome = await runCase(JSON.parse(process.argv[arg + 1] ?? 'null') as CaseSpec);
  process.stdout.write(`${CASE_RESULT_TAG}${JSON.stringify(outcome)}\n`);
  // The result is out: do not wait on handles the engines or worker threads may still hold.
  process.exit(0);
}
