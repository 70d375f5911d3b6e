import { setTimeout as sleepFor } from 'node:timers/promises';
import type { CronSchedule } from './cron-expression.js';

export interface ScheduleOptions {
  readonly schedule: CronSchedule;
  /** One scheduled run; what it throws ends the schedule (it decides which failures to swallow). */
  readonly tick: (at: Date) => Promise<void>;
  /** Stops the schedule between runs (SIGINT, SIGTERM). */
  readonly signal?: AbortSignal;
  /** Stop after this many runs. @defaultValue unlimited */
  readonly maxTicks?: number;
  /** Told the time of each next run before waiting for it. */
  readonly onWait?: (next: Date) => void;
  /** @defaultValue () => new Date() */
  readonly now?: () => Date;
  /** Resolves after `ms` or when `signal` aborts. @defaultValue timers/promises setTimeout */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Sleeps are cut into pieces of at most this, so a suspended machine or a clock change is noticed. */
const MAX_SLEEP_MS = 60_000;

/** Runs `tick` at each time the cron schedule fires until aborted or `maxTicks` runs; returns the runs made. */
export async function runSchedule(options: ScheduleOptions): Promise<number> {
  const now = options.now ?? (() => new Date());
  const sleep = options.sleep ?? defaultSleep;
  const maxTicks = options.maxTicks ?? Infinity;
  let ticks = 0;
  while (ticks < maxTicks && !options.signal?.aborted) {
    const next = options.schedule.next(now());
    options.onWait?.(next);
    for (let left = next.getTime() - now().getTime(); left > 0; left = next.getTime() - now().getTime()) {
      await sleep(Math.min(left, MAX_SLEEP_MS), options.signal);
      if (options.signal?.aborted) return ticks;
    }
    await options.tick(next);
    ticks++;
  }
  return ticks;
}

async function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  await sleepFor(ms, undefined, signal ? { signal } : {}).catch((error: unknown) => {
    if (!(error instanceof Error && error.name === 'AbortError')) throw error;
  });
}
