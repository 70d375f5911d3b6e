/**
 * `rpr-select serve`: a Label Studio ML backend whose predictions carry each task's RPR as their score,
 * so the server's own ordering by prediction score serves the least-seen images first.
 */
import { resolve } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { readSecrets } from '../../config/index.js';
import { createScorer } from '../../metrics/index.js';
import type { PoolSource } from '../../pool/types.js';
import { startMlBackend } from '../../sinks/label-studio/index.js';
import { bundledModelPath } from '../../util/package-root.js';
import { untilAborted } from '../../util/until-aborted.js';
import type { CliContext, GlobalArgs } from '../cli-context.js';
import { commandEnv } from '../command-env.js';
import { portFlag } from '../flag-values.js';
import { parseKs } from './score.js';

interface ServeArgs extends GlobalArgs {
  readonly port: number;
  readonly host: string;
  readonly model?: string;
  readonly k: string;
  readonly cache: string | false;
}

export function serveCommand(ctx: CliContext): CommandModule<GlobalArgs, ServeArgs> {
  return {
    command: 'serve',
    describe: "Run a Label Studio ML backend whose prediction scores are the images' RPR",
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('port', { type: 'number', default: 9090, describe: 'Port to listen on (0 = any free port)' })
        .option('host', { type: 'string', default: '127.0.0.1', describe: 'Address to listen on (0.0.0.0 to accept other machines)' })
        .option('model', { type: 'string', describe: 'TF.js model directory or model.json (default: the bundled MNIST CNN)' })
        .option('k', { type: 'string', default: '10', describe: 'The rank k whose RPR_k is the prediction score (the largest of a list)' })
        .option('cache', { type: 'string', default: '.rpr-select/cache.sqlite', describe: 'Score cache (SQLite); --no-cache to disable' })
        .epilogue(
          'Connect it in Label Studio (project settings → Model, or POST /api/ml) with this URL. Task images are fetched from Label Studio with the hostname and legacy token it sends to /setup; where that token is refused (legacy tokens disabled) or the hostname does not answer, from LABEL_STUDIO_URL with LABEL_STUDIO_API_KEY (a legacy token or a personal access token). Sort the data manager by prediction score, ascending, to label the lowest-RPR tasks first.',
        ) as unknown as Argv<ServeArgs>,
    handler: async (args) => {
      const { log } = commandEnv(ctx, args);
      portFlag(args.port);
      const ks = parseKs(args.k);
      const k = Math.max(...ks);
      const url = ctx.env['LABEL_STUDIO_URL'];
      const apiKey = readSecrets(ctx.env).labelStudioApiKey;
      const labelStudio = url && apiKey ? { url, apiKey } : null;
      const session = await createScorer({
        modelPath: args.model ?? bundledModelPath(),
        ks,
        ...(args.cache ? { cachePath: resolve(ctx.cwd, args.cache) } : {}),
      });
      const backend = await startMlBackend({
        modelVersion: session.modelDigest,
        host: args.host,
        port: args.port,
        ...(labelStudio ? { labelStudio } : {}),
        score: async (images) => {
          const source: PoolSource = {
            description: 'Label Studio /predict request',
            async *entries() {
              for (const image of images) yield { kind: 'image', uri: String(image.taskId), bytes: image.bytes };
            },
          };
          const byTask = new Map<string, { score: number | null; predicted: number | null }>();
          for await (const event of session.scorer(source)) {
            if (event.kind === 'score') {
              byTask.set(event.result.uri, { score: event.result.rpr?.[String(k)] ?? null, predicted: event.result.predicted });
            }
          }
          return images.map((image) => byTask.get(String(image.taskId)) ?? { score: null, predicted: null });
        },
      });
      ctx.stdout.write(args.json ? `${JSON.stringify({ url: backend.url, modelVersion: session.modelDigest, backend: session.backend, k })}\n` : `${backend.url}\n`);
      log.info(`ML backend on ${backend.url} (model ${session.modelDigest.slice(0, 12)}, ${session.backend}, score = RPR_${k}); Ctrl-C stops it`);
      log.info(
        labelStudio
          ? `images come from the Label Studio that calls /setup, else from ${labelStudio.url} (LABEL_STUDIO_URL)`
          : 'images come from the Label Studio that calls /setup, with its legacy token; set LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY for when that token is refused',
      );
      await untilAborted(ctx.signal);
      await backend.close();
      await session.close();
    },
  };
}
