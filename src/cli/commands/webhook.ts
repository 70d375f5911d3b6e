/**
 * `rpr-select webhook`: a long-running listener for Label Studio's webhooks that syncs as soon as
 * annotations change, instead of waiting for the next `sync`. Webhooks are hints (unsigned, sent once,
 * best-effort), so it also syncs at start, on a poll interval, and again after a failed sync.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import type { LoadedConfig } from '../../config/index.js';
import { ExitCode, RprError } from '../../errors/index.js';
import { Ledger, openRoundsSink, startSyncLoop, syncFromConfig, type ConfiguredSyncReport, type SyncLoop } from '../../rounds/index.js';
import { LabelStudioSink, registerWebhook, startWebhookListener, SYNC_ACTIONS, WEBHOOK_SECRET_HEADER, type RegisteredWebhook } from '../../sinks/label-studio/index.js';
import type { Sink } from '../../sinks/index.js';
import { errorMessage } from '../../pool/error-message.js';
import { untilAborted } from '../../util/until-aborted.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';
import { commandEnv, takeoverWarning } from '../command-env.js';
import { portFlag, secondsFlag } from '../flag-values.js';
import { loadCliConfig, withConfigFlags } from '../config-flags.js';
import type { Logger } from '../logger.js';
import { LABELS_OUT_OPTION, SYNC_FLAGS, writeSyncReport } from './sync.js';

/** The environment variable holding the secret Label Studio must send in WEBHOOK_SECRET_HEADER. */
const SECRET_ENV = 'RPR_WEBHOOK_SECRET';
/** Events that arrive within this of each other are served by one sync. */
const DEBOUNCE_MS = 1000;

interface WebhookArgs extends GlobalArgs {
  readonly port: number;
  readonly host: string;
  readonly register?: string;
  readonly pollInterval: number;
  readonly retryInterval: number;
  readonly labelsOut?: string;
  readonly [flag: string]: unknown;
}

export function webhookCommand(ctx: CliContext): CommandModule<GlobalArgs, WebhookArgs> {
  return {
    command: 'webhook',
    describe: 'Listen for Label Studio webhooks and sync as soon as annotations change (polling stays the source of truth)',
    builder: (y: Argv<GlobalArgs>) =>
      withConfigFlags(y, SYNC_FLAGS)
        .option('port', { type: 'number', default: 9091, describe: 'Port to listen on (0 = any free port)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on (0.0.0.0 when Label Studio runs on another machine)' })
        .option('register', {
          type: 'string',
          describe: "Register this listener with the rounds' Label Studio project as a webhook, at this URL (how Label Studio reaches it, e.g. http://my-host:9091/); removed again when the listener stops",
        })
        .option('poll-interval', { type: 'number', default: 600, describe: 'Also sync every this many seconds, events or not (0 = never)' })
        .option('retry-interval', { type: 'number', default: 30, describe: 'After a failed sync (the ledger busy with a round, the server down), sync again this many seconds later' })
        .option('labels-out', LABELS_OUT_OPTION)
        .example('$0 webhook --register http://$(hostname):9091/ --host 0.0.0.0', "listen on every interface and register with the rounds' project")
        .epilogue(
          `Syncs once at start, then after each annotation event (${SYNC_ACTIONS.join(', ')}), every --poll-interval seconds, and --retry-interval seconds after a failure; each sync is reported as \`sync\` reports it (--json: one line per sync, with the events it served under "triggers"). With ${SECRET_ENV} set, or a secret of its own when --register is given, requests must carry it in the ${WEBHOOK_SECRET_HEADER} header (--register tells Label Studio to send it); others are refused with 401. Ctrl-C or SIGTERM stops it.`,
        ) as unknown as Argv<WebhookArgs>,
    handler: async (args) => {
      const { log } = commandEnv(ctx, args);
      portFlag(args.port);
      const pollMs = secondsFlag('poll-interval', args.pollInterval) * 1000;
      const retryMs = secondsFlag('retry-interval', args.retryInterval) * 1000;
      const loaded = await loadCliConfig(ctx, args, SYNC_FLAGS);
      const sync = (): Promise<ConfiguredSyncReport> =>
        syncFromConfig({
          loaded,
          ...(args.labelsOut ? { labelsPath: resolve(ctx.cwd, args.labelsOut) } : {}),
          signal: ctx.signal,
          onTakeover: takeoverWarning(log),
        });
      // Catch up first: a wrong ledger, sink or project fails here, before anything listens.
      writeSyncReport(ctx, args, log, await sync(), ['start']);

      const secret = ctx.env[SECRET_ENV] || (args.register ? randomBytes(24).toString('hex') : null);
      let loop: SyncLoop | null = null;
      const listener = await startWebhookListener({
        host: args.host,
        port: args.port,
        secret,
        onSyncAction: (action) => loop?.trigger(action),
        onRejected: (reason) => log.warn(`webhook request refused: ${reason}`),
      });
      let registration: { readonly hook: RegisteredWebhook; readonly sink: Sink } | null = null;
      try {
        if (args.register) registration = await register(loaded, args.register, secret);
        log.info(
          `listening for Label Studio webhooks on ${listener.url}` +
            (registration ? `; registered as webhook ${registration.hook.id} of project ${registration.hook.project} at ${registration.hook.url}` : '') +
            (secret === null ? `; no ${SECRET_ENV}: any request is accepted` : ''),
        );
        loop = startSyncLoop({
          sync,
          pollMs,
          debounceMs: DEBOUNCE_MS,
          retryMs,
          onResult: (report, triggers) => writeSyncReport(ctx, args, log, report, triggers),
          onError: (error, triggers) => failedSync(log, error, triggers),
        });
        await Promise.race([loop.stopped, untilAborted(ctx.signal)]);
      } finally {
        await loop?.stop();
        await listener.close();
        if (registration) {
          await registration.hook.remove().catch((error: unknown) => log.warn(`could not remove webhook ${registration!.hook.id}: ${errorMessage(error)}`));
          await registration.sink.close();
        }
      }
      log.info('webhook listener stopped');
    },
  };
}

/** Registers `url` with the project the unfinished rounds were pushed to. */
async function register(loaded: LoadedConfig, url: string, secret: string | null): Promise<{ hook: RegisteredWebhook; sink: Sink }> {
  const rounds = await Ledger.read(loaded.config.ledger.path, (ledger) => ledger.rounds());
  const sink = await openRoundsSink(loaded, rounds, 'webhook');
  try {
    if (!(sink instanceof LabelStudioSink)) {
      throw new RprError('RPR_USAGE', `--register needs the label-studio sink; the rounds use the ${sink.name} sink (run \`rpr-select sync\` for it)`, { flag: 'register' });
    }
    return { hook: await registerWebhook(sink.client, { project: (await sink.project()).id, url, secret }), sink };
  } catch (error) {
    await sink.close();
    throw error;
  }
}

/** A failed sync is a warning and retried later, except a usage error, which no retry fixes. */
function failedSync(log: Logger, error: unknown, triggers: readonly string[]): 'stop' | 'continue' {
  if (error instanceof RprError && error.exitCode === ExitCode.usage) return 'stop';
  log.warn(`sync after ${triggers.join(', ')} failed, will try again: ${errorMessage(error)}`);
  return 'continue';
}
