/**
 * What one image costs in budget units: 1 when the budget counts samples; otherwise the configured
 * rule, a constant or one proportional to the image's pixel count (with a floor, which also bounds
 * how many images a round can hold).
 */
import sharp from 'sharp';
import type { CostRule } from '../config/index.js';

export interface ImageCost {
  /** The smallest cost any image can have. */
  readonly minCost: number;
  /** Whether the cost depends on the image (then it must be measured from the bytes). */
  readonly variable: boolean;
  /** The cost of the image with these bytes; an unreadable header costs the minimum. */
  of(bytes: Buffer): Promise<number>;
}

export function imageCost(unit: 'samples' | 'cost', rule: CostRule): ImageCost {
  if (unit === 'samples') return constant(1);
  if (rule.rule === 'constant') return constant(rule.value);
  return {
    minCost: rule.min,
    variable: true,
    async of(bytes) {
      const meta = await sharp(bytes).metadata().catch(() => null);
      const pixels = (meta?.width ?? 0) * (meta?.height ?? 0);
      return Math.max(rule.min, (rule.perMegapixel * pixels) / 1e6);
    },
  };
}

function constant(value: number): ImageCost {
  return { minCost: value, variable: false, of: async () => value };
}
