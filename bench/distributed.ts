/**
 * `npm run bench:distributed`: throughput of a distributed round's scoring with 1, 2 and 3 worker
 * processes through BullMQ on a local Redis, against the same pool ranked locally in one process, and
 * the per-image overhead of the queue (sharding, job data, results, merge) that difference implies.
 * Every process here shares this machine's cores, so more workers than cores cannot go faster: the
 * numbers measure the machinery, not a real multi-machine speed-up. Writes bench/distributed-results.json.
 *
 * Needs the built package (npm run build), redis-server (scripts/redis.sh installs it) and the npm
 * package ioredis. `--quick` uses a smaller pool.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { Coordinator, parseRedisUrl, redisClientAvailable, type DistributedReport } from '../src/distributed/index.js';
import { createScorer } from '../src/metrics/index.js';
import { createPolicy, Ranker } from '../src/policy/index.js';
import { createDirectorySource, mnistPart, preprocessingDigest, writeDigitPngs } from '../src/pool/index.js';
import { imageCost, rankScored, type RankSetup, type SeenRecorder } from '../src/rounds/index.js';
import { bundledModelPath, packageRoot } from '../src/util/package-root.js';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const REDIS_SH = join(packageRoot(), 'scripts', 'redis.sh');
const OUT = join(packageRoot(), 'bench', 'distributed-results.json');
const NOTHING: SeenRecorder = { scored: () => undefined, failed: () => undefined };
const COST = imageCost('samples', { rule: 'constant', value: 1 });
const SHORTLIST = 100;

interface DistributedCase {
  readonly workers: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  readonly shards: number;
  readonly perWorker: DistributedReport['workers'];
}

function startWorker(redis: string, queue: string, cwd: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CLI, 'worker', '--redis', redis, '--redis-queue', queue, '--workers', '1', '--no-cache', '--quiet'], {
    cwd,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // --quiet hides the ready line: a worker is ready once it runs; the first warm-up shard waits for it.
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${stderr}`)));
  });
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  if (!redisClientAvailable()) throw new Error("bench:distributed needs the npm package ioredis (BullMQ's Redis client)");
  const poolSize = quick ? 240 : 600;
  const shardSize = quick ? 20 : 50;
  const work = await mkdtemp(join(tmpdir(), 'rpr-bench-dist-'));
  const env = { ...process.env, REDIS_STATE_DIR: join(work, 'redis') };
  const { stdout } = await promisify(execFile)(REDIS_SH, ['start'], { env });
  const redisUrl = /^REDIS_URL=(\S+)$/m.exec(stdout)?.[1];
  if (redisUrl === undefined) throw new Error(`scripts/redis.sh start printed no REDIS_URL: ${stdout}`);
  const redis = parseRedisUrl(redisUrl, 'REDIS_URL');
  try {
    const pool = join(work, 'pool');
    await writeDigitPngs(pool, mnistPart('pool').slice(0, poolSize));
    const warmUp = join(work, 'warm-up');
    await writeDigitPngs(warmUp, mnistPart('pool').slice(poolSize, poolSize + 12));
    const loaded = await loadConfig({ overrides: [{ flag: '--pool', path: ['pool', 'path'], value: pool }], cwd: work });
    const session = await createScorer({ modelPath: bundledModelPath(), workers: 1 });
    const policy = createPolicy('lowest-rpr');

    // Local: the same ranking a local round does, in this process, model already loaded.
    const started = performance.now();
    await rankScored(session.scorer, createDirectorySource(pool), new Ranker(policy, SHORTLIST), { excluded: new Set(), cost: COST, record: NOTHING });
    const localSeconds = (performance.now() - started) / 1000;
    process.stderr.write(`local, 1 process: ${(poolSize / localSeconds).toFixed(1)} images/s\n`);

    const context = {
      config: loaded.config,
      configDigest: loaded.digest,
      session: { ...session, preprocessingDigest: preprocessingDigest(session.preprocessing) },
    };
    const setup = (round: number): RankSetup => ({ excluded: new Set(), cost: COST, capacity: SHORTLIST, round, record: NOTHING });
    const cases: DistributedCase[] = [];
    for (const workers of [1, 2, 3]) {
      const queue = `bench-${workers}`;
      const children = await Promise.all(Array.from({ length: workers }, async () => startWorker(redisUrl, queue, await mkdtemp(join(work, 'worker-')))));
      try {
        // Warm-up: one-entry shards, so every worker loads its model before the timed round.
        const warm = new Coordinator({ redis, queue, shardSize: 1 });
        await (await warm.ranking({ ...context, poolSpec: warmUp }))(new Ranker(policy, SHORTLIST), setup(workers * 10));
        await warm.finish();

        const coordinator = new Coordinator({ redis, queue, shardSize });
        const rank = await coordinator.ranking({ ...context, poolSpec: pool });
        const t0 = performance.now();
        await rank(new Ranker(policy, SHORTLIST), setup(workers * 10 + 1));
        const seconds = (performance.now() - t0) / 1000;
        const report = coordinator.report()!;
        await coordinator.finish();
        cases.push({ workers, seconds, imagesPerSecond: poolSize / seconds, shards: report.shards, perWorker: report.workers });
        process.stderr.write(`distributed, ${workers} worker processes: ${(poolSize / seconds).toFixed(1)} images/s\n`);
      } finally {
        for (const child of children) child.kill('SIGTERM');
        await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
      }
    }
    await session.close();

    const one = cases[0]!;
    const results = {
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg()[0]!.toFixed(1)}`,
      date: new Date().toISOString(),
      backend: session.backend,
      poolSize,
      shardSize,
      local: { processes: 1, seconds: localSeconds, imagesPerSecond: poolSize / localSeconds },
      distributed: cases,
      queueOverheadMsPerImage: ((one.seconds - localSeconds) / poolSize) * 1000,
      notes: [
        `All processes (coordinator, ${cases.length} worker counts, Redis) share this machine's ${cpus().length} cores: more worker processes than cores cannot score faster, so these numbers show the queue's cost, not a multi-machine speed-up.`,
        'Local: rankScored over the directory in one process with the model loaded. Distributed: from the first job enqueued to the last shard merged, workers warmed up (model loaded), each with 1 scoring thread and no cache.',
        'queueOverheadMsPerImage = (distributed with 1 worker − local) / images: listing, job data, the worker reading its shard, results through Redis, the merge.',
      ],
    };
    await writeFile(OUT, `${JSON.stringify(results, null, 2)}\n`);
    process.stderr.write(`queue overhead: ${results.queueOverheadMsPerImage.toFixed(2)} ms per image; wrote ${OUT}\n`);
  } finally {
    await promisify(execFile)(REDIS_SH, ['stop'], { env }).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

await main();
