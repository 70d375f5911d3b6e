/**
 * The evaluation's units of work and how they run: in this process, or spread over child processes
 * (TF.js's wasm backend uses one core, so one child per core), each taking the next job when done.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { errors } from '../errors/index.js';
import { runSegmentationStudy, type SegmentationStudyOptions, type SegmentationStudyResult } from './segmentation-study.js';
import { simulateCurve, type CurveResult, type CurveSpec, type SimulationSetup } from './simulate-curve.js';

export type EvaluationJob =
  | { readonly kind: 'curve'; readonly spec: CurveSpec; readonly setup: SimulationSetup }
  | { readonly kind: 'segmentation'; readonly options: SegmentationStudyOptions };

export type JobOutcome =
  | { readonly kind: 'curve'; readonly result: CurveResult }
  | { readonly kind: 'segmentation'; readonly result: SegmentationStudyResult };

type WorkerReply = JobOutcome | { readonly kind: 'error'; readonly message: string };

export async function runJob(job: EvaluationJob): Promise<JobOutcome> {
  return job.kind === 'curve'
    ? { kind: 'curve', result: await simulateCurve(job.spec, job.setup) }
    : { kind: 'segmentation', result: await runSegmentationStudy(job.options) };
}

/** The compiled worker entry beside this file (dist/src/evaluation/curve-worker.js). */
const WORKER_ENTRY = fileURLToPath(new URL('./curve-worker.js', import.meta.url));

function runOn(child: ChildProcess, job: EvaluationJob): Promise<JobOutcome> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(errors.internal(`evaluation worker exited (${code}) during a job`));
    child.once('exit', onExit);
    child.once('message', (reply: WorkerReply) => {
      child.off('exit', onExit);
      if (reply.kind === 'error') reject(errors.internal(`evaluation worker failed: ${reply.message}`));
      else resolve(reply);
    });
    child.send(job);
  });
}

/**
 * Runs every job, `workers` at a time, and hands each outcome to `onOutcome` as it arrives (so partial
 * results can be written). The first failure stops the run.
 */
export async function runJobs(
  jobs: readonly EvaluationJob[],
  workers: number,
  onOutcome: (outcome: JobOutcome) => Promise<void> | void,
): Promise<void> {
  if (workers <= 1) {
    for (const job of jobs) await onOutcome(await runJob(job));
    return;
  }
  const queue = [...jobs];
  const children = Array.from({ length: Math.min(workers, jobs.length) }, () =>
    fork(WORKER_ENTRY, [], { execArgv: ['--no-warnings'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  try {
    await Promise.all(
      children.map(async (child) => {
        for (let job = queue.shift(); job !== undefined; job = queue.shift()) await onOutcome(await runOn(child, job));
      }),
    );
  } finally {
    for (const child of children) child.kill();
  }
}
