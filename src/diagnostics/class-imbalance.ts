/**
 * Which classes the model under-represents, from per-image RPR_k and LPR_k on labeled images.
 *
 * Direction: a low RPR_k(x) means the image lies mostly outside the k input directions the network
 * responds to at x, and a low LPR_k means the true label lies mostly outside the k output directions
 * it can produce there; both say the network "does not see" the image. So a class is under-represented
 * when its values are systematically LOWER than those of the other classes.
 *
 * Test: for every (metric, k) family and class c, Mann–Whitney U of c's values against all other
 * classes' values (two-sided, normal approximation with tie correction), Holm–Bonferroni across the
 * classes of that family. A class is flagged in a family when the adjusted p < `significance` and the
 * effect size A = P(class > rest) + P(=)/2 ≤ `effectThreshold` (default 0.36: at least a "medium"
 * effect on Vargha & Delaney's 2000 scale, where 0.56/0.64/0.71 and their mirrors 0.44/0.36/0.29 mark
 * small/medium/large). It is named under-represented when flagged in any family (families are not
 * corrected against each other: the k's of one metric are strongly correlated). Classes smaller than
 * `minClassSize` are summarized but not tested. These thresholds are starting points to check on real
 * models.
 */
import { RprError } from '../errors/index.js';
import { holmAdjust, mannWhitneyU } from './mann-whitney.js';
import { summarize, type Summary } from './summary-stats.js';

export interface EvalRecord {
  readonly label: string | number;
  /** RPR_k keyed by k. */
  readonly rpr: Readonly<Record<string, number>>;
  /** LPR_k keyed by k. */
  readonly lpr: Readonly<Record<string, number>>;
}

export type ImbalanceMetric = 'rpr' | 'lpr';

export interface ClassImbalanceOptions {
  /** @defaultValue 0.05 */
  readonly significance?: number;
  /** Largest A (probability of superiority over the rest) counted as under-representation. @defaultValue 0.36 */
  readonly effectThreshold?: number;
  /** @defaultValue 5 */
  readonly minClassSize?: number;
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
  /** Significant and at least the threshold effect, in either direction; 'none' otherwise. */
  readonly direction: 'lower' | 'higher' | 'none';
}

export interface ClassImbalanceClass {
  readonly label: string;
  readonly n: number;
  readonly results: readonly ClassFamilyResult[];
  readonly underRepresented: boolean;
  /** One line per family where the class is flagged. */
  readonly reasons: readonly string[];
}

export interface ClassImbalanceReport {
  readonly classes: readonly ClassImbalanceClass[];
  readonly families: readonly { readonly metric: ImbalanceMetric; readonly k: string }[];
  readonly underRepresented: readonly string[];
  readonly verdict: string;
  readonly rule: string;
  readonly significance: number;
  readonly effectThreshold: number;
  readonly minClassSize: number;
}

const METRICS: readonly ImbalanceMetric[] = ['rpr', 'lpr'];

function familyName(metric: ImbalanceMetric, k: string): string {
  return `${metric.toUpperCase()}_${k}`;
}

function compareLabels(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : a.localeCompare(b);
}

function checkOptions(options: ClassImbalanceOptions): Required<ClassImbalanceOptions> {
  const significance = options.significance ?? 0.05;
  const effectThreshold = options.effectThreshold ?? 0.36;
  const minClassSize = options.minClassSize ?? 5;
  if (!(significance > 0 && significance < 1)) {
    throw new RprError('RPR_USAGE', `class imbalance: significance must be in (0, 1), got ${significance}`, {});
  }
  if (!(effectThreshold > 0 && effectThreshold < 0.5)) {
    throw new RprError('RPR_USAGE', `class imbalance: effectThreshold must be in (0, 0.5), got ${effectThreshold}`, {});
  }
  if (!Number.isInteger(minClassSize) || minClassSize < 1) {
    throw new RprError('RPR_USAGE', `class imbalance: minClassSize must be a positive integer, got ${minClassSize}`, {});
  }
  return { significance, effectThreshold, minClassSize };
}

export function analyzeClassImbalance(
  records: readonly EvalRecord[],
  options: ClassImbalanceOptions = {},
): ClassImbalanceReport {
  const { significance, effectThreshold, minClassSize } = checkOptions(options);
  const labels = [...new Set(records.map((r) => String(r.label)))].sort(compareLabels);
  const families = METRICS.flatMap((metric) =>
    [...new Set(records.flatMap((r) => Object.keys(r[metric] ?? {})))].sort(compareLabels).map((k) => ({ metric, k })),
  );
  const resultsByLabel = new Map<string, ClassFamilyResult[]>(labels.map((l) => [l, []]));

  for (const { metric, k } of families) {
    const byLabel = new Map<string, number[]>(labels.map((l) => [l, []]));
    for (const r of records) {
      const v = r[metric]?.[k];
      if (typeof v === 'number' && Number.isFinite(v)) byLabel.get(String(r.label))!.push(v);
    }
    const raw = labels.map((label) => {
      const mine = byLabel.get(label)!;
      const rest = labels.filter((l) => l !== label).flatMap((l) => byLabel.get(l)!);
      const test = mine.length >= minClassSize && rest.length >= minClassSize ? mannWhitneyU(mine, rest) : null;
      return { mine, rest, test };
    });
    const adjusted = holmAdjust(raw.map((r) => r.test?.p ?? null));
    raw.forEach((r, i) => {
      const pHolm = adjusted[i];
      const test = r.test && pHolm !== null && pHolm !== undefined ? { ...r.test, pHolm } : null;
      let direction: ClassFamilyResult['direction'] = 'none';
      if (test && test.pHolm < significance) {
        if (test.a <= effectThreshold) direction = 'lower';
        else if (test.a >= 1 - effectThreshold) direction = 'higher';
      }
      resultsByLabel.get(labels[i]!)!.push({ metric, k, summary: summarize(r.mine), rest: summarize(r.rest), test, direction });
    });
  }

  const classes = labels.map((label) => {
    const results = resultsByLabel.get(label)!;
    const reasons = results
      .filter((r) => r.direction === 'lower')
      .map(
        (r) =>
          `${familyName(r.metric, r.k)}: median ${r.summary!.median.toPrecision(3)} vs ${r.rest!.median.toPrecision(3)} for the other classes, A = ${r.test!.a.toFixed(2)}, Holm-adjusted p = ${r.test!.pHolm.toExponential(1)}`,
      );
    return {
      label,
      n: records.filter((r) => String(r.label) === label).length,
      results,
      underRepresented: reasons.length > 0,
      reasons,
    };
  });
  const under = classes.filter((c) => c.underRepresented).map((c) => c.label);
  const rule = `a class is under-represented when its RPR_k or LPR_k is lower than the other classes' (Mann–Whitney, Holm-adjusted p < ${significance}, effect A ≤ ${effectThreshold}); classes with fewer than ${minClassSize} images are not tested`;
  let verdict: string;
  if (labels.length < 2) verdict = 'class imbalance needs labeled images of at least two classes';
  else if (families.length === 0) verdict = 'the evaluation records carry no RPR or LPR values';
  else if (under.length === 0) verdict = 'no class is under-represented by the model';
  else verdict = `the model under-represents class${under.length > 1 ? 'es' : ''} ${under.join(', ')}`;
  return { classes, families, underRepresented: under, verdict, rule, significance, effectThreshold, minClassSize };
}
