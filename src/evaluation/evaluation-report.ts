/** The committed evidence: results.json, the SVG plots and README.md under docs/evaluation/. */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderSvg } from '../diagnostics/svg-render.js';
import { heldOutClassSpec, learningCurveSpec, rprDiceSpec } from './learning-curve-chart.js';
import type { SegmentationStudyResult } from './segmentation-study.js';
import type { CurveResult, CurveSpec } from './simulate-curve.js';
import { summarizeScenario, winner, type ScenarioSummary, type VariantSummary } from './summarize.js';

/** One `npm run evaluate` process that added runs to a results file. */
export interface EvaluationSession {
  /** The commit its code came from (sourceRevision). */
  readonly commit: string;
  readonly started: string;
  /** Runs it added. */
  readonly jobs: number;
  readonly wallSeconds: number;
}

/** A kept run run again by a later session: whether the code still produces it. */
export interface ReproductionCheck {
  /** scenario/variant/seed */
  readonly job: string;
  readonly identical: boolean;
  /** The largest |accuracy difference| over its rounds. */
  readonly maxAccuracyDiff: number;
}

export interface EvaluationMeta {
  readonly command: string;
  /** The commit of the latest session's code. */
  readonly commit: string;
  readonly machine: string;
  readonly date: string;
  readonly node: string;
  /** Plain-language description of the setup (pool, candidates, recipe, …), one line each. */
  readonly setup: readonly string[];
  readonly status: 'complete' | 'partial';
  readonly jobsDone: number;
  readonly jobsTotal: number;
  /** Summed over sessions. */
  readonly wallSeconds: number;
  /** Absent in files written before sessions were recorded. */
  readonly sessions?: readonly EvaluationSession[];
  readonly reproduction?: ReproductionCheck | null;
}

/** A run's identity: one per (scenario, policy variant, seed). */
export const curveKey = (spec: CurveSpec): string => `${spec.scenario.name}/${spec.variant.id}/${spec.seed}`;

export interface EvaluationResults {
  readonly meta: EvaluationMeta;
  readonly standard: ScenarioSummary | null;
  readonly missingClass: ScenarioSummary | null;
  /** The study, with its per-image points (older results files lack them). */
  readonly segmentation: (Omit<SegmentationStudyResult, 'points'> & { readonly points?: SegmentationStudyResult['points'] }) | null;
  readonly curves: readonly CurveResult[];
}

const pct = (v: number) => (100 * v).toFixed(1);
const pm = (m: { mean: number; sd: number }, f: (v: number) => string = pct) => `${f(m.mean)} ± ${f(m.sd)}`;

function verdict(summary: ScenarioSummary): string {
  const best = winner(summary);
  const random = summary.variants.find((v) => v.variant === 'random');
  const lowest = summary.variants.filter((v) => v.variant.startsWith('lowest-rpr'));
  const lines = [
    `**Winner: \`${best.variant}\`**, mean normalized AULC ${pm(best.aulc)} % over ${best.seeds.length} seeds` +
      (best.vsRandom ? `, ${pct(best.vsRandom.diff.mean)} points above random (better on ${best.vsRandom.better} of ${best.vsRandom.paired} seeds).` : '.'),
  ];
  if (random) {
    for (const v of lowest) {
      const d = v.vsRandom;
      if (!d) continue;
      const word = d.diff.mean > 0 ? 'above' : 'below';
      lines.push(
        `\`${v.variant}\` is ${pct(Math.abs(d.diff.mean))} ± ${pct(d.diff.sd)} AULC points ${word} random (better on ${d.better} of ${d.paired} seeds).`,
      );
    }
  }
  return lines.join(' ');
}

function aulcTable(summary: ScenarioSummary): string[] {
  const targets = summary.targets.map((t) => t.toFixed(3));
  const head = `| policy | AULC % (mean ± sd) | vs random, AULC points (seeds better) | final accuracy % | ${targets.map((t) => `labels to ${pct(Number(t))} %`).join(' | ')} | select s/run | train s/run | scored/run |`;
  const sep = `|${'---|'.repeat(7 + targets.length)}`;
  const rows = [...summary.variants]
    .sort((a, b) => b.aulc.mean - a.aulc.mean)
    .map((v: VariantSummary) => {
      const last = v.points[v.points.length - 1]!;
      const vs = v.vsRandom ? `${v.vsRandom.diff.mean >= 0 ? '+' : ''}${pct(v.vsRandom.diff.mean)} ± ${pct(v.vsRandom.diff.sd)} (${v.vsRandom.better}/${v.vsRandom.paired})` : '—';
      const reach = targets.map((t) => String(v.labelsToTarget[t] ?? `> ${last.labeled}`));
      return `| ${v.variant} | ${pm(v.aulc)} | ${vs} | ${pm(last.accuracy)} | ${reach.join(' | ')} | ${v.selectSeconds.toFixed(0)} | ${v.trainSeconds.toFixed(0)} | ${v.scored.toFixed(0)} |`;
    });
  return [head, sep, ...rows];
}

function heldOutTable(summary: ScenarioSummary): string[] {
  const labels = summary.variants[0]!.points.map((p) => p.labeled);
  return [
    `| policy | ${labels.map((l) => `${l} labels`).join(' | ')} |`,
    `|---|${'---|'.repeat(labels.length)}`,
    ...summary.variants.map((v) => `| ${v.variant} | ${v.points.map((p) => (p.heldOutLabeled ? p.heldOutLabeled.mean.toFixed(1) : '—')).join(' | ')} |`),
  ];
}

function commitLines(meta: EvaluationMeta): string[] {
  const sessions = meta.sessions ?? [];
  if (sessions.length <= 1) return [`Commit: ${meta.commit}  `];
  const lines = sessions.map((s) => `${s.jobs} runs from commit ${s.commit} (started ${s.started}, ${(s.wallSeconds / 60).toFixed(0)} min)`);
  const check = meta.reproduction;
  const reproduced = check
    ? `; the later code re-ran \`${check.job}\`: ${check.identical ? 'identical accuracy in every round' : `accuracy differs by up to ${(100 * check.maxAccuracyDiff).toFixed(2)} points`}`
    : '';
  return [`Sessions: ${lines.join('; ')}${reproduced}  `];
}

export function readmeText(results: EvaluationResults): string {
  const { meta, standard, missingClass, segmentation } = results;
  const out: string[] = [
    '# Evaluation: simulated active learning on real MNIST digits',
    '',
    `Command: \`${meta.command}\`  `,
    ...commitLines(meta),
    `Machine: ${meta.machine}, Node ${meta.node}  `,
    `Date: ${meta.date}; wall time ${(meta.wallSeconds / 60).toFixed(1)} min; status: **${meta.status}** (${meta.jobsDone} of ${meta.jobsTotal} runs)`,
    '',
    '## Setup',
    '',
    ...meta.setup.map((line) => `- ${line}`),
    '',
  ];
  if (standard) {
    out.push(
      '## Which policy won',
      '',
      verdict(standard),
      '',
      '![learning curves](learning-curves.svg)',
      '',
      '## Area under the learning curve, labels to a target, wall time',
      '',
      'AULC is the trapezoid area under test accuracy vs labels divided by the label range (the average accuracy over the run). ' +
        '"vs random" pairs each seed with random on the same seed (same initial set and test set). Labels to a target are read off the mean curve. ' +
        'Wall time is per run (one policy, one seed, all rounds), on a shared 2-core machine.',
      '',
      ...aulcTable(standard),
      '',
    );
  }
  if (missingClass) {
    out.push(
      `## A class the model has never seen: no ${missingClass.heldOutClass}s in the initial 100`,
      '',
      `Mean number of labeled ${missingClass.heldOutClass}s after each round (seeds: ${[...new Set(missingClass.variants.flatMap((v) => v.seeds))].join(', ')}).`,
      '',
      ...heldOutTable(missingClass),
      '',
      '![held-out class](missing-class.svg)',
      '',
      ...aulcTable(missingClass),
      '',
    );
  }
  if (segmentation) {
    const c = segmentation.correlation;
    out.push(
      '## Segmentation: does per-image RPR track Dice?',
      '',
      `A digit pasted over fragments of other digits and noise; mask = the digit's pixels > 0.5; an encoder–decoder ` +
        `(conv 8 → max-pool → conv 16 → upsample → conv 8 → 1×1 conv, ${segmentation.outputs} output logits) trained on ` +
        `${segmentation.trainImages} images for ${segmentation.epochs} epochs. Per-image RPR_${segmentation.k} by randomized SVD ` +
        `(m = ${segmentation.outputs} outputs); Dice of the thresholded output against the mask; mean Dice ${segmentation.meanDice.toFixed(3)}.`,
      '',
      `**Spearman ρ(RPR_${segmentation.k}, Dice) = ${c.rho.toFixed(3)}, n = ${c.n}, two-sided p = ${c.p.toPrecision(3)}.**`,
      '',
      '![RPR vs Dice](rpr-vs-dice.svg)',
      '',
    );
  }
  return out.join('\n') + '\n';
}

/** Writes results.json, README.md and the plots into `dir`. */
export async function writeEvaluation(dir: string, results: EvaluationResults): Promise<void> {
  await writeFile(join(dir, 'results.json'), JSON.stringify(results, null, 1) + '\n');
  if (results.standard) await writeFile(join(dir, 'learning-curves.svg'), await renderSvg(learningCurveSpec(results.standard, 'Simulated active learning on MNIST')));
  if (results.missingClass) await writeFile(join(dir, 'missing-class.svg'), await renderSvg(heldOutClassSpec(results.missingClass)));
  const seg = results.segmentation;
  if (seg?.points) await writeFile(join(dir, 'rpr-vs-dice.svg'), await renderSvg(rprDiceSpec({ ...seg, points: seg.points })));
  await writeFile(join(dir, 'README.md'), readmeText(results));
}

/**
 * Rewrites README.md and the plots from an existing results.json, the summaries recomputed from its raw
 * curves by the current code (e.g. after the report's layout changed); the measurements are untouched.
 * Curves from the results.json files of `mergeFrom` (runs of the same setup split over several processes)
 * are added, one per (scenario, variant, seed).
 */
export async function rerenderEvaluation(dir: string, mergeFrom: readonly string[] = []): Promise<EvaluationResults> {
  const read = async (from: string) => JSON.parse(await readFile(join(from, 'results.json'), 'utf8')) as EvaluationResults;
  const saved = await read(dir);
  const key = (c: CurveResult) => curveKey(c.spec);
  const curves = new Map(saved.curves.map((c) => [key(c), c]));
  let mergedSeconds = 0;
  for (const other of mergeFrom) {
    const extra = await read(other);
    mergedSeconds = Math.max(mergedSeconds, extra.meta.wallSeconds);
    for (const c of extra.curves) if (!curves.has(key(c))) curves.set(key(c), c);
  }
  const all = [...curves.values()];
  const targets = saved.standard?.targets ?? saved.missingClass?.targets ?? [0.85, 0.9];
  const of = (name: string) => all.filter((c) => c.spec.scenario.name === name);
  const added = all.length - saved.curves.length;
  const results: EvaluationResults = {
    ...saved,
    meta: {
      ...saved.meta,
      jobsDone: saved.meta.jobsDone + added,
      status: saved.meta.jobsDone + added >= saved.meta.jobsTotal ? 'complete' : 'partial',
      ...(mergeFrom.length > 0
        ? {
            setup: [
              ...saved.meta.setup,
              `${added} of these runs came from ${mergeFrom.length} more process(es) of the same setup run at the same time (longest ${(mergedSeconds / 60).toFixed(0)} min), merged by (scenario, policy, seed).`,
            ],
          }
        : {}),
    },
    curves: all,
    standard: summarizeScenario(of('standard'), targets),
    missingClass: summarizeScenario(of('missing-class'), targets),
  };
  await writeEvaluation(dir, results);
  return results;
}
