/**
 * `rpr-select score` in-process with the real scorer and the bundled model: the documented line shape,
 * errors per image, the summary, --quiet, --help, and the one-line errors of bad flags and inputs.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { CliContext } from '../../src/cli/cli-context.js';
import { runCli } from '../../src/cli/run-cli.js';
import { mnistPart, writeDigitPngs } from '../../src/pool/index.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cli(cwd: string, argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const ctx: CliContext = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: false },
    env: {},
    cwd,
    signal: new AbortController().signal,
    entry: ['/usr/bin/node', 'main.js'],
  };
  return { code: await runCli(argv, ctx), stdout, stderr };
}

let pool: string;
beforeAll(async () => {
  pool = mkdtempSync(join(tmpdir(), 'rpr-score-pool-'));
  await writeDigitPngs(pool, mnistPart('pool').slice(0, 24));
  writeFileSync(join(pool, 'broken.png'), 'definitely not an image');
  await sharp(Buffer.alloc(28 * 28), { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(pool, 'zero.png'));
});

describe('rpr-select score', () => {
  it('writes one line per image in the documented shape, errors in place of rpr', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const run = await cli(cwd, ['score', '--pool', pool, '--k', '1,5,10', '--out', 'scores.jsonl', '--json', '--workers', '1']);
    expect(run.code).toBe(0);
    const lines = readFileSync(join(cwd, 'scores.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(26);
    const good = lines.filter((l) => 'rpr' in l);
    expect(good).toHaveLength(24);
    for (const l of good) {
      expect(Object.keys(l).sort()).toEqual(['id', 'predicted', 'rpr', 'sigma', 'uri']);
      expect(l['id']).toMatch(/^[0-9a-f]{64}$/);
      const rpr = l['rpr'] as Record<string, number>;
      expect(Object.keys(rpr)).toEqual(['1', '5', '10']);
      expect(rpr['1']!).toBeLessThanOrEqual(rpr['5']! + 1e-12);
      expect(rpr['5']!).toBeLessThanOrEqual(rpr['10']! + 1e-12);
      expect((l['sigma'] as number[]).length).toBe(10);
      expect(Number.isInteger(l['predicted'])).toBe(true);
    }
    const broken = lines.find((l) => String(l['uri']).endsWith('broken.png'))!;
    expect(broken['error']).toMatch(/decode/);
    expect('rpr' in broken).toBe(false);
    const zero = lines.find((l) => String(l['uri']).endsWith('zero.png'))!;
    expect(zero['error']).toMatch(/zero image/);
    const summary = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ scored: 24, errors: 2, mode: 'per-sample', k: [1, 5, 10] });
    expect(String(summary['backend'])).toMatch(/^tfjs-/);

    // A warm re-run comes from the cache: no network pass, the same lines.
    const again = await cli(cwd, ['score', '--pool', pool, '--out', 'again.jsonl', '--json', '--workers', '1']);
    expect(JSON.parse(again.stdout)).toMatchObject({ networkPasses: 0, cacheHits: 25 });
    expect(readFileSync(join(cwd, 'again.jsonl'), 'utf8')).toBe(readFileSync(join(cwd, 'scores.jsonl'), 'utf8'));
  });

  it('--quiet prints nothing on stderr; without --out the lines go to stdout', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'rpr-score-'));
    const run = await cli(cwd, ['score', '--pool', pool, '--quiet', '--no-cache', '--workers', '1']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout.trimEnd().split('\n')).toHaveLength(26);
  });

  it('--help documents every flag', async () => {
    const run = await cli(mkdtempSync(join(tmpdir(), 'rpr-score-')), ['score', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--model', '--pool', '--mode', '--reference', '--k', '--svd', '--out', '--json', '--quiet', '--backend', '--cache', '--workers', '--squared', '--complement', '--keep-final-activation']) {
      expect(run.stdout).toContain(flag);
    }
  });

  it.each([
    [['--k', '0,5'], /--k must be/],
    [['--model', '/nonexistent/model'], /nonexistent/],
    [['--mode', 'reference'], /--reference/],
    [['--pool', '/nonexistent/pool'], /nonexistent/],
  ])('bad input %j is one line and exit 2', async (extra, message) => {
    const run = await cli(mkdtempSync(join(tmpdir(), 'rpr-score-')), ['score', '--pool', pool, '--no-cache', ...extra]);
    expect(`${run.code} ${run.stderr}`).toMatch(/^2 /);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });
});
