/**
 * The one place rpr-select imports ONNX's protobuf schema (the `onnx-proto` package: ONNX's published
 * onnx.proto compiled for protobufjs). Graphs are written (executors/onnx) and models read
 * (frontends/onnx-graph.ts) through it, never by hand.
 */
import onnxProto from 'onnx-proto';

export const onnx = onnxProto.onnx;
type OnnxModel = onnxProto.onnx.IModelProto;
export type OnnxNode = onnxProto.onnx.INodeProto;
export type OnnxTensor = onnxProto.onnx.ITensorProto;
export type OnnxAttribute = onnxProto.onnx.IAttributeProto;

/** TensorProto.DataType values used here. */
export const DataType = { float: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10, double: 11 } as const;

/** The opset every emitted graph imports: ScatterElements' `reduction` needs 16, IR version 8 allows up to 17. */
export const EMIT_OPSET = 17;
export const EMIT_IR_VERSION = 8;

/** Encodes a model to the bytes onnxruntime and onnx read. */
export function encodeModel(model: OnnxModel): Uint8Array {
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Decodes model bytes; throws protobufjs's error on bytes that are not a ModelProto. */
export function decodeModel(bytes: Uint8Array): onnxProto.onnx.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
