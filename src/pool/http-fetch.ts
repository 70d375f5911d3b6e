import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { RprError } from '../errors/index.js';
import { errorCode, errorMessage } from './error-message.js';
import { TRANSIENT_SOCKET_ERRORS } from '../util/socket-errors.js';

export interface HttpFetchOptions {
  /**
   * Limit for one attempt, from sending the request to the last body byte. A timeout is not retried:
   * a server that hangs once usually hangs again, and each retry would cost the whole limit.
   * @defaultValue 30000
   */
  readonly timeoutMs?: number;
  /**
   * Attempts after the first one, made on HTTP 429, HTTP 5xx and connection errors.
   * @defaultValue 3
   */
  readonly retries?: number;
  /**
   * Backoff before the first retry; it doubles each retry and is jittered to a uniform draw in
   * [½, 1] of itself, so many clients do not retry in step.
   * @defaultValue 500
   */
  readonly retryBaseDelayMs?: number;
  /**
   * Longest backoff; also caps a server's Retry-After.
   * @defaultValue 30000
   */
  readonly retryMaxDelayMs?: number;
  /**
   * Bodies larger than this are refused (by Content-Length, or while streaming when it is absent).
   * @defaultValue 64 MiB
   */
  readonly maxBodyBytes?: number;
  /** Extra request headers (an Authorization header for a private bucket, for instance). */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * The undici dispatcher to send requests through (a proxy agent, a mock). By default each pool run
   * makes its own agent, following up to 5 redirects, and closes it at the end.
   */
  readonly dispatcher?: Dispatcher;
}

export const HTTP_FETCH_DEFAULTS = {
  timeoutMs: 30_000,
  retries: 3,
  retryBaseDelayMs: 500,
  retryMaxDelayMs: 30_000,
  maxBodyBytes: 64 * 1024 * 1024,
} as const;

/**
 * Socket errors worth another attempt. A response timeout is not among them: each retry would cost the
 * whole timeout again.
 */
const RETRYABLE_ERROR_CODES: ReadonlySet<string> = new Set(TRANSIENT_SOCKET_ERRORS);

/** The dispatcher a pool run uses when none is given: a fresh agent that follows redirects. */
export function createHttpDispatcher(): Dispatcher {
  return new Agent().compose(interceptors.redirect({ maxRedirections: 5 }));
}

type Attempt =
  | { readonly ok: true; readonly bytes: Buffer }
  | { readonly ok: false; readonly retryable: boolean; readonly reason: string; readonly retryAfterMs: number | null };

/**
 * GETs a URL's body with a per-attempt timeout, a size limit, and retries with exponential backoff
 * and jitter. Failures are RPR_FETCH errors naming the URL; an abort of `signal` is rethrown as is.
 */
export async function fetchBytes(url: string, options: HttpFetchOptions = {}, signal?: AbortSignal): Promise<Buffer> {
  const retries = options.retries ?? HTTP_FETCH_DEFAULTS.retries;
  const baseMs = options.retryBaseDelayMs ?? HTTP_FETCH_DEFAULTS.retryBaseDelayMs;
  const maxMs = options.retryMaxDelayMs ?? HTTP_FETCH_DEFAULTS.retryMaxDelayMs;
  for (let attempt = 0; ; attempt++) {
    const outcome = await fetchOnce(url, options, signal);
    if (outcome.ok) return outcome.bytes;
    if (!outcome.retryable || attempt >= retries) {
      const tries = attempt > 0 ? ` (after ${attempt + 1} attempts)` : '';
      throw new RprError('RPR_FETCH', `cannot fetch ${url}: ${outcome.reason}${tries}`, { url });
    }
    const backoffMs = Math.min(maxMs, baseMs * 2 ** attempt) * (0.5 + Math.random() / 2);
    await sleep(Math.min(maxMs, Math.max(backoffMs, outcome.retryAfterMs ?? 0)), undefined, { signal });
  }
}

async function fetchOnce(url: string, options: HttpFetchOptions, signal: AbortSignal | undefined): Promise<Attempt> {
  const timeoutMs = options.timeoutMs ?? HTTP_FETCH_DEFAULTS.timeoutMs;
  const maxBodyBytes = options.maxBodyBytes ?? HTTP_FETCH_DEFAULTS.maxBodyBytes;
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await request(url, {
      method: 'GET',
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    });
    const { statusCode } = response;
    if (statusCode < 200 || statusCode >= 300) {
      await response.body.dump();
      return {
        ok: false,
        retryable: statusCode === 429 || statusCode >= 500,
        reason: `HTTP ${statusCode}${STATUS_CODES[statusCode] === undefined ? '' : ` ${STATUS_CODES[statusCode]}`}`,
        retryAfterMs: parseRetryAfterMs(response.headers['retry-after']),
      };
    }
    const tooLarge: Attempt = {
      ok: false,
      retryable: false,
      reason: `body over the ${maxBodyBytes}-byte limit (maxBodyBytes)`,
      retryAfterMs: null,
    };
    if (Number(response.headers['content-length'] ?? 0) > maxBodyBytes) {
      response.body.destroy();
      return tooLarge;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of response.body) {
      const buffer = chunk as Buffer;
      length += buffer.length;
      if (length > maxBodyBytes) {
        response.body.destroy();
        return tooLarge;
      }
      chunks.push(buffer);
    }
    return { ok: true, bytes: Buffer.concat(chunks, length) };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) {
      const reason = `no complete response within ${timeoutMs} ms (timeoutMs)`;
      return { ok: false, retryable: false, reason, retryAfterMs: null };
    }
    const code = errorCode(error);
    const message = errorMessage(error).split('\n')[0] ?? '';
    return {
      ok: false,
      retryable: code !== null && RETRYABLE_ERROR_CODES.has(code),
      reason: code === null || message.includes(code) ? message : `${message} (${code})`,
      retryAfterMs: null,
    };
  }
}

/** Retry-After as seconds or an HTTP date; null when absent or unreadable. */
function parseRetryAfterMs(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}
