/**
 * TEST DOUBLE for the real scorer (which linearizes a CNN): a Scorer that decodes images through the
 * real pool pipeline and scores them by a closed-form function of their pixels, so rounds, policies
 * and the CLI can be tested on real data before, and independently of, the model code.
 *
 * RPR_k(x) = ‖P_k x‖ / ‖x‖ with P_k the orthogonal projection onto the pixels of the centred
 * (4 + 2k)-wide square window (so it is a genuine projection ratio, non-decreasing in k); logits are
 * the ink in 10 horizontal bands; coords are the ink centroid (row, col) / 28. An all-zero image
 * has no score.
 */
import type { ScoreEvent, ScoreResult, Scorer } from '../../metrics/types.js';
import { streamSamples, type Preprocessing } from '../../pool/index.js';

export const PIXEL_TEST_PREPROCESSING: Preprocessing = { width: 28, height: 28, channels: 1, scale: 1 / 255, mean: [0], std: [1] };
const SIDE = 28;

/** The window side used for RPR_k. */
export function windowSide(k: number): number {
  return Math.min(SIDE, 4 + 2 * k);
}

/** Scores one 28×28 image (values in [0, 1], row-major) as the test scorer does. */
export function pixelTestScore(id: string, uri: string, pixels: ArrayLike<number>, ks: readonly number[]): ScoreResult {
  let energy = 0;
  for (let i = 0; i < pixels.length; i++) energy += pixels[i]! ** 2;
  if (energy === 0) {
    return { id, uri, rpr: null, sigma: null, predicted: null, logits: null, coords: null, error: 'all-zero image: ‖x‖ = 0, RPR undefined' };
  }
  const rpr: Record<string, number> = {};
  for (const k of ks) {
    const side = windowSide(k);
    const start = (SIDE - side) >> 1;
    let inside = 0;
    for (let r = start; r < start + side; r++) for (let c = start; c < start + side; c++) inside += pixels[r * SIDE + c]! ** 2;
    rpr[String(k)] = Math.sqrt(inside / energy);
  }
  const logits = new Array<number>(10).fill(0);
  let mass = 0;
  let rowSum = 0;
  let colSum = 0;
  for (let r = 0; r < SIDE; r++) {
    for (let c = 0; c < SIDE; c++) {
      const v = pixels[r * SIDE + c]!;
      logits[Math.min(9, Math.floor((r * 10) / SIDE))]! += v / 10;
      mass += v;
      rowSum += r * v;
      colSum += c * v;
    }
  }
  const predicted = logits.indexOf(Math.max(...logits));
  return { id, uri, rpr, sigma: null, predicted, logits, coords: [rowSum / mass / SIDE, colSum / mass / SIDE] };
}

export interface PixelTestScorerOptions {
  /** @defaultValue [1, 5, 10] */
  readonly ks?: readonly number[];
}

export function pixelTestScorer(options: PixelTestScorerOptions = {}): Scorer {
  const ks = options.ks ?? [1, 5, 10];
  return async function* score(source, scoreOptions = {}): AsyncGenerator<ScoreEvent, void, undefined> {
    const started = Date.now();
    let done = 0;
    let skipped = 0;
    const stream = streamSamples(source, PIXEL_TEST_PREPROCESSING, {
      concurrency: 2,
      ...(scoreOptions.signal === undefined ? {} : { signal: scoreOptions.signal }),
    });
    for await (const event of stream) {
      if (event.kind === 'skipped') {
        skipped++;
        yield { kind: 'skipped', skipped: event.skipped };
      } else {
        done++;
        yield { kind: 'score', result: pixelTestScore(event.sample.id, event.sample.uri, event.sample.pixels, ks) };
      }
      scoreOptions.onProgress?.({ done, skipped, total: null, imagesPerSecond: done / Math.max(1e-3, (Date.now() - started) / 1000) });
    }
  };
}
