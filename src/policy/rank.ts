/**
 * Ranking, written once for every policy: a streamed pool is offered one ScoreResult at a time and the
 * best `capacity` are kept in a bounded heap. Order: higher policy score first, ties broken by the
 * sample id (lexicographically smaller first), so a ranking never depends on pool order.
 */
import type { ScoreResult } from '../metrics/types.js';
import { BoundedHeap } from './bounded-heap.js';
import type { Policy, ScoreField } from './types.js';

/** A scored image with its policy score. */
export interface RankedCandidate {
  readonly result: ScoreResult;
  /** The policy score (higher = picked first). */
  readonly score: number;
  /** What selecting it costs, in budget units. */
  readonly cost: number;
}

/** What happened to one offered result. */
export type RankOutcome = { readonly kind: 'ranked' } | { readonly kind: 'skipped'; readonly reason: string };

/** True when a ranks strictly before b. */
export function ranksBefore(a: RankedCandidate, b: RankedCandidate): boolean {
  return a.score > b.score || (a.score === b.score && a.result.id < b.result.id);
}

/** Why a result cannot be ranked by `policy`, or null when it can. */
export function unrankableReason(result: ScoreResult, policy: Policy): string | null {
  if (result.error !== undefined) return result.error;
  if (result.rpr === null) return 'not scored (no RPR)';
  const missing = policy.needs.filter((field) => isMissing(result, field));
  if (missing.length > 0) {
    return `policy '${policy.name}' needs ${missing.join(', ')}, which the scorer did not produce for this image`;
  }
  return null;
}

function isMissing(result: ScoreResult, field: ScoreField): boolean {
  const value = result[field];
  return value === null || (Array.isArray(value) && value.length === 0);
}

/** Streams results through a policy into a bounded shortlist. */
export class Ranker {
  readonly policy: Policy;
  readonly #heap: BoundedHeap<RankedCandidate>;
  /** Ids currently in the heap: a pool listing one image twice must not fill two slots. */
  readonly #held = new Set<string>();

  constructor(policy: Policy, capacity: number) {
    this.policy = policy;
    this.#heap = new BoundedHeap(capacity, ranksBefore);
  }

  get size(): number {
    return this.#heap.size;
  }

  /** Offers one result; `cost` (budget units, default 1) travels with it to the batch choice. */
  offer(result: ScoreResult, cost = 1): RankOutcome {
    const reason = unrankableReason(result, this.policy);
    if (reason !== null) return { kind: 'skipped', reason };
    const score = this.policy.score(result);
    if (score === null) return { kind: 'skipped', reason: `policy '${this.policy.name}' gave no score` };
    if (!Number.isFinite(score)) return { kind: 'skipped', reason: `policy '${this.policy.name}' gave score ${score}` };
    if (this.#held.has(result.id)) return { kind: 'skipped', reason: `duplicate of sample ${result.id}` };
    const candidate = { result, score, cost };
    const left = this.#heap.offer(candidate);
    if (left !== candidate) this.#held.add(result.id);
    if (left !== null && left !== candidate) this.#held.delete(left.result.id);
    return { kind: 'ranked' };
  }

  /** The kept candidates, best first. */
  shortlist(): RankedCandidate[] {
    return this.#heap.sorted();
  }
}
