export type { HeldTask, LabelRecord, Sink, SinkItem, SinkTarget } from './sink.js';
export { createSink, registerSink, sinkNames } from './create-sink.js';
export type { SinkContext, SinkFactory } from './create-sink.js';
export { formatCsv, formatQueueLine, JsonlSink, labelsPathFor } from './jsonl/index.js';
export type { JsonlSinkOptions, QueueLine } from './jsonl/index.js';
