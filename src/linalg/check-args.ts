import { errors } from '../errors/index.js';
import type { LinearOperator } from './operator.js';

/**
 * Argument checks shared by the linear-algebra entry points. Options usually come from a user's
 * config (ranks, oversampling…), so a bad one is a usage error that names the option and the fix.
 */

/** Throws RPR_USAGE unless `value` is an integer in [min, max]. */
export function requireInteger(where: string, name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw errors.usage(`${where}: ${name} must be an integer in [${min}, ${max}], got ${value}`, {
      option: name,
      value,
    });
  }
}

/** Throws RPR_USAGE unless `value` is a finite number ≥ 0. */
export function requireNonNegative(where: string, name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) {
    throw errors.usage(`${where}: ${name} must be a finite number ≥ 0, got ${value}`, { option: name, value });
  }
}

/** Throws RPR_USAGE unless the operator's shape is two positive integers. */
export function requireOperatorShape(where: string, op: LinearOperator): void {
  if (!Number.isInteger(op.rows) || op.rows < 1 || !Number.isInteger(op.cols) || op.cols < 1) {
    throw errors.usage(`${where}: operator shape must be positive integers, got ${op.rows} × ${op.cols}`, {
      rows: op.rows,
      cols: op.cols,
    });
  }
}
