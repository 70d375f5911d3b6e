/**
 * TEST ONLY. `RPR_TEST_PAUSE_AT=<point>` (one of ROUND_POINTS: after-score, after-ledger-write,
 * after-push, after-queued) stops `select` at that point of the round: it prints
 * `RPR_TEST_PAUSED <point>` on stderr, then waits until the file named by `RPR_TEST_RESUME_FILE`
 * exists (forever when unset). End-to-end tests use it to SIGKILL a real run at a chosen step and
 * check that the next run finishes the round. Not for production use.
 */
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { errors } from '../errors/index.js';
import { ROUND_POINTS, type RoundHooks, type RoundPoint } from '../rounds/index.js';
import type { CliContext } from './cli-context.js';

const POLL_MS = 50;

export function testPauseHooks(ctx: CliContext): RoundHooks | undefined {
  const point = ctx.env.RPR_TEST_PAUSE_AT;
  if (point === undefined || point === '') return undefined;
  if (!(ROUND_POINTS as readonly string[]).includes(point)) {
    throw errors.usage(`RPR_TEST_PAUSE_AT '${point}' is not a round point; use one of ${ROUND_POINTS.join(', ')}`);
  }
  const resumeFile = ctx.env.RPR_TEST_RESUME_FILE;
  return {
    async at(reached: RoundPoint) {
      if (reached !== point) return;
      ctx.stderr.write(`RPR_TEST_PAUSED ${point}\n`);
      while (resumeFile === undefined || !existsSync(resumeFile)) await sleep(POLL_MS, undefined, { signal: ctx.signal });
    },
  };
}
