import {
  isRetryableStatus,
  mayStillRun,
  networkErrorCode,
  parseRetryAfterMs,
  retryDelayMs,
  RETRY_DEFAULTS,
} from './retry-policy.js';

describe('parseRetryAfterMs', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);

  it('reads delta-seconds, including fractions', () => {
    expect(parseRetryAfterMs('3', now)).toBe(3000);
    expect(parseRetryAfterMs(' 0.25 ', now)).toBe(250);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(parseRetryAfterMs(new Date(now + 7000).toUTCString(), now)).toBe(7000);
    expect(parseRetryAfterMs(new Date(now - 7000).toUTCString(), now)).toBe(0);
  });

  it('returns null when absent or unreadable', () => {
    expect(parseRetryAfterMs(undefined, now)).toBeNull();
    expect(parseRetryAfterMs('', now)).toBeNull();
    expect(parseRetryAfterMs('soon', now)).toBeNull();
  });

  it('takes the first of repeated headers', () => {
    expect(parseRetryAfterMs(['2', '9'], now)).toBe(2000);
  });
});

describe('retryDelayMs', () => {
  const options = { ...RETRY_DEFAULTS, minDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 5000 };

  it('doubles per retry and stays within [base/2, base]', () => {
    for (const [retry, base] of [
      [0, 100],
      [1, 200],
      [2, 400],
      [3, 800],
      [4, 1000],
      [9, 1000],
    ] as const) {
      expect(retryDelayMs(retry, null, options, () => 0)).toBe(base / 2);
      expect(retryDelayMs(retry, null, options, () => 0.999999)).toBe(base);
      const mid = retryDelayMs(retry, null, options, () => 0.5);
      expect(mid).toBe(Math.round(0.75 * base));
    }
  });

  it('honours Retry-After over the backoff, up to the cap', () => {
    expect(retryDelayMs(0, 3000, options, () => 0.5)).toBe(3000);
    expect(retryDelayMs(0, 60_000, options, () => 0.5)).toBe(5000);
  });
});

describe('retry classification', () => {
  it('retries 408, 429 and the gateway/server errors, not other statuses', () => {
    expect([408, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 409, 413, 501].some(isRetryableStatus)).toBe(false);
  });

  it('finds a socket error code on the error or its cause', () => {
    expect(networkErrorCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    const wrapped = new Error('fetch failed', { cause: Object.assign(new Error('closed'), { code: 'UND_ERR_SOCKET' }) });
    expect(networkErrorCode(wrapped)).toBe('UND_ERR_SOCKET');
    expect(networkErrorCode(Object.assign(new Error('x'), { code: 'ERR_INVALID_URL' }))).toBeNull();
    expect(networkErrorCode('nope')).toBeNull();
  });

  it('tells failures before sending from those after, when the server may still be acting', () => {
    expect(['ECONNREFUSED', 'ENOTFOUND', 'UND_ERR_CONNECT_TIMEOUT'].some(mayStillRun)).toBe(false);
    expect(['ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'].every(mayStillRun)).toBe(true);
  });
});
