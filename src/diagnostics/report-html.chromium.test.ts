/**
 * Opens report.html in Debian's headless Chromium (CI installs it: `apt-get install chromium`) and
 * checks that every plot drew marks, that the page made no request besides itself, and saves a
 * screenshot. Skipped, with the reason printed, when /usr/bin/chromium is absent.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { fixtureReport } from './test-report-fixture.js';
import { writeReport } from './write-report.js';

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

interface PlotCheck {
  readonly kind: string;
  /** Data-mark elements inside the SVG's mark groups (role-mark). */
  readonly marks: number;
  /** Of those, how many the browser laid out with a non-empty box. */
  readonly drawn: number;
  readonly width: number;
  readonly height: number;
}

// Runs in the page; a string because the project's TypeScript has no DOM types.
const CHECK_PLOTS = `[...document.querySelectorAll('figure.plot')].map((figure) => {
  const svg = figure.querySelector('svg');
  const marks = svg ? [...svg.querySelectorAll('g.role-mark path, g.role-mark line, g.role-mark rect')] : [];
  const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
  const drawn = marks.filter((m) => { const b = m.getBBox(); return b.width > 0 || b.height > 0; }).length;
  return { kind: figure.dataset.plot, marks: marks.length, drawn, width: box.width, height: box.height };
})`;

const available = existsSync(CHROMIUM);
if (!available) console.log(`skipping the Chromium report test: ${CHROMIUM} is absent (install Debian's chromium)`);

(available ? describe : describe.skip)('report.html in headless Chromium', () => {
  it('draws marks in every plot, loads nothing external, and renders to a screenshot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rpr-report-'));
    const profile = await mkdtemp(join(tmpdir(), 'rpr-chromium-profile-'));
    const { html } = await writeReport(await fixtureReport(), dir);
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await context.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const url = pathToFileURL(html).href;
      await page.goto(url, { waitUntil: 'load' });
      const plots = await page.evaluate<PlotCheck[]>(CHECK_PLOTS);
      expect(plots.map((p) => p.kind)).toEqual(['alpha', 'esd', 'esd', 'esd', 'esd', 'class', 'class', 'gain', 'gain-trend']);
      for (const p of plots) {
        expect(p.marks).toBeGreaterThan(0);
        expect(p.drawn).toBeGreaterThan(0);
        expect(p.width).toBeGreaterThan(50);
        expect(p.height).toBeGreaterThan(50);
      }
      expect(requests).toEqual([url]);
      const shot = join(dir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect((await stat(shot)).size).toBeGreaterThan(10_000);
      console.log(`report screenshot: ${shot}`);
    } finally {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    }
  });
});
