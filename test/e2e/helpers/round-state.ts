/**
 * What a run left on disk — the ledger (read through the Ledger class) and the local queue (parsed here
 * line by line, independently of the jsonl sink) — and the guarantees of DESIGN.md §3 checked on them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// The ledger module alone: the rounds barrel would also load every sink, which these checks do not need.
import type { RoundRecord, SampleRecord, SelectionRecord } from '../../../src/rounds/ledger-types.js';
import { Ledger } from '../../../src/rounds/ledger.js';

/** Where `select` keeps its state by default, under the working directory. */
export function statePaths(cwd: string): { readonly ledger: string; readonly queue: string } {
  return { ledger: join(cwd, '.rpr-select', 'ledger.sqlite'), queue: join(cwd, '.rpr-select', 'queue.jsonl') };
}

export interface QueueEntry {
  readonly id: string;
  readonly uri: string;
  readonly round: number;
  readonly rank: number;
  readonly score: number | null;
  /** 1-based line number: the jsonl sink's task id. */
  readonly line: number;
}

/** The queue's lines; a line that is not whole JSON fails the test (the file must never be left torn). */
export function readQueue(path: string): QueueEntry[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  if (text !== '' && !text.endsWith('\n')) throw new Error(`${path} ends in a torn line: ${JSON.stringify(text.slice(-80))}`);
  return text
    .split('\n')
    .slice(0, -1)
    .map((line, i) => {
      const value = JSON.parse(line) as Omit<QueueEntry, 'line'>;
      return { id: value.id, uri: value.uri, round: value.round, rank: value.rank, score: value.score, line: i + 1 };
    });
}

export interface LedgerState {
  readonly rounds: readonly RoundRecord[];
  readonly selections: readonly SelectionRecord[];
  readonly spent: number;
  readonly open: RoundRecord | null;
  readonly samples: ReadonlyMap<string, SampleRecord | null>;
}

/** The ledger's rounds and selections (and the records of `sampleIds`), or null when there is no ledger file. */
export function readLedger(path: string, sampleIds: readonly string[] = []): LedgerState | null {
  if (!existsSync(path)) return null;
  const ledger = Ledger.open(path, { mustExist: true });
  try {
    const rounds = ledger.rounds();
    return {
      rounds,
      selections: rounds.flatMap((r) => ledger.selections(r.id)),
      spent: ledger.spent(),
      open: ledger.openRound(),
      samples: new Map(sampleIds.map((id) => [id, ledger.sample(id)])),
    };
  } finally {
    ledger.close();
  }
}

/** Fails unless the ledger is absent or holds no round and no selection (a failed run left nothing half-done). */
export function expectNoRound(cwd: string): void {
  const { ledger, queue } = statePaths(cwd);
  const state = readLedger(ledger);
  expect(state?.rounds ?? []).toEqual([]);
  expect(state?.selections ?? []).toEqual([]);
  expect(readQueue(queue)).toEqual([]);
}

export interface Limits {
  readonly total: number;
  readonly perRound: number;
}

/**
 * The round guarantees, on what a sequence of runs left behind (budgets in samples):
 * - no image is selected twice, and none appears in the queue twice;
 * - every round that is queued has each of its selections in the queue exactly once, on the line its
 *   task id names, with the same round and rank; an open round's pushed lines are its own;
 * - the queue holds nothing the ledger did not select;
 * - no round exceeds the round cap, and the rounds together stay within the total.
 * Returns the ledger state for further checks.
 */
export function expectRoundsConsistent(cwd: string, limits: Limits): LedgerState {
  const paths = statePaths(cwd);
  const state = readLedger(paths.ledger);
  if (state === null) throw new Error(`no ledger at ${paths.ledger}`);
  const queue = readQueue(paths.queue);

  const selectedIds = state.selections.map((s) => s.id);
  expect(new Set(selectedIds).size).toBe(selectedIds.length);
  const queuedIds = queue.map((q) => q.id);
  expect(new Set(queuedIds).size).toBe(queuedIds.length);

  const selectionById = new Map(state.selections.map((s) => [s.id, s]));
  for (const entry of queue) {
    const selection = selectionById.get(entry.id);
    expect(selection).toBeDefined();
    expect({ round: entry.round, rank: entry.rank, uri: entry.uri }).toEqual({ round: selection!.round, rank: selection!.rank, uri: selection!.uri });
  }
  const lineById = new Map(queue.map((q) => [q.id, q.line]));
  for (const round of state.rounds) {
    const selections = state.selections.filter((s) => s.round === round.id);
    expect(selections).toHaveLength(round.selected);
    expect(selections.map((s) => s.rank)).toEqual(selections.map((_, i) => i + 1));
    expect(round.spent).toBe(selections.length);
    expect(round.spent).toBeLessThanOrEqual(limits.perRound);
    if (round.status === 'open') continue;
    for (const s of selections) {
      expect(lineById.has(s.id)).toBe(true);
      expect(s.taskId).toBe(String(lineById.get(s.id)));
      expect(s.state).toBe('queued');
    }
  }
  if (state.open === null) expect(new Set(queuedIds)).toEqual(new Set(selectedIds));
  expect(state.spent).toBe(state.selections.length);
  expect(state.spent).toBeLessThanOrEqual(limits.total);
  return state;
}
