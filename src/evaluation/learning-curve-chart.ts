/**
 * Vega-Lite specs of the evaluation's plots: test accuracy against labels (mean line, ± sd band), one panel
 * without and one with diversity (random in both); the held-out class found per round; RPR against Dice.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { SegmentationStudyResult } from './segmentation-study.js';
import type { ScenarioSummary } from './summarize.js';

function base(variant: string): string {
  return variant.replace(/\+div$/, '');
}

export function learningCurveSpec(summary: ScenarioSummary, title: string): TopLevelSpec {
  const values = summary.variants.flatMap((v) => {
    const panels = v.variant === 'random' ? ['diversity off', 'diversity on'] : [v.variant.endsWith('+div') ? 'diversity on' : 'diversity off'];
    return panels.flatMap((panel) =>
      v.points.map((p) => ({
        panel,
        policy: base(v.variant),
        labels: p.labeled,
        accuracy: p.accuracy.mean,
        lo: p.accuracy.mean - p.accuracy.sd,
        hi: p.accuracy.mean + p.accuracy.sd,
      })),
    );
  });
  const x = { field: 'labels', type: 'quantitative' as const, title: 'labeled images' };
  const color = { field: 'policy', type: 'nominal' as const, title: 'policy', legend: { labelLimit: 220 } };
  return {
    title: { text: title, subtitle: 'test accuracy, mean ± sd over seeds' },
    data: { values },
    facet: { column: { field: 'panel', type: 'nominal', title: null } },
    spec: {
      width: 340,
      height: 260,
      layer: [
        {
          mark: { type: 'errorband', opacity: 0.15 },
          encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'test accuracy', scale: { zero: false } }, y2: { field: 'hi' }, color },
        },
        {
          mark: { type: 'line', point: true },
          encoding: { x, y: { field: 'accuracy', type: 'quantitative' }, color },
        },
      ],
    },
  };
}

export function heldOutClassSpec(summary: ScenarioSummary): TopLevelSpec {
  const values = summary.variants.flatMap((v) =>
    v.points.map((p) => ({ policy: v.variant, labels: p.labeled, found: p.heldOutLabeled?.mean ?? 0 })),
  );
  return {
    title: { text: `Images of class ${summary.heldOutClass} labeled (none in the initial set)`, subtitle: 'mean over seeds' },
    width: 420,
    height: 260,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'labels', type: 'quantitative', title: 'labeled images' },
      y: { field: 'found', type: 'quantitative', title: `class ${summary.heldOutClass} images labeled` },
      color: { field: 'policy', type: 'nominal', legend: { labelLimit: 220 } },
    },
  };
}

export function rprDiceSpec(study: SegmentationStudyResult): TopLevelSpec {
  const c = study.correlation;
  return {
    title: {
      text: `Segmentation: per-image RPR_${study.k} vs Dice`,
      subtitle: `Spearman ρ = ${c.rho.toFixed(3)}, n = ${c.n}, p = ${c.p.toPrecision(2)}`,
    },
    width: 360,
    height: 260,
    data: { values: study.points.map((p) => ({ ...p })) },
    mark: { type: 'point', opacity: 0.6 },
    encoding: {
      x: { field: 'rpr', type: 'quantitative', title: `RPR_${study.k}`, scale: { zero: false } },
      y: { field: 'dice', type: 'quantitative', title: 'Dice' },
    },
  };
}
