/** Records the ledger stores and returns. Times are ISO-8601 strings. */

export type RoundStatus = 'open' | 'queued' | 'closed';

/**
 * A sample's life: `scored` (seen, not selected), `selected` (in a round, not yet acknowledged by the
 * sink), `queued` (the sink holds it, with a task id), `labeled`, or `failed` (could not be scored, or
 * the annotator skipped it; `reason` says which).
 */
export type SampleState = 'scored' | 'selected' | 'queued' | 'labeled' | 'failed';

export interface RoundRecord {
  readonly id: number;
  /** open: selections written, not all acknowledged by the sink; queued: all pushed; closed: all labeled. */
  readonly status: RoundStatus;
  readonly policy: string;
  readonly sink: string;
  readonly configDigest: string;
  readonly modelDigest: string;
  readonly budgetUnit: 'samples' | 'cost';
  /** Budget this round spent, in its unit. */
  readonly spent: number;
  readonly selected: number;
  /** Counts, options and the first skipped images, as the round recorded them. */
  readonly details: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly queuedAt: string | null;
  readonly closedAt: string | null;
}

export interface NewRound {
  readonly policy: string;
  readonly sink: string;
  readonly configDigest: string;
  readonly modelDigest: string;
  readonly budgetUnit: 'samples' | 'cost';
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface NewSelection {
  readonly id: string;
  readonly uri: string;
  /** 1-based position in the round. */
  readonly rank: number;
  readonly score: number | null;
  /** Budget units this image costs. */
  readonly cost: number;
  readonly scores: Readonly<Record<string, number>>;
  readonly predicted: number | null;
}

export interface SelectionRecord extends NewSelection {
  readonly round: number;
  readonly taskId: string | null;
  readonly state: SampleState;
}

export interface SampleRecord {
  readonly id: string;
  readonly uri: string;
  readonly state: SampleState;
  readonly reason: string | null;
  readonly label: unknown;
  readonly annotator: string | null;
  readonly labeledAt: string | null;
  readonly firstSeen: string;
  readonly updatedAt: string;
}

/** The run holding the ledger. */
export interface LeaseHolder {
  readonly pid: number;
  readonly host: string;
  readonly acquiredAt: string;
  readonly expiresAt: string;
}

/** What reading labels back changed. */
export interface LabelOutcome {
  readonly labeled: number;
  /** Skipped or cancelled by the annotator: now `failed`. */
  readonly skipped: number;
  /** Already in that state: nothing changed. */
  readonly unchanged: number;
  /** Ids the ledger never selected. */
  readonly unknown: readonly string[];
}
