import { errors } from '../errors/index.js';
import { ClassQuota } from './class-quota.js';
import { KCenterPicker } from './k-center.js';
import type { RankedCandidate } from './rank.js';

export interface BatchOptions {
  /** What the round may spend, in budget units (samples, or cost units). */
  readonly capacity: number;
  /** Spread the batch by greedy k-center over `coords`. @defaultValue false */
  readonly diversity?: boolean;
  /** Largest share of the capacity one predicted class may take, in (0, 1]. @defaultValue none */
  readonly maxClassShare?: number | null;
}

export interface PickedCandidate extends RankedCandidate {
  /** 1-based position in the batch. */
  readonly rank: number;
}

export interface Batch {
  readonly picked: readonly PickedCandidate[];
  readonly spent: number;
  /** Candidates passed over because they no longer fit the capacity, or their class was full. */
  readonly overCapacity: number;
  readonly overQuota: number;
}

/**
 * Picks a batch from a shortlist ranked best first: greedily in rank order, or farthest-first when
 * `diversity` is on, never exceeding the capacity or a class quota. A candidate that does not fit is
 * passed over for good (what is left only shrinks, quotas only fill), so the result is deterministic.
 */
export function selectBatch(shortlist: readonly RankedCandidate[], options: BatchOptions): Batch {
  const costs = shortlist.map((c) => c.cost);
  const quota = options.maxClassShare == null ? null : new ClassQuota(options.maxClassShare, options.capacity);
  const picker = options.diversity ? new KCenterPicker(shortlist.map(coordsOf)) : null;
  const picked: PickedCandidate[] = [];
  let spent = 0;
  let overCapacity = 0;
  let overQuota = 0;
  let alive = shortlist.map((_, i) => i);
  while (alive.length > 0) {
    alive = alive.filter((i) => {
      if (spent + costs[i]! > options.capacity + 1e-9) {
        overCapacity++;
        return false;
      }
      if (quota !== null && !quota.allows(shortlist[i]!.result.predicted, costs[i]!)) {
        overQuota++;
        return false;
      }
      return true;
    });
    if (alive.length === 0) break;
    const at = picker === null ? 0 : picker.pick(alive);
    const index = alive[at]!;
    alive.splice(at, 1);
    const candidate = shortlist[index]!;
    picked.push({ ...candidate, rank: picked.length + 1 });
    spent += costs[index]!;
    quota?.add(candidate.result.predicted, costs[index]!);
    picker?.picked(index);
  }
  return { picked, spent, overCapacity, overQuota };
}

function coordsOf(candidate: RankedCandidate): readonly number[] {
  const coords = candidate.result.coords;
  if (coords === null || coords.length === 0) {
    throw errors.config(
      `policy.diversity needs projection coordinates, which the scorer did not produce for ${candidate.result.uri}; turn diversity off or use a scorer that reports coords`,
      { uri: candidate.result.uri },
    );
  }
  return coords;
}
