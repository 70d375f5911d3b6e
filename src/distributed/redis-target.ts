import { errors } from '../errors/index.js';

/** A Redis server named by URL, as the coordinator and the workers connect to it. */
export interface RedisTarget {
  /** redis://[user:password@]host:port[/db] or rediss:// (TLS), as given. */
  readonly url: string;
  /** The URL without its password, for messages and reports. */
  readonly display: string;
}

/**
 * Parses a Redis URL given by `flag`; RPR_USAGE naming the flag when it is not one. `password` (from
 * the environment, REDIS_PASSWORD) fills in a URL that has none, so the secret stays out of command
 * lines, shell history and crontabs.
 */
export function parseRedisUrl(value: string, flag: string, password?: string): RedisTarget {
  const parsed = URL.canParse(value) ? new URL(value) : null;
  if (parsed === null || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || parsed.hostname === '') {
    throw errors.usage(`${flag} must be a Redis URL such as redis://127.0.0.1:6379 (got '${value}')`, { flag, value });
  }
  if (parsed.password === '' && password) parsed.password = encodeURIComponent(password);
  const url = parsed.password === '' ? value : parsed.toString();
  if (parsed.password !== '') parsed.password = '***';
  return { url, display: parsed.toString() };
}
