/**
 * An HTTP server that speaks Label Studio's ML backend protocol, so a project can ask rpr-select for
 * predictions (Settings → Model, or POST /api/ml): GET /health, POST /setup, POST /predict, POST /webhook.
 * /predict receives tasks, downloads their images from Label Studio, scores them with the injected
 * function, and answers `{"results": [{"result": [...], "score": s, "model_version": v}, ...]}` in task
 * order. The scoring itself (the RPR) is not this file's business.
 *
 * Images are fetched first with what Label Studio sent to /setup (its hostname and the project owner's
 * legacy token), then with the configured server (LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY for `serve`):
 * /setup's token is refused where legacy tokens are disabled, and its hostname may not be reachable from
 * here. A source that refuses the token or cannot be reached is not asked again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { debuglog } from 'node:util';
import { RprError } from '../../errors/index.js';
import { LabelStudioClient, type LabelStudioClientOptions } from './client.js';
import { HttpError, readJsonBody, routeOf, sendJson as send, startJsonServer } from './json-http.js';
import { choicesResult, DEFAULT_CHOICES_CONFIG, parseChoicesConfig, type ChoicesConfig } from './labeling-config.js';
import { fetchTaskImage, imageReference } from './task-image.js';
import type { RawTask } from './task-pages.js';

const debug = debuglog('rpr');

export interface TaskImageBytes {
  readonly taskId: number;
  readonly bytes: Buffer;
}

/** What the scorer says of one image: its score (null when undefined, e.g. an all-zero image) and class. */
export interface ImageVerdict {
  readonly score: number | null;
  readonly predicted: number | null;
}

/** Scores a batch of images; the answer has one verdict per image, in order. */
export type ScoreImages = (images: readonly TaskImageBytes[]) => Promise<readonly ImageVerdict[]>;

export interface MlBackendOptions {
  readonly score: ScoreImages;
  /** Sent back as every prediction's model_version (the model digest). */
  readonly modelVersion: string;
  /**
   * The Label Studio to fetch task images from when what /setup sent (hostname and legacy token) is
   * missing, refused or unreachable. The key may be a legacy token or a personal access token.
   * @defaultValue none: only what /setup sent
   */
  readonly labelStudio?: LabelStudioClientOptions;
  /** @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** @defaultValue 0 (any free port) */
  readonly port?: number;
  /** Largest request body accepted. @defaultValue 64 MiB */
  readonly maxBodyBytes?: number;
}

export interface MlBackend {
  /** Base URL to register in Label Studio. */
  readonly url: string;
  close(): Promise<void>;
}

interface SetupRequest {
  readonly project?: string;
  readonly schema?: string;
  readonly hostname?: string;
  readonly access_token?: string;
}

interface PredictRequest {
  readonly tasks?: readonly RawTask[];
  readonly project?: string;
  readonly label_config?: string;
}

interface Prediction {
  readonly result: readonly unknown[];
  readonly score: number | null;
  readonly model_version: string;
}

/** One way to reach Label Studio: a server and a key. */
interface ImageSource {
  readonly key: string;
  readonly options: LabelStudioClientOptions;
}

/** Failures after which the next source is tried; the rest are the image's own (e.g. a missing file). */
const TRY_NEXT_SOURCE: ReadonlySet<string> = new Set(['RPR_SINK_AUTH', 'RPR_SINK_UNREACHABLE']);

export async function startMlBackend(options: MlBackendOptions): Promise<MlBackend> {
  const backend = new RprMlBackend(options);
  const server = await startJsonServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    handle: (req, res) => backend.handle(req, res),
    onError: (req, message) => debug('ml-backend: %s %s failed: %s', req.method, req.url, message),
  });
  return {
    url: server.url,
    close: async () => {
      await server.close();
      await backend.close();
    },
  };
}

class RprMlBackend {
  readonly #options: MlBackendOptions;
  /** What /setup told us per Label Studio project uid. */
  readonly #setups = new Map<string, SetupRequest>();
  readonly #clients = new Map<string, LabelStudioClient>();
  /** Sources that refused their key or could not be reached. */
  readonly #unusable = new Set<string>();
  readonly #fallback: ImageSource | null;

  constructor(options: MlBackendOptions) {
    this.#options = options;
    this.#fallback = options.labelStudio ? sourceOf(options.labelStudio) : null;
    // A malformed URL or an empty key is reported when the backend starts, not at the first /predict.
    if (this.#fallback) this.#client(this.#fallback);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const route = routeOf(req);
    switch (route) {
      case 'GET /':
      case 'GET /health':
        return send(res, 200, { status: 'UP', model_class: 'rpr-select', model_version: this.#options.modelVersion });
      case 'GET /versions':
        return send(res, 200, { versions: [this.#options.modelVersion] });
      case 'POST /setup':
        return send(res, 200, this.#setup(await this.#body<SetupRequest>(req)));
      case 'POST /predict':
        return send(res, 200, await this.#predict(await this.#body<PredictRequest>(req)));
      case 'POST /webhook':
        await this.#body<unknown>(req);
        return send(res, 200, { status: 'ok' });
      default:
        throw new HttpError(404, `no route ${route}`);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.#clients.values()].map((client) => client.close()));
    this.#clients.clear();
  }

  #setup(request: SetupRequest): { model_version: string } {
    if (typeof request.project === 'string') this.#setups.set(request.project, request);
    return { model_version: this.#options.modelVersion };
  }

  async #predict(request: PredictRequest): Promise<{ results: Prediction[]; model_version: string }> {
    const tasks = request.tasks;
    if (!Array.isArray(tasks)) throw new HttpError(400, "predict request has no 'tasks' list");
    const setup = typeof request.project === 'string' ? this.#setups.get(request.project) : undefined;
    const schema = request.label_config ?? setup?.schema ?? '';
    const config: ChoicesConfig | null = parseChoicesConfig(schema);
    const field = config?.imageField ?? DEFAULT_CHOICES_CONFIG.imageField;
    const sources = this.#sourcesFor(setup);

    const images = await Promise.all(
      tasks.map(async (task) => {
        const reference = imageReference(task, field);
        if (reference === null) return null;
        try {
          return await this.#fetchImage(sources, task.id, reference, field);
        } catch (error) {
          if (error instanceof RprError && TRY_NEXT_SOURCE.has(error.code)) throw error;
          debug('ml-backend: task %d image unreadable: %s', task.id, (error as Error).message);
          return null;
        }
      }),
    );
    const readable = tasks.flatMap((task, i) => (images[i] ? [{ taskId: task.id, bytes: images[i]! }] : []));
    const verdicts = readable.length > 0 ? await this.#options.score(readable) : [];
    if (verdicts.length !== readable.length) {
      throw new HttpError(500, `scorer returned ${verdicts.length} verdicts for ${readable.length} images`);
    }
    const byTask = new Map(readable.map((image, i) => [image.taskId, verdicts[i]!]));
    const results = tasks.map((task): Prediction => {
      const verdict = byTask.get(task.id);
      const predicted = verdict?.predicted ?? null;
      const choice = predicted !== null && config ? config.choices[predicted] : undefined;
      return {
        result: choice !== undefined && config ? [choicesResult(config, choice)] : [],
        score: verdict?.score ?? null,
        model_version: this.#options.modelVersion,
      };
    });
    return { results, model_version: this.#options.modelVersion };
  }

  /** Where a project's images may be fetched, in the order to try. */
  #sourcesFor(setup: SetupRequest | undefined): ImageSource[] {
    const sources: ImageSource[] = [];
    if (setup?.hostname?.trim() && setup.access_token?.trim()) {
      // Without another source to turn to, what /setup sent gets the usual retries; with one, no time is
      // spent retrying a host that may never answer.
      sources.push(sourceOf({ url: setup.hostname, apiKey: setup.access_token, ...(this.#fallback ? { retries: 0 } : {}) }));
    }
    if (this.#fallback) sources.push(this.#fallback);
    const usable = sources.filter((source) => !this.#unusable.has(source.key));
    if (usable.length > 0) return usable;
    if (sources.length > 0) return sources.slice(-1);
    throw new HttpError(
      400,
      'no Label Studio to fetch images from: /setup brought no hostname and token for this project, and none was configured (LABEL_STUDIO_URL and LABEL_STUDIO_API_KEY for rpr-select serve)',
    );
  }

  async #fetchImage(sources: readonly ImageSource[], taskId: number, reference: string, field: string): Promise<Buffer> {
    const fetchWith = async (source: ImageSource) => (await fetchTaskImage(this.#client(source), taskId, reference, field)).bytes;
    for (const [i, source] of sources.slice(0, -1).entries()) {
      try {
        return await fetchWith(source);
      } catch (error) {
        if (!(error instanceof RprError) || !TRY_NEXT_SOURCE.has(error.code)) throw error;
        // A refused key or a host that does not answer stays so; a 5xx may pass, so only this fetch moves on.
        if (error.code === 'RPR_SINK_AUTH' || error.context['status'] === null) this.#unusable.add(source.key);
        debug('ml-backend: task %d: %s; trying %s', taskId, error.message, sources[i + 1]!.options.url);
      }
    }
    return fetchWith(sources.at(-1)!);
  }

  #client(source: ImageSource): LabelStudioClient {
    let client = this.#clients.get(source.key);
    if (!client) {
      client = new LabelStudioClient(source.options);
      this.#clients.set(source.key, client);
    }
    return client;
  }

  #body<T>(req: IncomingMessage): Promise<T> {
    return readJsonBody<T>(req, this.#options.maxBodyBytes ?? 64 * 1024 * 1024);
  }
}

function sourceOf(options: LabelStudioClientOptions): ImageSource {
  return { key: `${options.url}\n${options.apiKey}`, options };
}
