import { DigestSet } from '../util/digest-set.js';
import { availableParallelism } from 'node:os';
import { RprError } from '../errors/index.js';
import { mapOrdered } from './map-ordered.js';
import { createImageDecoder, type ImageDecoder } from './preprocess.js';
import { sampleId } from './sample-id.js';
import type { PoolEntry, PoolSource, Preprocessing, Sample, Skipped } from './types.js';

/** An entry the lookup answered: its id, where it came from, and the answer; its bytes were not decoded. */
export interface KnownEntry<K> {
  readonly kind: 'known';
  readonly id: string;
  readonly uri: string;
  readonly value: K;
}

/**
 * One pool entry, in source order: a decoded sample, an entry skipped and why, or (only with a `lookup`,
 * whose answers are of type K) an entry the caller already knew.
 */
export type SampleEvent<K = never> =
  | { readonly kind: 'sample'; readonly sample: Sample }
  | { readonly kind: 'skipped'; readonly skipped: Skipped }
  | ([K] extends [never] ? never : KnownEntry<K>);

export interface SampleCounts {
  /** Images decoded and yielded. */
  readonly samples: number;
  /** Entries yielded as skipped, duplicates included. */
  readonly skipped: number;
  /** Of the skipped, those whose bytes had already been seen under another uri. */
  readonly duplicates: number;
  /** Entries the lookup answered, yielded without decoding. */
  readonly known: number;
}

/** New entries looked up at once: one cache query per batch rather than per image. */
const LOOKUP_BATCH = 256;

export interface StreamSamplesOptions<K = never> {
  /**
   * Images decoded at once. At most 2 × concurrency entries are held between the source and the
   * consumer (plus up to 256 read ahead for a `lookup`), so memory stays bounded whatever the pool size.
   * @defaultValue os.availableParallelism()
   */
  readonly concurrency?: number;
  /** Stops the stream: iteration throws the signal's reason. */
  readonly signal?: AbortSignal;
  /**
   * What the caller already has for some sample ids (a score cache). Called after hashing and before any
   * decoding, with the ids of up to 256 consecutive new entries at once; an entry whose id it answers is
   * yielded as `known` with the answer and never decoded.
   */
  readonly lookup?: (ids: readonly string[]) => ReadonlyMap<string, K>;
  /** @defaultValue createImageDecoder(pre) */
  readonly decoder?: ImageDecoder;
}

/** The pool as decoded samples, in source order; `counts` grows as events are consumed (from 0 on each iteration). */
export interface SampleStream<K = never> extends AsyncIterable<SampleEvent<K>> {
  readonly counts: SampleCounts;
}

type DoneJob<K> = { readonly kind: 'done'; readonly event: SampleEvent<K>; readonly duplicate: boolean };
type Job<K> = { readonly kind: 'decode'; readonly id: string; readonly uri: string; readonly bytes: Buffer } | DoneJob<K>;

const ZERO_COUNTS: SampleCounts = { samples: 0, skipped: 0, duplicates: 0, known: 0 };

/**
 * Hashes and decodes a pool source's images with bounded concurrency, preserving the source's order.
 * Unusable entries are yielded as `skipped` with the reason, never dropped. The same bytes under a
 * second uri are one sample: the later occurrence is skipped as a duplicate of that sample id, decided in
 * source order so the outcome does not depend on timing. With a `lookup`, entries it knows skip decoding.
 */
export function streamSamples<K = never>(
  source: PoolSource,
  pre: Preprocessing,
  options: StreamSamplesOptions<K> = {},
): SampleStream<K> {
  const decode = options.decoder ?? createImageDecoder(pre);
  const counts = { ...ZERO_COUNTS };
  const concurrency = options.concurrency ?? availableParallelism();
  const { signal, lookup } = options;
  return {
    get counts(): SampleCounts {
      return { ...counts };
    },
    async *[Symbol.asyncIterator]() {
      Object.assign(counts, ZERO_COUNTS);
      const jobs = mapOrdered(
        dedupedJobs(source, signal, lookup),
        (job) => decodeJob(job, decode),
        { concurrency, ...(signal === undefined ? {} : { signal }) },
        (job) => (job.kind === 'done' ? job : undefined),
      );
      for await (const done of jobs) {
        counts[done.event.kind === 'sample' ? 'samples' : done.event.kind]++;
        if (done.duplicate) counts.duplicates++;
        yield done.event;
      }
    },
  };
}

/**
 * Hashes entries in source order and drops repeated bytes before any decoding. Seen ids live in a
 * DigestSet (~32 bytes each, ~32 MB per million images) rather than a map to their first uri (~200 MB
 * per million): a duplicate names the sample id, and the first occurrence carries the same id. With a
 * lookup, entries are held back until 256 are read (or the source ends) and looked up together.
 */
async function* dedupedJobs<K>(
  source: PoolSource,
  signal: AbortSignal | undefined,
  lookup: ((ids: readonly string[]) => ReadonlyMap<string, K>) | undefined,
): AsyncGenerator<Job<K>, void, undefined> {
  const seen = new DigestSet();
  let held: Job<K>[] = [];
  const release = (): Job<K>[] => {
    const ids = held.flatMap((job) => (job.kind === 'decode' ? [job.id] : []));
    const known = ids.length > 0 ? lookup!(ids) : new Map<string, K>();
    const jobs = held.map((job): Job<K> => {
      if (job.kind !== 'decode' || !known.has(job.id)) return job;
      const event: KnownEntry<K> = { kind: 'known', id: job.id, uri: job.uri, value: known.get(job.id)! };
      // A lookup exists, so K is not never and a known entry is one of the events.
      return { kind: 'done', event: event as SampleEvent<K>, duplicate: false };
    });
    held = [];
    return jobs;
  };
  for await (const entry of source.entries(signal)) {
    const job = jobOf<K>(entry, seen);
    if (lookup === undefined) {
      yield job;
      continue;
    }
    held.push(job);
    if (held.length >= LOOKUP_BATCH) yield* release();
  }
  if (held.length > 0) yield* release();
}

function jobOf<K>(entry: PoolEntry, seen: DigestSet): Job<K> {
  if (entry.kind === 'skipped') return skippedJob({ uri: entry.uri, id: null, reason: entry.reason });
  const id = sampleId(entry.bytes);
  if (!seen.add(id)) return skippedJob({ uri: entry.uri, id, reason: `duplicate: the same bytes as an earlier image (sample ${id})` }, true);
  return { kind: 'decode', id, uri: entry.uri, bytes: entry.bytes };
}

async function decodeJob<K>(job: Job<K>, decode: ImageDecoder): Promise<DoneJob<K>> {
  if (job.kind === 'done') return job;
  try {
    const pixels = await decode(job.bytes);
    return { kind: 'done', event: { kind: 'sample', sample: { id: job.id, uri: job.uri, pixels } }, duplicate: false };
  } catch (error) {
    if (!(error instanceof RprError && error.code === 'RPR_IMAGE_DECODE')) throw error;
    return skippedJob({ uri: job.uri, id: job.id, reason: error.message });
  }
}

function skippedJob<K>(skipped: Skipped, duplicate = false): DoneJob<K> {
  return { kind: 'done', event: { kind: 'skipped', skipped }, duplicate };
}
