/**
 * What travels through the queue: a shard job (what to score, with which model and options, and what
 * to keep) and its result (the shard's shortlist and counts). Both are checked on arrival, since the
 * other end may run another version of rpr-select.
 */
import { z } from 'zod';
import type { CostRule } from '../config/index.js';
import type { CreateScorerOptions, ScoreResult } from '../metrics/index.js';
import type { PolicyOptions } from '../policy/index.js';
import type { Skipped } from '../pool/index.js';

/** Version of the job and result shapes; a worker refuses a job of another version. */
export const SHARD_PROTOCOL = 1;

/**
 * One pool entry of a shard: a path (relative to the shard's base, or absolute), an http(s) URL, or an
 * entry already known to be unusable when the pool was listed.
 */
export type ShardEntry = string | { readonly uri: string; readonly reason: string };

/** A contiguous run of pool entries, in pool order. */
export interface Shard {
  readonly index: number;
  /** The directory relative paths are resolved against (the pool directory, or the manifest's). */
  readonly base: string;
  readonly entries: readonly ShardEntry[];
}

/** The scorer options that do not depend on the machine (model file, backend, threads and cache do). */
export type ShardScoring = Omit<CreateScorerOptions, 'modelPath' | 'backend' | 'workers' | 'cachePath'>;

/** Where the ids selected in earlier rounds are kept for this round's workers. */
export interface ExcludedRef {
  readonly count: number;
  /** sha256 of the snapshot, checked by the worker. */
  readonly digest: string;
  /** The Redis key holding the snapshot; null when nothing is excluded. */
  readonly key: string | null;
}

export interface ShardJobData {
  readonly protocol: typeof SHARD_PROTOCOL;
  /** The round key: the same round, re-run, gets the same key (and so the same job ids). */
  readonly round: string;
  readonly shard: Shard;
  /** The coordinator's model path, for messages. */
  readonly modelPath: string;
  readonly modelDigest: string;
  /** null when the coordinator could not tell (the worker then does not check). */
  readonly preprocessingDigest: string | null;
  readonly scoring: ShardScoring;
  readonly policy: { readonly name: string; readonly options: PolicyOptions };
  readonly cost: { readonly unit: 'samples' | 'cost'; readonly rule: CostRule };
  /** How many candidates the shard returns at most: the round's shortlist. */
  readonly capacity: number;
  readonly excluded: ExcludedRef;
}

export interface WorkerIdentity {
  /** host:pid unless named with --name. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly backend: string;
}

export interface ShardCandidate {
  readonly result: ScoreResult;
  readonly cost: number;
}

export interface ShardResult {
  readonly protocol: typeof SHARD_PROTOCOL;
  readonly shard: number;
  /** The shard's best candidates, best first, at most the job's capacity. */
  readonly candidates: readonly ShardCandidate[];
  /** Entries seen (scored or skipped). */
  readonly total: number;
  readonly alreadySelected: number;
  readonly skippedTotal: number;
  /** The first SHARD_SKIPS_KEPT skipped entries. */
  readonly skipped: readonly Skipped[];
  readonly worker: WorkerIdentity;
  /** When the worker started scoring the shard, epoch milliseconds by its clock. */
  readonly startedAt: number;
  /** Time spent scoring the shard. */
  readonly seconds: number;
}

/** Skipped entries a shard reports by name; the rest only count. */
export const SHARD_SKIPS_KEPT = 100;

const numbers = z.array(z.number());

const shardSchema = z.strictObject({
  index: z.number().int().min(0),
  base: z.string(),
  entries: z.array(z.union([z.string().min(1), z.strictObject({ uri: z.string(), reason: z.string() })])),
});

const jobSchema = z.strictObject({
  protocol: z.literal(SHARD_PROTOCOL),
  round: z.string().min(1),
  shard: shardSchema,
  modelPath: z.string(),
  modelDigest: z.string().min(1),
  preprocessingDigest: z.string().nullable(),
  // createScorer and createPolicy check these fields themselves, naming them.
  scoring: z.looseObject({}),
  policy: z.strictObject({ name: z.string().min(1), options: z.looseObject({}) }),
  cost: z.strictObject({
    unit: z.enum(['samples', 'cost']),
    rule: z.discriminatedUnion('rule', [
      z.strictObject({ rule: z.literal('constant'), value: z.number().positive() }),
      z.strictObject({ rule: z.literal('pixels'), perMegapixel: z.number().positive(), min: z.number().positive() }),
    ]),
  }),
  capacity: z.number().int().min(0),
  excluded: z.strictObject({ count: z.number().int().min(0), digest: z.string(), key: z.string().nullable() }),
});

const scoreResultSchema = z.strictObject({
  id: z.string().min(1),
  uri: z.string(),
  rpr: z.record(z.string(), z.number()).nullable(),
  sigma: numbers.nullable(),
  predicted: z.number().nullable(),
  logits: numbers.nullable(),
  coords: numbers.nullable(),
  lpr: z.record(z.string(), z.number()).optional(),
  error: z.string().optional(),
});

const resultSchema = z.strictObject({
  protocol: z.literal(SHARD_PROTOCOL),
  shard: z.number().int().min(0),
  candidates: z.array(z.strictObject({ result: scoreResultSchema, cost: z.number() })),
  total: z.number().int().min(0),
  alreadySelected: z.number().int().min(0),
  skippedTotal: z.number().int().min(0),
  skipped: z.array(z.strictObject({ uri: z.string(), id: z.string().nullable(), reason: z.string() })),
  worker: z.strictObject({ id: z.string(), host: z.string(), pid: z.number().int(), backend: z.string() }),
  startedAt: z.number(),
  seconds: z.number().min(0),
});

/** The job's data, or an Error whose one line says what is wrong with it. */
export function parseShardJob(value: unknown): ShardJobData {
  return parse(jobSchema, value, 'shard job') as ShardJobData;
}

/** A shard's result, or an Error whose one line says what is wrong with it. */
export function parseShardResult(value: unknown): ShardResult {
  return parse(resultSchema, value, 'shard result');
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const protocol = (value as { protocol?: unknown } | null)?.protocol;
  if (protocol !== SHARD_PROTOCOL) {
    return fail(`${what} of protocol ${String(protocol)}, this rpr-select speaks protocol ${SHARD_PROTOCOL}: run the same version everywhere`);
  }
  return fail(`malformed ${what}: '${issue.path.join('.')}' ${issue.message.toLowerCase()}`);
}

function fail(message: string): never {
  throw new Error(message);
}
