/** One measured case of `npm run bench`, as bench/results.json lists them under `cases`, whatever section measured it. */

export const BENCH_SECTIONS = ['scoring', 'engines', 'pool-size', 'distributed'] as const;
export type BenchSection = (typeof BENCH_SECTIONS)[number];

export interface BenchCaseRecord {
  readonly section: BenchSection;
  readonly case: string;
  readonly model: string;
  /** Images the case was offered (the pool). */
  readonly poolSize: number;
  /** Images actually timed: fewer than poolSize when a time cap stopped the stream (`timeCapped`). */
  readonly images: number;
  readonly timeCapped: boolean;
  /** Scoring threads or processes. */
  readonly workers: number;
  /** images / seconds. */
  readonly imagesPerSecond: number;
  /** Peak RSS of the process that ran the case; `rssScope` says when that process ran more than this case. */
  readonly peakRssMB: number;
  /** The engine and its backend, e.g. onnxruntime-cpu, tfjs-wasm. */
  readonly backend: string;
  readonly seconds: number;
  /** One-off work before the timed part (model, reference basis, worker start-up), not in the rate; null when the rate includes it. */
  readonly setupSeconds: number | null;
  /** 1-minute load average when the case ended. */
  readonly loadAverage: number;
  /** What else the peak RSS covers, when the process ran other cases too. */
  readonly rssScope?: string;
  /** warm-cache: the cold pass's rate. */
  readonly coldImagesPerSecond?: number;
  readonly note?: string;
}
