/**
 * HTTP to one Label Studio server over undici: authentication (legacy token or PAT), per-attempt
 * timeouts, retries with backoff for calls that may be repeated, and the translation of every failure
 * into an RprError a user can act on. A call that must not be repeated blindly (a task import) is sent
 * once; its transient failures come back flagged `transient: true` so the caller can reconcile first.
 */
import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { debuglog } from 'node:util';
import { Agent, request, type Dispatcher } from 'undici';
import { RprError, type ErrorCode } from '../../errors/index.js';
import { createAuthenticator, type Authenticator, type AuthScheme } from './auth.js';
import {
  isRetryableStatus,
  mayStillRun,
  networkErrorCode,
  parseRetryAfterMs,
  retryDelayMs,
  RETRY_DEFAULTS,
  type RetryOptions,
} from './retry-policy.js';

const debug = debuglog('rpr');

export interface LabelStudioClientOptions extends RetryOptions {
  /** Server root, e.g. http://127.0.0.1:8080 (LABEL_STUDIO_URL). */
  readonly url: string;
  /** Legacy token or personal access token (LABEL_STUDIO_API_KEY). */
  readonly apiKey: string;
  /**
   * Limit for one attempt, for the response headers and again for the body.
   * @defaultValue 30000
   */
  readonly timeoutMs?: number;
  /** Uniform [0, 1) source for backoff jitter. @defaultValue Math.random */
  readonly random?: () => number;
  /** Waits between attempts; tests pass one that records. @defaultValue timers/promises setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Current time in ms, for token expiry and Retry-After dates. @defaultValue Date.now */
  readonly now?: () => number;
  /** An undici dispatcher to send through; by default the client owns an Agent and closes it. */
  readonly dispatcher?: Dispatcher;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';
export type QueryValue = string | number | boolean | undefined;

export interface RequestOptions {
  readonly query?: Readonly<Record<string, QueryValue>>;
  /** JSON request body. */
  readonly json?: unknown;
  /**
   * Retry transient failures (429, 5xx, dropped connections, timeouts) here. Leave false for calls that
   * are not idempotent: their failures are thrown with `context.transient` so the caller reconciles.
   * @defaultValue true for GET, false otherwise
   */
  readonly retry?: boolean;
  /** @defaultValue true */
  readonly auth?: boolean;
  /** Aborts the call, retries included. */
  readonly signal?: AbortSignal;
}

interface Response {
  readonly kind: 'response';
  readonly status: number;
  readonly body: Buffer;
  readonly contentType: string;
}

/** One attempt's outcome when it did not produce a response worth returning or mapping. */
interface TransientFailure {
  readonly kind: 'transient';
  readonly reason: string;
  readonly status: number | null;
  readonly retryAfterMs: number | null;
}

export const CLIENT_DEFAULTS = { timeoutMs: 30_000 } as const;

export class LabelStudioClient {
  readonly baseUrl: string;
  readonly #origin: string;
  readonly #auth: Authenticator;
  readonly #timeoutMs: number;
  readonly #retry: Required<RetryOptions>;
  readonly #random: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;

  constructor(options: LabelStudioClientOptions) {
    this.baseUrl = normalizeBaseUrl(options.url);
    this.#origin = new URL(this.baseUrl).origin;
    if (options.apiKey.trim() === '') {
      throw new RprError(
        'RPR_SINK_AUTH',
        `no API key for Label Studio at ${this.baseUrl}: set LABEL_STUDIO_API_KEY to a legacy token or personal access token (Account & Settings in Label Studio)`,
        { url: this.baseUrl },
      );
    }
    this.#timeoutMs = positive('timeoutMs', options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs);
    this.#retry = {
      retries: nonNegativeInteger('retries', options.retries ?? RETRY_DEFAULTS.retries),
      minDelayMs: nonNegative('minDelayMs', options.minDelayMs ?? RETRY_DEFAULTS.minDelayMs),
      maxDelayMs: nonNegative('maxDelayMs', options.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs),
      maxRetryAfterMs: nonNegative('maxRetryAfterMs', options.maxRetryAfterMs ?? RETRY_DEFAULTS.maxRetryAfterMs),
    };
    this.#random = options.random ?? Math.random;
    this.#sleep = options.sleep ?? ((ms) => sleep(ms));
    this.#now = options.now ?? Date.now;
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher = options.dispatcher ?? new Agent({ connect: { timeout: this.#timeoutMs } });
    this.#auth = createAuthenticator(options.apiKey.trim(), (pat) => this.#refreshAccessToken(pat), {
      now: this.#now,
    });
  }

  get authScheme(): AuthScheme {
    return this.#auth.scheme;
  }

  /** The retry settings in force, for callers that retry non-idempotent calls themselves. */
  get retryOptions(): Required<RetryOptions> {
    return this.#retry;
  }

  /** Limit for one attempt. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  /**
   * Waits before retry number `retry` as the policy says (backoff with jitter, or Retry-After), and at
   * least `minMs`.
   */
  backoff(retry: number, retryAfterMs: number | null, minMs = 0): Promise<void> {
    const ms = Math.max(minMs, retryDelayMs(retry, retryAfterMs, this.#retry, this.#random));
    debug('label-studio: retry %d in %d ms', retry + 1, ms);
    return this.#sleep(ms);
  }

  /** Sends a request and parses the JSON answer. */
  async json<T>(method: HttpMethod, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.#send(method, path, options);
    if (response.body.length === 0) return undefined as T;
    try {
      return JSON.parse(response.body.toString('utf8')) as T;
    } catch {
      throw new RprError(
        'RPR_SINK_REFUSED',
        `Label Studio at ${this.baseUrl} answered ${method} ${path} with something that is not JSON (${response.contentType || 'no content type'}); check that LABEL_STUDIO_URL points at Label Studio itself`,
        { url: this.baseUrl, path },
      );
    }
  }

  /** GETs raw bytes: a path on the server (sent with auth) or an absolute URL (auth only for this server). */
  async bytes(pathOrUrl: string, signal?: AbortSignal): Promise<{ readonly bytes: Buffer; readonly contentType: string }> {
    const external = /^https?:\/\//i.test(pathOrUrl) && new URL(pathOrUrl).origin !== this.#origin;
    const response = await this.#send('GET', pathOrUrl, { auth: !external, ...(signal ? { signal } : {}) });
    return { bytes: response.body, contentType: response.contentType };
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  /** Full URL for a server path (leading slash) or an absolute URL given as is. */
  urlFor(pathOrUrl: string, query?: Readonly<Record<string, QueryValue>>): string {
    const url = /^https?:\/\//i.test(pathOrUrl) ? new URL(pathOrUrl) : new URL(this.baseUrl + pathOrUrl);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  async #send(method: HttpMethod, path: string, options: RequestOptions): Promise<Response> {
    const retry = options.retry ?? method === 'GET';
    const useAuth = options.auth ?? true;
    const url = this.urlFor(path, options.query);
    let renewed = false;
    for (let attempt = 0; ; attempt++) {
      options.signal?.throwIfAborted();
      const authorization = useAuth ? await this.#auth.header() : null;
      const outcome = await this.#attempt(method, url, options, authorization);
      if (outcome.kind === 'response') {
        if (outcome.status === 401 && authorization !== null && !renewed && (await this.#auth.renew(authorization))) {
          // A 401 is decided before the view runs, so even a non-idempotent request is safe to resend.
          renewed = true;
          attempt--;
          continue;
        }
        if (outcome.status < 400) return outcome;
        throw this.#statusError(method, path, outcome);
      }
      if (!retry || attempt >= this.#retry.retries) throw this.#transientError(method, path, outcome, attempt + 1, retry);
      debug('label-studio: %s %s failed (%s)', method, path, outcome.reason);
      await this.backoff(attempt, outcome.retryAfterMs);
    }
  }

  async #attempt(
    method: HttpMethod,
    url: string,
    options: RequestOptions,
    authorization: string | null,
  ): Promise<Response | TransientFailure> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (authorization !== null) headers['authorization'] = authorization;
    let body: string | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    }
    try {
      const response = await request(url, {
        method,
        headers,
        body,
        dispatcher: this.#dispatcher,
        headersTimeout: this.#timeoutMs,
        bodyTimeout: this.#timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const bytes = Buffer.from(await response.body.arrayBuffer());
      const contentType = String(response.headers['content-type'] ?? '');
      if (isRetryableStatus(response.statusCode)) {
        return {
          kind: 'transient',
          reason: `${response.statusCode} ${STATUS_CODES[response.statusCode] ?? ''}`.trim(),
          status: response.statusCode,
          retryAfterMs: parseRetryAfterMs(response.headers['retry-after'], this.#now()),
        };
      }
      return { kind: 'response', status: response.statusCode, body: bytes, contentType };
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const code = networkErrorCode(error);
      if (code === null) throw error;
      return { kind: 'transient', reason: code, status: null, retryAfterMs: null };
    }
  }

  async #refreshAccessToken(pat: string): Promise<string> {
    try {
      const answer = await this.json<{ access?: unknown }>('POST', '/api/token/refresh/', {
        json: { refresh: pat },
        auth: false,
        retry: true,
      });
      if (typeof answer?.access === 'string') return answer.access;
      throw new RprError(
        'RPR_SINK_REFUSED',
        `Label Studio at ${this.baseUrl} answered /api/token/refresh/ without an access token: set LABEL_STUDIO_API_KEY to the legacy token from Account & Settings`,
        { url: this.baseUrl },
      );
    } catch (error) {
      if (error instanceof RprError && error.code === 'RPR_SINK_NOT_FOUND') {
        throw new RprError(
          'RPR_SINK_AUTH',
          `Label Studio at ${this.baseUrl} has no /api/token/refresh/ (a version without personal access tokens): set LABEL_STUDIO_API_KEY to the legacy token from Account & Settings`,
          { url: this.baseUrl },
        );
      }
      if (error instanceof RprError && error.code === 'RPR_SINK_AUTH') {
        throw new RprError(
          'RPR_SINK_AUTH',
          `Label Studio at ${this.baseUrl} refused the personal access token in LABEL_STUDIO_API_KEY (revoked, expired, or from another server): create a new one under Account & Settings → Personal Access Token`,
          { url: this.baseUrl },
        );
      }
      throw error;
    }
  }

  #statusError(method: HttpMethod, path: string, response: Response): RprError {
    const status = response.status;
    const statusText = `${status} ${STATUS_CODES[status] ?? ''}`.trim();
    const context = { url: this.baseUrl, path, status };
    const detail = serverDetail(response.body);
    if (status === 401 || status === 403) {
      return new RprError(
        'RPR_SINK_AUTH',
        `Label Studio at ${this.baseUrl} refused the API key (${statusText} on ${method} ${path}${detail ? `: ${detail}` : ''}): set LABEL_STUDIO_API_KEY to a legacy token or personal access token of a user of that server`,
        context,
      );
    }
    const code: ErrorCode = status === 404 ? 'RPR_SINK_NOT_FOUND' : 'RPR_SINK_REFUSED';
    return new RprError(
      code,
      `Label Studio at ${this.baseUrl} answered ${statusText} to ${method} ${path}${detail ? `: ${detail}` : ''}`,
      context,
    );
  }

  #transientError(method: HttpMethod, path: string, failure: TransientFailure, attempts: number, retried: boolean): RprError {
    const tries = retried ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : '';
    const message =
      failure.status === null
        ? `cannot reach Label Studio at ${this.baseUrl} (${failure.reason} on ${method} ${path}${tries}): start it (scripts/label-studio.sh start) or fix LABEL_STUDIO_URL`
        : `Label Studio at ${this.baseUrl} answered ${failure.reason} to ${method} ${path}${tries}: it is overloaded or failing; check its log and try again`;
    return new RprError('RPR_SINK_UNREACHABLE', message, {
      url: this.baseUrl,
      path,
      status: failure.status,
      transient: true,
      // The request was sent and its connection lost: the server may still be acting on it.
      mayStillRun: failure.status === null && mayStillRun(failure.reason),
      retryAfterMs: failure.retryAfterMs,
    });
  }
}

/** Whether an error from a non-retried call left the request's effect unknown (so reconcile, then retry). */
export function isTransient(error: unknown): error is RprError {
  return error instanceof RprError && error.context['transient'] === true;
}

function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new RprError('RPR_CONFIG', `LABEL_STUDIO_URL '${raw}' is not a URL; give e.g. http://127.0.0.1:8080`, {
      field: 'url',
      value: raw,
    });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new RprError('RPR_CONFIG', `LABEL_STUDIO_URL '${raw}' must be http:// or https://`, {
      field: 'url',
      value: raw,
    });
  }
  return url.toString().replace(/\/+$/, '');
}

/** The server's own explanation, from DRF's `detail` or a validation body, cut to one short line. */
function serverDetail(body: Buffer): string {
  const text = body.toString('utf8');
  let detail = text;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null) {
      const record = parsed as Record<string, unknown>;
      detail = typeof record['detail'] === 'string' ? record['detail'] : JSON.stringify(record['validation_errors'] ?? parsed);
    }
  } catch {
    // Not JSON (an HTML error page): keep the raw text.
  }
  const line = detail.replace(/\s+/g, ' ').trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RprError('RPR_CONFIG', `Label Studio option ${name} must be a positive number of ms, got ${value}`, {
      field: name,
      value,
    });
  }
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RprError('RPR_CONFIG', `Label Studio option ${name} must be ≥ 0, got ${value}`, { field: name, value });
  }
  return value;
}

function nonNegativeInteger(name: string, value: number): number {
  if (!(Number.isInteger(value) && value >= 0)) {
    throw new RprError('RPR_CONFIG', `Label Studio option ${name} must be an integer ≥ 0, got ${value}`, {
      field: name,
      value,
    });
  }
  return value;
}
