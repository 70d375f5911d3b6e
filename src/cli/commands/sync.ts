/** `rpr-select sync`: pull labels back from the sink, mark images labeled, close finished rounds. */
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { LABELS_FILE, syncFromConfig, type ConfiguredSyncReport } from '../../rounds/index.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';
import type { Logger } from '../logger.js';
import { commandEnv, takeoverWarning } from '../command-env.js';
import { loadCliConfig, withConfigFlags, type ConfigFlag } from '../config-flags.js';

/** The config flags of `sync` (and of `webhook`, which syncs). */
export const SYNC_FLAGS: readonly ConfigFlag[] = ['ledger', 'sink', 'queue', 'ls-project', 'ls-url', 'wait', 'model'];

export const LABELS_OUT_OPTION = {
  type: 'string',
  describe: `JSON-lines file the labeled images are appended to for training, one line each: id, uri, label, annotator, time (default: ${LABELS_FILE} beside the ledger)`,
} as const;

interface SyncArgs extends GlobalArgs {
  readonly labelsOut?: string;
  readonly [flag: string]: unknown;
}

export function syncCommand(ctx: CliContext): CommandModule<GlobalArgs, SyncArgs> {
  return {
    command: 'sync',
    describe: 'Pull finished labels from the sink into the ledger and close finished rounds',
    builder: (y: Argv<GlobalArgs>) =>
      withConfigFlags(y, SYNC_FLAGS)
        .option('labels-out', LABELS_OUT_OPTION)
        .epilogue(
          'Labels are read from the sink (and Label Studio project) the unfinished rounds were pushed to, unless the config or a flag sets them; one that contradicts those rounds is refused (exit 2). With the jsonl sink, labels are read from <queue>.labels.jsonl beside the queue (queue.jsonl → queue.labels.jsonl): one line per image, {"id": "<sample id>", "label": …, "annotator"?: …, "time"?: …}, or {"id": …, "status": "skipped"}.',
        ) as Argv<SyncArgs>,
    handler: async (args) => {
      const { log } = commandEnv(ctx, args);
      const loaded = await loadCliConfig(ctx, args, SYNC_FLAGS);
      const report = await syncFromConfig({
        loaded,
        ...(args.labelsOut ? { labelsPath: resolve(ctx.cwd, args.labelsOut) } : {}),
        signal: ctx.signal,
        onTakeover: takeoverWarning(log),
      });
      writeSyncReport(ctx, args, log, report);
    },
  };
}

/**
 * A sync's outcome: one JSON line with --json, else a summary line (none with --quiet); labels for images
 * no round selected are a warning either way. `triggers` (what made a listener sync) are added to both.
 */
export function writeSyncReport(ctx: CliContext, args: GlobalArgs, log: Logger, report: ConfiguredSyncReport, triggers?: readonly string[]): void {
  if (report.unknown.length > 0) {
    log.warn(`${report.unknown.length} labels name images no round selected (first: ${report.unknown[0]}); they were ignored`);
  }
  if (args.json) {
    ctx.stdout.write(`${JSON.stringify(triggers ? { ...report, triggers } : report)}\n`);
  } else if (!args.quiet) {
    const closed = report.closedRounds.length > 0 ? `; closed round${report.closedRounds.length > 1 ? 's' : ''} ${report.closedRounds.join(', ')}` : '';
    const exported = report.exported > 0 ? `; ${report.exported} label${report.exported > 1 ? 's' : ''} appended to ${report.labelsPath}` : '';
    const after = triggers ? ` (after ${triggers.join(', ')})` : '';
    ctx.stdout.write(`synced${after}: ${report.labeled} newly labeled, ${report.skipped} skipped by annotators, ${report.unchanged} already recorded${closed}${exported}\n`);
  }
}
