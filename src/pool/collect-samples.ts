/** The first images of a pool, decoded and preprocessed, for analyses that need a fixed set in memory. */
import { streamSamples } from './stream-samples.js';
import type { PoolSource, Preprocessing, Sample, Skipped } from './types.js';

export interface CollectedSamples {
  /** At most `limit`, in pool order. */
  readonly samples: Sample[];
  /** Entries met before the limit was reached that could not be used, with the reason. */
  readonly skipped: Skipped[];
}

/** Reads the pool until `limit` images are usable. */
export async function collectSamples(source: PoolSource, pre: Preprocessing, limit: number): Promise<CollectedSamples> {
  const samples: Sample[] = [];
  const skipped: Skipped[] = [];
  if (limit < 1) return { samples, skipped };
  for await (const event of streamSamples(source, pre)) {
    if (event.kind === 'skipped') skipped.push(event.skipped);
    else samples.push(event.sample);
    if (samples.length >= limit) break;
  }
  return { samples, skipped };
}
