import { isPolicyName } from '../policy/index.js';
import { POLICY_VARIANTS, pickVariants } from './policy-variants.js';

describe('evaluation policy variants', () => {
  it('are product policies with unique ids, diversity on and off for every scored policy', () => {
    expect(new Set(POLICY_VARIANTS.map((v) => v.id)).size).toBe(POLICY_VARIANTS.length);
    for (const v of POLICY_VARIANTS) expect(isPolicyName(v.policy)).toBe(true);
    const scored = POLICY_VARIANTS.filter((v) => v.scoring !== 'none');
    expect(scored.filter((v) => v.diversity)).toHaveLength(scored.filter((v) => !v.diversity).length);
    expect(POLICY_VARIANTS.filter((v) => v.policy === 'lowest-rpr').map((v) => v.scoring)).toEqual(['per-sample', 'per-sample', 'reference', 'reference']);
  });

  it('picks by id in a fixed order and names the valid ids otherwise', () => {
    expect(pickVariants(['margin', 'random']).map((v) => v.id)).toEqual(['random', 'margin']);
    expect(() => pickVariants(['lowest'])).toThrow(expect.objectContaining({ code: 'RPR_UNKNOWN_NAME' }));
  });
});
