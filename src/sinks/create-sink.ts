/**
 * Sinks by name. A new annotation platform is one factory registered here (one line in `factories`,
 * or `registerSink` from outside); `createSink` throws RPR_UNKNOWN_NAME listing the names it knows.
 */
import type { Secrets, SinkConfig } from '../config/index.js';
import { RprError, errors } from '../errors/index.js';
import { SECRET_ENV } from '../config/index.js';
import { createLabelStudioSink, registerLabelStudioPoolSource } from './label-studio/index.js';
import { JsonlSink } from './jsonl/index.js';
import type { Sink } from './sink.js';

/** What a sink factory may need: its config section, secrets from the environment, the model. */
export interface SinkContext {
  readonly config: SinkConfig;
  readonly secrets: Secrets;
  /** Digest of the model that scored the round (e.g. Label Studio's prediction model_version). */
  readonly modelDigest: string;
  /** The model's class names in class-index order, when it declares them. */
  readonly classNames?: readonly string[];
  /**
   * Whether the sink may create its target when it is missing (a Label Studio project named by title).
   * Commands that only read back what rounds pushed pass false.
   * @defaultValue true
   */
  readonly createTarget?: boolean;
  /** Environment for service URLs (LABEL_STUDIO_URL). @defaultValue process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export type SinkFactory = (context: SinkContext) => Promise<Sink>;

// A Label Studio project is also a pool (`--pool label-studio:<project>`), wherever sinks are available.
registerLabelStudioPoolSource();

/** Label Studio from the config's labelStudio section and LABEL_STUDIO_URL / LABEL_STUDIO_API_KEY. */
const labelStudio: SinkFactory = async ({ config, secrets, modelDigest, classNames, createTarget, env }) => {
  const ls = config.labelStudio;
  const url = ls.url ?? env?.['LABEL_STUDIO_URL'] ?? null;
  if (!url) {
    throw new RprError('RPR_CONFIG', 'the label-studio sink needs the server URL: set LABEL_STUDIO_URL or sink.labelStudio.url', {
      key: 'sink.labelStudio.url',
    });
  }
  if (!secrets.labelStudioApiKey) {
    throw new RprError('RPR_SINK_AUTH', `the label-studio sink needs an API key: set ${SECRET_ENV.labelStudioApiKey} (a personal access token or a legacy token)`);
  }
  if (ls.project === null) {
    throw new RprError('RPR_CONFIG', 'the label-studio sink needs a project: pass --ls-project TITLE|ID or set sink.labelStudio.project', {
      key: 'sink.labelStudio.project',
    });
  }
  const sink = createLabelStudioSink({
    url,
    apiKey: secrets.labelStudioApiKey,
    project: ls.project,
    createProject: createTarget ?? true,
    classNames: classNames ?? [],
    modelVersion: modelDigest,
    batchSize: ls.batchSize,
    concurrency: ls.concurrency,
    documentRoot: ls.documentRoot,
  });
  // Fail before anything is recorded when the server, the token or the project is wrong.
  await sink.project();
  return sink;
};

const factories = new Map<string, SinkFactory>([
  ['jsonl', ({ config }) => JsonlSink.open({ path: config.jsonl.path })],
  ['label-studio', labelStudio],
]);

/** Adds a sink under `name` (for platforms whose module registers itself). */
export function registerSink(name: string, factory: SinkFactory): void {
  if (factories.has(name)) throw errors.internal(`sink '${name}' is already registered`);
  factories.set(name, factory);
}

export function sinkNames(): string[] {
  return [...factories.keys()];
}

/** Opens the sink `context.config.name` names. */
export async function createSink(context: SinkContext): Promise<Sink> {
  const factory = factories.get(context.config.name);
  if (factory === undefined) throw errors.unknownName('sink', context.config.name, sinkNames());
  return factory({ ...context, env: context.env ?? process.env });
}
