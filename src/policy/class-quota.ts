/**
 * Caps each predicted class's share of a round: the cost picked from one class never exceeds
 * maxShare × capacity. Images without a prediction form their own class.
 */
export class ClassQuota {
  readonly limit: number;
  readonly #used = new Map<number | null, number>();

  constructor(maxShare: number, capacity: number) {
    this.limit = maxShare * capacity;
  }

  allows(predicted: number | null, cost: number): boolean {
    return (this.#used.get(predicted) ?? 0) + cost <= this.limit + 1e-9;
  }

  add(predicted: number | null, cost: number): void {
    this.#used.set(predicted, (this.#used.get(predicted) ?? 0) + cost);
  }
}
