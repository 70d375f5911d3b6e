import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlSink, labelsPathFor } from '../sinks/jsonl/index.js';
import { Ledger } from './ledger.js';
import { syncLabels } from './sync-labels.js';

describe('syncLabels', () => {
  it('records labels and skips from the sink, is idempotent, and closes finished rounds', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rpr-sync-'));
    const queue = join(dir, 'queue.jsonl');
    const ledger = Ledger.open(join(dir, 'ledger.sqlite'));
    await ledger.acquireLease();
    const sink = await JsonlSink.open({ path: queue });
    const ids = ['a', 'b', 'c'];
    const selections = ids.map((id, i) => ({ id, uri: `/p/${id}.png`, rank: i + 1, score: 0.5, cost: 1, scores: {}, predicted: 1 }));
    ledger.createRound({ policy: 'random', sink: 'jsonl', configDigest: 'c', modelDigest: 'm', budgetUnit: 'samples' }, selections, { total: 10, perRound: 10 });
    ledger.markQueued(1, await sink.push(selections.map((s) => ({ ...s, round: 1 }))));

    const labels = labelsPathFor(queue);
    appendFileSync(labels, `${JSON.stringify({ id: 'a', label: 4, annotator: 'ana' })}\n${JSON.stringify({ id: 'ghost', label: 1 })}\n`);
    expect(await syncLabels({ ledger, sink })).toEqual({ labeled: 1, skipped: 0, unchanged: 0, unknown: ['ghost'], closedRounds: [] });
    expect(ledger.sample('a')).toMatchObject({ state: 'labeled', label: 4, annotator: 'ana' });

    appendFileSync(labels, `${JSON.stringify({ id: 'b', status: 'skipped' })}\n${JSON.stringify({ id: 'c', label: 0 })}\n`);
    expect(await syncLabels({ ledger, sink })).toEqual({ labeled: 1, skipped: 1, unchanged: 1, unknown: ['ghost'], closedRounds: [1] });
    expect(ledger.round(1)?.status).toBe('closed');
    expect(await syncLabels({ ledger, sink })).toMatchObject({ labeled: 0, skipped: 0, unchanged: 3, closedRounds: [] });
    ledger.close();
  });
});
