/**
 * The per-contact lock over Redis, in its two forms: the intake's (take it or run the job again
 * shortly) and the operations' (wait a while for a running sync to finish). Both take the same
 * key, so an operation and a sync of one contact never interleave.
 *
 * The lock fences the writes its holder plans: each taking draws the next number of the contact's
 * fence counter as the lock's value, the write jobs dispatched while it is held carry that number
 * (see currentFence), and the write worker writes only while the lock still holds it (fenceHolds).
 * A planner that died, gave up waiting or lost its lease has a number that no longer matches, so
 * its writes are refused instead of landing late over a newer edit.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { DelayedError, type Job } from 'bullmq';
import type { RedisConnection } from './redis';
import type { ContactLockOrRetry } from '../app/ports/changes';
import { ConflictProblem } from '../app/ports/problems';
import { type HeldLock, tryLock } from './lock';

/**
 * How long a lock is held without renewal; renewed every third of it while its holder runs. It
 * bounds how long a killed planner's writes can still pass the fence. A lease lost to a stalled
 * process costs a re-plan, never a double write: that holder's writes are refused.
 */
const LOCK_LEASE_MS = 8_000;
/** How long an operation waits for a running sync of the same contact. */
const CONTACT_LOCK_WAIT_MS = 30_000;

/** The Redis key of a contact's lock. */
export const contactLockKey = (prefix: string, contactId: string) => `${prefix}:lock:contact:${contactId}`;
/**
 * The Redis key of a contact's fence counter (never expires: a number must not be handed out twice).
 * Taken in one script with the lock's key, so on a cluster both must be in one slot: `prefix` is
 * the key prefix with its hash tag (see keyPrefix in ./redis.ts).
 */
const fenceKey = (prefix: string, contactId: string) => `${prefix}:fence:contact:${contactId}`;

/** The fencing token of a plan's writes: the contact and the number its lock was taken with. */
export interface WriteFence {
  contactId: string;
  token: string;
}

const fences = new AsyncLocalStorage<WriteFence>();

/** The fence of the contact lock the caller runs under, if any. */
export function currentFence(): WriteFence | undefined {
  return fences.getStore();
}

/** True while the contact's lock is still held with the fence's number: its plan is the current one. */
export async function fenceHolds(redis: RedisConnection, prefix: string, fence: WriteFence): Promise<boolean> {
  return (await redis.get(contactLockKey(prefix, fence.contactId))) === fence.token;
}

/** Takes the contact's lock, fenced; null when another holder has it. */
export const tryContactLock = (redis: RedisConnection, prefix: string, contactId: string) =>
  tryLock(redis, contactLockKey(prefix, contactId), LOCK_LEASE_MS, fenceKey(prefix, contactId));

/** Runs `work` as the holder of `lock`, then releases it. */
async function runHolding<T>(lock: HeldLock, contactId: string, work: () => Promise<T>): Promise<T> {
  try {
    return await fences.run({ contactId, token: lock.token }, work);
  } finally {
    await lock.release();
  }
}

/**
 * The intake's form for one job: when another job is syncing the contact, this one is moved to
 * delayed, to run again shortly after it and read its result, and DelayedError tells BullMQ so.
 * Moving to delayed does not use up an attempt.
 */
export function retryingContactLock(
  redis: RedisConnection,
  prefix: string,
  job: Job,
  token?: string,
): ContactLockOrRetry {
  return {
    async runOrRetryLater(contactId, work) {
      const lock = await tryContactLock(redis, prefix, contactId);
      if (!lock) {
        await job.moveToDelayed(Date.now() + 100 + Math.floor(Math.random() * 200), token);
        throw new DelayedError();
      }
      return runHolding(lock, contactId, work);
    },
  };
}

/**
 * The operations' form (Engine.lockContact): runs `work` under the contact's lock, waiting for a
 * sync of that contact to finish first; after CONTACT_LOCK_WAIT_MS it gives up with IN_PROGRESS.
 */
export async function withContactLock<T>(
  redis: RedisConnection,
  prefix: string,
  contactId: string,
  work: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + CONTACT_LOCK_WAIT_MS;
  for (;;) {
    const lock = await tryContactLock(redis, prefix, contactId);
    if (lock) return runHolding(lock, contactId, work);
    if (Date.now() > deadline)
      throw new ConflictProblem('IN_PROGRESS', `contact ${contactId} is being synchronized; try again in a moment`);
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 100)));
  }
}
