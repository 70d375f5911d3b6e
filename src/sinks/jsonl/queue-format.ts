/** The local queue's line format, and the CSV export of the same records. */
import type { SinkItem } from '../sink.js';

/** One line of the queue file. */
export interface QueueLine extends SinkItem {
  /** ISO-8601 time the line was appended. */
  readonly queuedAt: string;
}

export function formatQueueLine(item: SinkItem, queuedAt: string): string {
  const line: QueueLine = {
    id: item.id,
    uri: item.uri,
    round: item.round,
    rank: item.rank,
    score: item.score,
    scores: item.scores,
    predicted: item.predicted,
    queuedAt,
  };
  return JSON.stringify(line);
}

type Cell = string | number | null | undefined;

/**
 * CSV with a header: id, uri, round, rank, score, predicted, the `extra` fields asked for, then one
 * column per score name (sorted) so spreadsheets get numbers, not JSON.
 */
export function formatCsv<T extends SinkItem>(items: readonly T[], extra: readonly (keyof T & string)[] = []): string {
  const scoreNames = [...new Set(items.flatMap((item) => Object.keys(item.scores)))].sort();
  const header = ['id', 'uri', 'round', 'rank', 'score', 'predicted', ...extra, ...scoreNames];
  const rows = items.map((item): Cell[] => [
    item.id,
    item.uri,
    item.round,
    item.rank,
    item.score,
    item.predicted,
    ...extra.map((key) => item[key] as Cell),
    ...scoreNames.map((name) => item.scores[name]),
  ]);
  return [header, ...rows].map((row) => row.map(csvField).join(',')).join('\n') + '\n';
}

/** RFC 4180: quote a field holding a comma, quote or line break, doubling inner quotes. */
function csvField(value: Cell): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
