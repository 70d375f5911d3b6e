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
  /** Time it was scoring at least one shard (shards scored at once, with --concurrency, count once). */
  readonly seconds: number;
  /** images / seconds: its rate while busy. */
  readonly imagesPerSecond: number;
}

interface Row {
  readonly worker: string;
  readonly host: string;
  readonly pid: number;
  readonly backend: string;
  shards: number;
  images: number;
  /** [start, end] of each shard, epoch ms by the worker's clock. */
  readonly spans: [number, number][];
}

/** Sums shard results per worker. */
export class ThroughputTable {
  readonly #rows = new Map<string, Row>();

  add(result: ShardResult): void {
    const { id, host, pid, backend } = result.worker;
    const row = this.#rows.get(id) ?? { worker: id, host, pid, backend, shards: 0, images: 0, spans: [] };
    row.shards++;
    row.images += result.total;
    row.spans.push([result.startedAt, result.startedAt + result.seconds * 1000]);
    this.#rows.set(id, row);
  }

  get workers(): number {
    return this.#rows.size;
  }

  /** One row per worker, by worker id. */
  rows(): WorkerThroughput[] {
    return [...this.#rows.values()]
      .sort((a, b) => (a.worker < b.worker ? -1 : a.worker > b.worker ? 1 : 0))
      .map(({ spans, ...row }) => {
        const seconds = coveredMs(spans) / 1000;
        return { ...row, seconds, imagesPerSecond: seconds > 0 ? row.images / seconds : 0 };
      });
  }
}

/** The length of the union of intervals. */
function coveredMs(spans: readonly [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}
