import { RprError, errors } from '../errors/index.js';
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

/** Throws RPR_USAGE unless the operator's shape (a linear or a normal operator's) is two positive integers. */
export function requireOperatorShape(where: string, op: Pick<LinearOperator, 'rows' | 'cols'>): void {
  if (!Number.isInteger(op.rows) || op.rows < 1 || !Number.isInteger(op.cols) || op.cols < 1) {
    throw errors.usage(`${where}: operator shape must be positive integers, got ${op.rows} × ${op.cols}`, {
      rows: op.rows,
      cols: op.cols,
    });
  }
}

/**
 * Throws RPR_NUMERIC when a diagonal entry of a Gram matrix is not finite: a row (or column) of the
 * matrix held NaN, Infinity or entries too large to square. `what(i)` names the row for the message.
 */
export function requireFiniteDiagonal(
  where: string,
  gram: Float64Array,
  s: number,
  what: (i: number) => string,
  context: Readonly<Record<string, number>>,
): void {
  for (let i = 0; i < s; i++) {
    if (!Number.isFinite(gram[i * s + i]!)) {
      throw new RprError('RPR_NUMERIC', `${where}: ${what(i)} has NaN, Infinity or entries too large to square`, { index: i, ...context });
    }
  }
}
