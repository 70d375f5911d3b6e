import type { LabelRecord, Sink } from '../sinks/sink.js';
import type { Ledger } from './ledger.js';

export interface SyncReport {
  /** Newly labeled. */
  readonly labeled: number;
  /** Newly skipped by an annotator (state `failed`). */
  readonly skipped: number;
  /** Already recorded. */
  readonly unchanged: number;
  /** Ids the sink reported that no round selected. */
  readonly unknown: readonly string[];
  /** Rounds closed because every image in them is now labeled or skipped. */
  readonly closedRounds: readonly number[];
}

/** Labels per ledger transaction. */
const BATCH = 500;

/**
 * Pulls finished tasks from the sink into the ledger (labeled / skipped) and closes the rounds that
 * are done. Idempotent: running it again changes nothing. The caller holds the ledger's lease.
 */
export async function syncLabels(options: { readonly ledger: Ledger; readonly sink: Sink }): Promise<SyncReport> {
  const { ledger, sink } = options;
  let labeled = 0;
  let skipped = 0;
  let unchanged = 0;
  const unknown: string[] = [];
  const apply = (batch: LabelRecord[]) => {
    const outcome = ledger.recordLabels(batch.splice(0));
    labeled += outcome.labeled;
    skipped += outcome.skipped;
    unchanged += outcome.unchanged;
    unknown.push(...outcome.unknown);
  };
  const batch: LabelRecord[] = [];
  for await (const record of sink.fetchLabels()) {
    batch.push(record);
    if (batch.length >= BATCH) apply(batch);
  }
  apply(batch);
  return { labeled, skipped, unchanged, unknown, closedRounds: ledger.closeFinishedRounds() };
}
