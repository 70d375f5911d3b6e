/**
 * `npm run evaluate [-- --quick] [--workers N] [--seeds N] [--missing-class-seeds N] [--out DIR] [--fresh]`:
 * the simulated active-learning evaluation and the segmentation study (src/evaluation). The full run
 * writes docs/evaluation/; --quick is a CI-sized check of the harness (tiny pool, 2 rounds, 1 seed).
 * Runs already in the output's results.json are kept (one of them is re-run to check that it
 * reproduces) and only the missing ones run; --fresh starts over;
 * --render-only [--merge DIR]… rewrites README.md and the plots from an existing results.json, adding
 * the runs of other output directories of the same setup.
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RprError, exitCodeFor } from '../src/errors/index.js';
import { EVALUATION_RECIPE, rerenderEvaluation, runEvaluation, type EvaluationOptions } from '../src/evaluation/index.js';
import { packageRoot } from '../src/util/package-root.js';

function integer(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new RprError('RPR_USAGE', `--${name} must be an integer (got '${value}')`, { option: name });
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      workers: { type: 'string' },
      seeds: { type: 'string' },
      'missing-class-seeds': { type: 'string' },
      'pool-size': { type: 'string' },
      candidates: { type: 'string' },
      policies: { type: 'string' },
      'no-segmentation': { type: 'boolean', default: false },
      'render-only': { type: 'boolean', default: false },
      fresh: { type: 'boolean', default: false },
      merge: { type: 'string', multiple: true },
      out: { type: 'string' },
    },
  });
  const quick = values.quick ?? false;
  const outDir = values.out ?? (quick ? join(packageRoot(), 'bench', 'out', 'evaluation-quick') : join(packageRoot(), 'docs', 'evaluation'));
  if (values['render-only']) {
    const results = await rerenderEvaluation(outDir, values.merge ?? []);
    process.stdout.write(`re-rendered ${outDir} from its results.json (${results.curves.length} runs)\n`);
    return;
  }
  const preset: Partial<EvaluationOptions> = quick
    ? {
        poolSize: 400,
        testCount: 300,
        rounds: 2,
        candidatesPerRound: 150,
        seeds: 1,
        missingClassSeeds: 1,
        segmentation: { trainCount: 100, testCount: 20, epochs: 1 },
        recipe: { ...EVALUATION_RECIPE, imagePasses: 200, minEpochs: 1, maxEpochs: 2 },
      }
    : {};
  const numeric = [
    ['workers', 'workers'],
    ['seeds', 'seeds'],
    ['missing-class-seeds', 'missingClassSeeds'],
    ['pool-size', 'poolSize'],
    ['candidates', 'candidatesPerRound'],
  ] as const;
  const overrides = Object.fromEntries(
    numeric.flatMap(([flag, key]) => {
      const value = integer(flag, values[flag]);
      return value === undefined ? [] : [[key, value]];
    }),
  ) as Partial<EvaluationOptions>;
  const options: EvaluationOptions = {
    ...preset,
    outDir,
    command: `npm run evaluate -- ${process.argv.slice(2).join(' ')}`.trim().replace(/ --$/, ''),
    ...overrides,
    ...(values.policies ? { variants: values.policies.split(',') } : {}),
    ...(values['no-segmentation'] ? { segmentation: null } : {}),
    fresh: values.fresh ?? false,
    onProgress: (line) => process.stderr.write(`${line}\n`),
  };
  const results = await runEvaluation(options);
  process.stdout.write(`evaluation ${results.meta.status}: ${results.meta.jobsDone} runs in ${(results.meta.wallSeconds / 60).toFixed(1)} min → ${outDir}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`evaluate failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(exitCodeFor(error));
});
