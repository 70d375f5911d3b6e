import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rerenderEvaluation } from './evaluation-report.js';
import { runEvaluation, type EvaluationOptions } from './run-evaluation.js';
import { EVALUATION_RECIPE } from './training-recipe.js';

describe('runEvaluation (the --quick harness, in process)', () => {
  let out: string;
  let tiny: EvaluationOptions;
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'rpr-eval-out-'));
    tiny = {
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
    };
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('runs every job and writes results.json, README.md and the plots', async () => {
    const lines: string[] = [];
    const results = await runEvaluation({ ...tiny, onProgress: (line) => lines.push(line) });
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

  it('keeps the runs already in the output, re-runs one to check it reproduces, and runs only the missing ones', async () => {
    const before = JSON.parse(await readFile(join(out, 'results.json'), 'utf8')) as { curves: { seconds: number }[] };
    const lines: string[] = [];
    const results = await runEvaluation({ ...tiny, seeds: 2, onProgress: (line) => lines.push(line) });
    expect(results.meta.status).toBe('complete');
    expect(results.meta.jobsTotal).toBe(6);
    expect(results.meta.jobsDone).toBe(6);
    // The kept runs are the stored ones, untouched (their timings could not have been measured twice alike).
    expect(results.curves.slice(0, 3).map((c) => c.seconds)).toEqual(before.curves.map((c) => c.seconds));
    expect(results.curves.filter((c) => c.spec.seed === 2).map((c) => c.spec.variant.id).sort()).toEqual(['lowest-rpr', 'random']);
    expect(results.meta.sessions!.map((s) => s.jobs)).toEqual([4, 2]);
    expect(results.meta.reproduction).toEqual({ job: 'standard/lowest-rpr/1', identical: true, maxAccuracyDiff: 0 });
    expect(lines[0]).toBe('kept 4 of 6 runs from ' + out + '; 2 to run');
    expect(await readFile(join(out, 'README.md'), 'utf8')).toContain('the later code re-ran `standard/lowest-rpr/1`: identical accuracy in every round');
  });

  it('refuses to mix runs of another setup into the output', async () => {
    await expect(runEvaluation({ ...tiny, candidatesPerRound: 31 })).rejects.toMatchObject({ code: 'RPR_USAGE', message: expect.stringContaining('--fresh') });
  });

  it('refuses a bad option before doing any work', async () => {
    await expect(runEvaluation({ outDir: out, command: 'test', rounds: 0 })).rejects.toMatchObject({ code: 'RPR_USAGE' });
  });
});
