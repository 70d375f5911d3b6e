import { createHash } from 'node:crypto';
import { DigestSet } from './digest-set.js';

const digest = (i: number) => createHash('sha256').update(`image ${i}`).digest('hex');

describe('DigestSet', () => {
  it('agrees with a Set of strings through many growths', () => {
    const set = new DigestSet(16);
    const reference = new Set<string>();
    for (let i = 0; i < 50_000; i++) {
      const d = digest(i % 30_000);
      expect(set.add(d)).toBe(!reference.has(d));
      reference.add(d);
    }
    expect(set.size).toBe(reference.size);
    for (let i = 0; i < 30_000; i += 997) expect(set.has(digest(i))).toBe(true);
    expect(set.has(digest(1_000_000))).toBe(false);
  });

  it('handles the all-zero digest and rejects what is not a digest', () => {
    const set = new DigestSet();
    const zero = '0'.repeat(64);
    expect(set.add(zero)).toBe(true);
    expect(set.add(zero)).toBe(false);
    expect(() => set.add('not-hex')).toThrow(/digest/);
  });
});
