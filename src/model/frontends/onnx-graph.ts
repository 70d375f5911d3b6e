/**
 * An ONNX model file as plain values: its nodes with typed attribute access, its constants (initializers
 * and Constant nodes) decoded to numbers, and its one image input and one output. Bad bytes and models
 * rpr-select cannot take (several inputs or outputs, weights in external files) are RPR_MODEL_INVALID /
 * RPR_INPUT_SHAPE errors naming the file.
 */
import { RprError } from '../../errors/index.js';
import type { OnnxAttribute, OnnxNode, OnnxTensor } from '../onnx-proto.js';
import { DataType, decodeModel } from '../onnx-proto.js';

/** A constant: row-major values (int64 ones as numbers) and dims. */
export interface OnnxConstant {
  readonly dims: readonly number[];
  readonly values: Float64Array;
}

export interface OnnxGraphNode {
  /** The node's name, or its first output's when the exporter left it empty. */
  readonly name: string;
  readonly opType: string;
  /** Input value names; '' for an omitted optional input. */
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: ReadonlyMap<string, OnnxAttribute>;
}

export interface OnnxGraph {
  readonly path: string;
  readonly nodes: readonly OnnxGraphNode[];
  readonly constants: ReadonlyMap<string, OnnxConstant>;
  readonly input: { readonly name: string; readonly dims: readonly (number | string)[] };
  readonly output: string;
  readonly opset: number;
}

function invalid(path: string, why: string): RprError {
  return new RprError('RPR_MODEL_INVALID', `ONNX model '${path}' ${why}`, { path });
}

function toNumber(v: number | { toNumber(): number }): number {
  return typeof v === 'number' ? v : v.toNumber();
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/** Reads an external data file named by a tensor (a path relative to the model file). */
export type ExternalData = (location: string) => Uint8Array;

/** The bytes of a tensor stored outside the model (torch.onnx.export writes `model.onnx.data` by default). */
function externalBytes(t: OnnxTensor, path: string, what: string, external: ExternalData | null): Uint8Array {
  const entry = new Map((t.externalData ?? []).map((e) => [e.key ?? '', e.value ?? '']));
  const location = entry.get('location');
  if (!location || !external) throw invalid(path, `keeps ${what} in an external data file it does not name`);
  if (location.split(/[\\/]/).includes('..')) throw invalid(path, `names external data '${location}' outside its own directory`);
  const file = external(location);
  const offset = Number(entry.get('offset') ?? 0);
  const length = entry.has('length') ? Number(entry.get('length')) : file.length - offset;
  if (offset + length > file.length) throw invalid(path, `has ${what} past the end of its external data file '${location}'`);
  return file.subarray(offset, offset + length);
}

/** A TensorProto's values as float64 (exact for float32, float16 and int64 values below 2⁵³). */
function tensorValues(t: OnnxTensor, path: string, what: string, external: ExternalData | null = null): Float64Array {
  const dims = (t.dims ?? []).map(toNumber);
  const size = dims.reduce((a, b) => a * b, 1);
  const stored = t.dataLocation === 1 ? externalBytes(t, path, what, external) : t.rawData;
  const raw = stored && stored.length > 0 ? stored : null;
  const view = raw ? new DataView(raw.buffer, raw.byteOffset, raw.byteLength) : null;
  const out = new Float64Array(size);
  const type = t.dataType ?? 0;
  const read = (fromRaw: (i: number) => number, fromField: ArrayLike<number | { toNumber(): number }> | null | undefined) => {
    if (view) for (let i = 0; i < size; i++) out[i] = fromRaw(i);
    else if (fromField && fromField.length === size) for (let i = 0; i < size; i++) out[i] = toNumber(fromField[i]!);
    else if (size > 0) throw invalid(path, `has ${what} with ${fromField?.length ?? 0} values for dims [${dims.join(', ')}]`);
  };
  switch (type) {
    case DataType.float:
      read((i) => view!.getFloat32(4 * i, true), t.floatData);
      break;
    case DataType.double:
      read((i) => view!.getFloat64(8 * i, true), t.doubleData);
      break;
    case DataType.float16:
      read((i) => halfToFloat(view!.getUint16(2 * i, true)), t.int32Data?.map((v) => halfToFloat(v)));
      break;
    case DataType.int64:
      read((i) => Number(view!.getBigInt64(8 * i, true)), t.int64Data);
      break;
    case DataType.int32:
      read((i) => view!.getInt32(4 * i, true), t.int32Data);
      break;
    case DataType.int8:
    case DataType.uint8:
    case DataType.bool:
      read((i) => (type === DataType.int8 ? view!.getInt8(i) : view!.getUint8(i)), t.int32Data);
      break;
    default:
      throw invalid(path, `has ${what} of ONNX data type ${type}, which rpr-select does not read`);
  }
  return out;
}

function constantOf(t: OnnxTensor, path: string, what: string, external: ExternalData | null = null): OnnxConstant {
  return { dims: (t.dims ?? []).map(toNumber), values: tensorValues(t, path, what, external) };
}

/** A Constant node's value, from whichever of its attributes it uses. */
function constantNodeValue(node: OnnxGraphNode, path: string): OnnxConstant {
  const a = (k: string) => node.attrs.get(k);
  const value = a('value');
  if (value?.t) return constantOf(value.t, path, `the value of Constant '${node.name}'`);
  if (a('value_float')) return { dims: [], values: Float64Array.of(a('value_float')!.f ?? 0) };
  if (a('value_floats')) return { dims: [a('value_floats')!.floats!.length], values: Float64Array.from(a('value_floats')!.floats!) };
  if (a('value_int')) return { dims: [], values: Float64Array.of(toNumber(a('value_int')!.i ?? 0)) };
  if (a('value_ints')) return { dims: [a('value_ints')!.ints!.length], values: Float64Array.from(a('value_ints')!.ints!.map(toNumber)) };
  throw invalid(path, `has a Constant node '${node.name}' with no value rpr-select can read`);
}

function graphNode(n: OnnxNode): OnnxGraphNode {
  const outputs = n.output ?? [];
  return {
    name: n.name || outputs[0] || '(unnamed)',
    opType: n.opType ?? '',
    inputs: n.input ?? [],
    outputs,
    attrs: new Map((n.attribute ?? []).map((a) => [a.name ?? '', a])),
  };
}

/** The graph of a model's bytes; `external` reads the weight files a model names (null: none may be named). */
export function readOnnxGraph(bytes: Uint8Array, path: string, external: ExternalData | null = null): OnnxGraph {
  let model;
  try {
    model = decodeModel(bytes);
  } catch (error) {
    throw invalid(path, `is not an ONNX model (${error instanceof Error ? error.message : String(error)})`);
  }
  const graph = model.graph;
  if (!graph || !graph.node || graph.node.length === 0) throw invalid(path, 'has no graph');
  const constants = new Map<string, OnnxConstant>();
  for (const t of graph.initializer ?? []) constants.set(t.name ?? '', constantOf(t, path, `initializer '${t.name}'`, external));
  const nodes: OnnxGraphNode[] = [];
  for (const raw of graph.node) {
    const node = graphNode(raw);
    if (node.opType === 'Constant' && (raw.domain ?? '') === '') constants.set(node.outputs[0]!, constantNodeValue(node, path));
    else nodes.push(node);
  }
  // Old exporters list the initializers among the inputs too.
  const inputs = (graph.input ?? []).filter((i) => !constants.has(i.name ?? ''));
  if (inputs.length !== 1) throw invalid(path, `has ${inputs.length} inputs; rpr-select needs exactly one (the image)`);
  if ((graph.output ?? []).length !== 1) throw invalid(path, `has ${(graph.output ?? []).length} outputs; rpr-select needs exactly one`);
  const input = inputs[0]!;
  const dims = (input.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue === undefined || d.dimValue === null ? '?' : toNumber(d.dimValue)));
  const opset = (model.opsetImport ?? []).filter((o) => (o.domain ?? '') === '' || o.domain === 'ai.onnx').map((o) => toNumber(o.version ?? 0))[0] ?? 0;
  return { path, nodes, constants, input: { name: input.name ?? '', dims }, output: graph.output![0]!.name ?? '', opset };
}

export function attrInt(node: OnnxGraphNode, key: string, fallback: number): number {
  const a = node.attrs.get(key);
  return a?.i === undefined || a.i === null ? fallback : toNumber(a.i);
}

export function attrFloat(node: OnnxGraphNode, key: string, fallback: number): number {
  const a = node.attrs.get(key);
  if (!a) return fallback;
  // Some exporters write an integral attribute (Clip's min) as an INT.
  return a.type === 2 ? toNumber(a.i ?? 0) : (a.f ?? fallback);
}

export function attrInts(node: OnnxGraphNode, key: string): number[] | null {
  const a = node.attrs.get(key);
  return a?.ints && a.ints.length > 0 ? a.ints.map(toNumber) : null;
}

export function attrString(node: OnnxGraphNode, key: string, fallback: string): string {
  const a = node.attrs.get(key);
  return a?.s && a.s.length > 0 ? new TextDecoder().decode(a.s) : fallback;
}
