import { DigestSet } from '../util/digest-set.js';
import { availableParallelism } from 'node:os';
import { RprError } from '../errors/index.js';
import { mapOrdered } from './map-ordered.js';
import { createImageDecoder, type ImageDecoder } from './preprocess.js';
import { sampleId } from './sample-id.js';
import type { PoolSource, Preprocessing, Sample, Skipped } from './types.js';

export type SampleEvent =
  | { readonly kind: 'sample'; readonly sample: Sample }
  | { readonly kind: 'skipped'; readonly skipped: Skipped };

export interface SampleCounts {
  /** Images decoded and yielded. */
  readonly samples: number;
  /** Entries yielded as skipped, duplicates included. */
  readonly skipped: number;
  /** Of the skipped, those whose bytes had already been seen under another uri. */
  readonly duplicates: number;
}

export interface StreamSamplesOptions {
  /**
   * Images decoded at once. At most 2 × concurrency entries are held between the source and the
   * consumer, so memory stays bounded whatever the pool size.
   * @defaultValue os.availableParallelism()
   */
  readonly concurrency?: number;
  /** Stops the stream: iteration throws the signal's reason. */
  readonly signal?: AbortSignal;
}

/** The pool as decoded samples, in source order; `counts` grows as events are consumed (from 0 on each iteration). */
export interface SampleStream extends AsyncIterable<SampleEvent> {
  readonly counts: SampleCounts;
}

type DoneJob = { readonly kind: 'done'; readonly event: SampleEvent; readonly duplicate: boolean };
type Job = { readonly kind: 'decode'; readonly id: string; readonly uri: string; readonly bytes: Buffer } | DoneJob;

/**
 * Hashes and decodes a pool source's images with bounded concurrency, preserving the source's order.
 * Unusable entries are yielded as `skipped` with the reason, never dropped. The same bytes under a
 * second uri are one sample: the later occurrence is skipped as a duplicate of that sample id, decided in
 * source order so the outcome does not depend on timing.
 */
export function streamSamples(
  source: PoolSource,
  pre: Preprocessing,
  options: StreamSamplesOptions = {},
): SampleStream {
  const decode = createImageDecoder(pre);
  const counts = { samples: 0, skipped: 0, duplicates: 0 };
  const concurrency = options.concurrency ?? availableParallelism();
  const signal = options.signal;
  return {
    get counts(): SampleCounts {
      return { ...counts };
    },
    async *[Symbol.asyncIterator]() {
      Object.assign(counts, { samples: 0, skipped: 0, duplicates: 0 });
      const jobs = mapOrdered(dedupedJobs(source, signal), (job) => runJob(job, decode), {
        concurrency,
        ...(signal === undefined ? {} : { signal }),
      });
      for await (const done of jobs) {
        if (done.event.kind === 'sample') counts.samples++;
        else counts.skipped++;
        if (done.duplicate) counts.duplicates++;
        yield done.event;
      }
    },
  };
}

/**
 * Hashes entries in source order and drops repeated bytes before any decoding. Seen ids live in a
 * DigestSet (~32 bytes each, ~32 MB per million images) rather than a map to their first uri (~200 MB
 * per million): a duplicate names the sample id, and the first occurrence carries the same id.
 */
async function* dedupedJobs(source: PoolSource, signal: AbortSignal | undefined): AsyncGenerator<Job, void, undefined> {
  const seen = new DigestSet();
  for await (const entry of source.entries(signal)) {
    if (entry.kind === 'skipped') {
      yield skippedJob({ uri: entry.uri, id: null, reason: entry.reason });
      continue;
    }
    const id = sampleId(entry.bytes);
    if (!seen.add(id)) {
      yield skippedJob({ uri: entry.uri, id, reason: `duplicate: the same bytes as an earlier image (sample ${id})` }, true);
      continue;
    }
    yield { kind: 'decode', id, uri: entry.uri, bytes: entry.bytes };
  }
}

async function runJob(job: Job, decode: ImageDecoder): Promise<DoneJob> {
  if (job.kind === 'done') return job;
  try {
    const pixels = await decode(job.bytes);
    return { kind: 'done', event: { kind: 'sample', sample: { id: job.id, uri: job.uri, pixels } }, duplicate: false };
  } catch (error) {
    if (!(error instanceof RprError && error.code === 'RPR_IMAGE_DECODE')) throw error;
    return skippedJob({ uri: job.uri, id: job.id, reason: error.message });
  }
}

function skippedJob(skipped: Skipped, duplicate = false): DoneJob {
  return { kind: 'done', event: { kind: 'skipped', skipped }, duplicate };
}
