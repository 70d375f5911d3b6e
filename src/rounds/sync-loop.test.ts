import { startSyncLoop, type SyncLoopOptions } from './sync-loop.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A loop over a sync that takes `syncMs`, recording what each sync served and how many ran at once. */
function recorded(overrides: Partial<SyncLoopOptions<number>> & { readonly syncMs?: number; readonly failFirst?: number } = {}) {
  const served: string[][] = [];
  const errors: string[][] = [];
  let calls = 0;
  let active = 0;
  let maxActive = 0;
  const loop = startSyncLoop<number>({
    sync: async () => {
      calls++;
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(overrides.syncMs ?? 5);
      active--;
      if (calls <= (overrides.failFirst ?? 0)) throw new Error(`failure ${calls}`);
      return calls;
    },
    pollMs: 0,
    debounceMs: 20,
    retryMs: 60_000,
    onResult: (_result, triggers) => served.push([...triggers]),
    onError: (_error, triggers) => {
      errors.push([...triggers]);
      return 'continue';
    },
    ...overrides,
  });
  return { loop, served, errors, calls: () => calls, maxActive: () => maxActive };
}

describe('startSyncLoop', () => {
  it('serves triggers that arrive together with one sync, naming each once', async () => {
    const r = recorded();
    r.loop.trigger('ANNOTATION_CREATED');
    r.loop.trigger('ANNOTATION_CREATED');
    r.loop.trigger('TASKS_DELETED');
    await sleep(100);
    expect(r.served).toEqual([['ANNOTATION_CREATED', 'TASKS_DELETED']]);
    await r.loop.stop();
  });

  it('never runs two syncs at once: a trigger during a sync runs one more after it', async () => {
    const r = recorded({ syncMs: 80 });
    r.loop.trigger('a');
    await sleep(40);
    r.loop.trigger('b');
    r.loop.trigger('c');
    await sleep(300);
    expect(r.served).toEqual([['a'], ['b', 'c']]);
    expect(r.maxActive()).toBe(1);
    await r.loop.stop();
  });

  it('tries a failed sync again after retryMs, and polls without triggers', async () => {
    const r = recorded({ failFirst: 1, retryMs: 50 });
    r.loop.trigger('a');
    await sleep(200);
    expect(r.errors).toEqual([['a']]);
    expect(r.served).toEqual([['retry']]);
    await r.loop.stop();

    const polled = recorded({ pollMs: 40 });
    await sleep(170);
    await polled.loop.stop();
    expect(polled.served.length).toBeGreaterThanOrEqual(2);
    expect(new Set(polled.served.flat())).toEqual(new Set(['poll']));
  });

  it("ends with the error when onError says stop, and runs nothing once stopped", async () => {
    const r = recorded({ failFirst: 1, onError: () => 'stop' });
    r.loop.trigger('a');
    await expect(r.loop.stopped).rejects.toThrow('failure 1');
    r.loop.trigger('b');
    await sleep(60);
    expect(r.calls()).toBe(1);

    const stopped = recorded({ syncMs: 50 });
    stopped.loop.trigger('x');
    await sleep(30);
    await stopped.loop.stop();
    // stop() waited for the sync in progress.
    expect(stopped.served).toEqual([['x']]);
    stopped.loop.trigger('y');
    await sleep(60);
    expect(stopped.calls()).toBe(1);
    await expect(stopped.loop.stopped).resolves.toBeUndefined();
  });
});
