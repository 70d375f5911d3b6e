/** The Dice coefficient of two binary masks. */
import { errors } from '../errors/index.js';

/** 2|P ∩ T| / (|P| + |T|) of the masks `predicted > threshold` and `truth > 0.5`; 1 when both are empty. */
export function dice(predicted: ArrayLike<number>, truth: ArrayLike<number>, threshold = 0): number {
  if (predicted.length !== truth.length) throw errors.usage(`dice: masks of ${predicted.length} and ${truth.length} pixels`);
  let both = 0;
  let p = 0;
  let t = 0;
  for (let i = 0; i < truth.length; i++) {
    const a = predicted[i]! > threshold;
    const b = truth[i]! > 0.5;
    if (a) p++;
    if (b) t++;
    if (a && b) both++;
  }
  return p + t === 0 ? 1 : (2 * both) / (p + t);
}
