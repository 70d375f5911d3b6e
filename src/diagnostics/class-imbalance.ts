/**
 * Which classes the model under-represents, from per-image RPR_k and LPR_k on labeled images.
 *
 * The verdict does not compare each class's own RPR/LPR with the other classes': on a model trained on
 * balanced digits those differ by the shape of the digit (a "1" has little ink, an "8" resembles three
 * other digits), so that comparison named 7 of 10 classes (docs/class-imbalance.md). It compares the
 * classes' labels on the SAME images instead. The label strength of class c at image x is the mean of
 * LPR_k(e_c) over the band k = ⌈m/2⌉ … m − 2: how much of c's one-hot label lies in the model's
 * top-k output directions, for the k where "c is among the directions the model can move at all" is
 * decided. Smaller k says which classes the image resembles (shape again); LPR_m is 1 and LPR_{m−1} near
 * 1 for every label (the one direction it leaves out carries 1/m of the labels' energy on average), so
 * they tell the labels apart least. A class's strength is the median over all evaluation images,
 * of every class; it is under-represented when its strength is below `strengthRatio` times the median
 * class's. The 0.75 default separates, for the demo model's recipe, every digit cut to 3% of its share
 * (relative strength 0.52–0.67) from every other class of every model, balanced or not (0.79 or more);
 * on a smaller, faster-trained network it misses a cut digit (docs/class-imbalance.md, "limits").
 *
 * Descriptive, not part of the verdict: for every (metric, k) family and class c, Mann–Whitney U of
 * c's values against all other classes' values (two-sided, normal approximation with tie correction),
 * Holm–Bonferroni across the classes of the family; `direction` says whether the class is significantly
 * (adjusted p < `significance`) and at least medium-effect (A ≤ `effectThreshold`, Vargha & Delaney)
 * lower or higher than the rest. Classes smaller than `minClassSize` are summarized but not tested.
 */
import { RprError } from '../errors/index.js';
import type { BaselineComparison } from './class-imbalance-shift.js';
import { holmAdjust, mannWhitneyU } from './mann-whitney.js';
import { quantileSorted, summarize, type Summary } from './summary-stats.js';

export interface EvalRecord {
  readonly label: string | number;
  /** RPR_k keyed by k. */
  readonly rpr: Readonly<Record<string, number>>;
  /** LPR_k of the true label, keyed by k. */
  readonly lpr: Readonly<Record<string, number>>;
  /**
   * LPR_k(e_c) for k = 1…m at this image, for every class c of the model (keyed by class name): the
   * verdict's input. Records without it get the descriptive tests only.
   */
  readonly labelLpr?: Readonly<Record<string, readonly number[]>>;
}

export type ImbalanceMetric = 'rpr' | 'lpr';

export interface ClassImbalanceOptions {
  /** @defaultValue 0.05 */
  readonly significance?: number;
  /** Largest A (probability of superiority over the rest) counted as lower. @defaultValue 0.36 */
  readonly effectThreshold?: number;
  /** @defaultValue 5 */
  readonly minClassSize?: number;
  /** Under-represented: label strength below this fraction of the median class's. @defaultValue 0.75 */
  readonly strengthRatio?: number;
}

export interface FamilyTest {
  readonly u: number;
  readonly z: number;
  readonly p: number;
  readonly pHolm: number;
  /** P(class > rest) + P(=)/2. */
  readonly a: number;
}

export interface ClassFamilyResult {
  readonly metric: ImbalanceMetric;
  readonly k: string;
  readonly summary: Summary | null;
  readonly rest: Summary | null;
  /** Null when the class or the rest has fewer than minClassSize values. */
  readonly test: FamilyTest | null;
  /** Significant and at least the threshold effect, in either direction; 'none' otherwise. Descriptive. */
  readonly direction: 'lower' | 'higher' | 'none';
}

export interface LabelStrength {
  /** Per-image strengths of this class's label over all evaluation images. */
  readonly summary: Summary;
  /** Its median: the class's strength. */
  readonly median: number;
  /** median / the median of all classes' strengths. */
  readonly ratio: number;
}

export interface ClassImbalanceClass {
  readonly label: string;
  /** Evaluation images of this class (its strength is measured on all images, so it may be 0). */
  readonly n: number;
  readonly results: readonly ClassFamilyResult[];
  /** Null when the records carry no per-label LPR curves. */
  readonly strength: LabelStrength | null;
  readonly underRepresented: boolean;
  /** Why the class is under-represented (empty otherwise). */
  readonly reasons: readonly string[];
}

export interface ClassImbalanceReport {
  readonly classes: readonly ClassImbalanceClass[];
  readonly families: readonly { readonly metric: ImbalanceMetric; readonly k: string }[];
  /** The band of k whose LPR_k(e_c) average to a label strength; empty without per-label curves. */
  readonly strengthKs: readonly number[];
  readonly underRepresented: readonly string[];
  readonly verdict: string;
  readonly rule: string;
  readonly significance: number;
  readonly effectThreshold: number;
  readonly minClassSize: number;
  readonly strengthRatio: number;
  /** The two-model comparison, when a baseline model scored the same images. */
  readonly baseline?: BaselineComparison;
}

const METRICS: readonly ImbalanceMetric[] = ['rpr', 'lpr'];

/** The verdict needs a median class to compare with. */
const MIN_CLASSES = 3;

function compareLabels(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.localeCompare(b);
}

function median(values: readonly number[]): number {
  return quantileSorted([...values].sort((a, b) => a - b), 0.5);
}

function checkOptions(options: ClassImbalanceOptions): Required<ClassImbalanceOptions> {
  const significance = options.significance ?? 0.05;
  const effectThreshold = options.effectThreshold ?? 0.36;
  const minClassSize = options.minClassSize ?? 5;
  const strengthRatio = options.strengthRatio ?? 0.75;
  if (!(significance > 0 && significance < 1)) {
    throw new RprError('RPR_USAGE', `class imbalance: significance must be in (0, 1), got ${significance}`, {});
  }
  if (!(effectThreshold > 0 && effectThreshold < 0.5)) {
    throw new RprError('RPR_USAGE', `class imbalance: effectThreshold must be in (0, 0.5), got ${effectThreshold}`, {});
  }
  if (!Number.isInteger(minClassSize) || minClassSize < 1) {
    throw new RprError('RPR_USAGE', `class imbalance: minClassSize must be a positive integer, got ${minClassSize}`, {});
  }
  if (!(strengthRatio > 0 && strengthRatio < 1)) {
    throw new RprError('RPR_USAGE', `class imbalance: strengthRatio must be in (0, 1), got ${strengthRatio}`, {});
  }
  return { significance, effectThreshold, minClassSize, strengthRatio };
}

/** k = ⌈m/2⌉ … max(⌈m/2⌉, m − 2) for m classes. */
export function strengthBand(m: number): number[] {
  const first = Math.ceil(m / 2);
  const last = Math.max(first, m - 2);
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}

/** Mean of LPR_k over the band; `curve[k − 1]` = LPR_k. */
export function labelStrength(curve: readonly number[], band: readonly number[]): number {
  return band.reduce((sum, k) => sum + curve[k - 1]!, 0) / band.length;
}

function familyResults(
  records: readonly EvalRecord[],
  labels: readonly string[],
  metric: ImbalanceMetric,
  k: string,
  options: Required<ClassImbalanceOptions>,
): ClassFamilyResult[] {
  const byLabel = new Map<string, number[]>(labels.map((l) => [l, []]));
  for (const r of records) {
    const v = r[metric]?.[k];
    if (typeof v === 'number' && Number.isFinite(v)) byLabel.get(String(r.label))!.push(v);
  }
  const raw = labels.map((label) => {
    const mine = byLabel.get(label)!;
    const rest = labels.filter((l) => l !== label).flatMap((l) => byLabel.get(l)!);
    const test = mine.length >= options.minClassSize && rest.length >= options.minClassSize ? mannWhitneyU(mine, rest) : null;
    return { mine, rest, test };
  });
  const adjusted = holmAdjust(raw.map((r) => r.test?.p ?? null));
  return raw.map((r, i) => {
    const pHolm = adjusted[i];
    const test = r.test && pHolm !== null && pHolm !== undefined ? { ...r.test, pHolm } : null;
    let direction: ClassFamilyResult['direction'] = 'none';
    if (test && test.pHolm < options.significance) {
      if (test.a <= options.effectThreshold) direction = 'lower';
      else if (test.a >= 1 - options.effectThreshold) direction = 'higher';
    }
    return { metric, k, summary: summarize(r.mine), rest: summarize(r.rest), test, direction };
  });
}

/** Per class, the summary of its label's strength over every record that carries per-label curves. */
function strengths(records: readonly EvalRecord[], labels: readonly string[], band: readonly number[]): Map<string, LabelStrength> {
  const perLabel = new Map<string, number[]>();
  for (const r of records) {
    for (const [label, curve] of Object.entries(r.labelLpr ?? {})) {
      if (curve.length < band[band.length - 1]!) continue;
      const s = labelStrength(curve, band);
      if (!Number.isFinite(s)) continue;
      const values = perLabel.get(label);
      if (values) values.push(s);
      else perLabel.set(label, [s]);
    }
  }
  const summaries = labels.flatMap((l) => {
    const s = summarize(perLabel.get(l) ?? []);
    return s ? [[l, s] as const] : [];
  });
  const center = median(summaries.map(([, s]) => s.median));
  return new Map(summaries.map(([l, s]) => [l, { summary: s, median: s.median, ratio: s.median / center }]));
}

export function analyzeClassImbalance(
  records: readonly EvalRecord[],
  options: ClassImbalanceOptions = {},
): ClassImbalanceReport {
  const checked = checkOptions(options);
  const curveLength = records.reduce((most, r) => Math.max(most, ...Object.values(r.labelLpr ?? {}).map((c) => c.length)), 0);
  const band = curveLength > 0 ? strengthBand(curveLength) : [];
  const labels = [
    ...new Set([...records.map((r) => String(r.label)), ...records.flatMap((r) => Object.keys(r.labelLpr ?? {}))]),
  ].sort(compareLabels);
  const families = METRICS.flatMap((metric) =>
    [...new Set(records.flatMap((r) => Object.keys(r[metric] ?? {})))].sort(compareLabels).map((k) => ({ metric, k })),
  );
  const resultsByFamily = families.map(({ metric, k }) => familyResults(records, labels, metric, k, checked));
  const strengthOf = band.length > 0 ? strengths(records, labels, band) : new Map<string, LabelStrength>();
  const measured = strengthOf.size >= MIN_CLASSES;
  const bandText = band.length > 1 ? `LPR_k(e_c) for k = ${band[0]}…${band[band.length - 1]}` : `LPR_${band[0] ?? '?'}(e_c)`;

  const classes = labels.map((label, i) => {
    const strength = strengthOf.get(label) ?? null;
    const under = measured && strength !== null && strength.ratio < checked.strengthRatio;
    const reasons = under
      ? [
          `label strength ${strength.median.toPrecision(3)} = ${strength.ratio.toFixed(2)} × the median class's (${bandText}, median over ${strength.summary.n} images)`,
        ]
      : [];
    return {
      label,
      n: records.filter((r) => String(r.label) === label).length,
      results: resultsByFamily.map((f) => f[i]!),
      strength,
      underRepresented: under,
      reasons,
    };
  });
  const under = classes.filter((c) => c.underRepresented).map((c) => c.label);
  const rule =
    `a class c is under-represented when its label strength — the median over all evaluation images of the mean of ${bandText}, ` +
    `how much of c's one-hot label lies in the model's top-k output directions — is below ${checked.strengthRatio} × the median class's; ` +
    `the per-class tests of RPR_k and LPR_k against the other classes (Mann–Whitney, Holm-adjusted) describe the distributions and also ` +
    `reflect the digits' shapes, so they are not part of the verdict`;
  let verdict: string;
  if (records.length === 0) verdict = 'class imbalance needs labeled evaluation images';
  else if (strengthOf.size === 0) verdict = 'no verdict: the evaluation records carry no per-label LPR curves';
  else if (!measured) verdict = `no verdict: the label-strength comparison needs at least ${MIN_CLASSES} classes`;
  else if (under.length === 0) verdict = 'no class is under-represented by the model';
  else verdict = `the model under-represents class${under.length > 1 ? 'es' : ''} ${under.join(', ')}`;
  return { classes, families, strengthKs: band, underRepresented: under, verdict, rule, ...checked };
}
