/** Budget arithmetic, in samples or cost units: what is left overall, and what one round may spend. */
import { RprError } from '../errors/index.js';

export interface BudgetLimits {
  /** Over all rounds. */
  readonly total: number;
  /** Cap of one round. */
  readonly perRound: number;
  readonly unit: 'samples' | 'cost';
}

export interface BudgetStatus {
  readonly unit: 'samples' | 'cost';
  readonly total: number;
  /** Spent by all rounds so far. */
  readonly spent: number;
  /** total − spent, never below 0. */
  readonly left: number;
  /** What the next round may spend: min(perRound, left). */
  readonly roundCap: number;
}

export function budgetStatus(limits: BudgetLimits, spent: number): BudgetStatus {
  const left = Math.max(0, limits.total - spent);
  return { unit: limits.unit, total: limits.total, spent, left, roundCap: Math.min(limits.perRound, left) };
}

/** RPR_BUDGET_SPENT (exit 3) when not even the cheapest image fits in what is left. */
export function assertBudgetLeft(status: BudgetStatus, minCost: number): void {
  if (status.roundCap + 1e-9 >= minCost) return;
  throw new RprError(
    'RPR_BUDGET_SPENT',
    `labeling budget spent: ${formatAmount(status.spent)} of ${formatAmount(status.total)} ${status.unit} used${status.left > 0 ? `, ${formatAmount(status.left)} left is less than one image (${formatAmount(minCost)})` : ''}; raise budget.total (--budget) to select more`,
    { total: status.total, spent: status.spent },
  );
}

/** Up to 4 decimals, without trailing zeros. */
export function formatAmount(value: number): string {
  return String(Math.round(value * 1e4) / 1e4);
}
