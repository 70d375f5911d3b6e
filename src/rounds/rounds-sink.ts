/**
 * The sink a command that finishes earlier rounds talks to (`sync`, a resumed `select`): the one those
 * rounds were pushed to. Each round records its sink's name and target (see SinkTarget). What the config
 * file and the flags leave unset is taken from the rounds, so a bare `rpr-select sync` after
 * `select --sink label-studio --ls-project X` reads project X; what they do set must agree with the
 * rounds, or the command refuses (RPR_USAGE) before anything is read or written.
 */
import { isDeepStrictEqual } from 'node:util';
import type { LoadedConfig, SinkConfig } from '../config/index.js';
import { errors } from '../errors/index.js';
import { createSink, type Sink, type SinkTarget } from '../sinks/index.js';
import { configuredClassNames } from './configured-class-names.js';
import type { RoundRecord } from './ledger-types.js';

/** The key of RoundRecord.details under which a round records its sink's target. */
export const SINK_TARGET_DETAIL = 'sinkTarget';

export interface RoundsSink {
  /** The sink section to open the sink with. */
  readonly config: SinkConfig;
  /** Fails (RPR_USAGE) when the opened sink reaches a target none of the rounds was pushed to. */
  verify(sink: Sink): Promise<void>;
}

/** Where some of the unfinished rounds went. */
interface Place {
  readonly sink: string;
  /** null for a round recorded before rounds kept their target: any target is taken to be its own. */
  readonly target: SinkTarget | null;
  readonly rounds: number[];
}

/**
 * The sink section for finishing `rounds` (those not closed count), under the command named `command`
 * (for messages). With no unfinished round the configured section is used as it is.
 */
export function sinkForRounds(loaded: LoadedConfig, rounds: readonly RoundRecord[], command: string): RoundsSink {
  const configured = loaded.config.sink;
  const places = placesOf(rounds.filter((round) => round.status !== 'closed'));
  if (places.length === 0) return { config: configured, verify: async () => undefined };

  const nameOrigin = loaded.origins.get('sink.name');
  const named = nameOrigin === undefined ? places : places.filter((place) => place.sink === configured.name);
  if (named.length === 0) {
    throw errors.usage(
      `${nameOrigin} sets the sink to ${configured.name}, but ${describePlaces(places)}; run ${command} without setting the sink (the rounds' own is used) or set it to ${places[0]!.sink}`,
      { key: 'sink.name', sink: configured.name },
    );
  }
  const names = [...new Set(named.map((place) => place.sink))];
  if (names.length > 1) {
    throw errors.usage(`${describePlaces(named)}: run ${command} once per sink, choosing it with sink.name (--sink)`, { key: 'sink.name' });
  }

  let config: SinkConfig = { ...configured, name: names[0]! };
  const targets = named.flatMap((place) => (place.target === null ? [] : [place.target]));
  for (const [key, value] of leaves(targets[0] ?? {})) {
    if (loaded.origins.has(`sink.${key}`)) continue;
    if (targets.some((target) => !isDeepStrictEqual(leafAt(target, key), value))) {
      throw errors.usage(`${describePlaces(named)}: set sink.${key} to the one ${command} should read`, { key: `sink.${key}` });
    }
    config = withLeaf(config, key.split('.'), value) as SinkConfig;
  }

  return {
    config,
    async verify(sink) {
      const reached = (await sink.target?.()) ?? null;
      if (reached === null || named.some((place) => place.target === null || isDeepStrictEqual(place.target, reached))) return;
      const given = leaves(reached)
        .map(([key]) => `sink.${key}`)
        .filter((key) => loaded.origins.has(key))
        .map((key) => `${loaded.origins.get(key)} (${key})`);
      throw errors.usage(
        `${given.join(' and ') || 'the configuration'} reaches ${describeTarget(sink.name, reached)}, but ${describePlaces(named)}; run ${command} without ${given.length > 1 ? 'them' : 'it'} (the rounds' own is used) or name the rounds' one`,
        { sink: sink.name },
      );
    },
  };
}

/**
 * Opens the sink `rounds` were pushed to (see sinkForRounds) and checks that it reaches their target.
 * It never creates a target: finishing rounds reads what they pushed, and a missing project is an error.
 */
export async function openRoundsSink(loaded: LoadedConfig, rounds: readonly RoundRecord[], command: string): Promise<Sink> {
  const target = sinkForRounds(loaded, rounds, command);
  const classNames = await configuredClassNames(loaded.config);
  const sink = await createSink({
    config: target.config,
    secrets: loaded.secrets,
    modelDigest: rounds.at(-1)?.modelDigest ?? '',
    createTarget: false,
    ...(classNames ? { classNames } : {}),
  });
  try {
    await target.verify(sink);
  } catch (error) {
    await sink.close();
    throw error;
  }
  return sink;
}

/** The target a round recorded, or null for a round from before targets were recorded. */
export function roundSinkTarget(round: RoundRecord): SinkTarget | null {
  const target = round.details[SINK_TARGET_DETAIL];
  return typeof target === 'object' && target !== null && !Array.isArray(target) ? (target as SinkTarget) : null;
}

function placesOf(rounds: readonly RoundRecord[]): Place[] {
  const places: Place[] = [];
  for (const round of rounds) {
    const target = roundSinkTarget(round);
    const place = places.find((p) => p.sink === round.sink && isDeepStrictEqual(p.target, target));
    if (place) place.rounds.push(round.id);
    else places.push({ sink: round.sink, target, rounds: [round.id] });
  }
  return places;
}

function describePlaces(places: readonly Place[]): string {
  const parts = places.map((place) => {
    const which = place.rounds.length > 1 ? `rounds ${place.rounds.join(', ')} were` : `round ${place.rounds[0]} was`;
    return `${which} pushed to ${place.target === null ? `the ${place.sink} sink` : describeTarget(place.sink, place.target)}`;
  });
  return `${parts.join(' and ')} and ${places.length > 1 || places[0]!.rounds.length > 1 ? 'are' : 'is'} not finished`;
}

function describeTarget(sink: string, target: SinkTarget): string {
  return `the ${sink} sink at ${leaves(target)
    .map(([key, value]) => `sink.${key} ${value}`)
    .join(', ')}`;
}

/** [dotted key, value] of each leaf of a target. */
function leaves(target: SinkTarget, prefix = ''): [string, string | number][] {
  return Object.entries(target).flatMap(([key, value]): [string, string | number][] => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return typeof value === 'object' ? leaves(value, path) : [[path, value]];
  });
}

function leafAt(target: SinkTarget, key: string): unknown {
  let node: unknown = target;
  for (const part of key.split('.')) node = typeof node === 'object' && node !== null ? (node as SinkTarget)[part] : undefined;
  return node;
}

/** A copy of `object` with the value at `path` replaced. */
function withLeaf(object: object, path: readonly string[], value: unknown): object {
  const [head, ...rest] = path as [string, ...string[]];
  const record = object as Record<string, unknown>;
  const child = record[head];
  return { ...record, [head]: rest.length === 0 ? value : withLeaf(typeof child === 'object' && child !== null ? child : {}, rest, value) };
}
