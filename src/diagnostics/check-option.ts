/** Option checks shared by the diagnostics: one message shape naming the analysis, the option and the value. */
import { RprError } from '../errors/index.js';

export function positiveInteger(analysis: string, name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RprError('RPR_USAGE', `${analysis}: ${name} must be a positive integer, got ${value}`, { [name]: value });
  }
  return value;
}
