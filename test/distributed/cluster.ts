/**
 * A small real cluster for the distributed tests: a Redis started by scripts/redis.sh (its own state
 * dir, so test files run in parallel), the built CLI spawned as coordinator and workers, and a pool of
 * real MNIST digit PNGs on disk (workers read the pool from the shared file system, as in production).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { redisClientAvailable } from '../../src/distributed/index.js';
import { mnistPart, writeDigitPngs } from '../../src/pool/index.js';
import { packageRoot } from '../../src/util/package-root.js';
import { killAllCli, runCli, startCli, type CliProcess, type CliResult as CliRun } from '../helpers/cli-process.js';
import { describeWithService } from '../helpers/require-service.js';

const REDIS_SH = join(packageRoot(), 'scripts', 'redis.sh');

export interface TestRedis {
  readonly url: string;
  stop(): Promise<void>;
}

/** A Redis for one test file, or why there is none (the tests then skip, saying so). */
export async function startTestRedis(): Promise<TestRedis | { readonly skip: string }> {
  if (!redisClientAvailable()) return { skip: "the npm package ioredis (BullMQ's Redis client) is not installed" };
  const env = { ...process.env, REDIS_STATE_DIR: await tempDir('rpr-test-redis-') };
  try {
    const { stdout } = await promisify(execFile)(REDIS_SH, ['start'], { env, timeout: 300_000 });
    const url = /^REDIS_URL=(\S+)$/m.exec(stdout)?.[1];
    if (url === undefined) return { skip: `scripts/redis.sh start printed no REDIS_URL: ${stdout}` };
    return { url, stop: async () => void (await promisify(execFile)(REDIS_SH, ['stop'], { env })) };
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    return { skip: `no Redis: scripts/redis.sh start failed: ${stderr.trim().split('\n').at(-1)}` };
  }
}

/** `describe` when there is a Redis; otherwise a skip, or a failure under CI. */
export function describeWithRedis(redis: TestRedis | { readonly skip: string }): jest.Describe {
  return describeWithService('a real Redis', 'url' in redis ? null : redis.skip);
}

/** A directory of the first `count` MNIST pool digits as PNG files. */
export async function digitPool(count: number): Promise<string> {
  const dir = await tempDir('rpr-dist-pool-');
  await writeDigitPngs(dir, mnistPart('pool').slice(0, count));
  return dir;
}

export type { CliProcess, CliRun };

/**
 * Longest wait for one process here (a run, a worker getting ready): a test's own limit (jest's 120 s),
 * so a slow machine fails a test by its timeout, not earlier.
 */
export const PROCESS_MS = 120_000;

const made: string[] = [];

/** A new temporary directory, removed by `cleanUp`. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** SIGKILLs every process the tests spawned that is still running, and removes their directories. */
export async function cleanUp(): Promise<void> {
  await killAllCli();
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** Starts the CLI in `cwd`. */
export function start(args: readonly string[], cwd: string): CliProcess {
  return startCli(args, { cwd });
}

/** Runs the CLI to the end. */
export function cli(args: readonly string[], cwd: string): Promise<CliRun> {
  return runCli(args, { cwd, timeoutMs: PROCESS_MS });
}

/** The first match of `pattern` on the process's stderr, once there is one; rejects if the process ends first. */
export async function stderrMatch(run: CliProcess, pattern: RegExp): Promise<RegExpExecArray> {
  await run.waitUntil(`${pattern} on stderr`, () => pattern.test(run.stderr()), PROCESS_MS);
  return pattern.exec(run.stderr())!;
}

/** `count` worker processes on `redis`, each in its own working directory (its own score cache), ready. */
export async function startWorkers(count: number, redis: string, queue: string, extra: readonly string[] = []): Promise<CliProcess[]> {
  const workers = await Promise.all(
    Array.from({ length: count }, async () => start(['worker', '--redis', redis, '--redis-queue', queue, '--workers', '1', ...extra], await tempDir('rpr-worker-'))),
  );
  try {
    await Promise.all(workers.map((w) => stderrMatch(w, /ready: queue/)));
  } catch (error) {
    await Promise.all(workers.map((w) => w.stop()));
    throw error;
  }
  return workers;
}

/** Every row of the ledger's tables but the lease, to compare a ledger before and after a run. */
export function ledgerRows(path: string): Record<string, unknown[]> {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'lease' ORDER BY name`).pluck().all() as string[];
    return Object.fromEntries(tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}" ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}

/** What two `select --json` outputs must agree on to be the same selection. */
export function selection(json: { selected: { id: string; uri: string; rank: number; score: number }[] }): unknown[] {
  return json.selected.map((s) => [s.rank, s.id, s.uri, s.score]);
}
