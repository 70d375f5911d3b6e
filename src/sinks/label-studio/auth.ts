/**
 * The two kinds of Label Studio API key. A legacy token is a static key sent as `Token <key>`. A personal
 * access token (PAT) is a JWT refresh token: it is exchanged at /api/token/refresh/ for an access token
 * that lives about five minutes and is sent as `Bearer <access>`. The kind is told from the key's shape:
 * a legacy key is 40 hex characters, a PAT is three base64url segments whose payload says
 * `token_type: refresh`.
 */

export type AuthScheme = 'legacy-token' | 'personal-access-token' | 'access-token';

export interface Authenticator {
  readonly scheme: AuthScheme;
  /** The Authorization header for the next request (refreshes an access token about to expire). */
  header(): Promise<string>;
  /**
   * Called after the server answered 401 to `rejectedHeader`. True when a fresh credential was obtained
   * and the request may be sent once more; false when the key itself was refused.
   */
  renew(rejectedHeader: string): Promise<boolean>;
}

/** Exchanges a PAT for an access token (the client's POST to /api/token/refresh/). */
export type RefreshAccessToken = (refreshToken: string) => Promise<string>;

export interface AuthOptions {
  /** Current time in ms; tests move it. @defaultValue Date.now */
  readonly now?: () => number;
  /**
   * An access token is refreshed this long before its `exp`, so that it does not expire in flight; at most
   * half its lifetime (`exp − iat`), so that a server issuing short-lived tokens still gets each one used.
   * @defaultValue 30000
   */
  readonly refreshSkewMs?: number;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The JSON payload of a JWT-shaped string, or null when it is not one. Signatures are not checked. */
export function jwtPayload(token: string): Record<string, unknown> | null {
  if (!JWT_SHAPE.test(token)) return null;
  try {
    const payload: unknown = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'));
    return typeof payload === 'object' && payload !== null && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}

export function detectScheme(apiKey: string): AuthScheme {
  const payload = jwtPayload(apiKey);
  if (payload === null) return 'legacy-token';
  return payload['token_type'] === 'access' ? 'access-token' : 'personal-access-token';
}

/** A JWT's time claim (`exp`, `iat`) in ms since the epoch, or null when it has none. */
export function jwtTimeMs(token: string, claim: 'exp' | 'iat'): number | null {
  const seconds = jwtPayload(token)?.[claim];
  return typeof seconds === 'number' && Number.isFinite(seconds) ? seconds * 1000 : null;
}

export function createAuthenticator(
  apiKey: string,
  refresh: RefreshAccessToken,
  options: AuthOptions = {},
): Authenticator {
  const scheme = detectScheme(apiKey);
  if (scheme === 'personal-access-token') return new PersonalAccessTokenAuth(apiKey, refresh, options);
  const header = `${scheme === 'legacy-token' ? 'Token' : 'Bearer'} ${apiKey}`;
  return {
    scheme,
    header: () => Promise.resolve(header),
    renew: () => Promise.resolve(false),
  };
}

class PersonalAccessTokenAuth implements Authenticator {
  readonly scheme = 'personal-access-token' as const;
  readonly #refreshToken: string;
  readonly #refresh: RefreshAccessToken;
  readonly #now: () => number;
  readonly #skewMs: number;
  #access: { readonly header: string; readonly refreshAtMs: number | null } | null = null;
  // One refresh in flight at a time: concurrent requests that all saw a 401 share it.
  #pending: Promise<string> | null = null;

  constructor(refreshToken: string, refresh: RefreshAccessToken, options: AuthOptions) {
    this.#refreshToken = refreshToken;
    this.#refresh = refresh;
    this.#now = options.now ?? Date.now;
    this.#skewMs = options.refreshSkewMs ?? 30_000;
  }

  async header(): Promise<string> {
    const access = this.#access;
    if (access !== null && (access.refreshAtMs === null || this.#now() < access.refreshAtMs)) {
      return access.header;
    }
    return this.#renewOnce();
  }

  async renew(rejectedHeader: string): Promise<boolean> {
    // Another request may already have replaced the rejected token; then just use the new one.
    if (this.#access === null || this.#access.header === rejectedHeader) {
      this.#access = null;
      await this.#renewOnce();
    }
    return true;
  }

  #refreshAt(token: string): number | null {
    const expires = jwtTimeMs(token, 'exp');
    if (expires === null) return null;
    const issued = jwtTimeMs(token, 'iat');
    return expires - Math.min(this.#skewMs, issued === null ? this.#skewMs : (expires - issued) / 2);
  }

  #renewOnce(): Promise<string> {
    this.#pending ??= this.#refresh(this.#refreshToken)
      .then((token) => {
        const header = `Bearer ${token}`;
        this.#access = { header, refreshAtMs: this.#refreshAt(token) };
        return header;
      })
      .finally(() => {
        this.#pending = null;
      });
    return this.#pending;
  }
}
