/**
 * The PyTorch peer, side by side with rpr-select in the same run: the same demo-model weights (the peer
 * reads the TF.js model files itself), the same decoded images (written as .npy), per-sample RPR on
 * both sides; reports the largest |RPR difference| and both throughputs.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { perSampleBatchSize, scorePerSample } from '../src/metrics/index.js';
import { ScoringWorkerPool } from '../src/metrics/worker-pool.js';
import { loadModel, type EngineChoice } from '../src/model/load-model.js';
import { modelPreprocessing } from '../src/metrics/index.js';
import { decodeImage } from '../src/pool/index.js';
import type { Sample } from '../src/pool/types.js';
import { packageRoot } from '../src/util/package-root.js';
import { digitBases } from './synthetic-pool.js';

const run = promisify(execFile);
const KS = [1, 5, 10];

export interface PeerSide {
  readonly threads: number;
  readonly imagesPerSecond: number;
}

export interface PeerComparison {
  readonly agreement: { readonly images: number; readonly maxAbsRprDiff: number };
  /** Both sides on the whole machine: rpr-select with 2 worker threads, PyTorch with 2 intra-op threads. */
  readonly ratio: { readonly rprSelectPerSecond: number; readonly pytorchPerSecond: number };
  readonly oneCore: { readonly rprSelectPerSecond: number; readonly pytorchPerSecond: number };
  readonly torch: string;
  /** The rpr-select engine and backend. */
  readonly backend: string;
  readonly ks: readonly number[];
  readonly timed: string;
}

/** A NumPy .npy (v1.0) file of little-endian float32 with the given shape. */
export function npyFloat32(data: Float32Array, shape: readonly number[]): Buffer {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

/** Makes the peer's virtualenv (bench/peer/setup-venv.sh) and returns its python, or throws why not. */
export async function peerPython(): Promise<string> {
  const { stdout } = await run('bash', [join(packageRoot(), 'bench', 'peer', 'setup-venv.sh')], { maxBuffer: 1 << 20, timeout: 1_800_000 });
  const python = join(stdout.trim(), 'bin', 'python');
  if (!existsSync(python)) throw new Error(`the peer's virtualenv has no ${python}`);
  return python;
}

async function rprSelect(modelPath: string, engine: EngineChoice, samples: readonly Sample[], workers: number): Promise<{ perSecond: number; rpr: number[][] }> {
  const options = { ks: KS, svd: 'exact' as const };
  if (workers === 1) {
    const model = await loadModel(modelPath, { engine, backend: 'wasm' });
    const batch = perSampleBatchSize(model.executor, options);
    await scorePerSample(model.executor, samples.slice(0, 2), options);
    const start = performance.now();
    const rpr: number[][] = [];
    for (let i = 0; i < samples.length; i += batch) {
      for (const r of await scorePerSample(model.executor, samples.slice(i, i + batch), options)) rpr.push(KS.map((k) => r.rpr?.[String(k)] ?? Number.NaN));
    }
    const perSecond = samples.length / ((performance.now() - start) / 1000);
    model.executor.dispose();
    return { perSecond, rpr };
  }
  const pool = await ScoringWorkerPool.start(workers, { modelPath, engine, backend: 'wasm', keepFinalActivation: false, options });
  try {
    const batch = 32;
    // Warm-up, untimed: each worker's first call initializes its backend.
    await Promise.all(Array.from({ length: workers }, () => pool.score(samples.slice(0, 2))));
    const start = performance.now();
    const parts = [];
    for (let i = 0; i < samples.length; i += batch) parts.push(pool.score(samples.slice(i, i + batch)));
    const rpr = (await Promise.all(parts)).flat().map((r) => KS.map((k) => r.rpr?.[String(k)] ?? Number.NaN));
    return { perSecond: samples.length / ((performance.now() - start) / 1000), rpr };
  } finally {
    await pool.close();
  }
}

async function pytorch(python: string, modelPath: string, npy: string, threads: number, out: string) {
  await run(python, [join(packageRoot(), 'bench', 'peer', 'rpr_peer.py'), '--model', modelPath, '--images', npy, '--ks', KS.join(','), '--threads', String(threads), '--out', out], {
    env: { ...process.env, CUDA_VISIBLE_DEVICES: '' },
    maxBuffer: 1 << 24,
    timeout: 1_800_000,
  });
  return JSON.parse(await readFile(out, 'utf8')) as { imagesPerSecond: number; rpr: number[][]; torch: string; threads: number };
}

export async function comparePeer(python: string, modelPath: string, engine: EngineChoice, images: number, workDir: string): Promise<PeerComparison> {
  const model = await loadModel(modelPath, { engine, backend: 'wasm' });
  const backend = model.backend;
  const pre = modelPreprocessing(model);
  const shape = model.ir.inputShape;
  model.executor.dispose();
  const pngs = await digitBases(images);
  const pixels = await Promise.all(pngs.map((png) => decodeImage(png, pre)));
  const samples: Sample[] = pixels.map((p, i) => ({ id: `peer-${i}`, uri: `peer-${i}`, pixels: p }));
  const flat = new Float32Array(pixels.length * pixels[0]!.length);
  pixels.forEach((p, i) => flat.set(p, i * p.length));
  const npy = join(workDir, 'peer-images.npy');
  await writeFile(npy, npyFloat32(flat, [images, ...shape]));

  const one = await rprSelect(modelPath, engine, samples, 1);
  const two = await rprSelect(modelPath, engine, samples, 2);
  const torchOne = await pytorch(python, modelPath, npy, 1, join(workDir, 'peer-1.json'));
  const torchTwo = await pytorch(python, modelPath, npy, 2, join(workDir, 'peer-2.json'));
  let maxAbsRprDiff = 0;
  one.rpr.forEach((row, i) => row.forEach((v, j) => (maxAbsRprDiff = Math.max(maxAbsRprDiff, Math.abs(v - torchTwo.rpr[i]![j]!)))));
  return {
    agreement: { images, maxAbsRprDiff },
    ratio: { rprSelectPerSecond: two.perSecond, pytorchPerSecond: torchTwo.imagesPerSecond },
    oneCore: { rprSelectPerSecond: one.perSecond, pytorchPerSecond: torchOne.imagesPerSecond },
    torch: torchTwo.torch,
    backend,
    ks: KS,
    timed: 'exact per-sample RPR (Jacobian, SVD, projections) of decoded images in memory; model loading and decoding excluded on both sides',
  };
}
