import type { Ranker } from '../policy/index.js';
import type { Skipped } from '../pool/index.js';
import type { PoolRanking, SeenRecorder } from '../rounds/index.js';
import type { ShardResult } from './shard-job.js';

/** Skipped entries a distributed round lists by name; the rest only count. */
export const MERGED_SKIPS_KEPT = 1000;

/**
 * Merges the shards' shortlists into the round's ranker. Shards are offered in shard order, whatever
 * order they finish in, so an image listed twice in the pool keeps the uri of its first listing, as a
 * local round does; the Ranker's order (score, then id) does the rest, so the merged shortlist is the
 * one a local round would keep.
 */
export class ShardMerger {
  readonly #ranker: Ranker;
  readonly #record: SeenRecorder;
  readonly #waiting = new Map<number, ShardResult>();
  readonly #skipped: Skipped[] = [];
  #next = 0;
  #total = 0;
  #alreadySelected = 0;
  #skippedTotal = 0;

  constructor(ranker: Ranker, record: SeenRecorder) {
    this.#ranker = ranker;
    this.#record = record;
  }

  /** Shards offered to the ranker so far (a prefix of the shard order). */
  get merged(): number {
    return this.#next;
  }

  /** Takes a shard's result; a shard already taken is ignored. */
  add(result: ShardResult): void {
    if (result.shard < this.#next || this.#waiting.has(result.shard)) return;
    this.#waiting.set(result.shard, result);
    for (let ready = this.#waiting.get(this.#next); ready !== undefined; ready = this.#waiting.get(this.#next)) {
      this.#waiting.delete(this.#next);
      this.#offer(ready);
      this.#next++;
    }
  }

  /** What the merged shards saw, as a local round's ranking reports it. */
  ranking(): PoolRanking {
    return { total: this.#total, alreadySelected: this.#alreadySelected, skipped: this.#skipped, skippedTotal: this.#skippedTotal };
  }

  #offer(result: ShardResult): void {
    this.#total += result.total;
    this.#alreadySelected += result.alreadySelected;
    this.#skippedTotal += result.skippedTotal;
    for (const skipped of result.skipped) this.#skip(skipped);
    for (const { result: candidate, cost } of result.candidates) {
      const outcome = this.#ranker.offer(candidate, cost);
      if (outcome.kind === 'ranked') {
        this.#record.scored({ id: candidate.id, uri: candidate.uri });
      } else {
        // The same image in two shards: the first listing won, as in a local round's stream.
        this.#skippedTotal++;
        this.#skip({ uri: candidate.uri, id: candidate.id, reason: outcome.reason });
      }
    }
  }

  #skip(skipped: Skipped): void {
    if (skipped.id !== null) this.#record.failed({ id: skipped.id, uri: skipped.uri, reason: skipped.reason });
    if (this.#skipped.length < MERGED_SKIPS_KEPT) this.#skipped.push(skipped);
  }
}
