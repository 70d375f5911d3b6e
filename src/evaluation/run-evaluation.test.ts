import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rerenderEvaluation } from './evaluation-report.js';
import { runEvaluation } from './run-evaluation.js';
import { EVALUATION_RECIPE } from './training-recipe.js';

describe('runEvaluation (the --quick harness, in process)', () => {
  let out: string;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'rpr-eval-out-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('runs every job and writes results.json, README.md and the plots', async () => {
    const lines: string[] = [];
    const results = await runEvaluation({
      outDir: out,
      command: 'test',
      poolSize: 120,
      testCount: 40,
      initialLabeled: 20,
      batchSize: 10,
      rounds: 2,
      candidatesPerRound: 30,
      seeds: 1,
      missingClassSeeds: 1,
      variants: ['random', 'lowest-rpr'],
      missingClassVariants: ['random'],
      segmentation: { trainCount: 24, testCount: 5, epochs: 1 },
      workers: 1,
      recipe: { ...EVALUATION_RECIPE, imagePasses: 40, minEpochs: 1, maxEpochs: 1 },
      onProgress: (line) => lines.push(line),
    });
    expect(results.meta.status).toBe('complete');
    expect(results.meta.jobsDone).toBe(4);
    expect(lines).toHaveLength(4);
    expect(results.standard!.variants.map((v) => v.variant)).toEqual(['random', 'lowest-rpr']);
    expect(results.missingClass!.variants[0]!.points[0]!.heldOutLabeled!.mean).toBe(0);
    expect(results.segmentation!.correlation.n).toBe(5);
    const saved = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { curves: unknown[] };
    expect(saved.curves).toHaveLength(3);
    const readme = await readFile(join(out, 'README.md'), 'utf8');
    expect(readme).toContain('**Winner: `');
    expect(readme).toContain('Spearman ρ(RPR_10, Dice)');
    for (const svg of ['learning-curves.svg', 'missing-class.svg', 'rpr-vs-dice.svg']) {
      expect((await readFile(join(out, svg), 'utf8')).startsWith('<svg')).toBe(true);
    }
    // Re-rendering from results.json alone gives the same report.
    await rerenderEvaluation(out);
    expect(await readFile(join(out, 'README.md'), 'utf8')).toBe(readme);
    // Merging a results file into itself adds no run twice.
    expect((await rerenderEvaluation(out, [out])).curves).toHaveLength(3);
  });

  it('refuses a bad option before doing any work', async () => {
    await expect(runEvaluation({ outDir: out, command: 'test', rounds: 0 })).rejects.toMatchObject({ code: 'RPR_USAGE' });
  });
});
