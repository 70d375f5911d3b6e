/**
 * The contract every annotation target implements (local JSONL queue, Label Studio, …). Rounds depend
 * only on this. Platforms do not de-duplicate imports, so `push` must itself be idempotent by sample id.
 */

/** One selected image handed to a labeling queue. */
export interface SinkItem {
  /** sha256 of the image bytes: the stable sample id. */
  readonly id: string;
  readonly uri: string;
  readonly round: number;
  /** 1-based position in the round's ranking. */
  readonly rank: number;
  /** The image's score as the policy reports it (RPR_k for the RPR policies), null when it had none. */
  readonly score: number | null;
  /** Every score known for the image, e.g. {"rpr@5": 0.12, "entropy": 1.3}. */
  readonly scores: Readonly<Record<string, number>>;
  readonly predicted: number | null;
}

/** A task the platform holds, found by the sample id it carries in its data. */
export interface HeldTask {
  readonly id: string;
  readonly taskId: string;
  readonly round: number | null;
}

/** A finished task read back from the platform. */
export interface LabelRecord {
  readonly id: string;
  readonly taskId: string;
  readonly uri: string;
  /** 'labeled' when annotated; 'skipped' when the annotator skipped or cancelled it. */
  readonly status: 'labeled' | 'skipped';
  /** The label as the platform gives it (class name, index, or a structured result). */
  readonly label: unknown;
  readonly annotator: string | null;
  /** ISO-8601 time of the annotation. */
  readonly time: string | null;
}

/**
 * The part of a sink's config section that names where its items went, in canonical form (a Label Studio
 * project by id, not by title): e.g. {labelStudio: {project: 12}}. Each round records it, so that a later
 * `sync` or resumed `select` reaches the same place without being told, and refuses a config naming another.
 */
export interface SinkTarget {
  readonly [key: string]: string | number | SinkTarget;
}

export interface Sink {
  /** Name used in config and messages (`jsonl`, `label-studio`). */
  readonly name: string;
  /**
   * Puts the items in the queue and returns sample id → platform task id for every item, including
   * those the platform already held (which are not pushed again). Safe to call again after a crash.
   */
  push(items: readonly SinkItem[]): Promise<Map<string, string>>;
  /** Everything the platform holds that carries a sample id. */
  list(): AsyncIterable<HeldTask>;
  /** Finished tasks (labeled or skipped). */
  fetchLabels(): AsyncIterable<LabelRecord>;
  /** Where this sink puts items (see SinkTarget); absent when the sink's name says it all. */
  target?(): Promise<SinkTarget>;
  close(): Promise<void>;
}
