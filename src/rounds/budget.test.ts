import { assertBudgetLeft, budgetStatus, formatAmount } from './budget.js';
import { rprThrown } from '../../test/helpers/rpr-rejection.js';

describe('budget arithmetic', () => {
  const limits = { total: 250, perRound: 100, unit: 'samples' as const };

  it.each([
    [0, 250, 100],
    [100, 150, 100],
    [200, 50, 50],
    [250, 0, 0],
    [300, 0, 0],
  ])('after spending %d: %d left, the next round may spend %d', (spent, left, roundCap) => {
    expect(budgetStatus(limits, spent)).toEqual({ unit: 'samples', total: 250, spent, left, roundCap });
  });

  it('refuses a round when not even the cheapest image fits (RPR_BUDGET_SPENT, exit 3)', () => {
    expect(() => assertBudgetLeft(budgetStatus(limits, 249), 1)).not.toThrow();
    const error = rprThrown(() => assertBudgetLeft(budgetStatus({ total: 10, perRound: 5, unit: 'cost' }, 9.75), 0.5));
    expect(error.exitCode).toBe(3);
    expect(error.message).toBe(
      'labeling budget spent: 9.75 of 10 cost used, 0.25 left is less than one image (0.5); raise budget.total (--budget) to select more',
    );
  });

  it('formats amounts to at most 4 decimals', () => {
    expect([formatAmount(1), formatAmount(0.1 + 0.2), formatAmount(2 / 3)]).toEqual(['1', '0.3', '0.6667']);
  });
});
