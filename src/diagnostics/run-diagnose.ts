/**
 * `rpr-select diagnose` as a library call: loads the model, scores a labeled evaluation set for RPR/LPR
 * per class, measures spectral gain over checkpoints, and writes report.json and report.html.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { RprError } from '../errors/index.js';
import { modelPreprocessing, perSampleBatchSize } from '../metrics/index.js';
import type { LoadedModel } from '../model/load-model.js';
import { loadModel } from '../model/load-model.js';
import type { BackendChoice } from '../model/tf-runtime.js';
import { loadLabeledSet } from '../pool/index.js';
import { classImbalanceRecords } from './class-imbalance-records.js';
import type { EvalRecord } from './class-imbalance.js';
import { diagnose } from './diagnose.js';
import type { GainCheckpoint } from './gain.js';
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
  /** Probe images for the gain curves, taken from the evaluation set. @defaultValue 16 */
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

export async function runDiagnose(options: RunDiagnoseOptions): Promise<RunDiagnoseResult> {
  const say = options.onProgress ?? (() => undefined);
  const backend = options.backend ?? 'auto';
  // Paths are checked before the model loads, so a typo costs one line and no waiting.
  if (options.evalSpec && !(await stat(options.evalSpec).catch(() => null))) {
    throw new RprError('RPR_POOL_NOT_FOUND', `evaluation set not found: ${options.evalSpec}`, { path: options.evalSpec });
  }
  const checkpointPaths = options.checkpointsDir ? await checkpointDirs(options.checkpointsDir) : [];
  const model = await loadModel(options.modelPath, { backend });
  const opened: LoadedModel[] = [model];
  try {
    const m = model.ir.outputSize;
    const ks = options.ks ?? [...new Set([1, Math.max(1, Math.floor(m / 2)), Math.max(1, m - 1)])];
    const pre = modelPreprocessing(model);
    const classNames = model.metadata?.classNames ?? [];
    let evalRecords: EvalRecord[] | undefined;
    let baselineRecords: EvalRecord[] | undefined;
    let probes: Float32Array[] = [];
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
      probes = set.samples.slice(0, options.probes ?? 16).map((s) => s.pixels);
    }
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
    say('computing spectra' + (probes.length > 0 ? ' and gain curves' : ''));
    const report = await diagnose(model.ir, {
      ...(evalRecords ? { evalRecords } : {}),
      ...(baselineRecords ? { baselineRecords } : {}),
      ...(probes.length > 0 ? { gain: { checkpoints, probes } } : {}),
      ...(options.operatorSpectrum ? { operatorSpectrum: true } : {}),
    });
    const withNotes: DiagnosticsReport =
      probes.length > 0 ? report : { ...report, notes: [...report.notes, 'no gain curves: pass --eval to give probe images'] };
    const files = await writeReport(withNotes, options.outDir);
    return { report: withNotes, files };
  } finally {
    for (const m of opened) m.executor.dispose();
  }
}
