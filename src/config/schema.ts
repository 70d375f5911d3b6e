/**
 * The configuration schema: every key, its type, its default. Objects are strict, so a misspelt key
 * is an error naming its path rather than a setting silently ignored. `DEFAULT_CONFIG` is what an
 * empty file parses to; `config/default.yaml` spells the same values out with comments.
 */
import { z } from 'zod';

const positiveInt = () => z.number().int().positive();

const model = z
  .strictObject({
    /** Model directory or file; null = the bundled demo model `models/mnist-cnn/` (package root). */
    path: z.string().min(1).nullable().default(null),
    /** Engine running the network: auto (ONNX Runtime when onnxruntime-node loads, else TF.js), onnxruntime, tfjs. */
    engine: z.enum(['auto', 'onnxruntime', 'tfjs']).default('auto'),
    /** TF.js backend (auto, tensorflow, wasm, cpu); checked when the model loads. */
    backend: z.string().min(1).default('auto'),
    /** Scoring worker threads for per-sample scoring; 'auto' = one per core. */
    workers: z.union([positiveInt(), z.literal('auto')]).default('auto'),
    /** Most memory (MB) the engines may hold for the batches being linearized, all scoring threads together. */
    batchMemoryMB: z.number().positive().max(2 ** 20).default(256),
  })
  .prefault({});

const pool = z
  .strictObject({
    /** Image directory or manifest; null = the demo pool `.rpr-select/demo-pool/`, written on first use. */
    path: z.string().min(1).nullable().default(null),
  })
  .prefault({});

/** Each field overrides what the model declares; absent = the model's own preprocessing. */
const preprocessing = z
  .strictObject({
    width: positiveInt().optional(),
    height: positiveInt().optional(),
    channels: z.union([z.literal(1), z.literal(3)]).optional(),
    scale: z.number().positive().optional(),
    mean: z.array(z.number()).min(1).optional(),
    std: z.array(z.number().positive()).min(1).optional(),
  })
  .prefault({});

const scoring = z
  .strictObject({
    mode: z.enum(['per-sample', 'reference']).default('per-sample'),
    /** The ranks k at which RPR_k is computed. */
    ks: z.array(positiveInt()).min(1).default([1, 5, 10]),
    svd: z.enum(['exact', 'randomized', 'lanczos', 'auto']).default('auto'),
    /** Reference images for `reference` mode (e.g. the labeled set), and the mean image `center` subtracts. */
    referenceDir: z.string().min(1).nullable().default(null),
    /** Mean-centred RPR: project x − x̄, x̄ the mean image of the reference set (needs referenceDir). */
    center: z.boolean().default(false),
  })
  .prefault({});

const cache = z.strictObject({ path: z.string().min(1).default('.rpr-select/cache.sqlite') }).prefault({});

const policy = z
  .strictObject({
    name: z.string().min(1).default('lowest-rpr'),
    /** The k ranked by; null = the largest of scoring.ks. */
    k: positiveInt().nullable().default(null),
    /** Seed of the random policy. */
    seed: z.number().int().default(0),
    hybrid: z
      .strictObject({
        rprWeight: z.number().min(0).default(0.5),
        uncertaintyWeight: z.number().min(0).default(0.5),
        uncertainty: z.enum(['entropy', 'margin', 'least-confidence']).default('entropy'),
      })
      .refine((h) => h.rprWeight + h.uncertaintyWeight > 0, {
        message: 'rprWeight + uncertaintyWeight must be positive',
      })
      .prefault({}),
    /** Candidates kept per round slot when diversity, quotas or per-image costs need a choice. */
    shortlistFactor: positiveInt().default(5),
    diversity: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
    quotas: z
      .strictObject({ maxClassShare: z.number().gt(0).max(1).nullable().default(null) })
      .prefault({}),
  })
  .prefault({});

const cost = z
  .discriminatedUnion('rule', [
    z.strictObject({ rule: z.literal('constant'), value: z.number().positive().default(1) }),
    z.strictObject({
      rule: z.literal('pixels'),
      perMegapixel: z.number().positive(),
      /** Floor per image; also bounds how many images a round can hold. */
      min: z.number().positive(),
    }),
  ])
  .prefault({ rule: 'constant' });

const budget = z
  .strictObject({
    /** Over all rounds, in `unit`. */
    total: z.number().min(0).default(1000),
    /** Cap of one round, in `unit`. */
    perRound: z.number().positive().default(100),
    unit: z.enum(['samples', 'cost']).default('samples'),
    /** Per-image cost when unit is `cost`. */
    cost,
  })
  .prefault({});

const sink = z
  .strictObject({
    name: z.string().min(1).default('jsonl'),
    jsonl: z.strictObject({ path: z.string().min(1).default('.rpr-select/queue.jsonl') }).prefault({}),
    labelStudio: z
      .strictObject({
        url: z.url().nullable().default(null),
        /** Project id (number) or title (string). */
        project: z.union([positiveInt(), z.string().min(1)]).nullable().default(null),
        batchSize: positiveInt().default(100),
        concurrency: positiveInt().default(2),
        /** The server's LABEL_STUDIO_LOCAL_FILES_DOCUMENT_ROOT: local image paths are sent relative to it. */
        documentRoot: z.string().min(1).default('/'),
      })
      .prefault({}),
  })
  .prefault({});

const ledger = z
  .strictObject({
    path: z.string().min(1).default('.rpr-select/ledger.sqlite'),
    /** A lease not renewed for this long is stale and may be taken over. */
    leaseSeconds: positiveInt().default(60),
    /** How long a run waits for a ledger held by another run; 0 = exit at once (code 4). */
    waitSeconds: z.number().min(0).default(0),
  })
  .prefault({});

export const configSchema = z.strictObject({
  model,
  pool,
  preprocessing,
  scoring,
  cache,
  policy,
  budget,
  sink,
  ledger,
});

export type RprConfig = z.output<typeof configSchema>;
export type BudgetConfig = RprConfig['budget'];
export type CostRule = BudgetConfig['cost'];
export type PolicyConfig = RprConfig['policy'];
export type SinkConfig = RprConfig['sink'];

/** What an empty configuration means. */
export const DEFAULT_CONFIG: RprConfig = configSchema.parse({});

/** Keys holding paths: relative ones are resolved against the file (or cwd) that gave them. */
export const PATH_KEYS: readonly (readonly string[])[] = [
  ['model', 'path'],
  ['pool', 'path'],
  ['scoring', 'referenceDir'],
  ['cache', 'path'],
  ['sink', 'jsonl', 'path'],
  ['ledger', 'path'],
];
