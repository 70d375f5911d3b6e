import type { LoadedConfig } from '../config/index.js';
import { createSink } from '../sinks/index.js';
import type { LeaseHolder } from './ledger-types.js';
import { openLeasedLedger } from './leased-ledger.js';
import { syncLabels, type SyncReport } from './sync-labels.js';
import { configuredClassNames } from './select-round.js';

/** `sync` as a library call: pulls labels from the configured sink into the configured ledger. */
export async function syncFromConfig(options: {
  readonly loaded: LoadedConfig;
  readonly signal?: AbortSignal;
  readonly onTakeover?: (previous: LeaseHolder, why: string) => void;
}): Promise<SyncReport> {
  const { config, secrets } = options.loaded;
  const held = await openLeasedLedger(config, { ...options, mustExist: true });
  try {
    const classNames = await configuredClassNames(config);
    const sink = await createSink({
      config: config.sink,
      secrets,
      modelDigest: held.ledger.rounds().at(-1)?.modelDigest ?? '',
      ...(classNames ? { classNames } : {}),
    });
    try {
      return await syncLabels({ ledger: held.ledger, sink });
    } finally {
      await sink.close();
    }
  } finally {
    held.close();
  }
}
