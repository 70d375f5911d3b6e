import { parseRedisUrl } from './redis-target.js';

describe('parseRedisUrl', () => {
  it('keeps the URL and hides its password in the display form', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6379', '--redis')).toEqual({ url: 'redis://127.0.0.1:6379', display: 'redis://127.0.0.1:6379' });
    const secret = parseRedisUrl('rediss://user:s3cret@cache.example:6380/2', '--redis');
    expect(secret.url).toBe('rediss://user:s3cret@cache.example:6380/2');
    expect(secret.display).toBe('rediss://user:***@cache.example:6380/2');
    expect(secret.display).not.toContain('s3cret');
  });

  it('takes the password from the environment when the URL has none, and never shows it', () => {
    const target = parseRedisUrl('redis://10.0.0.5:6379', '--redis', 'p@ss word');
    expect(new URL(target.url).password).toBe(encodeURIComponent('p@ss word'));
    expect(decodeURIComponent(new URL(target.url).password)).toBe('p@ss word');
    expect(target.display).toBe('redis://:***@10.0.0.5:6379');
    // A password in the URL wins.
    expect(parseRedisUrl('redis://:inline@10.0.0.5:6379', '--redis', 'env').url).toBe('redis://:inline@10.0.0.5:6379');
    expect(parseRedisUrl('redis://10.0.0.5:6379', '--redis', '').url).toBe('redis://10.0.0.5:6379');
  });

  it.each(['127.0.0.1:6379', 'http://127.0.0.1:6379', 'redis://', ''])('refuses %j naming the flag', (value) => {
    expect(() => parseRedisUrl(value, '--distributed')).toThrow(expect.objectContaining({ code: 'RPR_USAGE', message: expect.stringContaining('--distributed must be a Redis URL') }));
  });
});
