/**
 * One acquisition round, as a state machine the ledger makes crash-safe:
 *
 *   (resume) an open round exists → push its selections again (the sink's push is idempotent) →
 *            record task ids, mark it queued. Nothing is scored again.
 *   (fresh)  check the budget → score the pool → rank with the policy, skipping samples selected
 *            before → write the round and its selections in one transaction (open) → push → record
 *            task ids, mark queued, in one transaction.
 *
 * A run killed anywhere leaves either no round (before the write) or an open round that the next run
 * finishes, so no sample is selected, queued or counted twice. The caller holds the ledger's lease
 * (except for a dry run, which only reads).
 */
import { channel } from 'node:diagnostics_channel';
import type { CostRule } from '../config/index.js';
import { errors, RprError } from '../errors/index.js';
import type { ScoreProgress, Scorer } from '../metrics/types.js';
import { Ranker, selectBatch, type Policy, type RankedCandidate } from '../policy/index.js';
import type { PoolSource, Skipped } from '../pool/types.js';
import type { Sink, SinkItem } from '../sinks/sink.js';
import { assertBudgetLeft, budgetStatus, formatAmount, type BudgetLimits, type BudgetStatus } from './budget.js';
import { costedSource } from './costed-source.js';
import { imageCost, type ImageCost } from './image-cost.js';
import type { Ledger } from './ledger.js';
import type { NewSelection, RoundRecord, SelectionRecord } from './ledger-types.js';
import { scoresOf } from './round-scores.js';
import { SINK_TARGET_DETAIL } from './rounds-sink.js';

/** Points between the steps of a round, where tests (and RPR_TEST_PAUSE_AT) can stop a run. */
export const ROUND_POINTS = ['after-score', 'after-ledger-write', 'after-push', 'after-queued'] as const;
export type RoundPoint = (typeof ROUND_POINTS)[number];

export interface RoundHooks {
  /** Called when the round reaches `point`; a throw stops the run there, as a crash would. */
  at?(point: RoundPoint, round: number | null): void | Promise<void>;
}

export interface RunRoundOptions {
  /** Its lease must be held by this run. */
  readonly ledger: Ledger;
  readonly sink: Sink;
  /** Scores `source` on this machine; required unless `rankCandidates` is given. */
  readonly scorer?: Scorer;
  readonly source: PoolSource;
  /**
   * Fills the round's ranker with candidates scored elsewhere (the distributed coordinator's merged
   * shards) instead of running `scorer` over `source`; the rest of the round is the same.
   * @defaultValue the local scorer
   */
  readonly rankCandidates?: RankCandidates;
  readonly policy: Policy;
  readonly budget: BudgetLimits & { readonly cost: CostRule };
  /** Spread the round by greedy k-center over projection coordinates. @defaultValue false */
  readonly diversity?: boolean;
  /** Largest share of a round one predicted class may take. @defaultValue no quota */
  readonly maxClassShare?: number | null;
  /** Shortlist = factor × round size when diversity, quotas or variable costs must choose. @defaultValue 5 */
  readonly shortlistFactor?: number;
  readonly configDigest: string;
  readonly modelDigest: string;
  /** Extra facts recorded with the round (backend, config file…). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly hooks?: RoundHooks;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScoreProgress) => void;
  /** Score and choose, but write nothing to the ledger or the sink (no lease needed). @defaultValue false */
  readonly dryRun?: boolean;
}

/** Records what a round saw in the ledger (batched; nothing on a dry run). */
export interface SeenRecorder {
  scored(sample: { readonly id: string; readonly uri: string }): void;
  failed(sample: { readonly id: string; readonly uri: string; readonly reason: string }): void;
}

/** What a fresh round ranks its candidates with. */
export interface RankSetup {
  /** Samples selected in earlier rounds: passed over, never offered to the ranker. */
  readonly excluded: ReadonlySet<string>;
  readonly cost: ImageCost;
  /** The ranker's capacity: the shortlist the batch is chosen from. */
  readonly capacity: number;
  /** The number this round will get. */
  readonly round: number;
  readonly record: SeenRecorder;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScoreProgress) => void;
}

/** What filling a ranker saw. */
export interface PoolRanking {
  /** Pool entries seen (scored or skipped). */
  readonly total: number;
  readonly alreadySelected: number;
  /** Unusable images with the reason: all of them, or the first ones when `skippedTotal` says more. */
  readonly skipped: readonly Skipped[];
  /** @defaultValue skipped.length */
  readonly skippedTotal?: number;
}

/** Fills a fresh round's ranker from candidates scored somewhere else. */
export type RankCandidates = (ranker: Ranker, setup: RankSetup) => Promise<PoolRanking>;

/** What finishing an open round needs: no scorer, no pool. */
export type ResumeRoundOptions = Pick<RunRoundOptions, 'ledger' | 'sink' | 'budget' | 'hooks' | 'dryRun'>;

export interface SelectedImage extends SinkItem {
  readonly cost: number;
  readonly taskId: string | null;
}

export interface RoundCounts {
  /** Pool entries the scorer reported (scored or skipped). */
  readonly seen: number;
  /** Images the policy could rank. */
  readonly ranked: number;
  readonly skipped: number;
  /** Images passed over because an earlier round selected them. */
  readonly alreadySelected: number;
  /** Candidates kept for the final choice. */
  readonly shortlisted: number;
  /** Candidates passed over because they no longer fitted the round's budget, or their class was full. */
  readonly overCapacity: number;
  readonly overQuota: number;
}

export interface RoundReport {
  /** The round's number (with dryRun: the number it would get). */
  readonly round: number;
  /** True when this run finished a round an earlier run had started (nothing was scored). */
  readonly resumed: boolean;
  /** True when nothing was written: the selection is what a real run would make now. */
  readonly dryRun: boolean;
  readonly policy: string;
  readonly sink: string;
  readonly selected: readonly SelectedImage[];
  /** Images that could not be used this round, with the reason (resumed rounds: as recorded). */
  readonly skipped: readonly Skipped[];
  readonly counts: RoundCounts;
  /** The budget after this round, and what the round spent. */
  readonly budget: BudgetStatus & { readonly roundSpent: number };
}

/** Skipped images recorded with a round (the report of a live run lists them all). */
const RECORDED_SKIPS = 100;
/** Samples written to the ledger per transaction while scoring. */
const SEEN_BATCH = 512;

const roundStart = channel('rpr:round:start');
const roundWritten = channel('rpr:round:written');
const roundQueued = channel('rpr:round:queued');

export async function runRound(options: RunRoundOptions): Promise<RoundReport> {
  const open = options.ledger.openRound();
  if (open !== null) return resumeRound(options, open);
  return runFreshRound(options);
}

/** Finishes an open round left by an earlier run: pushes its selections again and marks it queued. */
export async function resumeRound(options: ResumeRoundOptions, round: RoundRecord): Promise<RoundReport> {
  if (round.sink !== options.sink.name) {
    throw errors.usage(
      `round ${round.id} was started with the ${round.sink} sink and is not finished; run again with --sink ${round.sink} to finish it`,
      { round: round.id, sink: round.sink },
    );
  }
  if (roundStart.hasSubscribers) roundStart.publish({ round: round.id, resumed: true });
  const recorded = round.details as { counts?: RoundCounts; skipped?: Skipped[] };
  const finished = options.dryRun ? round : await deliver(options, round.id);
  return report(options, finished, true, recorded.skipped ?? [], recorded.counts ?? emptyCounts());
}

async function runFreshRound(options: RunRoundOptions): Promise<RoundReport> {
  const { ledger, policy, signal } = options;
  const limits = options.budget;
  const cost = imageCost(limits.unit, limits.cost);
  const before = budgetStatus(limits, ledger.spent());
  assertBudgetLeft(before, cost.minCost);
  if (roundStart.hasSubscribers) roundStart.publish({ round: null, resumed: false, budget: before });

  const mustChoose = options.diversity === true || options.maxClassShare != null || cost.variable;
  const roundSlots = Math.floor(before.roundCap / cost.minCost + 1e-9);
  const capacity = roundSlots * (mustChoose ? (options.shortlistFactor ?? 5) : 1);
  const ranker = new Ranker(policy, capacity);
  const recorder = ledgerRecorder(ledger, options.dryRun ?? false);
  const setup: RankSetup = {
    excluded: ledger.selectedIds(),
    cost,
    capacity,
    round: nextRound(ledger),
    record: recorder,
    ...(signal === undefined ? {} : { signal }),
    ...(options.onProgress === undefined ? {} : { onProgress: options.onProgress }),
  };
  const ranking = options.rankCandidates
    ? await options.rankCandidates(ranker, setup)
    : await rankScored(localScorer(options), options.source, ranker, setup);
  recorder.flush();
  const { total, alreadySelected, skipped } = ranking;
  const skippedTotal = ranking.skippedTotal ?? skipped.length;
  await options.hooks?.at?.('after-score', null);

  const shortlist = ranker.shortlist();
  if (shortlist.length === 0) throw nothingToSelect(options.source, total, alreadySelected, skipped, skippedTotal);
  const batch = selectBatch(shortlist, {
    capacity: before.roundCap,
    diversity: options.diversity ?? false,
    maxClassShare: options.maxClassShare ?? null,
  });
  if (batch.picked.length === 0) throw nothingFits(before, shortlist, options.maxClassShare ?? null);
  const counts: RoundCounts = {
    seen: total,
    ranked: total - skippedTotal - alreadySelected,
    skipped: skippedTotal,
    alreadySelected,
    shortlisted: shortlist.length,
    overCapacity: batch.overCapacity,
    overQuota: batch.overQuota,
  };

  const selections = batch.picked.map((c) => ({
    id: c.result.id,
    uri: c.result.uri,
    rank: c.rank,
    score: policy.reported ? policy.reported(c.result) : c.score,
    cost: c.cost,
    scores: scoresOf(c.result),
    predicted: c.result.predicted,
  }));
  if (options.dryRun) return preview(options, before, selections, skipped, counts);

  signal?.throwIfAborted();
  const sinkTarget = await options.sink.target?.();
  const round = ledger.createRound(
    {
      policy: policy.name,
      sink: options.sink.name,
      configDigest: options.configDigest,
      modelDigest: options.modelDigest,
      budgetUnit: limits.unit,
      details: {
        ...options.details,
        ...(sinkTarget ? { [SINK_TARGET_DETAIL]: sinkTarget } : {}),
        counts,
        skipped: skipped.slice(0, RECORDED_SKIPS),
        skippedTotal,
      },
    },
    selections,
    limits,
  );
  if (roundWritten.hasSubscribers) roundWritten.publish({ round: round.id, selected: round.selected });
  await options.hooks?.at?.('after-ledger-write', round.id);
  const queued = await deliver(options, round.id);
  return report(options, queued, false, skipped, counts);
}

/**
 * Streams a pool through a scorer into a ranker: samples in `setup.excluded` are passed over, unusable
 * ones collected with their reason, and each one told to `setup.record`. A local round ranks its whole
 * pool this way; a distributed worker ranks its shard.
 */
export async function rankScored(scorer: Scorer, source: PoolSource, ranker: Ranker, setup: Omit<RankSetup, 'capacity' | 'round'>): Promise<PoolRanking> {
  const { excluded, record } = setup;
  const costs = costedSource(source, setup.cost);
  const skipped: Skipped[] = [];
  let total = 0;
  let alreadySelected = 0;
  const scoring = scorer(costs.source, {
    ...(setup.signal === undefined ? {} : { signal: setup.signal }),
    ...(setup.onProgress === undefined ? {} : { onProgress: setup.onProgress }),
  });
  for await (const event of scoring) {
    total++;
    if (event.kind === 'skipped') {
      costs.forget(event.skipped.uri);
      skipped.push(event.skipped);
      if (event.skipped.id !== null) record.failed({ id: event.skipped.id, uri: event.skipped.uri, reason: event.skipped.reason });
      continue;
    }
    const { result } = event;
    const cost = costs.take(result.uri);
    if (excluded.has(result.id)) {
      alreadySelected++;
      continue;
    }
    const outcome = ranker.offer(result, cost);
    if (outcome.kind === 'skipped') {
      skipped.push({ uri: result.uri, id: result.id, reason: outcome.reason });
      record.failed({ id: result.id, uri: result.uri, reason: outcome.reason });
    } else {
      record.scored({ id: result.id, uri: result.uri });
    }
  }
  return { total, alreadySelected, skipped };
}

function localScorer(options: RunRoundOptions): Scorer {
  if (options.scorer === undefined) throw errors.internal('runRound needs a scorer or rankCandidates');
  return options.scorer;
}

/** Writes seen samples to the ledger in batches of SEEN_BATCH; `flush` writes the rest. */
function ledgerRecorder(ledger: Ledger, dryRun: boolean): SeenRecorder & { flush(): void } {
  const seen: { id: string; uri: string }[] = [];
  const failed: { id: string; uri: string; reason: string }[] = [];
  const write = (force: boolean) => {
    if (dryRun) return;
    if (force || seen.length >= SEEN_BATCH) ledger.recordScored(seen.splice(0));
    if (force || failed.length >= SEEN_BATCH) ledger.recordFailed(failed.splice(0));
  };
  return {
    scored(sample) {
      seen.push({ id: sample.id, uri: sample.uri });
      write(false);
    },
    failed(sample) {
      failed.push({ id: sample.id, uri: sample.uri, reason: sample.reason });
      write(false);
    },
    flush: () => write(true),
  };
}

function nextRound(ledger: Ledger): number {
  return (ledger.rounds().at(-1)?.id ?? 0) + 1;
}

/** Pushes an open round's selections (idempotently) and marks it queued. */
async function deliver(options: ResumeRoundOptions, roundId: number): Promise<RoundRecord> {
  const items: SinkItem[] = options.ledger.selections(roundId).map(sinkItemOf);
  const taskIds = await options.sink.push(items);
  await options.hooks?.at?.('after-push', roundId);
  const queued = options.ledger.markQueued(roundId, taskIds);
  if (roundQueued.hasSubscribers) roundQueued.publish({ round: roundId, tasks: taskIds.size });
  await options.hooks?.at?.('after-queued', roundId);
  return queued;
}

function sinkItemOf(s: SelectionRecord): SinkItem {
  return { id: s.id, uri: s.uri, round: s.round, rank: s.rank, score: s.score, scores: s.scores, predicted: s.predicted };
}

function report(options: ResumeRoundOptions, round: RoundRecord, resumed: boolean, skipped: readonly Skipped[], counts: RoundCounts): RoundReport {
  const selected = options.ledger.selections(round.id).map((s) => ({ ...sinkItemOf(s), cost: s.cost, taskId: s.taskId }));
  return {
    round: round.id,
    resumed,
    dryRun: options.dryRun ?? false,
    policy: round.policy,
    sink: round.sink,
    selected,
    skipped,
    counts,
    budget: { ...budgetStatus(options.budget, options.ledger.spent()), roundSpent: round.spent },
  };
}

/** The report of a dry run: what the round would select, with the budget as it would be after it. */
function preview(
  options: RunRoundOptions,
  before: BudgetStatus,
  selections: readonly NewSelection[],
  skipped: readonly Skipped[],
  counts: RoundCounts,
): RoundReport {
  const round = nextRound(options.ledger);
  const roundSpent = selections.reduce((sum, s) => sum + s.cost, 0);
  return {
    round,
    resumed: false,
    dryRun: true,
    policy: options.policy.name,
    sink: options.sink.name,
    selected: selections.map((s) => ({ ...s, round, taskId: null })),
    skipped,
    counts,
    budget: { ...budgetStatus(options.budget, before.spent + roundSpent), roundSpent },
  };
}

function emptyCounts(): RoundCounts {
  return { seen: 0, ranked: 0, skipped: 0, alreadySelected: 0, shortlisted: 0, overCapacity: 0, overQuota: 0 };
}

function nothingToSelect(source: PoolSource, total: number, alreadySelected: number, skipped: readonly Skipped[], skippedTotal: number): RprError {
  const where = source.description;
  if (total === 0) return new RprError('RPR_POOL_EMPTY', `the pool (${where}) has no images; add images or pass another --pool`, { pool: where });
  if (skippedTotal === 0) {
    return new RprError(
      'RPR_POOL_EMPTY',
      `every image in the pool (${where}) was selected in an earlier round (${alreadySelected}); add new images to select more`,
      { pool: where, alreadySelected },
    );
  }
  const first = skipped[0];
  return new RprError(
    'RPR_POOL_EMPTY',
    `no image in the pool (${where}) could be used: ${skippedTotal} skipped${first ? ` (first: ${first.uri}: ${first.reason})` : ''}${alreadySelected > 0 ? `, ${alreadySelected} selected before` : ''}`,
    { pool: where, skipped: skippedTotal },
  );
}

/** No shortlisted image could be taken: each costs more than the round may spend, or its class is full. */
function nothingFits(budget: BudgetStatus, shortlist: readonly RankedCandidate[], maxClassShare: number | null): RprError {
  const cheapest = Math.min(...shortlist.map((c) => c.cost));
  if (cheapest > budget.roundCap) {
    return new RprError(
      'RPR_BUDGET_SPENT',
      `no candidate fits in this round's ${formatAmount(budget.roundCap)} ${budget.unit} (the cheapest costs ${formatAmount(cheapest)}); raise budget.perRound or budget.total`,
      { roundCap: budget.roundCap, cheapest },
    );
  }
  return errors.config(
    `policy.quotas.maxClassShare ${maxClassShare} allows each class ${formatAmount((maxClassShare ?? 0) * budget.roundCap)} ${budget.unit} of this round, less than any candidate costs; raise it`,
    { key: 'policy.quotas.maxClassShare' },
  );
}
