/**
 * The contract every Sink passes, as a jest suite each implementation runs against its own storage
 * (the JSONL queue on a temp file, Label Studio on a real server). What it pins down is what rounds
 * rely on: a task id for every pushed item, pushes idempotent by sample id within a run and across
 * a restart, each sample held exactly once.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { HeldTask, LabelRecord, Sink, SinkItem } from './sink.js';

export interface SinkContractHarness {
  /** A sink over fresh, empty storage. */
  open(): Promise<Sink>;
  /** A second instance over the storage of the last `open()`: a run restarted after a crash. */
  reopen(): Promise<Sink>;
  /** The i-th test item of a round (its uri must be an image the platform accepts). */
  item(round: number, index: number): SinkItem;
  /** Marks a held item annotated (or skipped, with label undefined) on the platform, when the harness can. */
  annotate?(sink: Sink, item: SinkItem, label: unknown): Promise<void>;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

function expectHeldOnce(held: readonly HeldTask[], items: readonly SinkItem[], taskIds: ReadonlyMap<string, string>): void {
  const count = new Map<string, number>();
  for (const task of held) count.set(task.id, (count.get(task.id) ?? 0) + 1);
  for (const item of items) {
    expect(count.get(item.id)).toBe(1);
    const task = held.find((t) => t.id === item.id)!;
    expect(task.taskId).toBe(taskIds.get(item.id));
    if (task.round !== null) expect(task.round).toBe(item.round);
  }
}

export function describeSinkContract(name: string, makeHarness: () => SinkContractHarness): void {
  describe(`Sink contract: ${name}`, () => {
    const opened: Sink[] = [];
    let harness: SinkContractHarness;
    const open = async (again = false): Promise<Sink> => {
      const sink = again ? await harness.reopen() : await (harness = makeHarness()).open();
      opened.push(sink);
      return sink;
    };
    const items = (round: number, from: number, to: number) =>
      Array.from({ length: to - from }, (_, i) => harness.item(round, from + i));

    afterEach(async () => {
      for (const sink of opened.splice(0)) await sink.close();
    });

    it('returns a task id for every pushed item and holds each once', async () => {
      const sink = await open();
      const batch = items(1, 0, 5);
      const ids = await sink.push(batch);
      expect([...ids.keys()].sort()).toEqual(batch.map((i) => i.id).sort());
      expect(new Set(ids.values()).size).toBe(5);
      expectHeldOnce(await collect(sink.list()), batch, ids);
    });

    it('pushing the same items again adds nothing and returns the same task ids', async () => {
      const sink = await open();
      const batch = items(1, 0, 4);
      const first = await sink.push(batch);
      const second = await sink.push(batch);
      expect(second).toEqual(first);
      const held = await collect(sink.list());
      expect(held).toHaveLength(4);
      expectHeldOnce(held, batch, first);
    });

    it('after a restart, an overlapping push adds only the items not yet held', async () => {
      const sink = await open();
      const before = await sink.push(items(1, 0, 3));
      const restarted = await open(true);
      const batch = items(1, 0, 6);
      const after = await restarted.push(batch);
      for (const [id, taskId] of before) expect(after.get(id)).toBe(taskId);
      const held = await collect(restarted.list());
      expect(held).toHaveLength(6);
      expectHeldOnce(held, batch, after);
    });

    it('holds an item listed twice in one push once', async () => {
      const sink = await open();
      const [a, b] = items(2, 0, 2);
      const ids = await sink.push([a!, b!, a!]);
      expect(ids.size).toBe(2);
      expect(await collect(sink.list())).toHaveLength(2);
    });

    it('does nothing for an empty push', async () => {
      const sink = await open();
      expect((await sink.push([])).size).toBe(0);
      expect(await collect(sink.list())).toHaveLength(0);
      expect(await collect(sink.fetchLabels())).toHaveLength(0);
    });

    it('reads back labels and skips by sample id and task id', async () => {
      const sink = await open();
      if (harness.annotate === undefined) return;
      const batch = items(3, 0, 3);
      const ids = await sink.push(batch);
      await harness.annotate(sink, batch[0]!, 'seven');
      await harness.annotate(sink, batch[1]!, undefined);
      const labels: LabelRecord[] = await collect(sink.fetchLabels());
      const byId = new Map(labels.map((l) => [l.id, l]));
      expect(byId.get(batch[0]!.id)).toMatchObject({ status: 'labeled', taskId: ids.get(batch[0]!.id) });
      expect(byId.get(batch[1]!.id)).toMatchObject({ status: 'skipped', taskId: ids.get(batch[1]!.id) });
      expect(byId.has(batch[2]!.id)).toBe(false);
    });
  });
}
