/**
 * Syncs on demand for a long-running listener (`rpr-select webhook`): triggers that arrive together are
 * merged into one sync, never two run at once (a trigger during a sync runs one more after it), a failed
 * sync is tried again later, and a poll runs whatever arrives, since webhooks are hints that may be lost.
 */

export interface SyncLoopOptions<R> {
  /** One sync; it may throw (the loop reports it and goes on, unless `onError` says stop). */
  readonly sync: () => Promise<R>;
  /** Sync this often even without a trigger; 0 never. */
  readonly pollMs: number;
  /** A trigger waits this long for others to join its sync. */
  readonly debounceMs: number;
  /** After a failed sync, the next one runs this much later unless a trigger comes first. */
  readonly retryMs: number;
  /** Told each finished sync and the triggers it served. */
  readonly onResult: (result: R, triggers: readonly string[]) => void;
  /** Told each failed sync; returning 'stop' ends the loop (its `stopped` rejects with the error). */
  readonly onError: (error: unknown, triggers: readonly string[]) => 'stop' | 'continue';
}

export interface SyncLoop {
  /** Asks for a sync; `reason` is reported with its result. */
  trigger(reason: string): void;
  /** Stops the timers and waits for the sync in progress. */
  stop(): Promise<void>;
  /** Resolves when stopped; rejects with the error `onError` stopped the loop for. */
  readonly stopped: Promise<void>;
}

export function startSyncLoop<R>(options: SyncLoopOptions<R>): SyncLoop {
  const triggers: string[] = [];
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let ended = false;
  let end!: (error?: unknown) => void;
  const stopped = new Promise<void>((resolve, reject) => {
    end = (error) => (error === undefined ? resolve() : reject(error));
  });
  // The caller may never await `stopped` when it stops the loop itself.
  stopped.catch(() => undefined);
  const poll = options.pollMs > 0 ? setInterval(() => trigger('poll'), options.pollMs) : null;

  function schedule(delayMs: number): void {
    if (ended || timer !== null || running !== null) return;
    timer = setTimeout(() => {
      timer = null;
      running = runOnce().finally(() => {
        running = null;
        if (triggers.length > 0) schedule(options.debounceMs);
      });
    }, delayMs);
  }

  async function runOnce(): Promise<void> {
    const served = triggers.splice(0);
    try {
      options.onResult(await options.sync(), served);
    } catch (error) {
      if (options.onError(error, served) === 'stop') {
        finish(error);
        return;
      }
      if (!ended) setTimeout(() => trigger('retry'), options.retryMs).unref();
    }
  }

  function trigger(reason: string): void {
    if (ended) return;
    if (!triggers.includes(reason)) triggers.push(reason);
    schedule(options.debounceMs);
  }

  function finish(error?: unknown): void {
    if (ended) return;
    ended = true;
    if (poll !== null) clearInterval(poll);
    if (timer !== null) clearTimeout(timer);
    timer = null;
    end(error);
  }

  return {
    trigger,
    stopped,
    async stop() {
      finish();
      await running;
    },
  };
}
