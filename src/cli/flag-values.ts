/** Checks of flag values that yargs' types cannot express; a bad value is RPR_USAGE naming the flag. */
import { errors } from '../errors/index.js';

export function positiveIntegerFlag(flag: string, value: string | number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw errors.usage(`--${flag} must be a positive integer (got '${value}')`, { flag });
  return n;
}

/** A TCP port to listen on; 0 asks for any free one. */
export function portFlag(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw errors.usage(`--port must be an integer from 0 to 65535 (got ${value})`, { flag: 'port' });
  return value;
}

export function secondsFlag(flag: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw errors.usage(`--${flag} must be a number of seconds ≥ 0 (got ${value})`, { flag });
  return value;
}
