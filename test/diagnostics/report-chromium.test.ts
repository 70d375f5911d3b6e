/** @jest-environment ./test/fixtures/onnx/ort-jest-environment.cjs */
/**
 * Acceptance (issue 6): the report that the real `rpr-select diagnose` writes for the bundled MNIST model
 * — with a small labeled --eval set, two --checkpoints trained here, and a --pool for the SVD neurons —
 * opened in Debian's headless Chromium. Every plot must have drawn marks, every SVD-neuron thumbnail
 * must have decoded, the page must request nothing but itself, and a full-page screenshot is saved
 * beside the report in test-output/report-chromium/ (RPR_TEST_OUTPUT overrides test-output/) for a
 * person to look at. Skips, saying why, without /usr/bin/chromium; under CI (RPR_CI=1) that is a failure.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { CliContext } from '../../src/cli/cli-context.js';
import { runCli } from '../../src/cli/run-cli.js';
import type { DiagnosticsReport } from '../../src/diagnostics/index.js';
import { saveLayersModelToDir } from '../../src/model/tfjs-file-io.js';
import { trainDigitClassifier } from '../../src/model/train-classifier.js';
import { mnistPart, writeDigitPngs } from '../../src/pool/index.js';
import { packageRoot } from '../../src/util/package-root.js';
import { describeWithService } from '../helpers/require-service.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const DIRECTIONS = 3;
const PER_DIRECTION = 5;

interface PlotCheck {
  readonly kind: string;
  /** Data-mark elements inside the SVG's mark groups (role-mark). */
  readonly marks: number;
  /** Of those, how many the browser laid out with a non-empty box. */
  readonly drawn: number;
  readonly width: number;
  readonly height: number;
}

interface ImageCheck {
  readonly complete: boolean;
  readonly naturalWidth: number;
  readonly src: string;
}

// Run in the page; strings because the project's TypeScript has no DOM types.
const CHECK_PLOTS = `[...document.querySelectorAll('figure.plot')].map((figure) => {
  const svg = figure.querySelector('svg');
  const marks = svg ? [...svg.querySelectorAll('g.role-mark path, g.role-mark line, g.role-mark rect')] : [];
  const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
  const drawn = marks.filter((m) => { const b = m.getBBox(); return b.width > 0 || b.height > 0; }).length;
  return { kind: figure.dataset.plot, marks: marks.length, drawn, width: box.width, height: box.height };
})`;
const CHECK_IMAGES = `[...document.querySelectorAll('img')].map((img) => ({ complete: img.complete, naturalWidth: img.naturalWidth, src: img.src.slice(0, 22) }))`;

const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} is absent (install Debian's chromium: apt-get install -y chromium)`;

describeWithService('Chromium', missing)('report.html of the real diagnose in headless Chromium', () => {
  let root: string;
  let outDir: string;
  let report: DiagnosticsReport;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'rpr-report-chromium-'));
    const evalDir = join(root, 'eval');
    const test = mnistPart('test');
    for (let c = 0; c < 10; c++) await writeDigitPngs(join(evalDir, String(c)), test.filter((d) => d.label === c).slice(0, 3));
    const poolDir = join(root, 'pool');
    await writeDigitPngs(poolDir, mnistPart('pool').slice(0, 60));
    const checkpointsDir = join(root, 'checkpoints');
    for (const epochs of [1, 2]) {
      const tiny = await trainDigitClassifier(mnistPart('train').slice(0, 200), {
        epochs,
        seed: 3,
        backend: 'wasm',
        architecture: { convFilters: [2, 4], denseUnits: 8 },
      });
      await saveLayersModelToDir(tiny, join(checkpointsDir, `epoch-${epochs}`));
      tiny.dispose();
    }
    outDir = join(process.env['RPR_TEST_OUTPUT'] ?? join(packageRoot(), 'test-output'), 'report-chromium');
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(outDir, { recursive: true });
    let stdout = '';
    let stderr = '';
    const ctx: CliContext = {
      stdout: { write: (text: string) => (stdout += text) },
      stderr: { write: (text: string) => (stderr += text) },
      env: {},
      cwd: root,
      signal: new AbortController().signal,
      entry: [process.execPath, 'rpr-select'],
    };
    const argv = ['diagnose', '--eval', evalDir, '--checkpoints', checkpointsDir, '--pool', poolDir, '--probes', '4'];
    argv.push('--svd-neurons', String(DIRECTIONS), '--svd-neuron-images', String(PER_DIRECTION), '--out', outDir, '--quiet');
    const code = await runCli(argv, ctx);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe('');
    report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as DiagnosticsReport;
  }, 240_000);

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('has every section in report.json, the SVD neurons included', () => {
    expect(report.layers).toHaveLength(4);
    expect(report.classImbalance!.classes).toHaveLength(10);
    expect(report.gain!.curves.map((c) => c.name)).toEqual(['epoch-1', 'epoch-2']);
    const sn = report.svdNeurons!;
    expect(sn.images).toBe(60);
    expect(sn.layers.map((l) => l.name)).toEqual(report.layers.map((l) => l.name));
    for (const layer of sn.layers) {
      expect(layer.directions).toHaveLength(DIRECTIONS);
      for (const d of layer.directions) {
        expect(d.top).toHaveLength(PER_DIRECTION);
        for (const t of d.top) expect(t.uri.startsWith(join(root, 'pool'))).toBe(true);
      }
    }
    for (const layer of report.layers) expect(layer.mp.eigenvaluesAboveLambdaPlus).toBeGreaterThanOrEqual(layer.mp.spikes);
  });

  it('draws marks in every plot, decodes every thumbnail, loads nothing external, and renders to a screenshot', async () => {
    const profile = mkdtempSync(join(tmpdir(), 'rpr-chromium-profile-'));
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(join(outDir, 'report.html')).href;
      await page.goto(url, { waitUntil: 'load' });
      const plots = await page.evaluate<PlotCheck[]>(CHECK_PLOTS);
      const expected = ['alpha', ...report.layers.map(() => 'esd'), ...report.classImbalance!.families.map(() => 'class'), 'gain', 'gain-trend'];
      expect(plots.map((p) => p.kind)).toEqual([...expected, ...report.layers.map(() => 'svd-neurons')]);
      for (const p of plots) {
        expect({ kind: p.kind, marks: p.marks > 0, drawn: p.drawn > 0 }).toEqual({ kind: p.kind, marks: true, drawn: true });
        expect(p.width).toBeGreaterThan(50);
        expect(p.height).toBeGreaterThan(50);
      }
      const images = await page.evaluate<ImageCheck[]>(CHECK_IMAGES);
      expect(images).toHaveLength(report.layers.length * DIRECTIONS * PER_DIRECTION);
      for (const img of images) expect(img).toEqual({ complete: true, naturalWidth: 28, src: 'data:image/png;base64,' });
      expect(requests.filter((r) => !r.startsWith('data:'))).toEqual([url]);
      const shot = join(outDir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect((await stat(shot)).size).toBeGreaterThan(10_000);
      process.stdout.write(`report and screenshot: ${outDir}\n`);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
