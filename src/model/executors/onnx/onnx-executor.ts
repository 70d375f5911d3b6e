/**
 * The ONNX Runtime executor: the IR emitted as ONNX graphs (forward, forward that records the frozen
 * patterns, frozen forward, adjoint) and run on onnxruntime-node's CPU provider. A linearization holds
 * the recorded patterns as plain typed arrays and feeds them back to the frozen-forward and adjoint
 * graphs, so the Jacobians of B images are one adjoint run of the B·m unit cotangents.
 */
import { isMainThread } from 'node:worker_threads';
import type { LinearOperator } from '../../../linalg/operator.js';
import type { Executor, Gramians, Linearization, RowRange } from '../../executor.js';
import type { ModelIR } from '../../ir.js';
import { sizeOf } from '../../ir.js';
import { FORWARD_INPUT, FORWARD_OUTPUT } from './emit-forward.js';
import { GRAM_OUTPUT, GRAM_PROBES, PRODUCTS_OUTPUT } from './emit-gram.js';
import { ADJOINT_INPUT, ADJOINT_OUTPUT, FROZEN_INPUT, FROZEN_OUTPUT } from './emit-linearized.js';
import type { GraphKind, NetworkSessions, SessionOptions } from './network-sessions.js';
import { acquireSessions, releaseSessions } from './network-sessions.js';
import type { OrtModule, OrtTensor } from './ort-runtime.js';
import { loadOrt } from './ort-runtime.js';
import type { PatternSpec } from './pattern-specs.js';
import { patternSpecs } from './pattern-specs.js';

export const ONNX_BACKEND = 'onnxruntime-cpu';

type PatternData = Float32Array | BigInt64Array;

export type OnnxExecutorOptions = SessionOptions;

/** Unit cotangents for `count` images, rows `range` of the identity: row b·range.count + i is e_{range.start + i}. */
function unitCotangents(count: number, m: number, range: RowRange): Float32Array {
  const per = range.count;
  const u = new Float32Array(count * per * m);
  for (let b = 0; b < count; b++) for (let i = 0; i < per; i++) u[(b * per + i) * m + range.start + i] = 1;
  return u;
}

export class OnnxExecutor implements Executor {
  readonly backend = ONNX_BACKEND;
  readonly ir: ModelIR;
  readonly #ort: OrtModule;
  readonly #sessions: NetworkSessions;
  readonly #options: OnnxExecutorOptions;
  readonly #specs: readonly PatternSpec[];
  #passes = 0;
  #disposed = false;

  private constructor(ort: OrtModule, ir: ModelIR, options: OnnxExecutorOptions) {
    this.#ort = ort;
    this.ir = ir;
    this.#options = options;
    this.#sessions = acquireSessions(ort, ir, options);
    this.#specs = patternSpecs(ir);
  }

  /**
   * Loads onnxruntime-node (RPR_BACKEND when it cannot) and compiles the forward graph. In a worker
   * thread (a scoring pool runs one per core) each executor takes one intra-op thread unless told.
   */
  static async create(ir: ModelIR, options: OnnxExecutorOptions = {}): Promise<OnnxExecutor> {
    const threads = options.intraOpThreads ?? (isMainThread ? undefined : 1);
    const ex = new OnnxExecutor(await loadOrt(), ir, { ...options, ...(threads === undefined ? {} : { intraOpThreads: threads }) });
    try {
      await ex.#sessions.session('forward');
    } catch (error) {
      ex.dispose();
      throw error;
    }
    return ex;
  }

  get passes(): number {
    return this.#passes;
  }

  /** The bytes of one of the emitted graphs (for tests and inspection). */
  graph(kind: GraphKind): Uint8Array {
    return this.#sessions.graph(kind);
  }

  #tensor(data: PatternData, dims: readonly number[]): OrtTensor {
    return data instanceof BigInt64Array ? new this.#ort.Tensor('int64', data, dims) : new this.#ort.Tensor('float32', data, dims);
  }

  async #run(kind: GraphKind, feeds: Record<string, OrtTensor>): Promise<Record<string, OrtTensor>> {
    const session = await this.#sessions.session(kind);
    return (await session.run(feeds)) as Record<string, OrtTensor>;
  }

  async forward(images: Float32Array, count: number): Promise<Float32Array> {
    const out = await this.#run('forward', { [FORWARD_INPUT]: this.#tensor(images, [count, ...this.ir.inputShape]) });
    this.#passes += count;
    return out[FORWARD_OUTPUT]!.data as Float32Array;
  }

  async linearize(images: Float32Array, count: number): Promise<Linearization> {
    const out = await this.#run('record', { [FORWARD_INPUT]: this.#tensor(images, [count, ...this.ir.inputShape]) });
    this.#passes += count;
    const patterns = this.#specs.map((s) => out[s.name]!.data as PatternData);
    return this.#linearization(patterns, count, out[FORWARD_OUTPUT]!.data as Float32Array);
  }

  /** One run of the fused graph (emit-gram.ts): the recording pass, the m adjoints, the reductions. */
  async gramians(images: Float32Array, count: number, probes: Float32Array): Promise<Gramians> {
    const dims = [count, ...this.ir.inputShape];
    const out = await this.#run('gram', { [FORWARD_INPUT]: this.#tensor(images, dims), [GRAM_PROBES]: this.#tensor(probes, dims) });
    this.#passes += count * (1 + this.ir.outputSize);
    return {
      outputs: out[FORWARD_OUTPUT]!.data as Float32Array,
      gram: out[GRAM_OUTPUT]!.data as Float64Array,
      products: out[PRODUCTS_OUTPUT]!.data as Float64Array,
    };
  }

  /** Runs a linear graph on `rows` vectors per image for `count` images, with those images' patterns. */
  async #linear(kind: 'frozen' | 'frozen-affine' | 'adjoint', data: Float32Array, count: number, rows: number, patterns: readonly PatternData[]): Promise<Float32Array> {
    const ir = this.ir;
    const adjoint = kind === 'adjoint';
    const shape = adjoint ? ir.nodes[ir.output]!.shape : ir.inputShape;
    const feeds: Record<string, OrtTensor> = { [adjoint ? ADJOINT_INPUT : FROZEN_INPUT]: this.#tensor(data, [count, rows, ...shape]) };
    this.#specs.forEach((s, k) => {
      feeds[s.name] = this.#tensor(patterns[k]!, [count, ...s.dims]);
    });
    const out = await this.#run(kind, feeds);
    this.#passes += count * rows;
    return out[adjoint ? ADJOINT_OUTPUT : FROZEN_OUTPUT]!.data as Float32Array;
  }

  #linearization(patterns: PatternData[], count: number, outputs: Float32Array): Linearization {
    const m = this.ir.outputSize;
    const n = sizeOf(this.ir.inputShape);
    const specs = this.#specs;
    const perImage = (b: number) =>
      patterns.map((p, k) => {
        const size = sizeOf(specs[k]!.dims);
        return p.slice(b * size, (b + 1) * size);
      });
    const run = this.#linear.bind(this);
    return {
      count,
      outputs,
      jacobians: (range = { start: 0, count: m }) => run('adjoint', unitCotangents(count, m, range), count, range.count, patterns),
      offsets: () => run('frozen-affine', new Float32Array(count * n), count, 1, patterns),
      operator(b: number): LinearOperator {
        const own = perImage(b);
        return {
          rows: m,
          cols: n,
          matvec: async (v, k) => Float64Array.from(await run('frozen', Float32Array.from(v), 1, k, own)),
          rmatvec: async (u, k) => Float64Array.from(await run('adjoint', Float32Array.from(u), 1, k, own)),
        };
      },
      dispose() {
        patterns.length = 0;
      },
    };
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    releaseSessions(this.ir, this.#options);
  }
}
