/**
 * `rpr-select diagnose` as a library call: loads the model, scores a labeled evaluation set for RPR/LPR
 * per class, measures spectral gain over checkpoints, ranks pool images by the SVD neurons they excite,
 * and writes report.json and report.html.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RprError } from '../errors/index.js';
import { modelPreprocessing, perSampleBatchSize } from '../metrics/index.js';
import type { LoadedModel } from '../model/load-model.js';
import { createExecutor, loadModel } from '../model/load-model.js';
import type { BackendChoice } from '../model/tf-runtime.js';
import { collectSamples, createPoolSource, decodeImage, encodeDigitPng, encodeSamplePng, loadLabeledSet, mnistPart } from '../pool/index.js';
import type { PoolSource, Preprocessing, Sample } from '../pool/types.js';
import { classImbalanceRecords } from './class-imbalance-records.js';
import type { EvalRecord } from './class-imbalance.js';
import { diagnose } from './diagnose.js';
import type { GainCheckpoint } from './gain.js';
import type { ReportAssets } from './report-html.js';
import type { DiagnosticsReport } from './report.js';
import { writeReport } from './write-report.js';

export interface RunDiagnoseOptions {
  readonly modelPath: string;
  readonly outDir: string;
  /** Labeled evaluation set: DIR/<class>/<image> or a JSONL manifest of {"path", "label"}. */
  readonly evalSpec?: string;
  /**
   * A reference model (for instance one trained on balanced data) scored on the same evaluation images:
   * adds the two-model class-imbalance comparison. Needs `evalSpec`.
   */
  readonly baselinePath?: string;
  /** A directory of checkpoints (sub-directories holding model.json), ordered by name, oldest first. */
  readonly checkpointsDir?: string;
  /** Ranks for RPR_k and LPR_k. @defaultValue [1, ⌊m/2⌋, m − 1] */
  readonly ks?: readonly number[];
  /** Evaluation images scored at most. @defaultValue 2000 */
  readonly maxEvalImages?: number;
  /**
   * Unlabeled images (a directory or manifest, any spec createPoolSource knows): ranked by the SVD
   * neurons they excite, and the gain probes when there is no evaluation set.
   */
  readonly poolSpec?: string;
  /** Pool images read at most. @defaultValue 1000 */
  readonly maxPoolImages?: number;
  /** Leading singular directions per layer in the SVD-neurons section (needs `poolSpec`). @defaultValue 8 */
  readonly svdNeurons?: number;
  /** Pool images listed per direction. @defaultValue 9 */
  readonly svdNeuronImages?: number;
  /**
   * Probe images for the gain curves: the first of the evaluation set; without one, of the pool; without
   * either, held-out MNIST test digits when the model takes 28×28×1 images.
   * @defaultValue 16
   */
  readonly probes?: number;
  readonly operatorSpectrum?: boolean;
  /** @defaultValue 'auto' */
  readonly backend?: BackendChoice;
  readonly onProgress?: (message: string) => void;
}

export interface RunDiagnoseResult {
  readonly report: DiagnosticsReport;
  readonly files: { readonly json: string; readonly html: string };
}

async function checkpointDirs(dir: string): Promise<string[]> {
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw new RprError('RPR_MODEL_NOT_FOUND', `checkpoints directory not found: ${dir}`, { path: dir });
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const withModels: string[] = [];
  for (const name of names) if (await stat(join(dir, name, 'model.json')).catch(() => null)) withModels.push(join(dir, name));
  if (withModels.length === 0) {
    throw new RprError('RPR_MODEL_NOT_FOUND', `${dir} holds no checkpoints: expected sub-directories each with a model.json`, { path: dir });
  }
  return withModels;
}

/** The baseline model, checked to be comparable with `model` on the same evaluation images. */
async function loadBaseline(path: string, model: LoadedModel, evalSpec: string | undefined, backend: BackendChoice): Promise<LoadedModel> {
  if (!evalSpec) {
    throw new RprError('RPR_USAGE', '--baseline needs --eval: the two models are compared on the same labeled images', { baseline: path });
  }
  const baseline = await loadModel(path, { backend });
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);
  if (baseline.ir.outputSize !== model.ir.outputSize || !same(baseline.ir.inputShape, model.ir.inputShape)) {
    baseline.executor.dispose();
    throw new RprError(
      'RPR_USAGE',
      `the baseline ${path} takes [${baseline.ir.inputShape.join(', ')}] → ${baseline.ir.outputSize} classes, the model [${model.ir.inputShape.join(', ')}] → ${model.ir.outputSize}: compare models of the same input and classes`,
      { baseline: path },
    );
  }
  return baseline;
}

function forwardOf(model: LoadedModel): GainCheckpoint['forward'] {
  return (batch, n) => model.executor.forward(batch, n);
}

/** Whether the model takes MNIST-shaped input, so the bundled digits can be its probes. */
function takesMnistDigits(model: LoadedModel): boolean {
  const [h, w, c] = model.ir.inputShape;
  return model.ir.inputShape.length === 3 && h === 28 && w === 28 && c === 1;
}

/** Held-out MNIST test digits, encoded and decoded like any pool image so the model's preprocessing applies. */
async function mnistProbes(count: number, pre: Preprocessing): Promise<Float32Array[]> {
  return Promise.all(mnistPart('test').slice(0, count).map(async (d) => decodeImage(await encodeDigitPng(d), pre)));
}

interface Probes {
  readonly pixels: Float32Array[];
  /** Where they came from, for the report's notes. */
  readonly source: string;
}

/**
 * Gain probes, in order of preference: the evaluation set's images, the pool's (both the user's own
 * data, as the gain definition intends), then MNIST digits for a 28×28×1 model. Checkpoints without any
 * probes are a usage error; the model alone without probes just has no gain section.
 */
async function gainProbes(
  model: LoadedModel,
  pre: Preprocessing,
  count: number,
  from: { readonly evalSamples: readonly Sample[]; readonly poolSamples: readonly Sample[] },
  options: RunDiagnoseOptions,
): Promise<Probes | null> {
  if (from.evalSamples.length > 0) return { pixels: from.evalSamples.slice(0, count).map((s) => s.pixels), source: '--eval' };
  if (from.poolSamples.length > 0) return { pixels: from.poolSamples.slice(0, count).map((s) => s.pixels), source: '--pool' };
  if (takesMnistDigits(model)) return { pixels: await mnistProbes(count, pre), source: 'held-out MNIST test digits (bundled)' };
  if (options.checkpointsDir) {
    throw new RprError(
      'RPR_USAGE',
      `--checkpoints needs probe images for the gain curves, and this model takes [${model.ir.inputShape.join(', ')}] images (no bundled digits fit): add --pool DIR (or --eval DIR)`,
      { checkpoints: options.checkpointsDir },
    );
  }
  return null;
}

/** Inline PNGs (data: URIs) of the images the SVD-neurons section lists, so report.html stays self-contained. */
async function thumbnails(report: DiagnosticsReport, samples: readonly Sample[], pre: Preprocessing): Promise<Map<string, string>> {
  const listed = new Set(report.svdNeurons?.layers.flatMap((l) => l.directions.flatMap((d) => d.top.map((t) => t.id))) ?? []);
  const out = new Map<string, string>();
  for (const sample of samples) {
    if (listed.has(sample.id) && !out.has(sample.id)) {
      out.set(sample.id, `data:image/png;base64,${(await encodeSamplePng(sample.pixels, pre)).toString('base64')}`);
    }
  }
  return out;
}

export async function runDiagnose(options: RunDiagnoseOptions): Promise<RunDiagnoseResult> {
  const say = options.onProgress ?? (() => undefined);
  const backend = options.backend ?? 'auto';
  // Paths are checked before the model loads, so a typo costs one line and no waiting.
  if (options.evalSpec && !(await stat(options.evalSpec).catch(() => null))) {
    throw new RprError('RPR_POOL_NOT_FOUND', `evaluation set not found: ${options.evalSpec}`, { path: options.evalSpec });
  }
  if (options.svdNeurons !== undefined && !options.poolSpec) {
    throw new RprError('RPR_USAGE', '--svd-neurons needs --pool: the pool images are what the singular directions are ranked on', {
      svdNeurons: options.svdNeurons,
    });
  }
  const checkpointPaths = options.checkpointsDir ? await checkpointDirs(options.checkpointsDir) : [];
  const poolSource: PoolSource | null = options.poolSpec ? await createPoolSource(options.poolSpec) : null;
  const model = await loadModel(options.modelPath, { backend });
  const opened: LoadedModel[] = [model];
  try {
    const m = model.ir.outputSize;
    const ks = options.ks ?? [...new Set([1, Math.max(1, Math.floor(m / 2)), Math.max(1, m - 1)])];
    const pre = modelPreprocessing(model);
    const classNames = model.metadata?.classNames ?? [];
    let evalRecords: EvalRecord[] | undefined;
    let baselineRecords: EvalRecord[] | undefined;
    let evalSamples: Sample[] = [];
    const baseline = options.baselinePath ? await loadBaseline(options.baselinePath, model, options.evalSpec, backend) : null;
    if (baseline) opened.push(baseline);
    if (options.evalSpec) {
      say(`reading the evaluation set ${options.evalSpec}`);
      const set = await loadLabeledSet(options.evalSpec, pre, classNames, options.maxEvalImages ?? 2000);
      if (set.samples.length === 0) throw new RprError('RPR_POOL_EMPTY', `the evaluation set ${options.evalSpec} has no usable images`);
      evalRecords = [];
      baselineRecords = baseline ? [] : undefined;
      const batch = perSampleBatchSize(model.executor);
      for (let i = 0; i < set.samples.length; i += batch) {
        const part = set.samples.slice(i, i + batch);
        const labels = set.labels.slice(i, i + batch);
        evalRecords.push(...(await classImbalanceRecords(model.executor, part, labels, { ks, classNames })).records);
        if (baseline) baselineRecords!.push(...(await classImbalanceRecords(baseline.executor, part, labels, { ks, classNames })).records);
        say(`scored ${Math.min(i + batch, set.samples.length)} / ${set.samples.length} evaluation images`);
      }
      evalSamples = set.samples;
    }
    const notes: string[] = [];
    let poolSamples: Sample[] = [];
    if (poolSource) {
      say(`reading the pool ${poolSource.description}`);
      const pool = await collectSamples(poolSource, pre, options.maxPoolImages ?? 1000);
      if (pool.samples.length === 0) {
        throw new RprError('RPR_POOL_EMPTY', `the pool ${poolSource.description} has no usable images`, { path: poolSource.description });
      }
      poolSamples = pool.samples;
      if (pool.skipped.length > 0) {
        const first = pool.skipped[0]!;
        notes.push(`${pool.skipped.length} pool image(s) skipped, the first ${first.uri}: ${first.reason}`);
      }
    }
    const probes = await gainProbes(model, pre, options.probes ?? 16, { evalSamples, poolSamples }, options);
    if (probes) notes.push(`gain probes: ${probes.pixels.length} image(s) from ${probes.source}`);
    else notes.push('no gain curves: pass --eval or --pool to give probe images');
    let checkpoints: GainCheckpoint[] = [];
    if (options.checkpointsDir) {
      for (const dir of checkpointPaths) {
        const c = await loadModel(dir, { backend });
        opened.push(c);
        checkpoints.push({ name: dir.slice(options.checkpointsDir.length).replace(/^[/\\]/, ''), forward: forwardOf(c) });
      }
    } else {
      checkpoints = [{ name: 'model', forward: forwardOf(model) }];
    }
    say('computing spectra' + (probes ? ' and gain curves' : '') + (poolSamples.length > 0 ? ' and SVD neurons' : ''));
    const report = await diagnose(model.ir, {
      ...(evalRecords ? { evalRecords } : {}),
      ...(baselineRecords ? { baselineRecords } : {}),
      ...(probes ? { gain: { checkpoints, probes: probes.pixels } } : {}),
      ...(options.operatorSpectrum ? { operatorSpectrum: true } : {}),
      ...(poolSamples.length > 0
        ? {
            svdNeurons: {
              images: poolSamples.map((s) => ({ id: s.id, uri: s.uri, input: s.pixels })),
              runnerFor: (sub) => createExecutor(sub, { engine: model.engine, backend }),
              directions: options.svdNeurons ?? 8,
              topN: options.svdNeuronImages ?? 9,
            },
          }
        : {}),
    });
    const withNotes: DiagnosticsReport = { ...report, notes: [...report.notes, ...notes] };
    const assets: ReportAssets = { thumbnails: await thumbnails(withNotes, poolSamples, pre) };
    const files = await writeReport(withNotes, options.outDir, assets);
    return { report: withNotes, files };
  } finally {
    for (const m of opened) m.executor.dispose();
  }
}
