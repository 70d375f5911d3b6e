import type { ShardResult } from './shard-job.js';

/** What one worker process did for a round. */
export interface WorkerThroughput {
  readonly worker: string;
  readonly host: string;
  readonly pid: number;
  readonly backend: string;
  readonly shards: number;
  /** Pool entries it went through (scored or skipped). */
  readonly images: number;
  /** Time it spent scoring its shards. */
  readonly seconds: number;
  /** images / seconds: its rate while busy. */
  readonly imagesPerSecond: number;
}

/** Sums shard results per worker. */
export class ThroughputTable {
  readonly #rows = new Map<string, { worker: string; host: string; pid: number; backend: string; shards: number; images: number; seconds: number }>();

  add(result: ShardResult): void {
    const { id, host, pid, backend } = result.worker;
    const row = this.#rows.get(id) ?? { worker: id, host, pid, backend, shards: 0, images: 0, seconds: 0 };
    row.shards++;
    row.images += result.total;
    row.seconds += result.seconds;
    this.#rows.set(id, row);
  }

  get workers(): number {
    return this.#rows.size;
  }

  /** One row per worker, by worker id. */
  rows(): WorkerThroughput[] {
    return [...this.#rows.values()]
      .sort((a, b) => (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0))
      .map((row) => ({ ...row, imagesPerSecond: row.seconds > 0 ? row.images / row.seconds : 0 }));
  }
}
