/**
 * Sinks by name. A new annotation platform is one factory registered here (one line in `factories`,
 * or `registerSink` from outside); `createSink` throws RPR_UNKNOWN_NAME listing the names it knows.
 */
import type { Secrets, SinkConfig } from '../config/index.js';
import { errors } from '../errors/index.js';
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
}

export type SinkFactory = (context: SinkContext) => Promise<Sink>;

const factories = new Map<string, SinkFactory>([['jsonl', ({ config }) => JsonlSink.open({ path: config.jsonl.path })]]);

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
  return factory(context);
}
