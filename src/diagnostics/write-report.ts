/** Writes a diagnostics report as report.json and the self-contained report.html into a directory. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RprError } from '../errors/index.js';
import { renderReportHtml, type ReportAssets } from './report-html.js';
import type { DiagnosticsReport } from './report.js';

export async function writeReport(report: DiagnosticsReport, outDir: string, assets: ReportAssets = {}): Promise<{ json: string; html: string }> {
  const json = join(outDir, 'report.json');
  const html = join(outDir, 'report.html');
  const page = await renderReportHtml(report, assets);
  try {
    await mkdir(outDir, { recursive: true });
    await writeFile(json, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(html, page);
  } catch (error) {
    throw new RprError(
      'RPR_USAGE',
      `cannot write the diagnostics report to '${outDir}': ${(error as Error).message}; choose a writable --out directory`,
      { out: outDir },
      { cause: error },
    );
  }
  return { json, html };
}
