/**
 * The scoring section of `npm run bench`: for the demo model and the ~1M-parameter 64×64×3 CNN, side by
 * side on one engine — decode only, forward pass only (the floor for anything that runs the network),
 * entropy scoring, exact per-sample RPR on 1 and 2 worker threads, reference-mode RPR (no network pass)
 * and a warm-cache re-run on 1 and 2 threads — each case in a fresh child process (bench-case.ts), so its
 * peak RSS is its own. Cases that run the network stop at a time cap; the others stream their whole pool.
 */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { EngineChoice } from '../src/model/load-model.js';
import { writeDigitPngs } from '../src/pool/demo-pool.js';
import { mnistPart } from '../src/pool/mnist-digits.js';
import { bundledModelPath } from '../src/util/package-root.js';
import type { BenchCaseRecord } from './bench-case-record.js';
import { CASE_RESULT_TAG, type CaseName, type CaseOutcome, type CaseSpec } from './bench-case.js';
import { LARGE_CNN_NAME, saveLargeCnn } from './large-cnn.js';
import { rgbBases } from './synthetic-pool.js';

const CASE_SCRIPT = fileURLToPath(new URL('./bench-case.js', import.meta.url));

export interface ScoringPlan {
  readonly engine: EngineChoice;
  /** Pool sizes: `small` for every case, `large` for decode and reference mode (no network pass). */
  readonly small: number;
  readonly large: number;
  /** Streaming stops after this many seconds in the cases that run the network. */
  readonly capSeconds: number;
  /** Reference images of each model's basis (MNIST training digits; 64×64 RGB images drawn from digits). */
  readonly referenceImages: { readonly digits: number; readonly rgb: number };
}

export interface ModelUnderTest {
  readonly name: string;
  readonly path: string;
  readonly referenceDir: string;
}

export interface ScoringSection {
  readonly cases: readonly BenchCaseRecord[];
  /** Cases that failed twice, with the reason. */
  readonly failures: readonly string[];
}

/** The two models: the bundled demo CNN and the larger one, saved under `workDir` with their reference sets. */
export async function prepareModels(workDir: string, plan: ScoringPlan): Promise<{ models: ModelUnderTest[]; largeParams: number }> {
  const demoRefs = join(workDir, 'reference-mnist');
  await writeDigitPngs(demoRefs, mnistPart('train').slice(0, plan.referenceImages.digits));
  const largePath = join(workDir, LARGE_CNN_NAME);
  const largeParams = await saveLargeCnn(largePath);
  const largeRefs = join(workDir, 'reference-rgb');
  await mkdir(largeRefs, { recursive: true });
  const rgb = await rgbBases(plan.referenceImages.rgb);
  await Promise.all(rgb.map((png, i) => writeFile(join(largeRefs, `ref-${i}.png`), png)));
  return {
    models: [
      { name: 'mnist-cnn', path: bundledModelPath(), referenceDir: demoRefs },
      { name: LARGE_CNN_NAME, path: largePath, referenceDir: largeRefs },
    ],
    largeParams,
  };
}

function caseList(models: readonly ModelUnderTest[], plan: ScoringPlan, workDir: string): CaseSpec[] {
  const { small, large, capSeconds } = plan;
  return models.flatMap((m) => {
    const spec = (name: CaseName, poolSize: number, workers: number, cap: number | null = capSeconds): CaseSpec => ({
      case: name,
      model: m.name,
      modelPath: m.path,
      engine: plan.engine,
      poolSize,
      workers,
      capSeconds: cap,
      referenceDir: m.referenceDir,
      cachePath: join(workDir, `cache-${m.name}-${workers}.sqlite`),
    });
    return [
      spec('decode', small, 1, null),
      spec('decode', large, 1, null),
      spec('forward', small, 1),
      spec('entropy', small, 1),
      spec('exact-rpr', small, 1),
      spec('exact-rpr', small, 2),
      spec('reference-rpr', small, 1, null),
      spec('reference-rpr', large, 1, null),
      spec('warm-cache', small, 1),
      spec('warm-cache', small, 2),
    ];
  });
}

async function inChild(spec: CaseSpec): Promise<CaseOutcome> {
  const { stdout } = await promisify(execFile)(process.execPath, ['--no-warnings', CASE_SCRIPT, '--case', JSON.stringify(spec)], {
    maxBuffer: 1 << 24,
    timeout: 3_600_000,
  });
  const line = stdout.split('\n').find((l) => l.startsWith(CASE_RESULT_TAG));
  if (line === undefined) throw new Error(`case ${spec.case} (${spec.model}, ${spec.poolSize}) printed no result`);
  return JSON.parse(line.slice(CASE_RESULT_TAG.length)) as CaseOutcome;
}

/** Runs every case once, a failed one a second time; a case that fails twice is listed with its reason. */
export async function runScoringSection(models: readonly ModelUnderTest[], plan: ScoringPlan, workDir: string): Promise<ScoringSection> {
  const cases: BenchCaseRecord[] = [];
  const failures: string[] = [];
  for (const spec of caseList(models, plan, workDir)) {
    const label = `${spec.case} ${spec.model} pool ${spec.poolSize} workers ${spec.workers}`;
    let outcome: CaseOutcome | null = null;
    for (let attempt = 1; attempt <= 2 && outcome === null; attempt++) {
      try {
        outcome = await inChild(spec);
      } catch (error) {
        const why = error instanceof Error ? error.message.split('\n').slice(-2).join(' ').trim() : String(error);
        process.stderr.write(`${label}: attempt ${attempt} failed: ${why}\n`);
        if (attempt === 2) failures.push(`${label}: ${why}`);
      }
    }
    if (outcome === null) continue;
    const { coldImagesPerSecond, ...rest } = outcome;
    cases.push({
      section: 'scoring',
      case: spec.case,
      model: spec.model,
      poolSize: spec.poolSize,
      workers: spec.workers,
      ...rest,
      timeCapped: outcome.images < spec.poolSize,
      loadAverage: loadavg()[0]!,
      ...(coldImagesPerSecond === undefined ? {} : { coldImagesPerSecond }),
    });
    process.stderr.write(`${label}: ${outcome.imagesPerSecond.toFixed(1)} images/s over ${outcome.images} images, ${outcome.peakRssMB.toFixed(0)} MB\n`);
  }
  return { cases, failures };
}
