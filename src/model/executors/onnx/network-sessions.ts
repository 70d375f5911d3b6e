/**
 * The onnxruntime sessions of one network, created on first use (a network scored per sample never
 * builds the frozen-forward graph), and shared per model digest: two executors of the same network —
 * a scorer and a diagnosis, a test and its reference — compile each graph once.
 */
import type { ModelIR } from '../../ir.js';
import { emitForward } from './emit-forward.js';
import { emitGram } from './emit-gram.js';
import { emitAdjoint, emitFrozen } from './emit-linearized.js';
import type { OrtModule, OrtSession } from './ort-runtime.js';
import { prepareNodes } from './prepared-node.js';
import type { PreparedNode } from './prepared-node.js';

export type GraphKind = 'forward' | 'record' | 'frozen' | 'frozen-affine' | 'adjoint' | 'gram';

export interface SessionOptions {
  /** Threads one operator may use. @defaultValue the machine's core count (onnxruntime's default) */
  readonly intraOpThreads?: number;
  /**
   * Let idle intra-op threads spin-wait for work (onnxruntime's own default). Off by default: on a shared
   * machine spinning threads steal the cores the work needs (exact RPR on the demo model, 2 threads, load
   * average 11 on 2 cores: 138 images/s spinning, 523 without).
   * @defaultValue false
   */
  readonly spinning?: boolean;
}

export class NetworkSessions {
  readonly #ort: OrtModule;
  readonly #ir: ModelIR;
  readonly #options: SessionOptions;
  readonly #sessions = new Map<GraphKind, Promise<OrtSession>>();
  #prepared: PreparedNode[] | null = null;

  constructor(ort: OrtModule, ir: ModelIR, options: SessionOptions) {
    this.#ort = ort;
    this.#ir = ir;
    this.#options = options;
  }

  /** The graph's model bytes (exposed for tests and for saving a graph to look at). */
  graph(kind: GraphKind): Uint8Array {
    this.#prepared ??= prepareNodes(this.#ir);
    const ir = this.#ir;
    const prepared = this.#prepared;
    switch (kind) {
      case 'forward':
        return emitForward(ir, prepared, false);
      case 'record':
        return emitForward(ir, prepared, true);
      case 'frozen':
        return emitFrozen(ir, prepared, false);
      case 'frozen-affine':
        return emitFrozen(ir, prepared, true);
      case 'adjoint':
        return emitAdjoint(ir, prepared);
      case 'gram':
        return emitGram(ir, prepared);
    }
  }

  session(kind: GraphKind): Promise<OrtSession> {
    let s = this.#sessions.get(kind);
    if (!s) {
      s = this.#ort.InferenceSession.create(this.graph(kind), {
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        interOpNumThreads: 1,
        // Warnings (an initializer the optimizer folded away) are not the user's business.
        logSeverityLevel: 3,
        ...(this.#options.intraOpThreads ? { intraOpNumThreads: this.#options.intraOpThreads } : {}),
        ...(this.#options.spinning ? {} : { extra: { session: { intra_op: { allow_spinning: '0' } } } }),
      });
      this.#sessions.set(kind, s);
    }
    return s;
  }

  async release(): Promise<void> {
    const sessions = [...this.#sessions.values()];
    this.#sessions.clear();
    for (const s of await Promise.allSettled(sessions)) if (s.status === 'fulfilled') await s.value.release();
  }
}

const shared = new Map<string, { refs: number; sessions: NetworkSessions }>();

function keyOf(ir: ModelIR, options: SessionOptions): string {
  return `${ir.digest}:${options.intraOpThreads ?? 0}:${options.spinning ?? false}`;
}

/** The sessions of this network, shared with every other holder of the same digest; give them back with `releaseSessions`. */
export function acquireSessions(ort: OrtModule, ir: ModelIR, options: SessionOptions): NetworkSessions {
  const key = keyOf(ir, options);
  let entry = shared.get(key);
  if (!entry) {
    entry = { refs: 0, sessions: new NetworkSessions(ort, ir, options) };
    shared.set(key, entry);
  }
  entry.refs++;
  return entry.sessions;
}

export function releaseSessions(ir: ModelIR, options: SessionOptions): void {
  const key = keyOf(ir, options);
  const entry = shared.get(key);
  if (!entry || --entry.refs > 0) return;
  shared.delete(key);
  void entry.sessions.release();
}
