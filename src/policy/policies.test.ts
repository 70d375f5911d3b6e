import { RprError } from '../errors/index.js';
import { createRng, shuffleInPlace } from '../util/rng.js';
import { createPolicy, POLICY_NAMES } from './create-policy.js';
import { Ranker } from './rank.js';
import { scoreResult } from './score-result-fixture.js';

describe('createPolicy', () => {
  it('rejects an unknown name with RPR_UNKNOWN_NAME listing every valid name', () => {
    let thrown: unknown;
    try {
      createPolicy('lowest-rpt');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(RprError);
    expect((thrown as RprError).code).toBe('RPR_UNKNOWN_NAME');
    for (const name of POLICY_NAMES) expect((thrown as RprError).message).toContain(name);
  });

  it('lowest-rpr scores 1 − RPR at the configured k, by default the largest k', () => {
    const r = scoreResult('a', { rpr: { '1': 0.1, '5': 0.3, '10': 0.9 } });
    expect(createPolicy('lowest-rpr').score(r)).toBeCloseTo(0.1, 15);
    expect(createPolicy('lowest-rpr', { k: 5 }).score(r)).toBeCloseTo(0.7, 15);
    expect(createPolicy('highest-rpr', { k: 1 }).score(r)).toBeCloseTo(0.1, 15);
    expect(createPolicy('lowest-rpr', { k: 3 }).score(r)).toBeNull();
  });

  it('lowest-rpr reports the RPR itself to users and sinks, not its ranking key', () => {
    const r = scoreResult('a', { rpr: { '1': 0.1, '5': 0.3, '10': 0.9 } });
    expect(createPolicy('lowest-rpr', { k: 5 }).reported?.(r)).toBeCloseTo(0.3, 15);
    expect(createPolicy('entropy').reported).toBeUndefined();
  });

  it('lowest-rpr ranks the smallest RPR first', () => {
    const ranker = new Ranker(createPolicy('lowest-rpr'), 2);
    [0.8, 0.05, 0.4, 0.2].forEach((v, i) => ranker.offer(scoreResult(`s${i}`, { rpr: { '10': v } })));
    expect(ranker.shortlist().map((c) => c.result.id)).toEqual(['s1', 's3']);
  });

  it('margin and least-confidence prefer the less confident image', () => {
    const sure = scoreResult('sure', { logits: [8, 0, 0] });
    const unsure = scoreResult('unsure', { logits: [1, 0.9, 0] });
    for (const name of ['entropy', 'margin', 'least-confidence']) {
      const policy = createPolicy(name);
      expect(policy.score(unsure)!).toBeGreaterThan(policy.score(sure)!);
    }
  });

  it('hybrid fuses 1 − RPR with the normalized entropy by the configured weights', () => {
    const r = scoreResult('h', { rpr: { '10': 0.3 }, logits: [0, 0, 0, 0] });
    const policy = createPolicy('hybrid', { hybrid: { rprWeight: 3, uncertaintyWeight: 1 } });
    // Uniform logits: normalized entropy is exactly 1.
    expect(policy.score(r)).toBeCloseTo((3 * 0.7 + 1 * 1) / 4, 12);
    const marginOnly = createPolicy('hybrid', {
      hybrid: { rprWeight: 0, uncertaintyWeight: 1, uncertainty: 'margin' },
    });
    const p = 1 / (1 + Math.exp(-2));
    expect(marginOnly.score(scoreResult('m', { logits: [2, 0] }))).toBeCloseTo(1 - (2 * p - 1), 12);
  });
});

describe('random policy', () => {
  const results = Array.from({ length: 400 }, (_, i) => scoreResult(`sample-${i}`));
  const top = (seed: number, order: typeof results) => {
    const ranker = new Ranker(createPolicy('random', { seed }), 20);
    for (const r of order) ranker.offer(r);
    return ranker.shortlist().map((c) => c.result.id);
  };

  it('is reproducible and independent of pool order', () => {
    const shuffled = shuffleInPlace([...results], createRng(99));
    expect(top(7, shuffled)).toEqual(top(7, results));
    expect(top(7, results)).toEqual(top(7, results));
  });

  it('depends on the seed, and its scores look uniform on [0, 1)', () => {
    expect(top(8, results)).not.toEqual(top(7, results));
    const policy = createPolicy('random', { seed: 1 });
    const scores = results.map((r) => policy.score(r)!);
    expect(Math.min(...scores)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...scores)).toBeLessThan(1);
    const mean = scores.reduce((a, b) => a + b, 0) / scores.length;
    // Mean of 400 uniforms: standard error 0.0144, so ±0.06 is over 4 standard errors.
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.06);
  });
});
