/**
 * The per-contact lock over Redis, in its two forms: the intake's (take it or run the job again
 * shortly) and the operations' (wait a while for a running sync to finish). Both take the same
 * key, so an operation and a sync of one contact never interleave.
 */
import { DelayedError, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ContactLockOrRetry } from '../app/ports/changes';
import { ConflictProblem } from '../app/ports/problems';
import { tryLock } from './lock';

/** How long a lock is held without renewal; renewed while its holder runs. */
const LOCK_LEASE_MS = 30_000;
/** How long an operation waits for a running sync of the same contact. */
const CONTACT_LOCK_WAIT_MS = 30_000;

/** The Redis key of a contact's lock. */
export const contactLockKey = (prefix: string, contactId: string) => `${prefix}:lock:contact:${contactId}`;

/**
 * The intake's form for one job: when another job is syncing the contact, this one is moved to
 * delayed, to run again shortly after it and read its result, and DelayedError tells BullMQ so.
 * Moving to delayed does not use up an attempt.
 */
export function retryingContactLock(redis: Redis, prefix: string, job: Job, token?: string): ContactLockOrRetry {
  return {
    async runOrRetryLater(contactId, work) {
      const lock = await tryLock(redis, contactLockKey(prefix, contactId), LOCK_LEASE_MS);
      if (!lock) {
        await job.moveToDelayed(Date.now() + 100 + Math.floor(Math.random() * 200), token);
        throw new DelayedError();
      }
      try {
        return await work();
      } finally {
        await lock.release();
      }
    },
  };
}

/**
 * The operations' form (Engine.lockContact): runs `work` under the contact's lock, waiting for a
 * sync of that contact to finish first; after CONTACT_LOCK_WAIT_MS it gives up with IN_PROGRESS.
 */
export async function withContactLock<T>(
  redis: Redis,
  prefix: string,
  contactId: string,
  work: () => Promise<T>,
): Promise<T> {
  const deadline = Date.now() + CONTACT_LOCK_WAIT_MS;
  for (;;) {
    const lock = await tryLock(redis, contactLockKey(prefix, contactId), LOCK_LEASE_MS);
    if (lock) {
      try {
        return await work();
      } finally {
        await lock.release();
      }
    }
    if (Date.now() > deadline)
      throw new ConflictProblem('IN_PROGRESS', `contact ${contactId} is being synchronized; try again in a moment`);
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 100)));
  }
}
