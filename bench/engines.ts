/**
 * `npm run bench:engines [-- --quick] [-- --peer] [-- --out FILE]`: the two engines side by side in one run, on the demo
 * model (models/mnist-cnn) and the ~1M-parameter 64×64×3 CNN (bench/large-cnn.ts, seeded weights):
 *
 * - forward images/s, and the m-forward floor (forward images/s ÷ m): an exact m-row Jacobian costs at
 *   least m passes;
 * - Jacobian images/s: the recording forward pass and one adjoint pass of the m unit cotangents, the
 *   dense m × n Jacobians handed to JavaScript;
 * - Gram images/s: Executor.gramians, the engine's whole share of exact RPR (the Jacobians reduced to
 *   A·Aᵀ and A·x in the engine; one fused graph on ONNX Runtime);
 * - exact per-sample RPR images/s: scorePerSample, the product's path (the Gram matrices, then their
 *   m × m eigendecompositions and the projections in JavaScript), on the calling thread and on two
 *   scoring worker threads;
 * - with --peer, the PyTorch peer (bench/peer/rpr_peer.py: torch.func vmap(jacrev) + NumPy SVD, two
 *   threads) on the same weights and images.
 *
 * This machine is shared: the cases run in interleaved rounds (so load swings hit all of them), each
 * keeps its best round, and besides wall-clock rates every case reports the process CPU time per image,
 * worker threads included, which load inflates far less. Writes bench/engines-results.json (or FILE).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { perSampleBatchSize, scorePerSample } from '../src/metrics/index.js';
import { ScoringWorkerPool } from '../src/metrics/worker-pool.js';
import type { Executor } from '../src/model/executor.js';
import { OnnxExecutor } from '../src/model/executors/onnx/onnx-executor.js';
import { sizeOf } from '../src/model/ir.js';
import { loadModel } from '../src/model/load-model.js';
import { mnistPart } from '../src/pool/mnist-digits.js';
import type { Sample } from '../src/pool/types.js';
import { createRng } from '../src/util/rng.js';
import { bundledModelPath, packageRoot } from '../src/util/package-root.js';
import { LARGE_CNN_NAME, saveLargeCnn } from './large-cnn.js';
import { npyFloat32, peerPython } from './peer-compare.js';

const KS = [1, 5, 10];
const OPTIONS = { ks: KS, svd: 'exact' as const };
const ROUNDS = 4;

interface Rate {
  /** Best round, wall clock. */
  readonly perSecond: number;
  /** Best round, process CPU time (all threads) per image. */
  readonly cpuMicrosPerImage: number;
}

interface Job {
  readonly key: string;
  readonly count: number;
  readonly run: () => Promise<unknown>;
}

interface EngineRow {
  readonly model: string;
  readonly engine: string;
  /** 'main thread' (ONNX Runtime on its own intra-op threads, one per core) or '2 workers' (one thread each). */
  readonly setting: string;
  /** m, the number of outputs (rows of the Jacobian). */
  readonly outputs: number;
  readonly forward: Rate | null;
  readonly jacobian: Rate | null;
  readonly gram: Rate | null;
  readonly exactRpr: Rate;
  /** forward images/s ÷ m. */
  readonly floorPerSecond: number | null;
  /** Exact RPR time ÷ floor time (wall): 1 is the floor, the target is ≤ 2. */
  readonly costInFloors: number | null;
  /** The same from CPU time: exact RPR CPU per image ÷ (m × forward CPU per image). */
  readonly cpuCostInFloors: number | null;
}

interface ModelCase {
  readonly name: string;
  readonly path: string;
  readonly images: Float32Array;
  readonly count: number;
}

/** Runs every job once to warm up, then ROUNDS rounds of all of them in turn; each keeps its best round. */
async function interleaved(jobs: readonly Job[]): Promise<Map<string, Rate>> {
  for (const job of jobs) await job.run();
  const best = new Map<string, { perSecond: number; cpuMicrosPerImage: number }>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const job of jobs) {
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      await job.run();
      const seconds = (performance.now() - start) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const prev = best.get(job.key) ?? { perSecond: 0, cpuMicrosPerImage: Infinity };
      best.set(job.key, {
        perSecond: Math.max(prev.perSecond, job.count / seconds),
        cpuMicrosPerImage: Math.min(prev.cpuMicrosPerImage, (cpu.user + cpu.system) / job.count),
      });
    }
  }
  return best;
}

/** A job that hands `step` the case's images `batch` at a time (the last batch may be shorter). */
function batchedJob(key: string, ex: Executor, c: ModelCase, batch: number, step: (images: Float32Array, count: number) => Promise<unknown>): Job {
  const n = sizeOf(ex.ir.inputShape);
  return {
    key,
    count: c.count,
    run: async () => {
      for (let i = 0; i < c.count; i += batch) {
        const k = Math.min(batch, c.count - i);
        await step(c.images.subarray(i * n, (i + k) * n), k);
      }
    },
  };
}

function forwardJob(key: string, ex: Executor, c: ModelCase): Job {
  const batch = Math.max(1, Math.min(256, Math.floor(2 ** 22 / sizeOf(ex.ir.inputShape))));
  return batchedJob(key, ex, c, batch, (images, k) => ex.forward(images, k));
}

function jacobianJob(key: string, ex: Executor, c: ModelCase): Job {
  return batchedJob(key, ex, c, perSampleBatchSize(ex), async (images, k) => {
    const lin = await ex.linearize(images, k);
    await lin.jacobians();
    lin.dispose();
  });
}

function gramJob(key: string, ex: Executor, c: ModelCase): Job {
  return batchedJob(key, ex, c, perSampleBatchSize(ex), (images, k) => ex.gramians(images, k, images));
}

function exactJob(key: string, ex: Executor, samples: readonly Sample[]): Job {
  const batch = perSampleBatchSize(ex);
  return {
    key,
    count: samples.length,
    run: async () => {
      for (let i = 0; i < samples.length; i += batch) await scorePerSample(ex, samples.slice(i, i + batch), OPTIONS);
    },
  };
}

function poolJob(key: string, pool: ScoringWorkerPool, samples: readonly Sample[]): Job {
  return {
    key,
    count: samples.length,
    run: () => {
      const parts = [];
      for (let i = 0; i < samples.length; i += 32) parts.push(pool.score(samples.slice(i, i + 32)));
      return Promise.all(parts);
    },
  };
}

function row(model: string, engine: string, setting: string, m: number, rates: { forward: Rate | null; jacobian: Rate | null; gram: Rate | null; exactRpr: Rate }): EngineRow {
  const f = rates.forward;
  const floor = f === null ? null : f.perSecond / m;
  return {
    model,
    engine,
    setting,
    outputs: m,
    ...rates,
    floorPerSecond: floor,
    costInFloors: floor === null ? null : floor / rates.exactRpr.perSecond,
    cpuCostInFloors: f === null ? null : rates.exactRpr.cpuMicrosPerImage / (m * f.cpuMicrosPerImage),
  };
}

async function runPeer(python: string, c: ModelCase, inputShape: readonly number[], workDir: string): Promise<number> {
  const npy = join(workDir, `${c.name}.npy`);
  await writeFile(npy, npyFloat32(c.images, [c.count, ...inputShape]));
  const out = join(workDir, `${c.name}-peer.json`);
  const script = join(packageRoot(), 'bench', 'peer', 'rpr_peer.py');
  await promisify(execFile)(python, [script, '--model', c.path, '--images', npy, '--ks', KS.join(','), '--threads', '2', '--out', out], {
    env: { ...process.env, CUDA_VISIBLE_DEVICES: '' },
    maxBuffer: 1 << 26,
    timeout: 1_800_000,
  });
  return (JSON.parse(await readFile(out, 'utf8')) as { imagesPerSecond: number }).imagesPerSecond;
}

async function benchModel(c: ModelCase, peer: string | null, workDir: string): Promise<{ rows: EngineRow[]; peer: number | null }> {
  const tfjs = await loadModel(c.path, { engine: 'tfjs', backend: 'wasm' });
  const ort = await OnnxExecutor.create(tfjs.ir);
  const m = tfjs.ir.outputSize;
  const n = sizeOf(tfjs.ir.inputShape);
  const samples: Sample[] = Array.from({ length: c.count }, (_, i) => ({ id: `${c.name}-${i}`, uri: `${i}`, pixels: c.images.subarray(i * n, (i + 1) * n) }));
  const pools = {
    onnxruntime: await ScoringWorkerPool.start(2, { modelPath: c.path, backend: 'wasm', engine: 'onnxruntime', keepFinalActivation: false, options: OPTIONS }),
    tfjs: await ScoringWorkerPool.start(2, { modelPath: c.path, backend: 'wasm', engine: 'tfjs', keepFinalActivation: false, options: OPTIONS }),
  };
  try {
    const engines = [
      ['onnxruntime', ort],
      ['tfjs', tfjs.executor],
    ] as const;
    const jobs = engines.flatMap(([name, ex]) => [
      forwardJob(`${name}/forward`, ex, c),
      jacobianJob(`${name}/jacobian`, ex, c),
      gramJob(`${name}/gram`, ex, c),
      exactJob(`${name}/exact`, ex, samples),
      poolJob(`${name}/exact-2-workers`, pools[name], samples),
    ]);
    const rates = await interleaved(jobs);
    const rows = engines.flatMap(([name, ex]) => {
      const forward = rates.get(`${name}/forward`)!;
      const jacobian = rates.get(`${name}/jacobian`)!;
      const gram = rates.get(`${name}/gram`)!;
      process.stderr.write(
        `${c.name} ${ex.backend}: forward ${forward.perSecond.toFixed(0)}/s, Jacobian ${jacobian.perSecond.toFixed(1)}/s, Gram ${gram.perSecond.toFixed(1)}/s\n`,
      );
      return [
        row(c.name, ex.backend, 'main thread', m, { forward, jacobian, gram, exactRpr: rates.get(`${name}/exact`)! }),
        // The floor stays the engine's own forward rate on the calling thread.
        row(c.name, ex.backend, '2 workers', m, { forward, jacobian: null, gram: null, exactRpr: rates.get(`${name}/exact-2-workers`)! }),
      ];
    });
    const peerRate = peer ? await runPeer(peer, c, tfjs.ir.inputShape, workDir) : null;
    return { rows, peer: peerRate };
  } finally {
    await pools.onnxruntime.close();
    await pools.tfjs.close();
    ort.dispose();
    tfjs.executor.dispose();
  }
}

function digits(count: number): Float32Array {
  const out = new Float32Array(count * 784);
  mnistPart('pool')
    .slice(0, count)
    .forEach((d, i) => out.set(d.pixels, i * 784));
  return out;
}

function seededImages(count: number, size: number): Float32Array {
  const rng = createRng(64);
  return Float32Array.from({ length: count * size }, () => rng.next());
}

function targetsOf(cases: readonly ModelCase[], rows: readonly EngineRow[], peers: Readonly<Record<string, number | null>>) {
  return cases.map((c) => {
    const ort = rows.filter((r) => r.model === c.name && r.engine.startsWith('onnxruntime'));
    const best = ort.reduce((a, b) => (b.exactRpr.perSecond > a.exactRpr.perSecond ? b : a));
    const main = ort.find((r) => r.setting === 'main thread')!;
    const peerRate = peers[c.name] ?? null;
    return {
      model: c.name,
      bestOnnxExactRprPerSecond: best.exactRpr.perSecond,
      bestSetting: best.setting,
      floorPerSecond: best.floorPerSecond!,
      /** ≤ 2 meets "within 2× of the m-forward floor" (wall clock). */
      costInFloors: best.costInFloors!,
      /** The same from CPU time on the calling thread. */
      cpuCostInFloors: main.cpuCostInFloors!,
      /** The dense Jacobians (recording pass + adjoint, handed to JavaScript), from CPU time. */
      jacobianCpuCostInFloors: main.jacobian!.cpuMicrosPerImage / (main.outputs * main.forward!.cpuMicrosPerImage),
      /** The engine's own share of exact RPR (Executor.gramians), without the eigendecompositions in JavaScript, from CPU time. */
      gramCpuCostInFloors: main.gram!.cpuMicrosPerImage / (main.outputs * main.forward!.cpuMicrosPerImage),
      pytorchPerSecond: peerRate,
      /** ≥ 3 meets "≥ 3× the PyTorch peer". */
      timesPytorch: peerRate === null ? null : best.exactRpr.perSecond / peerRate,
    };
  });
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const workDir = await mkdtemp(join(tmpdir(), 'rpr-bench-engines-'));
  const load = { before: loadavg()[0]!, after: 0 };
  try {
    const peer = process.argv.includes('--peer') ? await peerPython() : null;
    const large = join(workDir, LARGE_CNN_NAME);
    const params = await saveLargeCnn(large);
    const cases: ModelCase[] = [
      { name: 'mnist-cnn', path: bundledModelPath(), images: digits(quick ? 256 : 1024), count: quick ? 256 : 1024 },
      { name: LARGE_CNN_NAME, path: large, images: seededImages(quick ? 32 : 128, 64 * 64 * 3), count: quick ? 32 : 128 },
    ];
    const rows: EngineRow[] = [];
    const peers: Record<string, number | null> = {};
    for (const c of cases) {
      const result = await benchModel(c, peer, workDir);
      rows.push(...result.rows);
      peers[c.name] = result.peer;
    }
    load.after = loadavg()[0]!;
    const targets = targetsOf(cases, rows, peers);
    const results = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage: load },
      date: new Date().toISOString(),
      largeCnnParameters: params,
      ks: KS,
      rounds: ROUNDS,
      imagesPerModel: Object.fromEntries(cases.map((c) => [c.name, c.count])),
      rows,
      targets,
    };
    const outArg = process.argv.indexOf('--out');
    const out = outArg >= 0 ? process.argv[outArg + 1]! : join(packageRoot(), 'bench', 'engines-results.json');
    writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    const fmt = (v: number | null | undefined, d = 0) => (v === null || v === undefined ? '–' : v.toFixed(d));
    const lines = [
      `Machine: ${results.machine.cpus} × ${results.machine.model}, Node ${results.machine.node}, load average ${load.before.toFixed(1)} → ${load.after.toFixed(1)}`,
      '',
      '| model | engine | setting | forward img/s | Jacobian img/s | Gram img/s | exact RPR img/s | floor img/s | cost in floors (wall) | (CPU) |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.model} | ${r.engine} | ${r.setting} | ${fmt(r.forward?.perSecond)} | ${fmt(r.jacobian?.perSecond, 1)} | ${fmt(r.gram?.perSecond, 1)} | ${fmt(r.exactRpr.perSecond, 1)} | ` +
          `${fmt(r.floorPerSecond, 1)} | ${fmt(r.costInFloors, 2)} | ${fmt(r.cpuCostInFloors, 2)} |`,
      ),
      '',
      ...targets.map(
        (t) =>
          `${t.model}: ONNX Runtime exact RPR ${t.bestOnnxExactRprPerSecond.toFixed(1)}/s (${t.bestSetting}) = ${t.costInFloors.toFixed(2)}× the floor ` +
          `(${t.cpuCostInFloors.toFixed(2)}× in CPU time; the engine's share ${t.gramCpuCostInFloors.toFixed(2)}×, dense Jacobians ${t.jacobianCpuCostInFloors.toFixed(2)}×; target ≤ 2)` +
          (t.timesPytorch === null ? '' : `, ${t.timesPytorch.toFixed(2)}× PyTorch's ${t.pytorchPerSecond!.toFixed(1)}/s (target ≥ 3)`),
      ),
    ];
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:engines failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
