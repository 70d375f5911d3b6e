import { SHARD_PROTOCOL, type ShardResult } from './shard-job.js';
import { ThroughputTable } from './worker-throughput.js';

function shard(worker: string, startedAt: number, seconds: number, total: number): ShardResult {
  const [host, pid] = worker.split(':');
  return {
    protocol: SHARD_PROTOCOL,
    shard: 0,
    candidates: [],
    total,
    alreadySelected: 0,
    skippedTotal: 0,
    skipped: [],
    worker: { id: worker, host: host!, pid: Number(pid), backend: 'b' },
    startedAt,
    seconds,
  };
}

describe('ThroughputTable', () => {
  it('counts a worker busy while any of its shards runs: overlapping shards once, gaps not at all', () => {
    const table = new ThroughputTable();
    // b:2 scores [0, 4] s and [2, 5] s at once (concurrency 2), then [10, 11] s: busy 5 + 1 = 6 s.
    table.add(shard('b:2', 0, 4, 40));
    table.add(shard('b:2', 2000, 3, 30));
    table.add(shard('b:2', 10_000, 1, 20));
    table.add(shard('a:1', 500, 2, 10));
    expect(table.workers).toBe(2);
    expect(table.rows()).toEqual([
      { worker: 'a:1', host: 'a', pid: 1, backend: 'b', shards: 1, images: 10, seconds: 2, imagesPerSecond: 5 },
      { worker: 'b:2', host: 'b', pid: 2, backend: 'b', shards: 3, images: 90, seconds: 6, imagesPerSecond: 15 },
    ]);
  });
});
