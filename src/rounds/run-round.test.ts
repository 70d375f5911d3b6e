import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { RprError } from '../errors/index.js';
import { createPolicy, type Policy } from '../policy/index.js';
import { mnistPart, sampleId, type PoolEntry, type PoolSource } from '../pool/index.js';
import { JsonlSink } from '../sinks/jsonl/index.js';
import type { Sink, SinkItem } from '../sinks/sink.js';
import { Ledger } from './ledger.js';
import { ROUND_POINTS, runRound, type RoundPoint, type RunRoundOptions } from './run-round.js';
import { mnistPngPool, mnistPoolPngs, mnistPoolUri } from './testing/mnist-png-pool.js';
import { pixelTestScorer } from './testing/pixel-test-scorer.js';
import { rprRejection } from '../../test/helpers/rpr-rejection.js';

interface Setup {
  readonly dir: string;
  readonly ledgerPath: string;
  readonly queuePath: string;
}

function setup(): Setup {
  const dir = mkdtempSync(join(tmpdir(), 'rpr-round-'));
  return { dir, ledgerPath: join(dir, 'ledger.sqlite'), queuePath: join(dir, 'queue.jsonl') };
}

/** A run: its own ledger handle and sink, like a new process. `late` = a clock past any earlier lease. */
async function openRun(s: Setup, late = false): Promise<{ ledger: Ledger; sink: JsonlSink }> {
  const ledger = Ledger.open(s.ledgerPath, late ? { now: () => Date.now() + 3_600_000 } : {});
  await ledger.acquireLease({ ttlMs: 60_000 });
  return { ledger, sink: await JsonlSink.open({ path: s.queuePath }) };
}

type Options = Omit<RunRoundOptions, 'ledger' | 'sink' | 'source'>;

function options(overrides: Partial<Options> = {}): Options {
  return {
    scorer: pixelTestScorer(),
    policy: createPolicy('lowest-rpr'),
    budget: { total: 1000, perRound: 40, unit: 'samples', cost: { rule: 'constant', value: 1 } },
    configDigest: 'config-digest',
    modelDigest: 'model-digest',
    ...overrides,
  };
}

async function round(s: Setup, source: PoolSource, overrides: Partial<Options> = {}, sinkWrap?: (sink: Sink) => Sink) {
  const run = await openRun(s);
  try {
    return await runRound({ ...options(overrides), ledger: run.ledger, sink: sinkWrap ? sinkWrap(run.sink) : run.sink, source });
  } finally {
    run.ledger.close();
  }
}

/** The same sink with another push (a spread would drop the class's methods). */
function withPush(sink: Sink, push: Sink['push'], name = sink.name): Sink {
  return { name, push, list: () => sink.list(), fetchLabels: () => sink.fetchLabels(), close: () => sink.close() };
}

function queueLines(s: Setup): SinkItem[] {
  return readFileSync(s.queuePath, 'utf8')
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as SinkItem);
}

/** The queue holds each selected image exactly once and agrees with the ledger (round, rank, task id). */
function expectLedgerAndQueueAgree(s: Setup): void {
  const lines = queueLines(s);
  expect(new Set(lines.map((l) => l.id)).size).toBe(lines.length);
  const ledger = Ledger.open(s.ledgerPath);
  const fromLedger = ledger.rounds().flatMap((r) => ledger.selections(r.id));
  expect(ledger.openRound()).toBeNull();
  ledger.close();
  expect(fromLedger.map((x) => [x.id, x.round, x.rank, x.taskId, x.state])).toEqual(
    lines.map((l, i) => [l.id, l.round, l.rank, String(i + 1), 'queued']),
  );
}

/** RPR_k of the i-th pool digit computed straight from the MNIST pixels (byte/255), independently of the scorer. */
function directRpr(index: number, side: number): number {
  const pixels = mnistPart('pool')[index]!.pixels;
  const start = (28 - side) >> 1;
  let all = 0;
  let inside = 0;
  pixels.forEach((v, i) => {
    const q = Math.round(255 * v) / 255;
    all += q * q;
    const r = Math.floor(i / 28);
    const c = i % 28;
    if (r >= start && r < start + side && c >= start && c < start + side) inside += q * q;
  });
  return Math.sqrt(inside / all);
}

describe('runRound', () => {
  it('selects the lowest-RPR images in rank order and queues each once', async () => {
    const s = setup();
    const n = 300;
    const report = await round(s, await mnistPngPool(n), { policy: createPolicy('lowest-rpr', { k: 5 }) });
    const ids = (await mnistPoolPngs(n)).map((png) => sampleId(png));
    const expected = ids
      .map((id, i) => ({ id, rpr: directRpr(i, 14) }))
      .sort((a, b) => a.rpr - b.rpr || (a.id < b.id ? -1 : 1))
      .slice(0, 40);
    expect(report.round).toBe(1);
    expect(report.resumed).toBe(false);
    expect(report.selected.map((x) => x.id)).toEqual(expected.map((e) => e.id));
    report.selected.forEach((x, i) => {
      expect(x.rank).toBe(i + 1);
      expect(x.scores['rpr@5']).toBeCloseTo(expected[i]!.rpr, 6);
      // lowest-rpr ranks by 1 − RPR but reports the RPR itself as the score.
      expect(x.score).toBeCloseTo(expected[i]!.rpr, 6);
    });
    expect(report.counts).toMatchObject({ seen: n, ranked: n, skipped: 0, alreadySelected: 0 });
    expect(report.budget).toMatchObject({ total: 1000, spent: 40, left: 960, roundSpent: 40 });
    expectLedgerAndQueueAgree(s);
  });

  it('spends 100, 100, 50 of a 250 budget capped at 100 on distinct images; the fourth round is RPR_BUDGET_SPENT', async () => {
    const s = setup();
    const pool = await mnistPngPool(260);
    const budget = { total: 250, perRound: 100, unit: 'samples' as const, cost: { rule: 'constant' as const, value: 1 } };
    const sizes: number[] = [];
    const seen = new Set<string>();
    for (let i = 1; i <= 3; i++) {
      const report = await round(s, pool, { budget });
      expect(report.round).toBe(i);
      sizes.push(report.selected.length);
      for (const x of report.selected) seen.add(x.id);
      expect(report.counts.alreadySelected).toBe(sizes.slice(0, -1).reduce((a, b) => a + b, 0));
    }
    expect(sizes).toEqual([100, 100, 50]);
    expect(seen.size).toBe(250);
    const spent = await rprRejection(round(s, pool, { budget }));
    expect(spent.code).toBe('RPR_BUDGET_SPENT');
    expect(spent.exitCode).toBe(3);
    expect(spent.message).toMatch(/250 of 250 samples used/);
    const ledger = Ledger.open(s.ledgerPath);
    expect(ledger.rounds().map((r) => [r.id, r.selected, r.spent])).toEqual([
      [1, 100, 100],
      [2, 100, 100],
      [3, 50, 50],
    ]);
    ledger.close();
    expectLedgerAndQueueAgree(s);
  });

  describe('resumes after a crash', () => {
    const crashes: (RoundPoint | 'mid-push' | 'torn-push')[] = [...ROUND_POINTS, 'mid-push', 'torn-push'];

    it.each(crashes)('at %s: the next run finishes the same round, each image queued once', async (point) => {
      const s = setup();
      const pool = await mnistPngPool(50);
      const crashed = await openRun(s);
      const crash = new Error(`simulated crash at ${point}`);
      const sink: Sink =
        point === 'mid-push' || point === 'torn-push'
          ? withPush(crashed.sink, async (items) => {
              await crashed.sink.push(items.slice(0, Math.floor(items.length / 2)));
              if (point === 'torn-push') appendFileSync(s.queuePath, JSON.stringify(items[items.length - 1]).slice(0, 30));
              throw crash;
            })
          : crashed.sink;
      const hooks = {
        at: (at: RoundPoint) => {
          if (at === point) throw crash;
        },
      };
      const small = options({ budget: { total: 1000, perRound: 20, unit: 'samples', cost: { rule: 'constant', value: 1 } } });
      await expect(runRound({ ...small, ledger: crashed.ledger, sink, source: pool, hooks })).rejects.toBe(crash);

      // The crashed process never released its lease; the next run finds it stale.
      const next = await openRun(s, true);
      const report = await runRound({ ...small, ledger: next.ledger, sink: next.sink, source: pool });
      next.ledger.close();
      crashed.ledger.close();

      const wroteBeforeCrash = point !== 'after-score';
      const finishedBeforeCrash = point === 'after-queued';
      expect(report.round).toBe(finishedBeforeCrash ? 2 : 1);
      expect(report.resumed).toBe(wroteBeforeCrash && !finishedBeforeCrash);
      expect(report.selected).toHaveLength(20);
      expectLedgerAndQueueAgree(s);
      expect(queueLines(s)).toHaveLength(finishedBeforeCrash ? 40 : 20);

      const after = await round(s, pool, small);
      expect(after.resumed).toBe(false);
      expect(after.counts.alreadySelected).toBe(finishedBeforeCrash ? 40 : 20);
      expectLedgerAndQueueAgree(s);
    });
  });

  it('leaves the round open when the sink is unreachable, and the next run delivers it', async () => {
    const s = setup();
    const pool = await mnistPngPool(60);
    const down = (sink: Sink): Sink =>
      withPush(sink, async () => {
        throw new RprError('RPR_SINK_UNREACHABLE', 'connect ECONNREFUSED 127.0.0.1:8080');
      });
    const error = await rprRejection(round(s, pool, {}, down));
    expect(error.exitCode).toBe(5);
    const ledger = Ledger.open(s.ledgerPath);
    expect(ledger.openRound()).toMatchObject({ id: 1, selected: 40 });
    expect(ledger.selections(1).every((x) => x.state === 'selected' && x.taskId === null)).toBe(true);
    ledger.close();
    const report = await round(s, pool);
    expect(report).toMatchObject({ round: 1, resumed: true });
    expect(report.counts.seen).toBe(60);
    expectLedgerAndQueueAgree(s);
  });

  it('reports blank and corrupt images as skipped, never selects them, and records why', async () => {
    const s = setup();
    const blank = await sharp(Buffer.alloc(28 * 28), { raw: { width: 28, height: 28, channels: 1 } }).png().toBuffer();
    const corrupt = Buffer.from('\x89PNG\r\n\x1a\nthis is not really a png');
    const extra: PoolEntry[] = [
      { kind: 'image', uri: 'blank.png', bytes: blank },
      { kind: 'image', uri: 'corrupt.png', bytes: corrupt },
      { kind: 'skipped', uri: 'unreadable.png', reason: 'permission denied (EACCES)' },
    ];
    const report = await round(s, await mnistPngPool(5, extra), { budget: { total: 100, perRound: 100, unit: 'samples', cost: { rule: 'constant', value: 1 } } });
    expect(report.selected.map((x) => x.uri).sort()).toEqual([0, 1, 2, 3, 4].map(mnistPoolUri));
    expect(report.skipped.map((x) => x.uri)).toEqual(['blank.png', 'corrupt.png', 'unreadable.png']);
    expect(report.skipped[0]!.reason).toMatch(/all-zero/);
    expect(report.counts).toMatchObject({ seen: 8, ranked: 5, skipped: 3 });
    const ledger = Ledger.open(s.ledgerPath);
    expect(ledger.sample(sampleId(blank))).toMatchObject({ state: 'failed', reason: expect.stringMatching(/all-zero/) });
    expect(ledger.sample(sampleId(corrupt))?.state).toBe('failed');
    expect((ledger.round(1)?.details as { skippedTotal: number }).skippedTotal).toBe(3);
    ledger.close();
  });

  it('refuses an empty pool, and a pool whose images were all selected, with RPR_POOL_EMPTY', async () => {
    const s = setup();
    const empty: PoolSource = { description: 'empty', entries: async function* () {} };
    const none = await rprRejection(round(s, empty));
    expect(none.code).toBe('RPR_POOL_EMPTY');
    expect(none.message).toMatch(/has no images/);
    const pool = await mnistPngPool(30);
    await round(s, pool);
    const all = await rprRejection(round(s, pool));
    expect(all.code).toBe('RPR_POOL_EMPTY');
    expect(all.message).toMatch(/every image .* was selected in an earlier round \(30\)/);
  });

  it('keeps class quotas and never exceeds the round cap in cost units', async () => {
    const s = setup();
    const pool = await mnistPngPool(200);
    const quota = await round(s, pool, { maxClassShare: 0.25, budget: { total: 1000, perRound: 20, unit: 'samples', cost: { rule: 'constant', value: 1 } } });
    const perClass = new Map<number | null, number>();
    for (const x of quota.selected) perClass.set(x.predicted, (perClass.get(x.predicted) ?? 0) + 1);
    expect(Math.max(...perClass.values())).toBeLessThanOrEqual(5);
    expect(quota.selected).toHaveLength(20);

    const costly = await round(s, pool, { budget: { total: 1000, perRound: 7, unit: 'cost', cost: { rule: 'constant', value: 2.5 } } });
    expect(costly.selected).toHaveLength(2);
    expect(costly.budget.roundSpent).toBe(5);
  });

  it('costs images by pixel count under the pixels rule', async () => {
    const s = setup();
    const sizes = [28, 56, 100, 28, 300];
    const entries: PoolEntry[] = await Promise.all(
      sizes.map(async (side, i) => ({
        kind: 'image' as const,
        uri: `sized-${i}.png`,
        bytes: await sharp({ create: { width: side, height: side, channels: 3, background: { r: 40 * i, g: 200, b: 10 } } }).png().toBuffer(),
      })),
    );
    const pool: PoolSource = { description: 'sized', entries: async function* () { yield* entries; } };
    const policy: Policy = createPolicy('random', { seed: 3 });
    const report = await round(s, pool, {
      policy,
      budget: { total: 100, perRound: 0.05, unit: 'cost', cost: { rule: 'pixels', perMegapixel: 1, min: 0.001 } },
    });
    const costOf = new Map(sizes.map((side, i) => [`sized-${i}.png`, Math.max(0.001, (side * side) / 1e6)]));
    for (const x of report.selected) expect(x.cost).toBeCloseTo(costOf.get(x.uri)!, 12);
    // 0.001 + 0.003136 + 0.01 + 0.001 fit in 0.05; the 300×300 image (0.09) never can.
    expect(report.selected.map((x) => x.uri).sort()).toEqual(['sized-0.png', 'sized-1.png', 'sized-2.png', 'sized-3.png']);
    expect(report.budget.roundSpent).toBeCloseTo(0.015136, 12);
    expect(report.counts.overCapacity).toBe(1);
  });

  it('in a dry run selects what a real run would, and writes nothing anywhere', async () => {
    const s = setup();
    const pool = await mnistPngPool(80);
    await round(s, pool);
    const reader = Ledger.open(s.ledgerPath);
    const sink = await JsonlSink.open({ path: s.queuePath });
    const before = readFileSync(s.queuePath, 'utf8');
    const dry = await runRound({ ...options(), ledger: reader, sink, source: pool, dryRun: true });
    reader.close();
    expect(dry).toMatchObject({ round: 2, dryRun: true, resumed: false });
    expect(dry.budget).toMatchObject({ spent: 80, left: 920, roundSpent: 40 });
    expect(readFileSync(s.queuePath, 'utf8')).toBe(before);
    const real = await round(s, pool);
    expect(real.round).toBe(2);
    expect(real.selected.map((x) => [x.id, x.rank, x.score])).toEqual(dry.selected.map((x) => [x.id, x.rank, x.score]));
  });

  it('finishes an open round only with the sink it started with', async () => {
    const s = setup();
    const pool = await mnistPngPool(50);
    await rprRejection(round(s, pool, {}, (sink) => withPush(sink, () => Promise.reject(new RprError('RPR_SINK_AUTH', 'no')))));
    const wrong = await rprRejection(round(s, pool, {}, (sink) => withPush(sink, (items) => sink.push(items), 'label-studio')));
    expect(wrong.code).toBe('RPR_USAGE');
    expect(wrong.message).toMatch(/round 1 was started with the jsonl sink.*--sink jsonl/);
  });

  it("records the sink's target with the round, so that sync finds it again; a sink without one records none", async () => {
    const s = setup();
    const pool = await mnistPngPool(50);
    await round(s, pool, { budget: { ...options().budget, perRound: 10 } }, (sink) => ({
      ...withPush(sink, (items) => sink.push(items)),
      target: () => Promise.resolve({ labelStudio: { project: 12 } }),
    }));
    await round(s, pool, { budget: { ...options().budget, perRound: 10 } });
    const ledger = Ledger.open(s.ledgerPath);
    const [first, second] = ledger.rounds();
    ledger.close();
    expect(first!.details['sinkTarget']).toEqual({ labelStudio: { project: 12 } });
    expect(second!.details).not.toHaveProperty('sinkTarget');
  });
});
