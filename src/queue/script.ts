/**
 * A Lua script run by its digest (EVALSHA), sent whole only when Redis does not know it yet (after
 * a restart or a failover): a script sent with every call costs its text on the wire each time.
 */
import { createHash } from 'node:crypto';
import type { RedisConnection } from './redis';

export class Script {
  private readonly sha: string;
  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: RedisConnection, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}
