/** Child-process entry of runJobs: runs each job it is sent and replies with the outcome or the error. */
import type { EvaluationJob } from './run-jobs.js';
import { runJob } from './run-jobs.js';

process.on('message', (job: EvaluationJob) => {
  runJob(job).then(
    (outcome) => process.send?.(outcome),
    (error: unknown) => process.send?.({ kind: 'error', message: error instanceof Error ? error.message : String(error) }),
  );
});

// The parent went away (finished, killed or crashed): stop rather than run on as an orphan.
process.on('disconnect', () => process.exit(0));
