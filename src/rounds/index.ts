export { Ledger, LEDGER_SCHEMA_VERSION } from './ledger.js';
export type { AcquireLeaseOptions, Lease, LedgerOptions } from './ledger.js';
export type {
  LabelOutcome,
  LeaseHolder,
  NewRound,
  NewSelection,
  RoundRecord,
  RoundStatus,
  SampleRecord,
  SampleState,
  SelectionRecord,
} from './ledger-types.js';
export { openLeasedLedger } from './leased-ledger.js';
export type { LeasedLedger } from './leased-ledger.js';
export { assertBudgetLeft, budgetStatus, formatAmount } from './budget.js';
export type { BudgetLimits, BudgetStatus } from './budget.js';
export { imageCost } from './image-cost.js';
export type { ImageCost } from './image-cost.js';
export { rankScored, resumeRound, ROUND_POINTS, runRound } from './run-round.js';
export type {
  PoolRanking,
  RankCandidates,
  RankSetup,
  ResumeRoundOptions,
  RoundCounts,
  RoundHooks,
  RoundPoint,
  RoundReport,
  RunRoundOptions,
  SeenRecorder,
  SelectedImage,
} from './run-round.js';
export { scoresOf } from './round-scores.js';
export { configuredPolicyOptions, configuredScorerOptions, createConfiguredScorer, selectRound } from './select-round.js';
export type {
  OpenScoring,
  RemoteRanking,
  RemoteRankingContext,
  ScoringSessionLike,
  SelectOutcome,
  SelectRoundOptions,
} from './select-round.js';
export { syncLabels } from './sync-labels.js';
export type { SyncReport } from './sync-labels.js';
export { LABELS_FILE, syncFromConfig } from './sync-from-config.js';
export type { ConfiguredSyncReport } from './sync-from-config.js';
export { exportLabels } from './export-labels.js';
export type { LabelExport, LabelLine } from './export-labels.js';
export { parseCron } from './cron-expression.js';
export type { CronSchedule } from './cron-expression.js';
export { runSchedule } from './schedule.js';
export type { ScheduleOptions } from './schedule.js';
export { startSyncLoop } from './sync-loop.js';
export type { SyncLoop, SyncLoopOptions } from './sync-loop.js';
export { openRoundsSink } from './rounds-sink.js';
