/**
 * A small typed front to ONNX's GraphProto: named values, constants, nodes with typed attributes, and
 * the model bytes at the end. Value names are generated, so emitters only pass the names they got back.
 */
import type { OnnxAttribute, OnnxNode, OnnxTensor } from '../../onnx-proto.js';
import { DataType, EMIT_IR_VERSION, EMIT_OPSET, encodeModel, onnx } from '../../onnx-proto.js';

/** An attribute value: ints and floats are told apart by the key's spelling in `attrs` (see `Attrs`). */
export type AttrValue = number | string | readonly number[] | { readonly floats: readonly number[] } | { readonly float: number };

export type Attrs = Readonly<Record<string, AttrValue | undefined>>;

/** A graph input/output dimension: a size, or a name for a dimension known only at run time. */
export type Dim = number | string;

export type ElemType = 'float32' | 'float64' | 'int64';

const ELEM: Record<ElemType, number> = { float32: DataType.float, float64: DataType.double, int64: DataType.int64 };

const AttrType = onnx.AttributeProto.AttributeType;

function attribute(name: string, value: AttrValue): OnnxAttribute {
  if (typeof value === 'string') return { name, type: AttrType.STRING, s: new TextEncoder().encode(value) };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`attribute ${name}: ${value} is not an integer; pass { float } for floats`);
    return { name, type: AttrType.INT, i: value };
  }
  if ('floats' in value) return { name, type: AttrType.FLOATS, floats: [...value.floats] };
  if ('float' in value) return { name, type: AttrType.FLOAT, f: value.float };
  return { name, type: AttrType.INTS, ints: [...(value as readonly number[])] };
}

function bytesOf(data: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export class GraphBuilder {
  readonly #nodes: OnnxNode[] = [];
  readonly #initializers: OnnxTensor[] = [];
  readonly #inputs: { name: string; elem: ElemType; dims: readonly Dim[] }[] = [];
  readonly #outputs: { name: string; elem: ElemType }[] = [];
  readonly #constants = new Map<string, string>();
  #counter = 0;

  constructor(readonly name: string) {}

  fresh(hint: string): string {
    return `${hint}_${this.#counter++}`;
  }

  input(name: string, elem: ElemType, dims: readonly Dim[]): string {
    this.#inputs.push({ name, elem, dims });
    return name;
  }

  /** Marks `value` as a graph output under `name` (through an Identity when the names differ). */
  output(value: string, name: string, elem: ElemType = 'float32'): void {
    if (value !== name) this.#nodes.push({ opType: 'Identity', input: [value], output: [name], name: this.fresh('out') });
    this.#outputs.push({ name, elem });
  }

  /** A float32 initializer (weights); `key`, when given, shares one initializer between identical requests. */
  floats(hint: string, data: Float32Array, dims: readonly number[], key?: string): string {
    return this.#tensor(hint, DataType.float, bytesOf(data), dims, key);
  }

  int64s(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    return this.#tensor('i64', DataType.int64, bytesOf(BigInt64Array.from(values, (v) => BigInt(v))), dims, key);
  }

  /** A large int64 initializer (a lookup table), not shared: int64s() keys small constants by their values. */
  int64Table(hint: string, data: BigInt64Array): string {
    return this.#tensor(hint, DataType.int64, bytesOf(data), [data.length]);
  }

  scalar(value: number): string {
    return this.floats('c', Float32Array.of(value), [], `f32:${value}`);
  }

  #tensor(hint: string, dataType: number, raw: Uint8Array, dims: readonly number[], key?: string): string {
    const cached = key === undefined ? undefined : this.#constants.get(key);
    if (cached !== undefined) return cached;
    const name = this.fresh(hint);
    // A copy: the caller's array may be a view on a buffer it reuses.
    this.#initializers.push({ name, dataType, dims: [...dims], rawData: raw.slice() });
    if (key !== undefined) this.#constants.set(key, name);
    return name;
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: readonly string[], attrs: Attrs = {}): string {
    return this.opN(opType, inputs, 1, attrs)[0]!;
  }

  /** Adds a node with `outputs` outputs; '' in `inputs` is an omitted optional input. */
  opN(opType: string, inputs: readonly string[], outputs: number, attrs: Attrs = {}): string[] {
    const names = Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()));
    const attribute_ = Object.entries(attrs)
      .filter((e): e is [string, AttrValue] => e[1] !== undefined)
      .map(([k, v]) => attribute(k, v));
    this.#nodes.push({ opType, input: [...inputs], output: names, name: this.fresh(`n_${opType}`), attribute: attribute_ });
    return names;
  }

  /** The model bytes. */
  build(): Uint8Array {
    const tensorType = (elem: ElemType, dims?: readonly Dim[]) => ({
      tensorType: {
        elemType: ELEM[elem],
        ...(dims ? { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } : {}),
      },
    });
    return encodeModel({
      irVersion: EMIT_IR_VERSION,
      producerName: 'rpr-select',
      opsetImport: [{ domain: '', version: EMIT_OPSET }],
      graph: {
        name: this.name,
        node: this.#nodes,
        initializer: this.#initializers,
        input: this.#inputs.map((i) => ({ name: i.name, type: tensorType(i.elem, i.dims) })),
        output: this.#outputs.map((o) => ({ name: o.name, type: tensorType(o.elem) })),
      },
    });
  }
}
