import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportLabels } from './export-labels.js';
import { Ledger } from './ledger.js';
import { rprRejection } from '../../test/helpers/rpr-rejection.js';

function lines(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('exportLabels', () => {
  let dir: string;
  let ledger: Ledger;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rpr-export-'));
    ledger = Ledger.open(join(dir, 'ledger.sqlite'));
    await ledger.acquireLease();
    const selections = ['a', 'b', 'c', 'd'].map((id, i) => ({ id, uri: `/p/${id}.png`, rank: i + 1, score: 0.1, cost: 1, scores: {}, predicted: 0 }));
    ledger.createRound({ policy: 'random', sink: 'jsonl', configDigest: 'c', modelDigest: 'm', budgetUnit: 'samples' }, selections, { total: 10, perRound: 10 });
    ledger.markQueued(1, new Map(selections.map((s, i) => [s.id, `t${i}`])));
  });

  afterEach(() => ledger.close());

  it('appends each labeled image once, with uri, label, annotator, time, round and task id; skipped images are not labels', async () => {
    const path = join(dir, 'out', 'labels.jsonl');
    ledger.recordLabels([
      { id: 'a', taskId: 't0', uri: '/p/a.png', status: 'labeled', label: '7', annotator: 'ana@x', time: '2025-01-02T03:04:05Z' },
      { id: 'b', taskId: 't1', uri: '/p/b.png', status: 'skipped', label: null, annotator: 'ana@x', time: null },
    ]);
    expect(await exportLabels(ledger, path)).toEqual({ path, appended: 1 });
    expect(lines(path)).toEqual([
      { id: 'a', uri: '/p/a.png', label: '7', annotator: 'ana@x', time: '2025-01-02T03:04:05Z', round: 1, taskId: 't0' },
    ]);

    expect(await exportLabels(ledger, path)).toEqual({ path, appended: 0 });
    ledger.recordLabels([{ id: 'c', taskId: 't2', uri: '/p/c.png', status: 'labeled', label: { x: 1 }, annotator: null, time: null }]);
    expect((await exportLabels(ledger, path)).appended).toBe(1);
    expect(lines(path).map((line) => [line['id'], line['label']])).toEqual([
      ['a', '7'],
      ['c', { x: 1 }],
    ]);
  });

  it('cuts a line torn by a crash and writes that image again; ids already in the file are not repeated', async () => {
    const path = join(dir, 'labels.jsonl');
    ledger.recordLabels(['a', 'c'].map((id) => ({ id, taskId: id, uri: `/p/${id}.png`, status: 'labeled' as const, label: 1, annotator: null, time: null })));
    writeFileSync(path, `${JSON.stringify({ id: 'a', label: 1 })}\n`);
    appendFileSync(path, '{"id": "c", "lab');
    expect((await exportLabels(ledger, path)).appended).toBe(1);
    expect(lines(path).map((line) => line['id'])).toEqual(['a', 'c']);
  });

  it('refuses a file whose lines are not label lines, naming the line', async () => {
    const path = join(dir, 'labels.jsonl');
    writeFileSync(path, `${JSON.stringify({ id: 'a' })}\n[1, 2]\n`);
    const error = await rprRejection(exportLabels(ledger, path));
    expect(error).toMatchObject({ code: 'RPR_CONFIG', context: { path, line: 2 } });
  });
});
