import { createAuthenticator, detectScheme, jwtTimeMs } from './auth.js';

/** An unsigned JWT with the given payload (the client never checks signatures). */
function jwt(payload: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part(payload)}.c2lnbmF0dXJl`;
}

describe('detectScheme', () => {
  it('treats a 40-hex key as a legacy token', () => {
    expect(detectScheme('398986d6bf5976f1300f77f464d51b70631b7188')).toBe('legacy-token');
  });

  it('treats a JWT refresh token as a personal access token and a JWT access token as a bearer token', () => {
    expect(detectScheme(jwt({ token_type: 'refresh', exp: 9e9 }))).toBe('personal-access-token');
    expect(detectScheme(jwt({ token_type: 'access', exp: 9e9 }))).toBe('access-token');
  });

  it('treats dotted strings that are not JSON JWTs as legacy tokens', () => {
    expect(detectScheme('a.b.c')).toBe('legacy-token');
    expect(detectScheme('abc.def')).toBe('legacy-token');
  });
});

describe('jwtTimeMs', () => {
  it('reads exp and iat in seconds as ms, and null without the claim', () => {
    expect(jwtTimeMs(jwt({ exp: 1_700_000_000 }), 'exp')).toBe(1_700_000_000_000);
    expect(jwtTimeMs(jwt({ iat: 1_699_999_700 }), 'iat')).toBe(1_699_999_700_000);
    expect(jwtTimeMs(jwt({ token_type: 'refresh' }), 'exp')).toBeNull();
  });
});

describe('createAuthenticator', () => {
  it('sends a legacy key as Token and never renews it', async () => {
    let refreshes = 0;
    const auth = createAuthenticator('0123456789abcdef0123456789abcdef01234567', async () => `${++refreshes}`);
    expect(await auth.header()).toBe('Token 0123456789abcdef0123456789abcdef01234567');
    expect(await auth.renew('Token 0123456789abcdef0123456789abcdef01234567')).toBe(false);
    expect(refreshes).toBe(0);
  });

  it('exchanges a PAT once, reuses the access token, and refreshes it shortly before exp', async () => {
    let now = 1_000_000;
    let issued = 0;
    const pat = jwt({ token_type: 'refresh', exp: 9e9 });
    const refresh = async (token: string) => {
      expect(token).toBe(pat);
      issued++;
      return jwt({ token_type: 'access', exp: Math.floor(now / 1000) + 300, n: issued });
    };
    const auth = createAuthenticator(pat, refresh, { now: () => now, refreshSkewMs: 30_000 });
    const first = await auth.header();
    expect(first).toMatch(/^Bearer /);
    expect(await auth.header()).toBe(first);
    now += 269_000; // 31 s before exp: still valid
    expect(await auth.header()).toBe(first);
    now += 2_000; // 29 s before exp: inside the skew
    const second = await auth.header();
    expect(second).not.toBe(first);
    expect(issued).toBe(2);
  });

  it('uses a short-lived access token for the first half of its lifetime when that is shorter than the skew', async () => {
    let now = 1_000_000;
    let issued = 0;
    const refresh = async () => {
      issued++;
      const iat = Math.floor(now / 1000);
      return jwt({ token_type: 'access', iat, exp: iat + 20, n: issued });
    };
    const auth = createAuthenticator(jwt({ token_type: 'refresh' }), refresh, { now: () => now, refreshSkewMs: 30_000 });
    const first = await auth.header();
    now += 9_000; // 11 s before exp: inside the 30 s skew, but in the first half of a 20 s lifetime
    expect(await auth.header()).toBe(first);
    expect(issued).toBe(1);
    now += 2_000; // 9 s before exp: past half
    expect(await auth.header()).not.toBe(first);
    expect(issued).toBe(2);
  });

  it('after a 401, refreshes once even when several requests report the same rejected token', async () => {
    const pat = jwt({ token_type: 'refresh' });
    let issued = 0;
    const refresh = async () => jwt({ token_type: 'access', exp: 9e9, n: ++issued });
    const auth = createAuthenticator(pat, refresh);
    const rejected = await auth.header();
    const renewed = await Promise.all([auth.renew(rejected), auth.renew(rejected), auth.renew(rejected)]);
    expect(renewed).toEqual([true, true, true]);
    // A late report about the already replaced token does not trigger another refresh.
    await auth.renew(rejected);
    expect(issued).toBe(2);
    expect(await auth.header()).not.toBe(rejected);
  });
});
