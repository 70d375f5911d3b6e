/**
 * When and how long to wait before another attempt at a Label Studio request. The shape follows undici's
 * retry handler: exponential backoff with jitter, Retry-After honoured, retries on 408/429/5xx and on
 * socket errors. Whether a request may be resent at all is the caller's decision (an import is not
 * idempotent and is reconciled first).
 */
import { NOT_SENT_SOCKET_ERRORS, TRANSIENT_SOCKET_ERRORS } from '../../util/socket-errors.js';

export interface RetryOptions {
  /**
   * Attempts after the first one.
   * @defaultValue 5
   */
  readonly retries?: number;
  /**
   * Backoff before the first retry; it doubles with each retry.
   * @defaultValue 500
   */
  readonly minDelayMs?: number;
  /**
   * Longest computed backoff.
   * @defaultValue 30000
   */
  readonly maxDelayMs?: number;
  /**
   * Longest wait a server's Retry-After can ask for; a longer request is cut to this.
   * @defaultValue 60000
   */
  readonly maxRetryAfterMs?: number;
}

export const RETRY_DEFAULTS: Required<RetryOptions> = {
  retries: 5,
  minDelayMs: 500,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 60_000,
};

const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Transient socket failures, plus timeouts and closed sockets: every request here is made safe to repeat. */
const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set([
  ...TRANSIENT_SOCKET_ERRORS,
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

const NOT_SENT_ERROR_CODES: ReadonlySet<string> = new Set(NOT_SENT_SOCKET_ERRORS);

/**
 * Whether the server may still be working on a request that failed with socket error `code` (a timeout
 * or a connection dropped after sending), as opposed to one that never left.
 */
export function mayStillRun(code: string): boolean {
  return !NOT_SENT_ERROR_CODES.has(code);
}

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status);
}

/** The error code of a socket-level failure, or null when `error` is something else. */
export function networkErrorCode(error: unknown): string | null {
  let current: unknown = error;
  // undici wraps some socket errors; the code that matters may sit on the cause.
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_ERROR_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/**
 * Milliseconds a Retry-After header asks for (delta-seconds or an HTTP date), or null when absent or
 * unreadable. `nowMs` is the current time, for the date form.
 */
export function parseRetryAfterMs(header: string | string[] | undefined, nowMs: number): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/**
 * Wait before retry number `retry` (0 for the first retry): the server's Retry-After when it gave one
 * (capped at maxRetryAfterMs), else min·2^retry capped at maxDelayMs and jittered uniformly into
 * [½, 1] of itself so that clients failing together do not retry together. `random` is uniform in [0, 1).
 */
export function retryDelayMs(
  retry: number,
  retryAfterMs: number | null,
  options: Required<RetryOptions>,
  random: () => number,
): number {
  if (retryAfterMs !== null) return Math.min(retryAfterMs, options.maxRetryAfterMs);
  const base = Math.min(options.maxDelayMs, options.minDelayMs * 2 ** retry);
  return Math.round(base / 2 + (random() * base) / 2);
}
