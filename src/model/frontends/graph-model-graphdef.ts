/**
 * The TensorFlow GraphDef inside a converted TF.js GraphModel, as the JSON form of its protobuf:
 * nodes with string input references and typed attributes (strings base64-encoded, 64-bit integers as
 * decimal strings, false booleans and empty lists left out). Readers here return plain values.
 */
import { RprError } from '../../errors/index.js';
import { tf } from '../tf-runtime.js';
import type { tfconv } from '../tf-runtime.js';

export interface AttrValue {
  readonly s?: string | readonly number[];
  readonly i?: string | number;
  readonly f?: number;
  readonly b?: boolean;
  readonly list?: {
    readonly s?: readonly (string | readonly number[])[];
    readonly i?: readonly (string | number)[];
    readonly f?: readonly number[];
  };
}

export interface GraphNodeDef {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, AttrValue>>;
}

/** One output of a node: `name` or `name:index`. */
export interface TensorRef {
  readonly name: string;
  readonly index: number;
}

export function parseRef(ref: string): TensorRef {
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? { name: m[1]!, index: Number(m[2]) } : { name: ref, index: 0 };
}

/** The node's tensor inputs in order; control dependencies (`^name`) carry no data and are left out. */
export function tensorInputs(node: GraphNodeDef): TensorRef[] {
  return (node.input ?? []).filter((ref) => !ref.startsWith('^')).map(parseRef);
}

function decodeString(s: string | readonly number[]): string {
  return typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : String.fromCharCode(...s);
}

function toInt(v: string | number): number {
  return typeof v === 'number' ? v : Number.parseInt(v, 10);
}

export function attrString(node: GraphNodeDef, key: string): string | undefined {
  const s = node.attr?.[key]?.s;
  return s === undefined ? undefined : decodeString(s);
}

export function attrStrings(node: GraphNodeDef, key: string): string[] {
  return (node.attr?.[key]?.list?.s ?? []).map(decodeString);
}

export function attrInts(node: GraphNodeDef, key: string): number[] | undefined {
  const list = node.attr?.[key]?.list;
  return list === undefined ? undefined : (list.i ?? []).map(toInt);
}

/** A float or integer attribute. */
export function attrNumber(node: GraphNodeDef, key: string): number | undefined {
  const a = node.attr?.[key];
  if (a?.f !== undefined) return a.f;
  return a?.i === undefined ? undefined : toInt(a.i);
}

export function attrBool(node: GraphNodeDef, key: string): boolean {
  return node.attr?.[key]?.b === true;
}

function isGraphDef(value: unknown): value is { node: GraphNodeDef[] } {
  if (typeof value !== 'object' || value === null) return false;
  const nodes = (value as { node?: unknown }).node;
  return (
    Array.isArray(nodes) &&
    nodes.every((n: unknown) => typeof n === 'object' && n !== null && typeof (n as GraphNodeDef).name === 'string' && typeof (n as GraphNodeDef).op === 'string')
  );
}

/**
 * The GraphDef the model was loaded from. GraphModel keeps its artifacts private; `save` is the public
 * way to read them back, here into memory.
 */
export async function readGraphDef(model: tfconv.GraphModel): Promise<readonly GraphNodeDef[]> {
  let topology: unknown = null;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      topology = artifacts.modelTopology;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!isGraphDef(topology)) {
    throw new RprError('RPR_MODEL_INVALID', 'the graph model has no TensorFlow GraphDef (modelTopology.node) to read its layers from');
  }
  return topology.node;
}
