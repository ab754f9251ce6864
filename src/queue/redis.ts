/**
 * Redis connections. BullMQ workers need `maxRetriesPerRequest: null`; the start-up probe must
 * not retry at all, so an unreachable Redis gives one clear line instead of a loop of stack traces.
 */
import IORedis, { type Redis, type RedisOptions } from 'ioredis';

/** The Redis URL in force: REDIS_URL, or the local default. */
export function redisUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.REDIS_URL && env.REDIS_URL.trim() !== '' ? env.REDIS_URL : 'redis://127.0.0.1:6379';
}

/** Redis could not be reached at start. */
export class RedisUnavailableError extends Error {
  readonly code = 'REDIS_UNAVAILABLE';
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(
      `cannot reach Redis at ${url} (${reason}). Start one with 'redis-server --port 6379 --save "" --appendonly no', ` +
        'or point REDIS_URL at a running Redis.',
    );
    this.name = 'RedisUnavailableError';
  }
}

/** Connects once, pings, and throws RedisUnavailableError when that fails within `timeoutMs`. */
export async function probeRedis(url: string, timeoutMs = 2000): Promise<void> {
  const probe = new IORedis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    enableOfflineQueue: false,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new RedisUnavailableError(url, reason);
  } finally {
    probe.disconnect();
  }
}

/** A connection for queues and workers. */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  const connection = new IORedis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...options });
  // Errors are reported by BullMQ where they matter; an unhandled 'error' event would crash the process.
  connection.on('error', () => undefined);
  return connection;
}
