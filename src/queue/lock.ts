/**
 * A Redis lock with an owner token and a lease, renewed while held. Used so that two jobs for the
 * same contact (and so the same relations) never run at the same time, and so that one poll runs
 * per connector at a time across every daemon process.
 */
import { randomUUID } from 'node:crypto';
import type { RedisConnection } from './redis';
import { Script } from './script';

const RELEASE = new Script(
  `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`,
);
const RENEW = new Script(
  `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`,
);
/**
 * Takes a free lock with the next number of its fence counter as owner token, in one step: the
 * lock's value then names the newest holder, and any earlier holder's token no longer matches.
 */
const TAKE_FENCED = new Script(`if redis.call('exists', KEYS[1]) == 1 then return false end
local fence = redis.call('incr', KEYS[2])
redis.call('set', KEYS[1], fence, 'PX', ARGV[1])
return fence`);

/** A held lock. */
export interface HeldLock {
  /** The owner token: the lock's value in Redis while this holder has it. */
  readonly token: string;
  release(): Promise<void>;
}

/**
 * Tries to take `key` for `leaseMs`; renews it every third of the lease until released. With a
 * `fenceKey`, the token is the next number of that counter (a fencing token), so a holder whose
 * lease ran out can tell, and be told, that it is no longer the newest.
 */
export async function tryLock(
  redis: RedisConnection,
  key: string,
  leaseMs: number,
  fenceKey?: string,
): Promise<HeldLock | null> {
  let token: string;
  if (fenceKey === undefined) {
    token = randomUUID();
    if ((await redis.set(key, token, 'PX', leaseMs, 'NX')) !== 'OK') return null;
  } else {
    const fence = (await TAKE_FENCED.run(redis, [key, fenceKey], [leaseMs])) as number | null;
    if (fence === null) return null;
    token = String(fence);
  }
  const timer = setInterval(
    () => {
      RENEW.run(redis, [key], [token, leaseMs]).catch(() => undefined);
    },
    Math.max(50, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return {
    token,
    async release() {
      clearInterval(timer);
      await RELEASE.run(redis, [key], [token]);
    },
  };
}
