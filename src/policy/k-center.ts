/**
 * Greedy k-center (farthest-first traversal) over candidates' projection coordinates: each pick is the
 * candidate farthest from everything picked so far, ties going to the better-ranked one, and the
 * first pick is the best-ranked candidate. It spreads a batch over the embedding instead of taking
 * near-duplicates that all rank high.
 */
export class KCenterPicker {
  readonly #points: readonly (readonly number[])[];
  readonly #nearest: Float64Array;

  /** `points[i]` are the coordinates of the i-th best-ranked candidate. */
  constructor(points: readonly (readonly number[])[]) {
    this.#points = points;
    this.#nearest = new Float64Array(points.length).fill(Infinity);
  }

  /** The index in `alive` (ascending candidate indices) to pick next. */
  pick(alive: readonly number[]): number {
    let best = 0;
    for (let j = 1; j < alive.length; j++) {
      if (this.#nearest[alive[j]!]! > this.#nearest[alive[best]!]!) best = j;
    }
    return best;
  }

  /** Records that candidate `index` was picked. */
  picked(index: number): void {
    const origin = this.#points[index]!;
    this.#points.forEach((point, i) => {
      const d = squaredDistance(origin, point);
      if (d < this.#nearest[i]!) this.#nearest[i] = d;
    });
  }
}

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) sum += (a[i]! - b[i]!) ** 2;
  return sum;
}
