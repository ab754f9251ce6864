/**
 * The intake port: a change reported by a poll, a webhook or an operator, as the intake queue
 * carries it, and what the intake use case (src/app/intake.ts) runs with. A change is parsed when
 * a worker picks it up, so a job written by an older or foreign producer fails with a clear reason
 * instead of misbehaving.
 */
import type { Logger } from 'pino';
import { z } from 'zod';
import { CONNECTOR_SLOTS } from '../../core/model';

/** Which configured connector a job concerns. */
export const connectorSlot = z.enum(CONNECTOR_SLOTS);

/** The entity a change or a write concerns. */
export const entity = z.enum(['contact', 'customer', 'vendor', 'bankAccount']);

/** A change reported by a poll, a webhook or an operator: "this record may have changed". */
export const changeJob = z.object({
  connector: connectorSlot,
  entity,
  id: z.string().min(1),
  /** The provider's modification time of the change, when known (ISO 8601). */
  occurredAt: z.string().optional(),
  /** The provider's event id, when the change came from a webhook. */
  eventId: z.string().optional(),
  deleted: z.boolean().optional(),
  /**
   * The provider said this account was merged into that one (a QuickBooks Merge event): its
   * business relation follows the survivor. Carried in the job, so that every process (and a
   * restart) knows it, not only the one that heard it.
   */
  mergedInto: z.string().min(1).optional(),
  /**
   * `replan`: a write refused because its plan was no longer current (see the write worker);
   * `drift`: the drift sweep found the contact's relations out of step (its writes are audited as a repair).
   */
  source: z.enum(['poll', 'webhook', 'manual', 'replan', 'drift']),
  /**
   * Reported by a connector's first poll (no cursor yet), which lists every existing record:
   * those are not new, so no automatic contact is created for them; link them by matching.
   */
  initial: z.boolean().optional(),
  /**
   * An account without a business relation when it was reported: its job waits behind those of
   * linked records, so that a flood of new or unknown accounts does not hold up their syncs.
   */
  unlinked: z.boolean().optional(),
  /** The id of the HTTP request (webhook) that reported the change, carried into every log line of its jobs. */
  requestId: z.string().optional(),
});
/** A change job's payload. */
export type ChangeJob = z.infer<typeof changeJob>;

/**
 * The contact lock as the intake takes it: one sync of a contact at a time, across every process.
 * The intake does not wait for a contact another sync holds; it hands the change back to run
 * again shortly, after that sync, so that it reads its result.
 */
export interface ContactLockOrRetry {
  /**
   * Runs `work` holding the contact's lock. When another sync holds it, `work` does not run: the
   * change is scheduled to run again shortly (the queue moves its job to delayed) and the call
   * rejects with the adapter's signal for that, which callers let pass unchanged.
   */
  runOrRetryLater<T>(contactId: string, work: () => Promise<T>): Promise<T>;
}

/** What the intake worker hands the use case with each change. */
export interface ChangeContext {
  /** The job's logger (job id, request id, connector, entity and record id bound). */
  logger: Logger;
  lock: ContactLockOrRetry;
  /** The job and its attempt, which name the plans this run makes. */
  jobId: string;
  attempt: number;
  /** When the change was reported (queued), epoch ms. */
  reportedAt?: number;
  /** What spares reads of changes whose outcome is known (src/queue/sync-marks.ts). */
  marks?: ChangeMarks;
}

/** Marks of own writes and of plans done, kept where every process sees them. */
export interface ChangeMarks {
  /** True when the change reports exactly the version a write of tandem's made (its echo). */
  isOwnWrite(change: ChangeJob): Promise<boolean>;
  /** True when a plan of the contact that succeeded began to read after the change was reported. */
  covers(contactId: string, reportedAt: number): Promise<boolean>;
  /** Notes that a plan of the contact, whose reads began at `readFrom` (epoch ms), succeeded. */
  planned(contactId: string, readFrom: number): Promise<void>;
}

/** The intake use case as the worker calls it (src/app/intake.ts, wired by src/main); `R` is what it reports. */
export type ChangeHandler<R> = (change: ChangeJob, context: ChangeContext) => Promise<R>;

/**
 * The target systems refused the change's writes in a way a retry would repeat (refused
 * credentials, a payload the provider rejects): the job is kept as failed with its reason, and an
 * operator retries it once the cause is fixed.
 */
export class ChangeRefusedError extends Error {
  readonly code = 'CHANGE_REFUSED';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ChangeRefusedError';
  }
}
