import { labelRecordOf } from './label-records.js';
import type { RawAnnotation, RawTask } from './task-pages.js';

const choice = (value: string) => [{ from_name: 'label', to_name: 'image', type: 'choices', value: { choices: [value] } }];
const emails: Record<number, string> = { 1: 'ann@example.org', 2: 'bob@example.org' };
const annotator = (a: RawAnnotation) => (typeof a.completed_by === 'number' ? (emails[a.completed_by] ?? null) : null);

function task(annotations: RawAnnotation[], data: Record<string, unknown> = { rpr_sample_id: 'abc', uri: '/p/a.png' }): RawTask {
  return { id: 42, data, annotations };
}

describe('labelRecordOf', () => {
  it('takes the first submitted annotation by id, skipping cancelled ones before it', () => {
    const record = labelRecordOf(
      task([
        { id: 9, result: choice('3'), was_cancelled: false, completed_by: 2, created_at: '2026-01-02T00:00:00Z' },
        { id: 5, result: [], was_cancelled: true, completed_by: 1, created_at: '2026-01-01T00:00:00Z' },
        { id: 7, result: choice('8'), was_cancelled: false, completed_by: 1, created_at: '2026-01-01T12:00:00Z' },
      ]),
      annotator,
    );
    expect(record).toEqual({
      id: 'abc',
      taskId: '42',
      uri: '/p/a.png',
      status: 'labeled',
      label: '8',
      annotator: 'ann@example.org',
      time: '2026-01-01T12:00:00Z',
    });
  });

  it('reports a task whose annotations were all cancelled as skipped, without a label', () => {
    const record = labelRecordOf(
      task([
        { id: 3, result: [], was_cancelled: true, completed_by: 2, created_at: 't2' },
        { id: 2, result: [], was_cancelled: true, completed_by: 1, created_at: 't1' },
      ]),
      annotator,
    );
    expect(record).toMatchObject({ status: 'skipped', label: null, annotator: 'ann@example.org', time: 't1' });
  });

  it('gives several choices as a list and other controls as the raw result', () => {
    const multi = [{ type: 'choices', value: { choices: ['a', 'b'] } }];
    expect(labelRecordOf(task([{ id: 1, result: multi }]), annotator)?.label).toEqual(['a', 'b']);
    const box = [{ type: 'rectanglelabels', value: { x: 1, y: 2, width: 3, height: 4, rectanglelabels: ['a'] } }];
    expect(labelRecordOf(task([{ id: 1, result: box }]), annotator)?.label).toEqual(box);
  });

  it('ignores tasks without a sample id or without annotations', () => {
    expect(labelRecordOf(task([{ id: 1, result: choice('1') }], { image: 'x' }), annotator)).toBeNull();
    expect(labelRecordOf(task([]), annotator)).toBeNull();
  });

  it('falls back to the image URL when the task has no uri', () => {
    const record = labelRecordOf(task([{ id: 1, result: choice('1') }], { rpr_sample_id: 's', image: 'http://h/a.png' }), annotator);
    expect(record?.uri).toBe('http://h/a.png');
  });
});
