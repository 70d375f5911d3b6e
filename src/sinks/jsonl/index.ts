export { JsonlSink, labelsPathFor } from './jsonl-sink.js';
export type { JsonlSinkOptions } from './jsonl-sink.js';
export { formatCsv, formatQueueLine } from './queue-format.js';
export type { QueueLine } from './queue-format.js';
