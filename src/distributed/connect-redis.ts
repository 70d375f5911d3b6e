/**
 * Reaching Redis through BullMQ. BullMQ 6 talks to Redis through the optional `ioredis` package; the
 * check here turns a missing client or an unreachable server into one RPR_DISTRIBUTED line (exit 5)
 * before anything else happens, instead of BullMQ's endless reconnect loop.
 */
import { createRequire } from 'node:module';
import { Queue, type ConnectionOptions } from 'bullmq';
import { RprError } from '../errors/index.js';
import { errorMessage } from '../pool/error-message.js';
import type { RedisTarget } from './redis-target.js';

/** How long the first contact with Redis may take. */
export const CONNECT_TIMEOUT_MS = 5_000;

/** Connection options for BullMQ's queues and workers: once Redis was reached, they reconnect with BullMQ's backoff. */
export function connectionOf(target: RedisTarget): ConnectionOptions {
  return { url: target.url, connectTimeout: CONNECT_TIMEOUT_MS };
}

/** Whether BullMQ can load its Redis client (the npm package ioredis) from where BullMQ is installed. */
export function redisClientAvailable(): boolean {
  try {
    const require = createRequire(import.meta.url);
    createRequire(require.resolve('bullmq')).resolve('ioredis');
    return true;
  } catch {
    return false;
  }
}

/**
 * Checks that Redis answers at `target`: RPR_DISTRIBUTED naming the URL and the reason when the client
 * is missing, the server refuses or does not answer within CONNECT_TIMEOUT_MS, or a command fails (auth).
 */
export async function checkRedis(target: RedisTarget, queueName: string): Promise<void> {
  if (!redisClientAvailable()) {
    throw new RprError(
      'RPR_DISTRIBUTED',
      "distributed rounds need the npm package ioredis (BullMQ's Redis client), which is not installed: npm install ioredis",
      { redis: target.display },
    );
  }
  // No retries: the probe must fail, not wait for a server that may never come.
  const probe = new Queue(queueName, { connection: { ...connectionOf(target), retryStrategy: () => null, enableOfflineQueue: false } });
  let lastError: unknown = null;
  probe.on('error', (error: unknown) => {
    lastError = error;
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
  });
  try {
    await Promise.race([
      (async () => {
        await probe.waitUntilReady();
        await (await probe.getBackend().client).get(`${queueName}:rpr-select:probe`);
      })(),
      timeout,
    ]);
  } catch (error) {
    throw new RprError(
      'RPR_DISTRIBUTED',
      `cannot reach Redis at ${target.display}: ${errorMessage(lastError ?? error)}; start it (scripts/redis.sh start) or fix the URL`,
      { redis: target.display },
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
    await probe.disconnect().catch(() => undefined);
  }
}
