/**
 * The pattern inputs of a linear graph (frozen forward or adjoint) and the grouping of its rows: each of
 * the B images brings r vectors, held as one batch of N = B·r rows, and a pattern [B, ...] acts on its
 * image's r rows by broadcasting over a [B, r, ...] view. B and r are read from the graph input's shape
 * at run time, so one graph serves the Jacobians (r = m) and every operator call (B = 1, r = k).
 */
import type { ModelIR } from '../../ir.js';
import type { GraphBuilder } from './graph-builder.js';
import type { PatternSpec } from './pattern-specs.js';
import { patternSpecs } from './pattern-specs.js';

export class LinearPatterns {
  readonly #b: GraphBuilder;
  /** Each node's pattern; a max-pool's switches. */
  readonly #specs = new Map<number, PatternSpec>();
  /** A max-pool's recorded activation derivative at its switches. */
  readonly #switchScales = new Map<number, PatternSpec>();
  readonly #groupShape: string;
  readonly #shapes = new Map<string, string>();
  readonly #views = new Map<string, string>();
  readonly #recorded: ReadonlyMap<string, string> | null;

  /**
   * Declares every pattern as a graph input, or with `recorded` (pattern values by spec name) takes them
   * from the recording pass emitted into the same graph. `groupShape` is the int64 [B, r] of the rows.
   */
  constructor(b: GraphBuilder, ir: ModelIR, groupShape: string, recorded: ReadonlyMap<string, string> | null = null) {
    this.#b = b;
    this.#groupShape = groupShape;
    this.#recorded = recorded;
    for (const spec of patternSpecs(ir)) {
      (spec.kind === 'switchScale' ? this.#switchScales : this.#specs).set(spec.node, spec);
      if (!recorded) b.input(spec.name, spec.elem, ['batch', ...spec.dims]);
    }
  }

  has(node: number): boolean {
    return this.#specs.has(node);
  }

  spec(node: number): PatternSpec {
    return this.#specs.get(node)!;
  }

  /** The max-pool's derivative-at-switches pattern, if it absorbed an activation. */
  switchScale(node: number): PatternSpec | undefined {
    return this.#switchScales.get(node);
  }

  /** [B, r, ...dims] as an int64 shape tensor. */
  grouped(dims: readonly number[]): string {
    const key = dims.join(',');
    let s = this.#shapes.get(key);
    if (!s) {
      s = this.#b.op('Concat', [this.#groupShape, this.#b.int64s(dims)], { axis: 0 });
      this.#shapes.set(key, s);
    }
    return s;
  }

  /** Rows x (graph dims `dims`) as [B, r, ...dims]. */
  group(x: string, dims: readonly number[]): string {
    return this.#b.op('Reshape', [x, this.grouped(dims)]);
  }

  /** A pattern as [B, 1, ...its dims], broadcasting over each image's rows. */
  view(spec: PatternSpec): string {
    let v = this.#views.get(spec.name);
    if (!v) {
      v = this.#b.op('Unsqueeze', [this.#recorded?.get(spec.name) ?? spec.name, this.#b.int64s([1])]);
      this.#views.set(spec.name, v);
    }
    return v;
  }

  /** Rows x (graph dims `dims`, broadcasting against the pattern's) times their image's pattern. */
  scale(x: string, dims: readonly number[], spec: PatternSpec): string {
    const b = this.#b;
    const product = b.op('Mul', [this.group(x, dims), this.view(spec)]);
    return b.op('Reshape', [product, b.int64s([-1, ...spec.dims])]);
  }
}
