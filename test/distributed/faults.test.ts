/**
 * Acceptance, faults of a distributed round against a real Redis and real worker processes:
 * - a worker SIGKILLed while scoring a shard: BullMQ's stalled-job check hands the shard to the other
 *   worker, the round completes, no shard is counted twice, the selection equals the local one and the
 *   ledger has each selected image once;
 * - the coordinator SIGKILLed while waiting: run again, it finds the shards already scored and selects
 *   what the local round selects without scoring them again;
 * - a worker with another model beside one with the right model: it refuses its shards, which go back to
 *   the queue and are scored by the other; the round completes with the local selection;
 * - only workers with another model: the round stops with exit code 5 naming both models' digests, the
 *   ledger unchanged;
 * - Redis unreachable: exit code 5, one line, the ledger unchanged (this one needs no Redis).
 * The reference is the local `select` on the same pool.
 */
import { existsSync } from 'node:fs';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundledModelPath } from '../../src/util/package-root.js';
import { cleanUp, cli, describeWithRedis, PROCESS_MS, start, stderrMatch, digitPool, ledgerRows, selection, startTestRedis, startWorkers, tempDir, type CliRun } from './cluster.js';
import { closedPort } from '../helpers/closed-port.js';

const POOL = 90;
const SHARDS = 3;
const ROUND = ['--round-size', '12', '--workers', '1'];
const LEDGER = join('.rpr-select', 'ledger.sqlite');

const redis = await startTestRedis();

interface SelectJson {
  selected: { id: string; uri: string; rank: number; score: number }[];
  counts: Record<string, number>;
  distributed: { shards: number; images: number; reusedShards: number; workers: { worker: string; shards: number; images: number }[] };
}

function json(run: CliRun): SelectJson {
  if (run.code !== 0) throw new Error(`select exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as SelectJson;
}

let pool: string;
let localDir: string;
let local: SelectJson;

beforeAll(async () => {
  pool = await digitPool(POOL);
  localDir = await tempDir('rpr-local-');
  local = json(await cli(['select', '--pool', pool, ...ROUND, '--json'], localDir));
});

afterAll(async () => {
  if ('url' in redis) await redis.stop();
  await cleanUp();
});

describe('Redis unreachable', () => {
  it('exits 5 with one line naming the URL, and writes nothing to the ledger', async () => {
    const cwd = await tempDir('rpr-down-');
    const ledger = join(localDir, LEDGER);
    const before = ledgerRows(ledger);
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const run = await cli(['select', '--pool', pool, ...ROUND, '--ledger', ledger, '--distributed', url, '--quiet'], cwd);
    expect(run.code).toBe(5);
    expect(run.stdout).toBe('');
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^rpr-select: error: (cannot reach Redis at ${url}: .*ECONNREFUSED.*|distributed rounds need the npm package ioredis.*)`));
    expect(ledgerRows(ledger)).toEqual(before);
    expect((before.selections as unknown[]).length).toBe(12);
  });

  it('in a fresh directory, fails before creating a ledger', async () => {
    const cwd = await tempDir('rpr-down-fresh-');
    const run = await cli(['select', '--pool', pool, ...ROUND, '--distributed', `redis://127.0.0.1:${await closedPort()}`, '--quiet'], cwd);
    expect(run.code).toBe(5);
    expect(existsSync(join(cwd, LEDGER))).toBe(false);
  });
});

describeWithRedis(redis)('faults in a distributed round', () => {
  it('a worker SIGKILLed while scoring: another takes its shard, the round completes, nothing is counted twice', async () => {
    if (!('url' in redis)) return;
    const queue = 'killed-worker';
    // A lock of 2 s: the survivor takes the dead worker's shard within a few seconds.
    const [victim, survivor] = await startWorkers(2, redis.url, queue, ['--lock-seconds', '2']);
    try {
      const cwd = await tempDir('rpr-coordinator-');
      const coordinator = start(
        ['select', '--pool', pool, ...ROUND, '--distributed', redis.url, '--redis-queue', queue, '--shard-size', String(POOL / SHARDS), '--json'],
        cwd,
      );
      const [, shard] = await Promise.race([
        stderrMatch(victim!, /shard (\d+): scoring/),
        coordinator.exited(PROCESS_MS).then((run) => Promise.reject(new Error(`the round ended before the victim took a shard: ${run.stderr}`))),
      ]);
      const killed = await victim!.kill();
      expect(killed.signal).toBe('SIGKILL');
      // Killed mid-shard: it never reported that shard finished.
      expect(killed.stderr).not.toMatch(new RegExp(`shard ${shard}: \\d+ images`));

      const remote = json(await coordinator.exited(PROCESS_MS));
      expect(selection(remote)).toEqual(selection(local));
      expect(remote.counts).toEqual(local.counts);
      expect(remote.counts.seen).toBe(POOL);
      expect(remote.distributed.images).toBe(POOL);
      expect(remote.distributed.workers.reduce((sum, w) => sum + w.shards, 0)).toBe(SHARDS);
      expect(survivor!.stderr()).toMatch(new RegExp(`shard ${shard}: \\d+ images`));

      const rows = ledgerRows(join(cwd, LEDGER));
      const selected = (rows.selections as { id: string }[]).map((s) => s.id);
      expect(selected).toHaveLength(12);
      expect(new Set(selected).size).toBe(12);
      expect(selected.sort()).toEqual(local.selected.map((s) => s.id).sort());
    } finally {
      await Promise.all([victim!.stop(), survivor!.stop()]);
    }
  });

  it('the coordinator SIGKILLed while waiting: run again, it reuses the shards already scored', async () => {
    if (!('url' in redis)) return;
    const queue = 'killed-coordinator';
    const cwd = await tempDir('rpr-coordinator-');
    const args = ['select', '--pool', pool, ...ROUND, '--distributed', redis.url, '--redis-queue', queue, '--shard-size', String(POOL / SHARDS), '--json'];
    // No worker yet: the coordinator enqueues every shard, then waits.
    const first = start(args, cwd);
    await stderrMatch(first, new RegExp(`${SHARDS} shards on queue '${queue}'`));
    expect((await first.kill()).signal).toBe('SIGKILL');

    const workers = await startWorkers(2, redis.url, queue);
    try {
      // The workers score the orphaned jobs with no coordinator listening.
      const finished = () => workers.reduce((n, w) => n + (w.stderr().match(/shard \d+: \d+ images/g)?.length ?? 0), 0);
      while (finished() < SHARDS) await new Promise((resolve) => setTimeout(resolve, 100));
      const scoring = () => workers.map((w) => w.stderr().match(/: scoring/g)?.length ?? 0);
      const before = scoring();

      const second = await cli(args, cwd);
      const remote = json(second);
      expect(second.stderr).toContain(`${SHARDS} already scored by an earlier run`);
      expect(remote.distributed.reusedShards).toBe(SHARDS);
      expect(scoring()).toEqual(before);
      expect(selection(remote)).toEqual(selection(local));
      expect(remote.counts).toEqual(local.counts);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  });

  /** The bundled model with one weight changed: same architecture, another digest. */
  async function otherModel(): Promise<string> {
    const model = await tempDir('rpr-other-model-');
    await cp(bundledModelPath(), model, { recursive: true });
    const weights = await readFile(join(model, 'weights.bin'));
    weights.writeFloatLE(weights.readFloatLE(0) + 0.5, 0);
    await writeFile(join(model, 'weights.bin'), weights);
    return model;
  }

  const refusal = (model: string) =>
    `worker \\S+ has the model ${model} \\(digest [0-9a-f]{12}\\), but round \\S+ scores with ${bundledModelPath()} \\(digest [0-9a-f]{12}\\); start the worker with --model`;

  it('a worker with another model beside one with the right one: it refuses its shards, the other scores them, the selection is the local one', async () => {
    if (!('url' in redis)) return;
    const queue = 'mixed-models';
    const model = await otherModel();
    const [wrong] = await startWorkers(1, redis.url, queue, ['--model', model]);
    const [right] = await startWorkers(1, redis.url, queue);
    try {
      // Nine shards: both workers are idle when they are enqueued, so each is handed some.
      const run = await cli(
        ['select', '--pool', pool, ...ROUND, '--distributed', redis.url, '--redis-queue', queue, '--shard-size', String(POOL / 9), '--json'],
        await tempDir('rpr-coordinator-'),
      );
      const remote = json(run);
      expect(selection(remote)).toEqual(selection(local));
      expect(wrong!.stderr()).toMatch(/refused shard \d/);
      expect(run.stderr).toMatch(new RegExp(`${refusal(model)}.*; its shards go to the other workers`));
      expect(remote.distributed.workers).toHaveLength(1);
      expect(remote.distributed.shards).toBe(9);
    } finally {
      await Promise.all([wrong!.stop(), right!.stop()]);
    }
  });

  it('only workers with another model: the round stops with exit 5, the ledger unchanged', async () => {
    if (!('url' in redis)) return;
    const queue = 'other-model';
    const model = await otherModel();
    const [worker] = await startWorkers(1, redis.url, queue, ['--model', model]);
    try {
      const ledger = join(localDir, LEDGER);
      const before = ledgerRows(ledger);
      const run = await cli(
        ['select', '--pool', pool, ...ROUND, '--ledger', ledger, '--distributed', redis.url, '--redis-queue', queue, '--shard-size', String(POOL / SHARDS), '--quiet'],
        await tempDir('rpr-coordinator-'),
      );
      expect(run.code).toBe(5);
      expect(run.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^rpr-select: error: no worker connected to queue 'other-model' can score this round: ${refusal(model)}`));
      expect(worker!.stderr()).toMatch(/refused shard \d/);
      expect(ledgerRows(ledger)).toEqual(before);
      // The shards it refused are not in its hands when it stops.
      const ended = await worker!.stop();
      expect(ended.stderr).toMatch(/stopping \(signal again to exit at once\)/);
    } finally {
      await worker!.stop();
    }
  });
});
