/**
 * report.html: one self-contained page that opens offline. Every plot is an inline SVG rendered in
 * Node (svg-render.ts); there are no scripts, external stylesheets or fonts, and the only images are
 * data: URIs (the SVD-neuron thumbnails). Every piece of text that comes from the model or the data
 * (layer names, labels, uris, verdicts) is HTML-escaped.
 */
import type { TopLevelSpec } from 'vega-lite';
import { alphaChartSpec, classChartSpec, esdChartSpec, gainChartSpec, gainTrendChartSpec, svdNeuronChartSpec } from './report-charts.js';
import type { DiagnosticsReport } from './report.js';
import { renderSvg } from './svg-render.js';

/** What the page shows beyond report.json's numbers. */
export interface ReportAssets {
  /**
   * Sample id → a data:image/… URI of the image, shown in the SVD-neurons section. Anything that is not
   * a data: image URI is ignored, so the page can never fetch from elsewhere.
   */
  readonly thumbnails?: ReadonlyMap<string, string>;
}

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

const STYLE = `
body { font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
figure.plot { display: inline-block; margin: 0.5em 1em 1em 0; vertical-align: top; }
figcaption { font-size: 0.85em; color: #444; max-width: 420px; }
table { border-collapse: collapse; font-size: 0.85em; }
td, th { border: 1px solid #ddd; padding: 0.25em 0.5em; text-align: left; vertical-align: top; }
.flag { color: #b00; font-weight: bold; }
.svd-layer { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 0 1.5em; }
.exemplar { display: inline-block; margin: 0 4px 4px 0; text-align: center; font-size: 0.75em; color: #444; }
.exemplar img { display: block; width: 42px; height: 42px; object-fit: contain; image-rendering: pixelated; border: 1px solid #ccc; background: #000; }
.exemplar .missing { display: block; width: 42px; height: 42px; overflow: hidden; border: 1px dashed #ccc; font-size: 0.8em; word-break: break-all; }
`;

async function figure(kind: string, spec: TopLevelSpec, caption: string): Promise<string> {
  const svg = await renderSvg(spec);
  return `<figure class="plot" data-plot="${escapeHtml(kind)}">${svg}<figcaption>${escapeHtml(caption)}</figcaption></figure>`;
}

function fmt(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '—' : value.toPrecision(digits);
}

function list(items: readonly string[]): string {
  return `<ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`;
}

async function layerSection(report: DiagnosticsReport): Promise<string> {
  const parts: string[] = ['<section id="layers"><h2>Layer spectra</h2>'];
  if (report.layers.length === 0) {
    parts.push('<p>The model has no convolution or dense layers.</p></section>');
    return parts.join('');
  }
  const alpha = alphaChartSpec(report.layers);
  if (alpha) parts.push(await figure('alpha', alpha, 'Dashed lines: α = 2 and α = 6, the verdict boundaries.'));
  const rows = report.layers.map(
    (l) =>
      `<tr><td>${escapeHtml(l.name)}</td><td>${escapeHtml(l.className)}</td><td>${escapeHtml(l.kernelShape.join('×'))}</td>` +
      `<td>${fmt(l.singularValues[0])}</td><td>${fmt(l.alpha)}</td><td>${l.mp.eigenvaluesAboveLambdaPlus}</td><td>${l.mp.spikes}</td>` +
      `<td class="${l.verdict === 'well-trained' ? '' : 'flag'}">${escapeHtml(l.verdictText)}</td></tr>`,
  );
  parts.push(
    '<table><thead><tr><th>layer</th><th>class</th><th>kernel</th><th>σ_max</th><th>α</th><th>eigenvalues above λ+</th><th>spikes (above λ+ and the Tracy–Widom margin)</th><th>verdict</th></tr></thead>',
    `<tbody>${rows.join('')}</tbody></table>`,
    '<h3>Empirical spectral densities</h3>',
  );
  for (const l of report.layers) {
    parts.push(
      await figure(
        'esd',
        esdChartSpec(l),
        `${l.name}: ${l.esd.m}×${l.esd.n} (Q = ${fmt(l.esd.q)}), λ+ = ${fmt(l.mp.lambdaPlus)}; ${l.verdictText}`,
      ),
    );
  }
  parts.push('</section>');
  return parts.join('');
}

async function classSection(report: DiagnosticsReport): Promise<string> {
  const ci = report.classImbalance;
  if (!ci) return '';
  const parts = [
    '<section id="classes"><h2>Class imbalance</h2>',
    `<p><strong>${escapeHtml(ci.verdict)}</strong></p>`,
    `<p>Rule: ${escapeHtml(ci.rule)}.</p>`,
  ];
  const flagged = ci.classes.filter((c) => c.underRepresented);
  if (flagged.length > 0) parts.push(list(flagged.flatMap((c) => c.reasons.map((r) => `class ${c.label}: ${r}`))));
  const measured = ci.classes.filter((c) => c.strength);
  if (measured.length > 0) {
    const rows = measured.map(
      (c) =>
        `<tr><td>${escapeHtml(c.label)}</td><td>${c.n}</td><td>${fmt(c.strength!.median)}</td>` +
        `<td class="${c.underRepresented ? 'flag' : ''}">${fmt(c.strength!.ratio, 2)}</td></tr>`,
    );
    parts.push(
      '<table><thead><tr><th>class</th><th>its images</th><th>label strength</th><th>relative to the median class</th></tr></thead>',
      `<tbody>${rows.join('')}</tbody></table>`,
    );
  }
  if (ci.baseline) {
    const rows = ci.baseline.classes.map(
      (c) =>
        `<tr><td>${escapeHtml(c.label)}</td><td>${c.n}</td><td>${fmt(c.lprArea.median)}</td>` +
        `<td class="${c.flagged ? 'flag' : ''}">${fmt(c.z, 2)}</td></tr>`,
    );
    parts.push(
      '<h3>Against the baseline model</h3>',
      `<p><strong>${escapeHtml(ci.baseline.verdict)}</strong></p>`,
      `<p>Rule: ${escapeHtml(ci.baseline.rule)}.</p>`,
      '<table><thead><tr><th>class</th><th>images</th><th>median change of the LPR curve</th><th>robust z</th></tr></thead>',
      `<tbody>${rows.join('')}</tbody></table>`,
    );
  }
  for (const { metric, k } of ci.families) {
    const spec = classChartSpec(ci, metric, k);
    if (spec) parts.push(await figure('class', spec, `${metric.toUpperCase()}_${k} of each class's images.`));
  }
  parts.push('</section>');
  return parts.join('');
}

async function gainSection(report: DiagnosticsReport): Promise<string> {
  const gain = report.gain;
  if (!gain || gain.curves.length === 0) return '';
  const parts = [
    '<section id="gain"><h2>Spectral gain</h2>',
    `<p><strong>${escapeHtml(gain.trend.text)}</strong></p>`,
    '<p>Gain: ‖f(x + εs) − f(x)‖ / ‖εs‖ for unit-RMS sinusoids s, averaged over orientations, phases and probe images (inspired by Stamatescu &amp; McDonnell, arXiv:1810.03241; our definition).</p>',
    await figure('gain', gainChartSpec(gain), 'One line per checkpoint.'),
  ];
  if (gain.curves.length > 1) parts.push(await figure('gain-trend', gainTrendChartSpec(gain), `Trend: ${gain.trend.kind}.`));
  parts.push('</section>');
  return parts.join('');
}

function exemplar(id: string, uri: string, activation: number, thumbnails: ReadonlyMap<string, string>): string {
  const src = thumbnails.get(id);
  const label = escapeHtml(`${uri} (${id.slice(0, 12)})`);
  const picture =
    src !== undefined && /^data:image\/[a-z+.-]+;base64,[A-Za-z0-9+/=]+$/.test(src)
      ? `<img src="${src}" alt="${label}" title="${label}">`
      : `<span class="missing" title="${label}">${escapeHtml(uri.split(/[/\\]/).pop() ?? uri)}</span>`;
  return `<span class="exemplar">${picture}${fmt(activation)}</span>`;
}

async function svdNeuronSection(report: DiagnosticsReport, assets: ReportAssets): Promise<string> {
  const sn = report.svdNeurons;
  if (!sn) return '';
  const thumbnails = assets.thumbnails ?? new Map<string, string>();
  const parts = [
    '<section id="svd-neurons"><h2>SVD neurons</h2>',
    `<p>Each weight layer's output before its bias and activation, y<sub>p</sub> at every position p, projected on the left singular vectors u<sub>i</sub> of the layer's unfolded kernel (Praggastis et al. 2022, DeepDataProfiler). An image excites direction i by the mean over positions of |u<sub>i</sub><sup>T</sup>y<sub>p</sub>|; below, the ${sn.layers[0]?.directions[0]?.top.length ?? 0} of ${sn.images} pool images that excite each direction most, with their excitation.</p>`,
  ];
  for (const layer of sn.layers) {
    parts.push(`<h3>${escapeHtml(layer.name)} (${escapeHtml(layer.className)})</h3><div class="svd-layer">`);
    parts.push(
      await figure(
        'svd-neurons',
        svdNeuronChartSpec(layer),
        'Excitation over the pool per direction: box = quartiles, line = min–max, tick = median; red points = the images listed.',
      ),
    );
    const rows = layer.directions.map(
      (d) =>
        `<tr><td>${d.direction}</td><td>${fmt(d.singularValue)}</td><td>${fmt(d.summary.median)}</td>` +
        `<td>${d.top.map((t) => exemplar(t.id, t.uri, t.activation, thumbnails)).join('')}</td></tr>`,
    );
    parts.push(
      '<table class="exemplars"><thead><tr><th>direction</th><th>σ</th><th>pool median</th><th>images that excite it most</th></tr></thead>',
      `<tbody>${rows.join('')}</tbody></table></div>`,
    );
  }
  parts.push('</section>');
  return parts.join('');
}

/** The whole report page. */
export async function renderReportHtml(report: DiagnosticsReport, assets: ReportAssets = {}): Promise<string> {
  const summary: string[] = [report.model.text];
  if (report.model.layersWithSpikes > 0) {
    summary.push(
      `${report.model.layersWithSpikes} of ${report.model.layers} layers have spikes: eigenvalues beyond the Marchenko–Pastur edge λ+ by more than the Tracy–Widom margin of a random matrix (learned structure)`,
    );
  }
  if (report.classImbalance) summary.push(`class imbalance: ${report.classImbalance.verdict}`);
  if (report.classImbalance?.baseline) summary.push(`class imbalance against the baseline: ${report.classImbalance.baseline.verdict}`);
  if (report.gain) summary.push(`gain over checkpoints: ${report.gain.trend.text}`);
  summary.push(...report.notes);
  return [
    '<!doctype html><html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>rpr-select diagnostics</title><style>${STYLE}</style></head><body>`,
    '<h1>Model diagnostics</h1>',
    `<p>Model digest <code>${escapeHtml(report.modelDigest)}</code>; report format ${report.formatVersion}.</p>`,
    `<section id="summary"><h2>Summary</h2>${list(summary)}</section>`,
    await layerSection(report),
    await classSection(report),
    await gainSection(report),
    await svdNeuronSection(report, assets),
    '</body></html>\n',
  ].join('\n');
}
