import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { escapeHtml, renderReportHtml } from './report-html.js';
import type { DiagnosticsReport } from './report.js';
import { FIXTURE_IMAGE_IDS, HOSTILE_NAME, HOSTILE_URI, fixtureReport } from './test-report-fixture.js';
import { writeReport } from './write-report.js';

describe('diagnostics report', () => {
  let report: DiagnosticsReport;
  beforeAll(async () => {
    report = await fixtureReport();
  });

  it('lists every weight layer with descending singular values, MP fit, α and verdict', () => {
    expect(report.layers.map((l) => [l.name, l.className, l.kernelShape])).toEqual([
      ['conv1', 'Conv2D', [3, 3, 1, 16]],
      [HOSTILE_NAME, 'Conv2D', [3, 3, 16, 24]],
      ['dw', 'DepthwiseConv2D', [3, 3, 24, 1]],
      ['fc', 'Dense', [64, 12]],
    ]);
    for (const l of report.layers) {
      expect(l.singularValues.every((s, i) => i === 0 || s <= l.singularValues[i - 1]!)).toBe(true);
      expect(l.mp.lambdaPlus).toBeGreaterThan(0);
      expect(typeof l.verdict).toBe('string');
    }
    // conv1 has 9 eigenvalues (min(16, 9)): too few for a power-law fit.
    expect(report.layers[0]!.alpha).toBeNull();
    expect(report.layers[0]!.verdict).toBe('unknown');
    expect(report.layers[1]!.alpha).not.toBeNull();
    expect(report.layers[0]!.operator!.singularValues).toHaveLength(5);
    expect(report.layers[3]!.operator).toBeUndefined();
    expect(report.model.layers).toBe(4);
    expect(report.classImbalance!.underRepresented).toEqual(['1']);
    expect(report.gain!.trend.kind).toBe('rising-then-saturating');
    for (const l of report.layers) expect(l.mp.eigenvaluesAboveLambdaPlus).toBeGreaterThanOrEqual(l.mp.spikes);
  });

  it('has an SVD-neurons entry per weight layer: directions with σ and the top images by uri and id', () => {
    const sn = report.svdNeurons!;
    expect(sn.images).toBe(FIXTURE_IMAGE_IDS.length);
    expect(sn.layers.map((l) => [l.name, l.preActivationShape])).toEqual([
      ['conv1', [8, 8, 16]],
      [HOSTILE_NAME, [8, 8, 24]],
      ['dw', [8, 8, 24]],
      ['fc', [12]],
    ]);
    sn.layers.forEach((l, i) => {
      expect(l.directions.map((d) => d.singularValue)).toEqual(report.layers[i]!.singularValues.slice(0, 2));
      for (const d of l.directions) {
        expect(d.top).toHaveLength(3);
        expect(d.top.every((t, r) => r === 0 || t.activation <= d.top[r - 1]!.activation)).toBe(true);
        expect(d.top.every((t) => FIXTURE_IMAGE_IDS.includes(t.id) && t.uri.startsWith('/pool/'))).toBe(true);
      }
    });
  });

  it('round-trips through JSON with the documented layer fields', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rpr-diag-'));
    try {
      const paths = await writeReport(report, join(dir, 'out'));
      const parsed = JSON.parse(await readFile(paths.json, 'utf8')) as DiagnosticsReport;
      for (const key of ['name', 'className', 'kernelShape', 'singularValues', 'mp', 'alpha', 'verdict']) {
        expect(Object.keys(parsed.layers[1]!)).toContain(key);
      }
      expect(parsed.layers[1]!.singularValues).toEqual(report.layers[1]!.singularValues);
      expect(Object.keys(parsed)).toEqual(expect.arrayContaining(['model', 'classImbalance', 'gain', 'layers', 'svdNeurons']));
      expect(Object.keys(parsed.layers[1]!.mp)).toEqual(expect.arrayContaining(['spikes', 'eigenvaluesAboveLambdaPlus', 'lambdaPlus', 'spikeThreshold']));
      expect((await readFile(paths.html, 'utf8')).startsWith('<!doctype html>')).toBe(true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('renders one inline SVG per plot, escapes model text and references nothing external', async () => {
    const html = await renderReportHtml(report);
    const figures = html.match(/<figure class="plot"[\s\S]*?<\/figure>/g) ?? [];
    // α + 4 ESDs + 2 class families + gain + gain trend + 4 SVD-neuron layers.
    expect(figures).toHaveLength(13);
    for (const f of figures) expect(/<svg[\s\S]*class="mark-[a-z]+ role-mark/.test(f)).toBe(true);
    // Matches are compared, not the whole page, to keep failure messages short.
    expect(html.match(/<script/gi)).toBeNull();
    expect(html.includes(escapeHtml(HOSTILE_NAME))).toBe(true);
    const urls = (html.match(/(?:https?:)?\/\/[^\s"'<>)]+/g) ?? []).filter((u) => !u.startsWith('http://www.w3.org/'));
    expect(urls).toEqual([]);
    // Only in-document references (clip paths: url(#id)).
    expect(html.match(/<link|<img|@import|url\((?!#)/gi)).toBeNull();
    expect(html.includes('the model under-represents class 1')).toBe(true);
    expect(html.includes('<th>eigenvalues above λ+</th>')).toBe(true);
    expect(html.includes(escapeHtml(HOSTILE_URI.split('/').pop()!))).toBe(true);
  });

  it('shows thumbnails given as data: image URIs and nothing else', async () => {
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    const thumbnails = new Map(FIXTURE_IMAGE_IDS.map((id, i) => [id, i % 2 === 0 ? png : `https://example.com/${id}.png`]));
    const html = await renderReportHtml(report, { thumbnails });
    const sources = [...html.matchAll(/<img src="([^"]*)"/g)].map((m) => m[1]);
    const listed = report.svdNeurons!.layers.flatMap((l) => l.directions.flatMap((d) => d.top.map((t) => t.id)));
    expect(sources).toHaveLength(listed.filter((id) => FIXTURE_IMAGE_IDS.indexOf(id) % 2 === 0).length);
    expect(sources.every((src) => src === png)).toBe(true);
    expect(html.includes('example.com')).toBe(false);
  });

  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  });
});
