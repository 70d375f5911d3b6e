/**
 * Class imbalance by comparing two models, as the paper does: the model under study and a baseline
 * (for instance one trained on balanced data), both scored on the same labeled images. Each image's
 * shift is the change of the mean of LPR_k over k = 1…m of its true label (the area under its LPR
 * curve), model minus baseline; pairing by image removes the digits' shapes, which both models see
 * alike. A class is flagged when its median shift is a low outlier among the classes' median shifts:
 * robust z = (shift − median)/(1.4826·MAD) below −`zThreshold`. RPR shifts are summarized too; in the
 * experiment (docs/class-imbalance.md) they never single out the cut digit, so they are not flagged on.
 */
import { RprError } from '../errors/index.js';
import type { EvalRecord } from './class-imbalance.js';
import { quantileSorted, summarize, type Summary } from './summary-stats.js';

export interface ShiftOptions {
  /** @defaultValue 3 */
  readonly zThreshold?: number;
}

export interface ClassShift {
  readonly label: string;
  readonly n: number;
  /** Per-image shifts of the true label's LPR-curve area, model − baseline. */
  readonly lprArea: Summary;
  /** Per-image shifts of RPR_k, model − baseline, keyed by k. */
  readonly rpr: Readonly<Record<string, Summary>>;
  /** Robust z of the class's median LPR-area shift among the classes'. */
  readonly z: number;
  readonly flagged: boolean;
}

export interface BaselineComparison {
  readonly classes: readonly ClassShift[];
  readonly flagged: readonly string[];
  readonly verdict: string;
  readonly rule: string;
  readonly zThreshold: number;
}

/** Below this spread (in LPR units) class shifts count as equal, so tiny wobbles are never outliers. */
const MIN_SPREAD = 0.01;

function median(values: readonly number[]): number {
  return quantileSorted([...values].sort((a, b) => a - b), 0.5);
}

/** Robust z-scores (x − median)/(1.4826·MAD), the spread floored at `minSpread`. */
export function robustZ(values: readonly number[], minSpread = 0): number[] {
  const center = median(values);
  const spread = Math.max(minSpread, 1.4826 * median(values.map((v) => Math.abs(v - center))));
  return values.map((v) => (spread > 0 ? (v - center) / spread : 0));
}

function curveArea(record: EvalRecord): number {
  const curve = record.labelLpr?.[String(record.label)];
  if (!curve || curve.length === 0) {
    throw new RprError('RPR_USAGE', `baseline comparison: an image of class ${record.label} has no LPR curve for its label`);
  }
  return curve.reduce((a, b) => a + b, 0) / curve.length;
}

/**
 * `records[i]` and `baseline[i]` must be the same image scored by the model and by the baseline.
 */
export function compareWithBaseline(
  records: readonly EvalRecord[],
  baseline: readonly EvalRecord[],
  options: ShiftOptions = {},
): BaselineComparison {
  const zThreshold = options.zThreshold ?? 3;
  if (!(zThreshold > 0)) throw new RprError('RPR_USAGE', `baseline comparison: zThreshold must be positive, got ${zThreshold}`);
  if (records.length !== baseline.length || records.some((r, i) => String(r.label) !== String(baseline[i]!.label))) {
    throw new RprError(
      'RPR_INTERNAL',
      `baseline comparison: the two models were scored on different images (${records.length} vs ${baseline.length} records)`,
    );
  }
  const labels = [...new Set(records.map((r) => String(r.label)))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const shifts = labels.map((label) => {
    const pairs = records.flatMap((r, i) => (String(r.label) === label ? [[r, baseline[i]!] as const] : []));
    const rpr: Record<string, Summary> = {};
    for (const k of Object.keys(pairs[0]![0].rpr)) {
      rpr[k] = summarize(pairs.map(([m, b]) => m.rpr[k]! - b.rpr[k]!))!;
    }
    return { label, n: pairs.length, lprArea: summarize(pairs.map(([m, b]) => curveArea(m) - curveArea(b)))!, rpr };
  });
  const z = robustZ(
    shifts.map((s) => s.lprArea.median),
    MIN_SPREAD,
  );
  const classes = shifts.map((s, i) => ({ ...s, z: z[i]!, flagged: labels.length >= 3 && z[i]! < -zThreshold }));
  const flagged = classes.filter((c) => c.flagged).map((c) => c.label);
  const rule =
    `per image, the change of the mean of LPR_k (k = 1…m) of its true label from the baseline to the model; a class is flagged when ` +
    `its median change is below the classes' median by more than ${zThreshold} robust standard deviations (1.4826·MAD, at least ${MIN_SPREAD})`;
  let verdict: string;
  if (labels.length < 3) verdict = 'no verdict: the comparison needs images of at least 3 classes';
  else if (flagged.length === 0) verdict = 'no class lost more label strength than the others against the baseline';
  else verdict = `against the baseline, the model under-represents class${flagged.length > 1 ? 'es' : ''} ${flagged.join(', ')}`;
  return { classes, flagged, verdict, rule, zThreshold };
}
