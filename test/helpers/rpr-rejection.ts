/** The RprError a call that must fail throws or rejects with, for the checks a test makes on it. */
import { RprError } from '../../src/errors/index.js';

/** Fails the test when `promise` resolves or rejects with anything but an RprError; else that error. */
export async function rprRejection(promise: Promise<unknown>): Promise<RprError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RprError);
  return error as RprError;
}

/** Fails the test when `run` returns or throws anything but an RprError; else that error. */
export function rprThrown(run: () => unknown): RprError {
  let error: unknown = null;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(RprError);
  return error as RprError;
}
