import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RprError } from '../../errors/index.js';
import { describeSinkContract } from '../sink-contract.js';
import type { SinkItem } from '../sink.js';
import { JsonlSink, labelsPathFor } from './jsonl-sink.js';
import { formatCsv } from './queue-format.js';
import { rprRejection } from '../../../test/helpers/rpr-rejection.js';

function item(round: number, index: number): SinkItem {
  return {
    id: `${'0'.repeat(56)}${String(round).padStart(4, '0')}${String(index).padStart(4, '0')}`,
    uri: `/pool/r${round}/img-${index}.png`,
    round,
    rank: index + 1,
    score: 0.5 + index / 100,
    scores: { 'rpr@10': 0.5 - index / 100 },
    predicted: index % 10,
  };
}

function tempQueue(): string {
  return join(mkdtempSync(join(tmpdir(), 'rpr-queue-')), 'queue.jsonl');
}

describeSinkContract('jsonl', () => {
  const path = tempQueue();
  return {
    open: () => JsonlSink.open({ path }),
    reopen: () => JsonlSink.open({ path }),
    item,
    annotate: async (_sink, held, label) => {
      const line = label === undefined ? { id: held.id, status: 'skipped' } : { id: held.id, label, annotator: 'ana' };
      appendFileSync(labelsPathFor(path), `${JSON.stringify(line)}\n`);
    },
  };
});

describe('JsonlSink', () => {
  it('writes one line per item with its id, uri, round, rank, scores and predicted class', async () => {
    const path = tempQueue();
    const sink = await JsonlSink.open({ path, now: () => Date.UTC(2025, 0, 2) });
    await sink.push([item(1, 0), item(1, 1)]);
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toBe('');
    expect(JSON.parse(lines[1]!)).toEqual({ ...item(1, 1), queuedAt: '2025-01-02T00:00:00.000Z' });
  });

  it('cuts a torn last line left by a crash, then appends on a line of its own, each item once', async () => {
    const path = tempQueue();
    const first = await JsonlSink.open({ path });
    await first.push([item(1, 0), item(1, 1)]);
    // A crash in the middle of appending item 2: part of its line, no newline.
    const whole = readFileSync(path, 'utf8');
    appendFileSync(path, JSON.stringify({ ...item(1, 2), queuedAt: 'x' }).slice(0, 40));
    const reopened = await JsonlSink.open({ path });
    expect(reopened.recoveredBytes).toBe(40);
    expect(readFileSync(path, 'utf8')).toBe(whole);
    const ids = await reopened.push([item(1, 0), item(1, 1), item(1, 2)]);
    expect([...ids.values()]).toEqual(['1', '2', '3']);
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as SinkItem);
    expect(lines.map((l) => l.id)).toEqual([item(1, 0).id, item(1, 1).id, item(1, 2).id]);
  });

  it('cuts a file that is one torn line entirely', async () => {
    const path = tempQueue();
    writeFileSync(path, '{"id":"abc","ur');
    const sink = await JsonlSink.open({ path });
    expect(sink.recoveredBytes).toBe(15);
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('refuses a corrupt line in the middle, naming the file and line', async () => {
    const path = tempQueue();
    writeFileSync(path, `${JSON.stringify(item(1, 0))}\nnot json\n${JSON.stringify(item(1, 1))}\n`);
    const error = await rprRejection(JsonlSink.open({ path }));
    expect(error.code).toBe('RPR_SINK_REFUSED');
    expect(error.message).toContain(`${path} line 2 is not valid JSON`);
  });

  it('reads labels from <queue>.labels.jsonl, and names a bad line', async () => {
    const path = tempQueue();
    expect(labelsPathFor(path)).toBe(path.replace(/queue\.jsonl$/, 'queue.labels.jsonl'));
    const sink = await JsonlSink.open({ path });
    await sink.push([item(1, 0)]);
    writeFileSync(
      labelsPathFor(path),
      `${JSON.stringify({ id: item(1, 0).id, label: 3, time: '2025-02-03T04:05:06Z' })}\n\n${JSON.stringify({ id: 'unknown', label: 1 })}\n`,
    );
    const labels = [];
    for await (const l of sink.fetchLabels()) labels.push(l);
    expect(labels).toEqual([
      { id: item(1, 0).id, taskId: '1', uri: item(1, 0).uri, status: 'labeled', label: 3, annotator: null, time: '2025-02-03T04:05:06Z' },
      { id: 'unknown', taskId: '', uri: '', status: 'labeled', label: 1, annotator: null, time: null },
    ]);
    writeFileSync(labelsPathFor(path), `${JSON.stringify({ id: item(1, 0).id })}\n`);
    const bad = await (async () => {
      for await (const l of sink.fetchLabels()) void l;
    })().catch((e: unknown) => e);
    expect((bad as RprError).message).toMatch(/labels\.jsonl line 1: "label" is missing/);
  });
});

describe('formatCsv', () => {
  it('writes a header, one row per item, score columns, and quotes what needs quoting', () => {
    const items: SinkItem[] = [
      { ...item(1, 0), uri: '/pool/a,b "c".png', scores: { 'rpr@10': 0.25, entropy: 1.5 } },
      { ...item(1, 1), score: null, predicted: null, scores: { 'rpr@10': 0.5 } },
    ];
    expect(formatCsv(items)).toBe(
      [
        'id,uri,round,rank,score,predicted,entropy,rpr@10',
        `${items[0]!.id},"/pool/a,b ""c"".png",1,1,0.5,0,1.5,0.25`,
        `${items[1]!.id},/pool/r1/img-1.png,1,2,,,,0.5`,
        '',
      ].join('\n'),
    );
  });
});
