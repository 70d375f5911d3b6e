import type { ScoreProgress } from '../metrics/types.js';

export interface ProgressBar {
  update(progress: ScoreProgress): void;
  /** Clears the bar's line. */
  done(): void;
}

export interface ProgressBarOptions {
  readonly stream: { write(text: string): unknown; readonly isTTY?: boolean; readonly columns?: number };
  /** Draw at all (off with --quiet, or JSON logs). */
  readonly enabled: boolean;
  /** Least time between redraws. @defaultValue 100 */
  readonly intervalMs?: number;
  readonly now?: () => number;
}

const WIDTH = 24;

/**
 * A one-line scoring progress display on stderr, redrawn in place; only on a terminal, so logs and
 * pipes never receive carriage returns. Pools of unknown size show a count and a rate, no bar.
 */
export function createProgressBar(options: ProgressBarOptions): ProgressBar {
  const active = options.enabled && options.stream.isTTY === true;
  const now = options.now ?? Date.now;
  const interval = options.intervalMs ?? 100;
  let last = -Infinity;
  let drawn = false;
  return {
    update(p) {
      if (!active || now() - last < interval) return;
      last = now();
      const counts = `${p.done} scored${p.skipped > 0 ? `, ${p.skipped} skipped` : ''}, ${p.imagesPerSecond.toFixed(1)} images/s`;
      const seen = p.done + p.skipped;
      const line =
        p.total === null || p.total === 0
          ? `scoring: ${counts}`
          : `scoring [${'#'.repeat(Math.round((WIDTH * seen) / p.total)).padEnd(WIDTH, '.')}] ${seen}/${p.total} (${counts})`;
      options.stream.write(`\r${line.slice(0, (options.stream.columns ?? 100) - 1)}\u001b[K`);
      drawn = true;
    },
    done() {
      if (drawn) options.stream.write('\r\u001b[K');
      drawn = false;
    },
  };
}
