import { RprError } from '../errors/index.js';
import { TOP_RIGHT_METHODS } from '../linalg/index.js';
import type { BasisKey, CachedBasis, CachedScore } from './cache-store.js';

/** The methods a stored basis may name: the resolved ones. */
const BASIS_METHODS = TOP_RIGHT_METHODS.filter((m) => m !== 'auto');

/** Rejects a value the stores could not give back as it was, naming the sample and the field. */
export function checkCachedScore(location: string, sampleId: string, value: CachedScore): void {
  const fail = (why: string): never => {
    throw new RprError('RPR_CACHE', `cache ${location}: cannot store the score of sample '${sampleId}': ${why}`, {
      path: location,
      sampleId,
    });
  };
  if (typeof sampleId !== 'string' || sampleId === '') fail('the sample id must be a non-empty string');
  if (value.predicted !== null && !Number.isSafeInteger(value.predicted)) {
    fail(`predicted must be an integer or null, got ${value.predicted}`);
  }
  const numbers = (values: readonly unknown[]) => values.every((v) => typeof v === 'number');
  if (value.rpr !== null && !numbers(Object.values(value.rpr))) fail('rpr values must be numbers');
  for (const field of ['sigma', 'logits', 'coords'] as const) {
    const values = value[field];
    if (values !== null && !(Array.isArray(values) && numbers(values))) {
      fail(`${field} must be an array of numbers or null`);
    }
  }
  if (value.error !== undefined && typeof value.error !== 'string') fail('error must be a string');
}

/** A deep copy, so neither the caller nor the store can change the other's arrays. */
export function copyCachedScore(value: CachedScore): CachedScore {
  return {
    rpr: value.rpr === null ? null : { ...value.rpr },
    sigma: value.sigma === null ? null : [...value.sigma],
    predicted: value.predicted,
    logits: value.logits === null ? null : [...value.logits],
    coords: value.coords === null ? null : [...value.coords],
    ...(value.error === undefined ? {} : { error: value.error }),
  };
}

/** Rejects a basis the stores could not give back as it was, naming the key and the field. */
export function checkCachedBasis(location: string, key: BasisKey, basis: CachedBasis): void {
  const fail = (why: string): never => {
    throw new RprError('RPR_CACHE', `cache ${location}: cannot store the reference basis of rank ${key.k}: ${why}`, { path: location });
  };
  if (!Number.isSafeInteger(key.k) || key.k < 1) fail(`k must be a positive integer, got ${key.k}`);
  if (!Number.isSafeInteger(basis.rank) || basis.rank < 0) fail(`rank must be a non-negative integer, got ${basis.rank}`);
  if (!Number.isSafeInteger(basis.images) || basis.images < 0) fail(`images must be a non-negative integer, got ${basis.images}`);
  if (!(basis.v instanceof Float64Array) || !(basis.sigma instanceof Float64Array)) fail('v and sigma must be Float64Arrays');
  if (basis.rank > 0 ? basis.v.length % basis.rank !== 0 : basis.v.length !== 0) fail(`v has ${basis.v.length} values, not a multiple of rank ${basis.rank}`);
  if (typeof key.settings !== 'string' || key.settings === '') fail('the key\'s settings must be a non-empty string');
  if (!(BASIS_METHODS as readonly string[]).includes(basis.method)) fail(`method must be one of ${BASIS_METHODS.join(', ')}, got ${String(basis.method)}`);
  const c = basis.convergence;
  if (c !== null) {
    const counts = Number.isSafeInteger(c.passes) && c.passes >= 0;
    const numbers = Array.isArray(c.residuals) && c.residuals.every((r) => typeof r === 'number') && typeof c.tol === 'number';
    if (!counts || !numbers || typeof c.converged !== 'boolean') fail('convergence must be null or { residuals: number[], tol: number, converged: boolean, passes: integer }');
  }
}

/** A copy with its own arrays, so neither the caller nor the store can change the other's. */
export function copyCachedBasis(basis: CachedBasis): CachedBasis {
  const c = basis.convergence;
  return {
    v: basis.v.slice(),
    rank: basis.rank,
    sigma: basis.sigma.slice(),
    images: basis.images,
    method: basis.method,
    convergence: c && { residuals: [...c.residuals], tol: c.tol, converged: c.converged, passes: c.passes },
  };
}
