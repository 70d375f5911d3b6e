import { dirname, join, resolve } from 'node:path';
import type { LoadedConfig } from '../config/index.js';
import { exportLabels } from './export-labels.js';
import type { LeaseHolder } from './ledger-types.js';
import { openLeasedLedger } from './leased-ledger.js';
import { openRoundsSink } from './rounds-sink.js';
import { syncLabels, type SyncReport } from './sync-labels.js';

/** The name of the labels file `sync` writes beside the ledger unless told otherwise. */
export const LABELS_FILE = 'labels.jsonl';

export interface ConfiguredSyncReport extends SyncReport {
  /** The JSON-lines file of labels for training (see export-labels.ts). */
  readonly labelsPath: string;
  /** Labels appended to it by this sync. */
  readonly exported: number;
}

/**
 * `sync` as a library call: pulls labels into the configured ledger from the sink its unfinished rounds
 * were pushed to (see rounds-sink.ts), then appends the newly labeled images to the labels file.
 */
export async function syncFromConfig(options: {
  readonly loaded: LoadedConfig;
  /** The labels file. @defaultValue labels.jsonl beside the ledger */
  readonly labelsPath?: string;
  readonly signal?: AbortSignal;
  readonly onTakeover?: (previous: LeaseHolder, why: string) => void;
}): Promise<ConfiguredSyncReport> {
  const { config } = options.loaded;
  const labelsPath = resolve(options.labelsPath ?? join(dirname(config.ledger.path), LABELS_FILE));
  const held = await openLeasedLedger(config, { ...options, mustExist: true });
  try {
    const sink = await openRoundsSink(options.loaded, held.ledger.rounds(), 'sync');
    let report: SyncReport;
    try {
      report = await syncLabels({ ledger: held.ledger, sink });
    } finally {
      await sink.close();
    }
    const exported = await exportLabels(held.ledger, labelsPath);
    return { ...report, labelsPath, exported: exported.appended };
  } finally {
    held.close();
  }
}
