/**
 * Vega-Lite specs for the report's plots, all data inline: the ESD of a layer with its
 * Marchenko–Pastur fit, α per layer, RPR/LPR per class, gain curves, the gain trend, and the
 * excitation of a layer's SVD neurons over the pool.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { ClassImbalanceReport, ImbalanceMetric } from './class-imbalance.js';
import { esdFromSingularValues, esdHistogram } from './esd.js';
import type { GainOverCheckpoints } from './gain.js';
import { mpCurve } from './marchenko-pastur.js';
import type { LayerReport } from './report.js';
import type { SvdNeuronsLayer } from './svd-neurons-report.js';

const BAR = '#4c78a8';
const FIT = '#f58518';
const FLAG = '#d62728';
const VERDICT_COLORS = { domain: ['over-trained', 'well-trained', 'under-trained'], range: [FLAG, '#54a24b', FIT] };

function maxOf(values: readonly number[]): number {
  return values.reduce((a, b) => Math.max(a, b), 0);
}

/** Histogram of a layer's ESD with the fitted MP density and its edge λ+. */
export function esdChartSpec(layer: LayerReport): TopLevelSpec {
  const [rows, cols] = layer.matrixShape;
  const eigenvalues = esdFromSingularValues(layer.singularValues, rows, cols).eigenvalues;
  const bins = esdHistogram(eigenvalues, Math.min(60, Math.max(8, Math.round(2 * Math.sqrt(eigenvalues.length)))));
  const curve = mpCurve(layer.mp, 200);
  // The MP density has integrable poles at Q = 1; scale the y axis to the histogram and the curve's interior.
  const interior = curve.slice(5, -5).map((p) => p.density);
  const yMax = 1.15 * Math.max(maxOf(bins.map((b) => b.density)), maxOf(interior), 1e-12);
  const y = { type: 'quantitative' as const, title: 'density', scale: { domain: [0, yMax] } };
  return {
    width: 360,
    height: 180,
    title: {
      text: `${layer.name} (${layer.className})`,
      subtitle: `MP s² = ${layer.mp.sigma2.toPrecision(3)}; ${layer.mp.eigenvaluesAboveLambdaPlus} above λ+, ${layer.mp.spikes} spike(s)`,
    },
    layer: [
      {
        data: { values: bins },
        mark: { type: 'rect', color: BAR, opacity: 0.8 },
        encoding: {
          x: { field: 'x0', type: 'quantitative', title: 'eigenvalue λ = σ²/N' },
          x2: { field: 'x1' },
          y: { field: 'density', ...y },
        },
      },
      {
        data: { values: curve },
        mark: { type: 'line', color: FIT, clip: true, strokeWidth: 2 },
        encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'density', ...y } },
      },
      {
        data: { values: [{ x: layer.mp.lambdaPlus }] },
        mark: { type: 'rule', color: FIT, strokeDash: [4, 3] },
        encoding: { x: { field: 'x', type: 'quantitative' } },
      },
    ],
  };
}

/** α per layer, coloured by verdict, with the 2 and 6 verdict boundaries; null when no layer has an α. */
export function alphaChartSpec(layers: readonly LayerReport[]): TopLevelSpec | null {
  const values = layers.filter((l) => l.alpha !== null).map((l) => ({ layer: l.name, alpha: l.alpha, verdict: l.verdict }));
  if (values.length === 0) return null;
  return {
    width: Math.max(200, 28 * values.length),
    height: 200,
    title: 'Power-law exponent α of each layer’s ESD',
    layer: [
      {
        data: { values },
        mark: 'bar',
        encoding: {
          x: { field: 'layer', type: 'nominal', sort: null, axis: { labelAngle: -40, labelLimit: 120 } },
          y: { field: 'alpha', type: 'quantitative', title: 'α' },
          color: { field: 'verdict', type: 'nominal', scale: VERDICT_COLORS },
        },
      },
      {
        data: { values: [{ y: 2 }, { y: 6 }] },
        mark: { type: 'rule', strokeDash: [4, 3], color: '#666' },
        encoding: { y: { field: 'y', type: 'quantitative' } },
      },
    ],
  };
}

/** One metric/k: quartile box, min–max whisker and median tick per class; classes the verdict names in red. */
export function classChartSpec(report: ClassImbalanceReport, metric: ImbalanceMetric, k: string): TopLevelSpec | null {
  const values = report.classes.flatMap((c) => {
    const r = c.results.find((x) => x.metric === metric && x.k === k);
    if (!r?.summary) return [];
    const { min, q1, median, q3, max } = r.summary;
    return [{ label: c.label, min, q1, median, q3, max, status: c.underRepresented ? 'under-represented' : 'not flagged' }];
  });
  if (values.length === 0) return null;
  const x = { field: 'label', type: 'nominal' as const, sort: null, title: 'class' };
  return {
    width: Math.max(160, 36 * values.length),
    height: 180,
    title: { text: `${metric.toUpperCase()}_${k} per class`, subtitle: 'box: quartiles, line: min–max, tick: median' },
    data: { values },
    layer: [
      { mark: { type: 'rule', color: '#666' }, encoding: { x, y: { field: 'min', type: 'quantitative', title: `${metric.toUpperCase()}_${k}` }, y2: { field: 'max' } } },
      {
        mark: { type: 'bar', size: 18 },
        encoding: {
          x,
          y: { field: 'q1', type: 'quantitative' },
          y2: { field: 'q3' },
          color: {
            field: 'status',
            type: 'nominal',
            scale: { domain: ['under-represented', 'not flagged'], range: [FLAG, BAR] },
            legend: { orient: 'top', title: null },
          },
        },
      },
      { mark: { type: 'tick', color: 'black', thickness: 2, size: 18 }, encoding: { x, y: { field: 'median', type: 'quantitative' } } },
    ],
  };
}

/**
 * Per singular direction of one layer: the pool's excitation as quartile box, min–max line and median
 * tick, and the listed top images as red points, so a reader sees whether they stand out.
 */
export function svdNeuronChartSpec(layer: SvdNeuronsLayer): TopLevelSpec {
  const boxes = layer.directions.map((d) => ({ direction: d.direction, ...d.summary }));
  const tops = layer.directions.flatMap((d) => d.top.map((t) => ({ direction: d.direction, activation: t.activation, uri: t.uri })));
  const x = { field: 'direction', type: 'ordinal' as const, sort: null, title: 'direction (0 = largest σ)', axis: { labelAngle: 0 } };
  const y = { type: 'quantitative' as const, title: 'excitation (mean |uᵀy|)' };
  return {
    width: Math.max(160, 36 * boxes.length),
    height: 180,
    layer: [
      { data: { values: boxes }, mark: { type: 'rule', color: '#666' }, encoding: { x, y: { field: 'min', ...y }, y2: { field: 'max' } } },
      { data: { values: boxes }, mark: { type: 'bar', size: 18, color: BAR, opacity: 0.7 }, encoding: { x, y: { field: 'q1', ...y }, y2: { field: 'q3' } } },
      { data: { values: boxes }, mark: { type: 'tick', color: 'black', thickness: 2, size: 18 }, encoding: { x, y: { field: 'median', ...y } } },
      { data: { values: tops }, mark: { type: 'point', color: FLAG, filled: true, size: 30 }, encoding: { x, y: { field: 'activation', ...y } } },
    ],
  };
}

/** Gain per radius, one line per checkpoint. */
export function gainChartSpec(gain: GainOverCheckpoints): TopLevelSpec {
  const values = gain.curves.flatMap((c) => c.curve.radii.map((radius, i) => ({ checkpoint: c.name, radius, gain: c.curve.gain[i] })));
  return {
    width: 360,
    height: 200,
    title: 'Gain per spatial frequency',
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'radius', type: 'quantitative', title: 'radius (cycles per image)' },
      y: { field: 'gain', type: 'quantitative', title: '‖f(x+εs) − f(x)‖ / ‖εs‖' },
      color: { field: 'checkpoint', type: 'nominal', sort: null },
    },
  };
}

/** Mean gain per checkpoint, in the order given. */
export function gainTrendChartSpec(gain: GainOverCheckpoints): TopLevelSpec {
  return {
    width: Math.max(200, 40 * gain.curves.length),
    height: 160,
    title: { text: 'Mean gain over checkpoints', subtitle: `trend: ${gain.trend.kind}` },
    data: { values: gain.curves.map((c) => ({ checkpoint: c.name, meanGain: c.curve.meanGain })) },
    mark: { type: 'line', point: true, color: BAR },
    encoding: {
      x: { field: 'checkpoint', type: 'ordinal', sort: null },
      y: { field: 'meanGain', type: 'quantitative', title: 'mean gain' },
    },
  };
}
