/**
 * `npm run bench:engines [-- --quick] [-- --peer]`: the two engines side by side in one run, on the demo
 * model (models/mnist-cnn) and the ~1M-parameter 64×64×3 CNN (bench/large-cnn.ts, seeded weights):
 * forward images/s, Jacobian images/s (the recording forward pass and one adjoint pass of the m unit
 * cotangents, no SVD), exact per-sample RPR images/s (Jacobian, then the SVD and projections in
 * JavaScript: scorePerSample, the product's own path) on the calling thread and on two scoring worker
 * threads, and the m-forward floor (forward images/s ÷ m). With --peer, the PyTorch peer
 * (bench/peer/rpr_peer.py: torch.func vmap(jacrev) + numpy SVD) on the same weights and images.
 * Writes bench/engines-results.json.
 *
 * Every rate is the best of three timed runs after a warm-up, wall clock: this machine is shared, and
 * the load average is recorded beside the numbers.
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
import type { EngineChoice } from '../src/model/load-model.js';
import { loadModel } from '../src/model/load-model.js';
import { mnistPart } from '../src/pool/mnist-digits.js';
import type { Sample } from '../src/pool/types.js';
import { createRng } from '../src/util/rng.js';
import { bundledModelPath, packageRoot } from '../src/util/package-root.js';
import { LARGE_CNN_NAME, saveLargeCnn } from './large-cnn.js';
import { npyFloat32, peerPython } from './peer-compare.js';

const KS = [1, 5, 10];
const OPTIONS = { ks: KS, svd: 'exact' as const };

interface EngineRow {
  readonly model: string;
  readonly engine: string;
  /** 'main thread' (ONNX Runtime: its own intra-op threads, one per core) or '2 workers' (one core each). */
  readonly setting: string;
  readonly forwardPerSecond: number | null;
  /** linearize + jacobians(): the engine's whole share of exact RPR. */
  readonly jacobianPerSecond: number | null;
  readonly exactRprPerSecond: number;
  /** forward images/s ÷ m: m forward passes per image, what an exact m-row Jacobian cannot beat. */
  readonly floorPerSecond: number | null;
  /** exact RPR time ÷ floor time: 1 is the floor, the target is ≤ 2. */
  readonly costInFloors: number | null;
}

interface ModelCase {
  readonly name: string;
  readonly path: string;
  readonly images: Float32Array;
  readonly count: number;
}

async function bestRate(count: number, runOnce: () => Promise<void>): Promise<number> {
  await runOnce();
  let best = 0;
  for (let k = 0; k < 3; k++) {
    const start = performance.now();
    await runOnce();
    best = Math.max(best, count / ((performance.now() - start) / 1000));
  }
  return best;
}

function samplesOf(c: ModelCase, n: number): Sample[] {
  return Array.from({ length: c.count }, (_, i) => ({ id: `${c.name}-${i}`, uri: `${i}`, pixels: c.images.subarray(i * n, (i + 1) * n) }));
}

async function forwardRate(ex: Executor, c: ModelCase): Promise<number> {
  const n = sizeOf(ex.ir.inputShape);
  const batch = Math.max(1, Math.min(256, Math.floor(2 ** 22 / n)));
  return bestRate(c.count, async () => {
    for (let i = 0; i < c.count; i += batch) {
      const k = Math.min(batch, c.count - i);
      await ex.forward(c.images.subarray(i * n, (i + k) * n), k);
    }
  });
}

async function jacobianRate(ex: Executor, c: ModelCase): Promise<number> {
  const n = sizeOf(ex.ir.inputShape);
  const batch = perSampleBatchSize(ex);
  return bestRate(c.count, async () => {
    for (let i = 0; i < c.count; i += batch) {
      const k = Math.min(batch, c.count - i);
      const lin = await ex.linearize(c.images.subarray(i * n, (i + k) * n), k);
      await lin.jacobians();
      lin.dispose();
    }
  });
}

async function exactRate(ex: Executor, samples: readonly Sample[]): Promise<number> {
  const batch = perSampleBatchSize(ex);
  return bestRate(samples.length, async () => {
    for (let i = 0; i < samples.length; i += batch) await scorePerSample(ex, samples.slice(i, i + batch), OPTIONS);
  });
}

async function workersRate(c: ModelCase, engine: EngineChoice, samples: readonly Sample[]): Promise<number> {
  const pool = await ScoringWorkerPool.start(2, { modelPath: c.path, backend: 'wasm', engine, keepFinalActivation: false, options: OPTIONS });
  try {
    const batch = 32;
    return await bestRate(samples.length, async () => {
      const parts = [];
      for (let i = 0; i < samples.length; i += batch) parts.push(pool.score(samples.slice(i, i + batch)));
      await Promise.all(parts);
    });
  } finally {
    await pool.close();
  }
}

function row(model: string, engine: string, setting: string, rates: { forward: number | null; jacobian: number | null; exact: number }, m: number): EngineRow {
  const floor = rates.forward === null ? null : rates.forward / m;
  return {
    model,
    engine,
    setting,
    forwardPerSecond: rates.forward,
    jacobianPerSecond: rates.jacobian,
    exactRprPerSecond: rates.exact,
    floorPerSecond: floor,
    costInFloors: floor === null ? null : floor / rates.exact,
  };
}

async function benchModel(c: ModelCase, peer: string | null, workDir: string): Promise<{ rows: EngineRow[]; peer: number | null }> {
  const tfjs = await loadModel(c.path, { engine: 'tfjs', backend: 'wasm' });
  const ort = await OnnxExecutor.create(tfjs.ir);
  const m = tfjs.ir.outputSize;
  const n = sizeOf(tfjs.ir.inputShape);
  const samples = samplesOf(c, n);
  const rows: EngineRow[] = [];
  try {
    for (const ex of [ort, tfjs.executor]) {
      const rates = { forward: await forwardRate(ex, c), jacobian: await jacobianRate(ex, c), exact: await exactRate(ex, samples) };
      rows.push(row(c.name, ex.backend, 'main thread', rates, m));
      process.stderr.write(`${c.name} ${ex.backend}: forward ${rates.forward.toFixed(0)}/s, Jacobian ${rates.jacobian.toFixed(1)}/s, exact RPR ${rates.exact.toFixed(1)}/s\n`);
    }
    for (const [engine, ex] of [['onnxruntime', ort], ['tfjs', tfjs.executor]] as const) {
      const exact = await workersRate(c, engine, samples);
      // The floor stays the engine's best forward rate: ONNX Runtime's on its own threads, TF.js's on one core.
      const forward = engine === 'onnxruntime' ? rows.find((r) => r.engine === ex.backend)!.forwardPerSecond : null;
      rows.push(row(c.name, ex.backend, '2 workers', { forward, jacobian: null, exact }, m));
      process.stderr.write(`${c.name} ${engine} on 2 workers: exact RPR ${exact.toFixed(1)}/s\n`);
    }
  } finally {
    ort.dispose();
    tfjs.executor.dispose();
  }
  if (!peer) return { rows, peer: null };
  const npy = join(workDir, `${c.name}.npy`);
  await writeFile(npy, npyFloat32(c.images, [c.count, ...tfjs.ir.inputShape]));
  const out = join(workDir, `${c.name}-peer.json`);
  await promisify(execFile)(peer, [join(packageRoot(), 'bench', 'peer', 'rpr_peer.py'), '--model', c.path, '--images', npy, '--ks', KS.join(','), '--threads', '2', '--out', out], {
    env: { ...process.env, CUDA_VISIBLE_DEVICES: '' },
    maxBuffer: 1 << 26,
    timeout: 1_800_000,
  });
  const result = JSON.parse(await readFile(out, 'utf8')) as { imagesPerSecond: number };
  process.stderr.write(`${c.name} PyTorch peer (2 threads): exact RPR ${result.imagesPerSecond.toFixed(1)}/s\n`);
  return { rows, peer: result.imagesPerSecond };
}

function digits(count: number): Float32Array {
  const d = mnistPart('pool').slice(0, count);
  const out = new Float32Array(count * 784);
  d.forEach((x, i) => out.set(x.pixels, i * 784));
  return out;
}

function seededImages(count: number, size: number): Float32Array {
  const rng = createRng(64);
  return Float32Array.from({ length: count * size }, () => rng.next());
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
    const targets = cases.map((c) => {
      const ort = rows.filter((r) => r.model === c.name && r.engine.startsWith('onnxruntime'));
      const best = ort.reduce((a, b) => (b.exactRprPerSecond > a.exactRprPerSecond ? b : a));
      const floor = ort.find((r) => r.floorPerSecond !== null)!.floorPerSecond!;
      const peerRate = peers[c.name] ?? null;
      const jacobian = ort.find((r) => r.jacobianPerSecond !== null)!.jacobianPerSecond!;
      return {
        model: c.name,
        bestOnnxExactRprPerSecond: best.exactRprPerSecond,
        bestSetting: best.setting,
        floorPerSecond: floor,
        /** ≤ 2 meets "within 2× of the m-forward floor". */
        costInFloors: floor / best.exactRprPerSecond,
        /** The engine's own share (recording pass + adjoint), without the SVD in JavaScript. */
        jacobianCostInFloors: floor / jacobian,
        pytorchPerSecond: peerRate,
        /** ≥ 3 meets "≥ 3× the PyTorch peer". */
        timesPytorch: peerRate === null ? null : best.exactRprPerSecond / peerRate,
      };
    });
    const results = {
      machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', node: process.version, loadAverage: load },
      date: new Date().toISOString(),
      largeCnnParameters: params,
      ks: KS,
      rows,
      targets,
    };
    writeFileSync(join(packageRoot(), 'bench', 'engines-results.json'), JSON.stringify(results, null, 2) + '\n');
    const fmt = (v: number | null, d = 0) => (v === null ? '–' : v.toFixed(d));
    const lines = [
      `Machine: ${results.machine.cpus} × ${results.machine.model}, Node ${results.machine.node}, load average ${load.before.toFixed(1)} → ${load.after.toFixed(1)}`,
      '',
      '| model | engine | setting | forward img/s | Jacobian img/s | exact RPR img/s | m-forward floor img/s | exact RPR cost in floors |',
      '|---|---|---|---|---|---|---|---|',
      ...rows.map(
        (r) =>
          `| ${r.model} | ${r.engine} | ${r.setting} | ${fmt(r.forwardPerSecond)} | ${fmt(r.jacobianPerSecond, 1)} | ${fmt(r.exactRprPerSecond, 1)} | ${fmt(r.floorPerSecond, 1)} | ${fmt(r.costInFloors, 2)} |`,
      ),
      '',
      ...targets.map(
        (t) =>
          `${t.model}: ONNX Runtime exact RPR ${t.bestOnnxExactRprPerSecond.toFixed(1)}/s (${t.bestSetting}) = ${t.costInFloors.toFixed(2)}× the floor (target ≤ 2); ` +
          `its Jacobians alone ${t.jacobianCostInFloors.toFixed(2)}× the floor` +
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
