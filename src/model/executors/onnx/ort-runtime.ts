/**
 * The one place rpr-select loads onnxruntime-node. It is loaded on demand, so a machine whose native
 * binary cannot load still runs everything on TF.js (`--engine auto` falls back, `--engine onnxruntime`
 * names the problem).
 */
import type * as Ort from 'onnxruntime-node';
import { RprError } from '../../../errors/index.js';
import { GraphBuilder } from './graph-builder.js';

export type OrtModule = typeof Ort;
export type OrtSession = Ort.InferenceSession;
export type OrtTensor = Ort.Tensor;

// A specifier in a variable keeps the import lazy in every bundler and test transform.
const ORT = 'onnxruntime-node';
let loading: Promise<OrtModule | Error> | null = null;

/**
 * Runs a one-node graph: the binding is native, and a package that imports but cannot run (a missing
 * shared library, or a realm whose typed arrays the binding's outputs fail `instanceof` against, as in
 * Jest's default sandbox) is not usable.
 */
async function probe(mod: OrtModule): Promise<OrtModule> {
  const b = new GraphBuilder('probe');
  b.output(b.op('Relu', [b.input('x', 'float32', [1])]), 'y');
  const session = await mod.InferenceSession.create(b.build(), { logSeverityLevel: 3 });
  try {
    const out = await session.run({ x: new mod.Tensor('float32', Float32Array.of(2), [1]) });
    if (out['y']?.data[0] !== 2) throw new Error('the probe graph computed a wrong value');
  } finally {
    await session.release();
  }
  return mod;
}

function load(): Promise<OrtModule | Error> {
  loading ??= import(ORT)
    .then((m: OrtModule & { default?: OrtModule }) => probe(m.InferenceSession ? m : m.default!))
    .catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  return loading;
}

/** onnxruntime-node, or null when it cannot be loaded here. */
export async function tryLoadOrt(): Promise<OrtModule | null> {
  const m = await load();
  return m instanceof Error ? null : m;
}

/** onnxruntime-node; RPR_BACKEND naming the cause when it cannot be loaded. */
export async function loadOrt(): Promise<OrtModule> {
  const m = await load();
  if (m instanceof Error) {
    const why = m.message.split('\n', 1)[0]!;
    throw new RprError(
      'RPR_BACKEND',
      `onnxruntime-node could not be loaded (${why}); reinstall it with npm install (the project .npmrc sets ` +
        `onnxruntime-node-install=skip, the CPU binary is inside the package), or pass --engine tfjs`,
      { engine: 'onnxruntime' },
    );
  }
  return m;
}
