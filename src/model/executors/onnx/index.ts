export { OnnxExecutor, ONNX_BACKEND } from './onnx-executor.js';
export type { OnnxExecutorOptions } from './onnx-executor.js';
export type { GraphKind } from './network-sessions.js';
export { loadOrt, tryLoadOrt } from './ort-runtime.js';
