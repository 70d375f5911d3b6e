/**
 * The TF.js executor: runs the IR's forward pass, and hands out linearizations whose Jacobians are
 * built by one batched adjoint pass of unit cotangents.
 */
import type { LinearOperator } from '../../../linalg/operator.js';
import type { Executor, Gramians, Linearization } from '../../executor.js';
import { gramiansFromJacobians } from '../../gramians-from-jacobians.js';
import type { ModelIR } from '../../ir.js';
import { sizeOf } from '../../ir.js';
import { tf } from '../../tf-runtime.js';
import type { Patterns } from './patterns.js';
import { TfjsNetwork } from './tfjs-network.js';

function toFloat64(data: Float32Array): Float64Array {
  return Float64Array.from(data);
}

export class TfjsExecutor implements Executor {
  readonly backend: string;
  readonly #network: TfjsNetwork;
  #passes = 0;

  constructor(ir: ModelIR, backendName: string) {
    this.#network = new TfjsNetwork(ir);
    this.backend = `tfjs-${backendName}`;
  }

  get ir(): ModelIR {
    return this.#network.ir;
  }

  get passes(): number {
    return this.#passes;
  }

  #input(images: Float32Array | Float64Array, count: number): tf.Tensor {
    const data = images instanceof Float32Array ? images : Float32Array.from(images);
    return tf.tensor(data, [count, ...this.ir.inputShape]);
  }

  async forward(images: Float32Array, count: number): Promise<Float32Array> {
    const x = this.#input(images, count);
    try {
      const { output } = await this.#network.forward(x, false);
      this.#passes += count;
      const data = (await output.data()) as Float32Array;
      output.dispose();
      return data;
    } finally {
      x.dispose();
    }
  }

  async linearize(images: Float32Array, count: number): Promise<Linearization> {
    const x = this.#input(images, count);
    let result: { output: tf.Tensor; patterns: Patterns | null };
    try {
      result = await this.#network.forward(x, true);
    } finally {
      x.dispose();
    }
    this.#passes += count;
    const outputs = (await result.output.data()) as Float32Array;
    result.output.dispose();
    return this.#linearization(result.patterns!, count, outputs);
  }

  async gramians(images: Float32Array, count: number, probes: Float32Array): Promise<Gramians> {
    const lin = await this.linearize(images, count);
    try {
      return gramiansFromJacobians(lin.outputs, await lin.jacobians(), count, this.ir.outputSize, sizeOf(this.ir.inputShape), probes);
    } finally {
      lin.dispose();
    }
  }

  #linearization(patterns: Patterns, count: number, outputs: Float32Array): Linearization {
    const network = this.#network;
    const ir = this.ir;
    const m = ir.outputSize;
    const n = sizeOf(ir.inputShape);
    const perImage = new Map<number, Patterns>();
    const countPasses = (k: number) => {
      this.#passes += k;
    };
    const run = async (t: tf.Tensor): Promise<Float32Array> => {
      const data = (await t.data()) as Float32Array;
      t.dispose();
      return data;
    };
    return {
      count,
      outputs,
      async jacobians(range = { start: 0, count: m }) {
        const per = range.count;
        const rows = count * per;
        const u = tf.tidy(() => {
          // oneHot is int32; a cast (not oneHot's dtype argument, which wasm's kernel ignores) makes it float32.
          const ids = tf.tensor1d(Int32Array.from({ length: rows }, (_, i) => range.start + (i % per)), 'int32');
          return tf.reshape(tf.cast(tf.oneHot(ids, m), 'float32'), [rows, ...ir.nodes[ir.output]!.shape]);
        });
        const a = network.adjoint(u, patterns, per);
        u.dispose();
        countPasses(rows);
        return run(a);
      },
      async offsets() {
        const zero = tf.zeros([count, ...ir.inputShape]);
        const c = network.frozen(zero, patterns, 1, true);
        zero.dispose();
        countPasses(count);
        return run(c);
      },
      operator(b: number): LinearOperator {
        const own = () => {
          let p = perImage.get(b);
          if (!p) {
            p = patterns.select(b);
            perImage.set(b, p);
          }
          return p;
        };
        return {
          rows: m,
          cols: n,
          async matvec(v, k) {
            const t = tf.tensor(Float32Array.from(v), [k, ...ir.inputShape]);
            const y = network.frozen(t, own(), k);
            t.dispose();
            countPasses(k);
            return toFloat64(await run(y));
          },
          async rmatvec(u, k) {
            const t = tf.tensor(Float32Array.from(u), [k, ...ir.nodes[ir.output]!.shape]);
            const y = network.adjoint(t, own(), k);
            t.dispose();
            countPasses(k);
            return toFloat64(await run(y));
          },
        };
      },
      dispose() {
        patterns.dispose();
        for (const p of perImage.values()) p.dispose();
        perImage.clear();
      },
    };
  }

  dispose(): void {
    this.#network.dispose();
  }
}
