/**
 * rpr-select as a library: everything the CLI does, a program can do by import. Each part of the flow
 * (DESIGN.md §2) is a namespace-free set of named exports from its folder's index.
 */
export * from './errors/index.js';
export * from './linalg/index.js';
export * from './model/index.js';
export * from './pool/index.js';
export * from './cache/index.js';
export * from './metrics/index.js';
export * from './policy/index.js';
export * from './sinks/index.js';
export * from './rounds/index.js';
export * from './config/index.js';
export * from './diagnostics/index.js';
export * from './distributed/index.js';
export { LabelStudioSink, createLabelStudioSink, LabelStudioPoolSource, startMlBackend, startWebhookListener, registerWebhook } from './sinks/label-studio/index.js';
