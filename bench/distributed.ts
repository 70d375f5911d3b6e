/**
 * Throughput of a distributed round's scoring with 1, 2 and 3 worker processes through BullMQ on a local
 * Redis (scripts/redis.sh), against the same pool ranked locally in one process, and the per-image
 * overhead of the queue (sharding, job data, results, merge) that difference implies. Every process here
 * shares this machine's cores, so more workers than cores cannot go faster: the numbers measure the
 * machinery, not a real multi-machine speed-up.
 *
 * `npm run bench:distributed [-- --quick] [-- --out FILE]` writes bench/distributed-results.json (or FILE);
 * `npm run bench` runs it as one of its sections, in a child process so that its peak RSS is its own. Needs the built package (npm run build), redis-server
 * (scripts/redis.sh installs it) and the npm package ioredis; without them the section is skipped with
 * the reason.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { loadConfig } from '../src/config/index.js';
import { Coordinator, parseRedisUrl, redisClientAvailable, type DistributedReport } from '../src/distributed/index.js';
import { createScorer } from '../src/metrics/index.js';
import { createPolicy, Ranker } from '../src/policy/index.js';
import { createDirectorySource, mnistPart, preprocessingDigest, writeDigitPngs } from '../src/pool/index.js';
import { imageCost, rankScored, type RankSetup, type SeenRecorder } from '../src/rounds/index.js';
import { bundledModelPath, packageRoot } from '../src/util/package-root.js';
import { isEntryPoint, runInfo } from './run-info.js';
import { peakRssMBOf } from './watch-process.js';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const REDIS_SH = join(packageRoot(), 'scripts', 'redis.sh');
const NOTHING: SeenRecorder = { scored: () => undefined, failed: () => undefined };
const COST = imageCost('samples', { rule: 'constant', value: 1 });
const SHORTLIST = 100;
const WORKER_COUNTS = [1, 2, 3] as const;

export interface DistributedCase {
  readonly workers: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  readonly shards: number;
  /** Largest VmHWM among the worker processes (each loads its own model). */
  readonly peakWorkerRssMB: number;
  /** 1-minute load average when the round ended. */
  readonly loadAverage: number;
  readonly perWorker: DistributedReport['workers'];
}

export interface DistributedResults {
  readonly backend: string;
  readonly poolSize: number;
  readonly shardSize: number;
  readonly local: { readonly processes: 1; readonly seconds: number; readonly imagesPerSecond: number; readonly peakRssMB: number; readonly loadAverage: number };
  readonly distributed: readonly DistributedCase[];
  /** (distributed with 1 worker − local) / images, in ms. */
  readonly queueOverheadMsPerImage: number;
  readonly notes: readonly string[];
}

type DistributedSection = { readonly ran: true; readonly results: DistributedResults } | { readonly ran: false; readonly reason: string };

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

/** Starts Redis with scripts/redis.sh, or says why it could not. */
async function startRedis(env: NodeJS.ProcessEnv): Promise<{ url: string } | { reason: string }> {
  if (!redisClientAvailable()) return { reason: "the npm package ioredis (BullMQ's Redis client) is not installed" };
  try {
    const { stdout } = await promisify(execFile)(REDIS_SH, ['start'], { env, timeout: 300_000 });
    const url = /^REDIS_URL=(\S+)$/m.exec(stdout)?.[1];
    return url === undefined ? { reason: `scripts/redis.sh start printed no REDIS_URL: ${stdout.trim()}` } : { url };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? '';
    const why = stderr.trim().split('\n').at(-1) || (error instanceof Error ? error.message : String(error));
    return { reason: `scripts/redis.sh start failed: ${why}` };
  }
}

async function runDistributedSection(options: { readonly quick: boolean }): Promise<DistributedSection> {
  const poolSize = options.quick ? 240 : 600;
  const shardSize = options.quick ? 20 : 50;
  const work = await mkdtemp(join(tmpdir(), 'rpr-bench-dist-'));
  const env = { ...process.env, REDIS_STATE_DIR: join(work, 'redis') };
  try {
    const redisStart = await startRedis(env);
    if ('reason' in redisStart) return { ran: false, reason: redisStart.reason };
    const redisUrl = redisStart.url;
    const redis = parseRedisUrl(redisUrl, 'REDIS_URL');
    const pool = join(work, 'pool');
    await writeDigitPngs(pool, mnistPart('pool').slice(0, poolSize));
    const warmUp = join(work, 'warm-up');
    await writeDigitPngs(warmUp, mnistPart('pool').slice(poolSize, poolSize + 12));
    const loaded = await loadConfig({ overrides: [{ flag: '--pool', path: ['pool', 'path'], value: pool }], cwd: work });
    const session = await createScorer({ modelPath: bundledModelPath(), workers: 1 });
    const policy = createPolicy('lowest-rpr');
    try {
      // Local: the same ranking a local round does, in this process, model already loaded.
      const started = performance.now();
      await rankScored(session.scorer, createDirectorySource(pool), new Ranker(policy, SHORTLIST), { excluded: new Set(), cost: COST, record: NOTHING });
      const localSeconds = (performance.now() - started) / 1000;
      const localLoad = loadavg()[0]!;
      process.stderr.write(`distributed: local, 1 process: ${(poolSize / localSeconds).toFixed(1)} images/s\n`);

      const context = {
        config: loaded.config,
        configDigest: loaded.digest,
        session: { ...session, preprocessingDigest: preprocessingDigest(session.preprocessing) },
      };
      const setup = (round: number): RankSetup => ({ excluded: new Set(), cost: COST, capacity: SHORTLIST, round, record: NOTHING });
      const cases: DistributedCase[] = [];
      for (const workers of WORKER_COUNTS) {
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
          const peakWorkerRssMB = Math.max(0, ...children.map((c) => (c.pid === undefined ? 0 : (peakRssMBOf(c.pid) ?? 0))));
          cases.push({ workers, seconds, imagesPerSecond: poolSize / seconds, shards: report.shards, peakWorkerRssMB, loadAverage: loadavg()[0]!, perWorker: report.workers });
          process.stderr.write(`distributed: ${workers} worker processes: ${(poolSize / seconds).toFixed(1)} images/s\n`);
        } finally {
          for (const child of children) child.kill('SIGTERM');
          await Promise.all(children.map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)))));
        }
      }
      const one = cases[0]!;
      return {
        ran: true,
        results: {
          backend: session.backend,
          poolSize,
          shardSize,
          local: { processes: 1, seconds: localSeconds, imagesPerSecond: poolSize / localSeconds, peakRssMB: process.resourceUsage().maxRSS / 1024, loadAverage: localLoad },
          distributed: cases,
          queueOverheadMsPerImage: ((one.seconds - localSeconds) / poolSize) * 1000,
          notes: [
            `All processes (coordinator, up to ${Math.max(...WORKER_COUNTS)} workers, Redis) share this machine's cores: more worker processes than cores cannot score faster, so these numbers show the queue's cost, not a multi-machine speed-up.`,
            'Exact per-sample RPR of real MNIST digit files. Local: rankScored over the directory in one process with the model loaded. Distributed: from the first job enqueued to the last shard merged, workers warmed up (model loaded), each with 1 scoring thread and no cache.',
            'queueOverheadMsPerImage = (distributed with 1 worker − local) / images: listing, job data, the worker reading its shard, results through Redis, the merge. The local peak RSS is the process that also coordinated.',
          ],
        },
      };
    } finally {
      await session.close();
    }
  } finally {
    await promisify(execFile)(REDIS_SH, ['stop'], { env }).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const info = runInfo();
  const section = await runDistributedSection({ quick: process.argv.includes('--quick') });
  if (!section.ran) throw new Error(`not run: ${section.reason}`);
  const outArg = process.argv.indexOf('--out');
  const out = outArg >= 0 ? process.argv[outArg + 1]! : join(packageRoot(), 'bench', 'distributed-results.json');
  await writeFile(out, `${JSON.stringify({ ...info, ...section.results }, null, 2)}\n`);
  process.stderr.write(`queue overhead: ${section.results.queueOverheadMsPerImage.toFixed(2)} ms per image; wrote ${out}\n`);
}

if (isEntryPoint(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench:distributed failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
