/**
 * A small real cluster for the distributed tests: a Redis started by scripts/redis.sh (its own state
 * dir, so test files run in parallel), the built CLI spawned as coordinator and workers, and a pool of
 * real MNIST digit PNGs on disk (workers read the pool from the shared file system, as in production).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { redisClientAvailable } from '../../src/distributed/index.js';
import { mnistPart, writeDigitPngs } from '../../src/pool/index.js';
import { packageRoot } from '../../src/util/package-root.js';
import { describeWithService } from '../helpers/require-service.js';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
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

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Processes spawned and not yet ended, and directories made, so a test file leaves nothing behind. */
const running = new Set<CliProcess>();
const made: string[] = [];

/** A new temporary directory, removed by `cleanUp`. */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** SIGKILLs every process the tests spawned that is still running, and removes their directories. */
export async function cleanUp(): Promise<void> {
  const left = [...running];
  for (const p of left) p.child.kill('SIGKILL');
  await Promise.all(left.map((p) => p.done));
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

/** A spawned rpr-select process. */
export class CliProcess {
  readonly child: ChildProcess;
  readonly done: Promise<CliRun>;
  #stdout = '';
  #stderr = '';
  readonly #watchers = new Set<() => void>();

  constructor(args: readonly string[], cwd: string) {
    this.child = spawn(process.execPath, [CLI, ...args], { cwd, env: process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (chunk: Buffer) => (this.#stdout += chunk.toString()));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
      for (const watch of this.#watchers) watch();
    });
    running.add(this);
    this.done = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        running.delete(this);
        for (const watch of this.#watchers) watch();
        resolve({ code, signal, stdout: this.#stdout, stderr: this.#stderr });
      });
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves with the first match of `pattern` on stderr; rejects if the process ends first. */
  waitFor(pattern: RegExp): Promise<RegExpExecArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(this.#stderr);
        if (match !== null) {
          this.#watchers.delete(check);
          resolve(match);
        } else if (this.child.exitCode !== null || this.child.signalCode !== null) {
          this.#watchers.delete(check);
          reject(new Error(`process ended before printing ${pattern}; stderr:\n${this.#stderr}`));
        }
      };
      this.#watchers.add(check);
      check();
    });
  }

  /** SIGTERM (a worker finishes its shard and exits), then waits. */
  async stop(): Promise<CliRun> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.done;
  }
}

/** Runs the CLI to the end. */
export function cli(args: readonly string[], cwd: string): Promise<CliRun> {
  return new CliProcess(args, cwd).done;
}

/** `count` worker processes on `redis`, each in its own working directory (its own score cache), ready. */
export async function startWorkers(count: number, redis: string, queue: string, extra: readonly string[] = []): Promise<CliProcess[]> {
  const workers = await Promise.all(
    Array.from({ length: count }, async () => new CliProcess(['worker', '--redis', redis, '--redis-queue', queue, '--workers', '1', ...extra], await tempDir('rpr-worker-'))),
  );
  try {
    await Promise.all(workers.map((w) => w.waitFor(/ready: queue/)));
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
