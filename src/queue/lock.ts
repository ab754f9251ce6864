/**
 * A Redis lock with an owner token and a lease, renewed while held. Used so that two jobs for the
 * same contact (and so the same relations) never run at the same time, and so that one poll runs
 * per connector at a time across every daemon process.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

/** A held lock. */
export interface HeldLock {
  release(): Promise<void>;
}

/** Tries to take `key` for `leaseMs`; renews it every third of the lease until released. */
export async function tryLock(redis: Redis, key: string, leaseMs: number): Promise<HeldLock | null> {
  const token = randomUUID();
  const taken = await redis.set(key, token, 'PX', leaseMs, 'NX');
  if (taken !== 'OK') return null;
  const timer = setInterval(
    () => {
      redis.eval(RENEW, 1, key, token, String(leaseMs)).catch(() => undefined);
    },
    Math.max(50, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return {
    async release() {
      clearInterval(timer);
      await redis.eval(RELEASE, 1, key, token);
    },
  };
}
