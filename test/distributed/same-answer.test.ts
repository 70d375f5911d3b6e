/**
 * Acceptance: for the same pool, model, config and seed, a round scored by 2 or 3 worker processes
 * through BullMQ on a real Redis selects exactly the images a local round selects, in the same order —
 * for a first round, and for a second one (which must pass over the first round's images, and uses
 * diversity and class quotas, so the workers' shortlists carry coordinates and predictions).
 * The reference is the local `select` on the same pool; the real CNN scores every image.
 */
import { cleanUp, cli, describeWithRedis, digitPool, selection, startTestRedis, startWorkers, tempDir, type CliRun } from './cluster.js';

const POOL = 120;
const ROUND = ['--round-size', '12', '--workers', '1'];
const SECOND_ROUND = [...ROUND, '--diversity', '--max-class-share', '0.25'];
const SHARD_SIZE = '20';

const redis = await startTestRedis();

interface SelectJson {
  selected: { id: string; uri: string; rank: number; score: number }[];
  counts: Record<string, number>;
  distributed?: { shards: number; images: number; reusedShards: number; workers: { worker: string; shards: number; images: number; imagesPerSecond: number }[] };
}

function json(run: CliRun): SelectJson {
  if (run.code !== 0) throw new Error(`select exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as SelectJson;
}

afterAll(async () => {
  if ('url' in redis) await redis.stop();
  await cleanUp();
});

describeWithRedis(redis)('a distributed round selects what a local round selects', () => {
  let pool: string;
  let local: SelectJson[];

  beforeAll(async () => {
    pool = await digitPool(POOL);
    const cwd = await tempDir('rpr-local-');
    local = [json(await cli(['select', '--pool', pool, ...ROUND, '--json'], cwd))];
    local.push(json(await cli(['select', '--pool', pool, ...SECOND_ROUND, '--json'], cwd)));
  });

  it.each([2, 3])('with %i worker processes: the same ids in the same order, round after round', async (count) => {
    if (!('url' in redis)) return;
    const queue = `same-answer-${count}`;
    const workers = await startWorkers(count, redis.url, queue);
    try {
      const cwd = await tempDir('rpr-coordinator-');
      const distributed = ['--distributed', redis.url, '--redis-queue', queue, '--shard-size', SHARD_SIZE, '--json'];
      const first = await cli(['select', '--pool', pool, ...ROUND, ...distributed], cwd);
      const second = await cli(['select', '--pool', pool, ...SECOND_ROUND, ...distributed], cwd);
      const remote = [json(first), json(second)];

      expect(remote.map(selection)).toEqual(local.map(selection));
      expect(remote.map((r) => r.counts)).toEqual(local.map((r) => r.counts));
      expect(remote[1]!.counts.alreadySelected).toBe(12);
      for (const r of remote) {
        const d = r.distributed!;
        expect(d.shards).toBe(POOL / Number(SHARD_SIZE));
        expect(d.images).toBe(POOL);
        // Every shard was scored by one of these workers, once.
        expect(d.workers.reduce((sum, w) => sum + w.shards, 0)).toBe(d.shards);
        expect(d.workers.reduce((sum, w) => sum + w.images, 0)).toBe(POOL);
        const pids = workers.map((w) => String(w.pid));
        for (const w of d.workers) {
          expect(pids).toContain(w.worker.split(':').at(-1));
          expect(w.imagesPerSecond).toBeGreaterThan(0);
        }
      }
      expect(first.stderr).toMatch(new RegExp(`shards ${POOL / Number(SHARD_SIZE)}/${POOL / Number(SHARD_SIZE)} done`));
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });
});
