/**
 * The distributed round's central claim, without Redis: scoring a pool shard by shard (each shard keeping
 * only its best `capacity` candidates) and merging the shards in any arrival order gives the shortlist
 * a local round builds from the whole pool — same ids, uris, scores and order — and the same counts.
 * The reference is the local path itself (rankScored over the directory source), on real MNIST PNGs
 * scored by the pixel test double.
 */
import { copyFile, mkdir, mkdtemp as makeTemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPolicy, Ranker, type RankedCandidate } from '../policy/index.js';
import { createDirectorySource, encodeDigitPng, mnistPart, writeDigitPngs } from '../pool/index.js';
import { imageCost, Ledger, rankScored, runRound, type PoolRanking, type RankCandidates, type RoundReport, type SeenRecorder } from '../rounds/index.js';
import { pixelTestScorer } from '../rounds/testing/pixel-test-scorer.js';
import { JsonlSink } from '../sinks/jsonl/index.js';
import { createRng, shuffleInPlace } from '../util/rng.js';
import { excludedSnapshot } from './excluded-ids.js';
import { listShards } from './list-shards.js';
import { ShardMerger } from './merge-shards.js';
import { scoreShard } from './score-shard.js';
import { SHARD_PROTOCOL, type ShardJobData, type ShardResult } from './shard-job.js';

const NOTHING: SeenRecorder = { scored: () => undefined, failed: () => undefined };
const CONSTANT_COST = { unit: 'samples', rule: { rule: 'constant', value: 1 } } as const;
const WORKER = { id: 'test:1', host: 'test', pid: 1, backend: 'pixel-test' };

let pool: string;
let ids: string[];
const made: string[] = [];

async function mkdtemp(prefix: string): Promise<string> {
  const dir = await makeTemp(prefix);
  made.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true })));
});

beforeAll(async () => {
  pool = await mkdtemp(join(tmpdir(), 'rpr-merge-'));
  await writeDigitPngs(pool, mnistPart('pool').slice(0, 150));
  // Unusable entries in the middle of the listing: a corrupt file and a blank image (no RPR).
  await writeFile(join(pool, '0000', 'digit-5000-corrupt.png'), Buffer.from('not a png'));
  await writeFile(join(pool, '0000', 'digit-6000-blank.png'), await encodeDigitPng({ index: -1, label: 0, pixels: new Float32Array(784) }));
  ids = (await localRanking('lowest-rpr', 10_000, new Set())).shortlist.map((c) => c.result.id);
});

interface Ranked {
  readonly shortlist: RankedCandidate[];
  readonly ranking: PoolRanking;
}

async function localRanking(policy: string, capacity: number, excluded: ReadonlySet<string>, dir = pool): Promise<Ranked> {
  const ranker = new Ranker(createPolicy(policy, { seed: 3 }), capacity);
  const ranking = await rankScored(pixelTestScorer(), createDirectorySource(dir), ranker, { excluded, cost: imageCost('samples', CONSTANT_COST.rule), record: NOTHING });
  return { shortlist: ranker.shortlist(), ranking };
}

function job(policy: string, capacity: number, excluded: ReadonlySet<string>): Omit<ShardJobData, 'shard'> {
  return {
    protocol: SHARD_PROTOCOL,
    round: 'test-round',
    modelPath: 'pixel-test',
    modelDigest: 'pixel-test',
    preprocessingDigest: null,
    scoring: {},
    policy: { name: policy, options: { seed: 3 } },
    cost: CONSTANT_COST,
    capacity,
    excluded: { count: excluded.size, digest: excludedSnapshot(excluded).digest, key: null },
  };
}

/** Every shard scored as a worker would, in shard order. */
async function shardResults(policy: string, capacity: number, excluded: ReadonlySet<string>, shardSize: number, dir = pool): Promise<ShardResult[]> {
  const results: ShardResult[] = [];
  for await (const shard of listShards(dir, shardSize)) {
    results.push(await scoreShard({ job: { ...job(policy, capacity, excluded), shard }, scorer: pixelTestScorer(), excluded, worker: WORKER }));
  }
  return results;
}

function merged(policy: string, capacity: number, results: readonly ShardResult[], seed: number): Ranked {
  const ranker = new Ranker(createPolicy(policy, { seed: 3 }), capacity);
  const merger = new ShardMerger(ranker, NOTHING);
  for (const result of shuffleInPlace([...results], createRng(seed))) merger.add(result);
  expect(merger.merged).toBe(results.length);
  return { shortlist: ranker.shortlist(), ranking: merger.ranking() };
}

const view = (shortlist: readonly RankedCandidate[]) => shortlist.map((c) => [c.result.id, c.result.uri, c.score, c.cost]);

describe('sharded scoring merged in any order equals the local ranking', () => {
  it.each([
    ['lowest-rpr', 12, 1],
    ['lowest-rpr', 12, 7],
    ['lowest-rpr', 5, 50],
    ['highest-rpr', 3, 60],
    ['random', 6, 40],
    ['margin', 10, 30],
    ['entropy', 8, 1000],
  ])('%s, shortlist %i, shards of %i entries', async (policy, capacity, shardSize) => {
    const rng = createRng(capacity * 1000 + shardSize);
    const excluded = new Set(ids.filter(() => rng.next() < 0.2));
    const local = await localRanking(policy, capacity, excluded);
    const results = await shardResults(policy, capacity, excluded, shardSize);
    expect(results.every((r) => r.candidates.length <= capacity)).toBe(true);
    for (const seed of [1, 2]) {
      const remote = merged(policy, capacity, results, seed);
      expect(view(remote.shortlist)).toEqual(view(local.shortlist));
      expect(remote.ranking.total).toBe(local.ranking.total);
      expect(remote.ranking.alreadySelected).toBe(local.ranking.alreadySelected);
      expect(remote.ranking.alreadySelected).toBe(excluded.size);
      expect(remote.ranking.skippedTotal).toBe(local.ranking.skipped.length);
      expect(remote.ranking.skipped.map((s) => [s.uri, s.reason])).toEqual(local.ranking.skipped.map((s) => [s.uri, s.reason]));
    }
  });

  it('an image listed twice keeps the uri of its first listing, as a local round does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rpr-merge-dup-'));
    const paths = await writeDigitPngs(dir, mnistPart('pool').slice(0, 30));
    const best = (await localRanking('lowest-rpr', 1, new Set(), dir)).shortlist[0]!.result.uri;
    await mkdir(join(dir, 'zzzz'));
    await copyFile(best, join(dir, 'zzzz', 'copy.png'));
    const local = await localRanking('lowest-rpr', 5, new Set(), dir);
    const remote = merged('lowest-rpr', 5, await shardResults('lowest-rpr', 5, new Set(), 4, dir), 9);
    expect(view(remote.shortlist)).toEqual(view(local.shortlist));
    expect(remote.shortlist[0]!.result.uri).toBe(best);
    expect(paths).toContain(best);
    expect(remote.ranking.skipped.at(-1)?.reason).toMatch(/duplicate/);
  });
});

describe('runRound ranking merged shards', () => {
  async function rounds(rankCandidates?: RankCandidates): Promise<RoundReport[]> {
    const dir = await mkdtemp(join(tmpdir(), 'rpr-merge-round-'));
    const reports: RoundReport[] = [];
    for (let round = 0; round < 2; round++) {
      const ledger = Ledger.open(join(dir, 'ledger.sqlite'));
      await ledger.acquireLease();
      const sink = await JsonlSink.open({ path: join(dir, 'queue.jsonl') });
      try {
        reports.push(
          await runRound({
            ledger,
            sink,
            scorer: pixelTestScorer(),
            source: createDirectorySource(pool),
            ...(rankCandidates ? { rankCandidates } : {}),
            policy: createPolicy('lowest-rpr'),
            budget: { total: 1000, perRound: 10, unit: 'samples', cost: CONSTANT_COST.rule },
            diversity: true,
            maxClassShare: 0.3,
            configDigest: 'c',
            modelDigest: 'm',
          }),
        );
      } finally {
        await sink.close();
        ledger.close();
      }
    }
    return reports;
  }

  it('selects what the local round selects, round after round, with the same counts', async () => {
    const local = await rounds();
    const remote = await rounds(async (ranker, setup) => {
      // Diversity and quotas: the shortlist is 5 × the round's 10 slots.
      expect(setup.capacity).toBe(50);
      const merger = new ShardMerger(ranker, setup.record);
      for (const result of await shardResults('lowest-rpr', setup.capacity, setup.excluded, 70)) merger.add(result);
      return merger.ranking();
    });
    const picked = (r: RoundReport) => r.selected.map((s) => [s.id, s.uri, s.rank, s.score, s.predicted]);
    expect(remote.map(picked)).toEqual(local.map(picked));
    expect(remote.map((r) => r.counts)).toEqual(local.map((r) => r.counts));
    expect(remote[1]!.counts.alreadySelected).toBe(10);
    expect(new Set(remote.flatMap((r) => r.selected.map((s) => s.id))).size).toBe(20);
  });
});
