/**
 * The one place rpr-select imports TF.js. Everything else takes `tf` (tfjs-core), `tfl` (tfjs-layers)
 * and `tfconv` (tfjs-converter) from here, so there is a single engine and a single backend choice.
 *
 * Only tfjs-core is loaded, not the `@tensorflow/tfjs` union package, so chained ops (`x.relu()`) are
 * not registered: use the functional ops (`tf.relu(x)`).
 */
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import * as tfconv from '@tensorflow/tfjs-converter';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { RprError, errors } from '../errors/index.js';
import { conv2dFilterGradient } from './conv2d-filter-gradient.js';

export { tf, tfl, tfconv };

/** Backends rpr-select can run on, fastest first; `auto` takes the first that loads. */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
type ConcreteBackend = Exclude<BackendChoice, 'auto'>;

/** The two methods of tfjs-backend-wasm's backend that a kernel written in JS needs. */
interface WasmKernelBackend {
  readSync(dataId: tf.DataId): tf.backend_util.BackendValues;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: Float32Array): tf.TensorInfo;
}

// The wasm backend lacks this kernel, so without it no conv layer can be trained there (see
// conv2d-filter-gradient.ts); the cpu backend keeps its own.
if (tf.getKernel(tf.Conv2DBackpropFilter, 'wasm') === undefined) {
  tf.registerKernel({
    kernelName: tf.Conv2DBackpropFilter,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { x, dy } = inputs as tf.Conv2DBackpropFilterInputs;
      const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
        attrs as unknown as tf.Conv2DBackpropFilterAttrs;
      const info = tf.backend_util.computeConv2DInfo(
        x!.shape as [number, number, number, number],
        filterShape,
        strides,
        1,
        pad,
        dimRoundingMode,
        false,
        tf.backend_util.convertConv2DDataFormat(dataFormat),
      );
      if (info.dataFormat !== 'channelsLast' || x!.dtype !== 'float32' || dy!.dtype !== 'float32') {
        throw new RprError('RPR_BACKEND', 'the wasm Conv2DBackpropFilter kernel takes float32 NHWC tensors only');
      }
      const wasm = backend as unknown as WasmKernelBackend;
      const gradient = conv2dFilterGradient(
        wasm.readSync(x!.dataId) as Float32Array,
        wasm.readSync(dy!.dataId) as Float32Array,
        {
          xShape: [info.batchSize, info.inHeight, info.inWidth, info.inChannels],
          dyShape: [info.batchSize, info.outHeight, info.outWidth, info.outChannels],
          filterSize: [info.filterHeight, info.filterWidth],
          strides: [info.strideHeight, info.strideWidth],
          padTopLeft: [info.padInfo.top, info.padInfo.left],
        },
      );
      return wasm.makeOutput([...info.filterShape], 'float32', undefined, gradient);
    },
  });
}

const AUTO_ORDER: readonly ConcreteBackend[] = ['tensorflow', 'wasm', 'cpu'];

const HOW_TO_GET: Record<ConcreteBackend, string> = {
  tensorflow: 'install @tensorflow/tfjs-node 4.22 (its installer downloads libtensorflow), or choose the wasm backend',
  wasm:
    'reinstall @tensorflow/tfjs-backend-wasm 4.22 (its .wasm files must sit in its dist/ folder), ' +
    'or choose the cpu backend',
  cpu: 'reinstall @tensorflow/tfjs-backend-cpu 4.22',
};

// A specifier in a variable, so TypeScript does not require the optional package at compile time.
const TFJS_NODE = '@tensorflow/tfjs-node';
let tfjsNodeLoad: Promise<boolean> | null = null;

/** Loads tfjs-node once; true when it registered the `tensorflow` backend with our copy of tfjs-core. */
function loadTfjsNode(): Promise<boolean> {
  tfjsNodeLoad ??= import(TFJS_NODE).then(
    () => tf.findBackendFactory('tensorflow') !== null,
    () => false,
  );
  return tfjsNodeLoad;
}

// tfjs-backend-cpu advises Node users to install tfjs-node on its first tensor; that advice cannot
// be followed here (see HOW_TO_GET), so the first tensor is written with warnings off.
function silenceCpuAdvice(): void {
  const env = tf.env();
  const prod = env.getBool('PROD');
  env.set('PROD', true);
  try {
    tf.dispose(tf.scalar(0));
  } finally {
    env.set('PROD', prod);
  }
}

let active: ConcreteBackend | null = null;

async function activate(backend: ConcreteBackend): Promise<boolean> {
  if (active === backend && tf.getBackend() === backend) return true;
  if (backend === 'tensorflow' && !(await loadTfjsNode())) return false;
  let ok: boolean;
  try {
    ok = await tf.setBackend(backend);
    await tf.ready();
  } catch {
    ok = false;
  }
  if (!ok) {
    // setBackend leaves the failed name as the engine's backend; put the working one back.
    if (active !== null) await tf.setBackend(active);
    return false;
  }
  if (backend === 'cpu') silenceCpuAdvice();
  active = backend;
  return true;
}

export function isBackendChoice(name: string): name is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(name);
}

let queue: Promise<unknown> = Promise.resolve();

/**
 * Makes `preferred` the TF.js backend and returns the name in use. `auto` (the default) takes
 * tfjs-node when it loads, else wasm, else cpu. Calling it again with the same choice does nothing;
 * calls are serialized, so concurrent callers never interleave a backend switch.
 *
 * @throws RprError RPR_UNKNOWN_NAME for a name outside BACKEND_CHOICES, RPR_BACKEND when an explicit
 *   choice cannot load (the message names what to install).
 */
export function initBackend(preferred: BackendChoice = 'auto'): Promise<string> {
  if (!isBackendChoice(preferred)) {
    return Promise.reject(errors.unknownName('backend', String(preferred), BACKEND_CHOICES));
  }
  const run = async (): Promise<string> => {
    const candidates = preferred === 'auto' ? AUTO_ORDER : [preferred];
    for (const backend of candidates) {
      if (await activate(backend)) return backend;
    }
    const failed = candidates[candidates.length - 1]!;
    const what =
      preferred === 'auto'
        ? `none of the TF.js backends '${AUTO_ORDER.join("', '")}' could be loaded`
        : `TF.js backend '${failed}' could not be loaded`;
    throw new RprError('RPR_BACKEND', `${what}: ${HOW_TO_GET[failed]}`, { backend: preferred });
  };
  const result = queue.then(run, run);
  queue = result.catch(() => undefined);
  return result;
}
