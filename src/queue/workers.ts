/**
 * The workers: the intake worker hands each change to the intake use case (src/app/intake.ts,
 * one contact at a time across every process), the write workers carry out field writes per
 * connector within its rate limit.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import { NotFoundError, PreconditionFailedError } from '../../connectors/kit/errors';
import { withPriority } from '../../connectors/kit/priority';
import type { Connector } from '../../connectors/kit/types';
import { changeJob, type ChangeHandler, type ChangeJob, type ChangeMarks } from '../app/ports/changes';
import { storeUnavailableIn } from '../app/ports/store';
import type { Engine } from '../app/ports/index';
import type { ConnectorConfig } from '../config/schema';
import { fieldValue } from '../core/fields';
import { requestContext } from '../util/logger';
import { fenceHolds, retryingContactLock } from './contact-lock';
import { classifyFailure, toJobError } from './failure';
import { writeJob, type WriteJob } from './jobs';
import { INTAKE_QUEUE, writeQueueName } from './queues';
import type { RedisConnection } from './redis';
import { SyncMarks } from './sync-marks';
import { WriteBatcher } from './write-batcher';

/** How long a write waits for others to share a batch call with: short against any API's round trip. */
const WRITE_WINDOW_MS = 15;

/**
 * The Redis a worker runs on: a connection of its own for BullMQ (a worker blocks on it), the
 * shared one for locks and fences, and the prefix of the keys of both (see keyPrefix in ./redis.ts).
 */
export interface WorkerRedis {
  connection: RedisConnection;
  locks: RedisConnection;
  keyPrefix: string;
}

/** Starts the intake worker: parses each change, hands it to the intake use case and maps its failures. */
export function startIntakeWorker<R>(
  engine: Engine,
  redis: WorkerRedis,
  handleChange: ChangeHandler<R>,
): Worker<ChangeJob, R> {
  const { connection, keyPrefix: prefix } = redis;
  const { intakeConcurrency } = engine.config.queue;
  const sync = new SyncMarks(redis.locks, prefix);
  const marks: ChangeMarks = {
    isOwnWrite: (change) => sync.isOwnWrite(change),
    covers: (contactId, reportedAt) => sync.covers(contactId, reportedAt),
    planned: (contactId, readFrom) => sync.planned(contactId, readFrom),
  };
  const worker: Worker<ChangeJob, R> = new Worker<ChangeJob, R>(
    INTAKE_QUEUE,
    async (job: Job<ChangeJob>, token?: string) => {
      const change = changeJob.parse(job.data);
      const log = engine.logger.child({
        jobId: job.id,
        requestId: change.requestId,
        connector: change.connector,
        entity: change.entity,
        recordId: change.id,
      });
      const lock = retryingContactLock(redis.locks, prefix, job, token);
      const context = {
        logger: log,
        lock,
        jobId: job.id ?? '',
        attempt: job.attemptsMade,
        reportedAt: job.timestamp,
        marks,
      };
      // The write jobs this change plans carry its request id (see RequestTaggedQueues).
      return requestContext.run({ requestId: change.requestId }, async () => {
        try {
          return await handleChange(change, context);
        } catch (error) {
          // Put off until the contact's running sync is done: not a failure.
          if (error instanceof DelayedError) throw error;
          await putOffWhileStoreUnavailable(job, token, error, log);
          throw failedChange(error, log);
        }
      });
    },
    { connection, prefix, concurrency: intakeConcurrency, autorun: true },
  );
  worker.on('error', (error) => engine.logger.error({ err: error }, 'intake worker error'));
  return worker;
}

/** How long a job that found the store unreachable waits before it runs again (plus up to 20 % more). */
export const STORE_UNAVAILABLE_DELAY_MS = 5000;

/**
 * A job that failed because the store is unreachable (after the store's own retries) is not at
 * fault: it is put off by STORE_UNAVAILABLE_DELAY_MS without using up an attempt, for as long as
 * the outage lasts, so a PostgreSQL restart or a longer maintenance fails no job. Its work is
 * redone from the start when it runs again, which is harmless (see StoreUnavailableError). Returns
 * when `error` is something else.
 */
async function putOffWhileStoreUnavailable(
  job: Job,
  token: string | undefined,
  error: unknown,
  log: Engine['logger'],
): Promise<void> {
  const unavailable = storeUnavailableIn(error);
  if (!unavailable) return;
  const delayMs = STORE_UNAVAILABLE_DELAY_MS + Math.floor(Math.random() * STORE_UNAVAILABLE_DELAY_MS * 0.2);
  log.warn({ err: unavailable, delayMs }, 'store unavailable; the job runs again later without using up an attempt');
  await job.moveToDelayed(Date.now() + delayMs, token);
  throw new DelayedError();
}

/** Logs why a change failed and turns the error into the job's (final ones are not retried). */
function failedChange(error: unknown, log: Engine['logger']): Error {
  if (classifyFailure(error).kind === 'final') {
    // Kept as failed with its reason; an operator retries it once the cause is fixed.
    log.error({ err: error }, 'change refused by the target system; not retried');
  } else {
    log.warn({ err: error }, 'change not fully applied; will retry');
  }
  return toJobError(error);
}

/** What a write worker reports beyond its log lines (metrics), and what it asks for. */
export interface WriteWorkerSignals {
  /** The provider rate-limited a write; the queue pauses for `waitMs`. */
  rateLimited?(waitMs: number): void;
  /**
   * A write was refused unwritten: its plan was no longer current, or the target no longer held
   * what the plan read. The record's contact is to be planned again from fresh reads.
   */
  replan?(write: WriteJob): Promise<void>;
}

/** The write worker's refusal of a plan that is no longer current (see contact-lock.ts). */
export class SupersededWriteError extends UnrecoverableError {
  constructor(write: WriteJob) {
    super(
      `${SUPERSEDED}: ${write.connector} ${write.entity} ${write.id} not written: ` +
        (write.fence
          ? `the plan holding fence ${write.fence.token} of contact ${write.fence.contactId} is no longer current`
          : 'the job carries no fencing token'),
    );
  }
}
/** The code a superseded write fails with (the planner reads it off the job's reason). */
const SUPERSEDED = 'SUPERSEDED';

/**
 * Checks a write against what its plan assumed, just before it is sent: the plan is still the
 * contact's current one, and the target still holds the values the plan read (where it has no
 * etag to send instead). A refusal leaves the record untouched. A live planner re-plans on a
 * PreconditionFailedError itself; a SupersededWriteError has no planner waiting for it.
 */
async function checkStillCurrent(connector: Connector, write: WriteJob, fenceIsCurrent: () => Promise<boolean>) {
  if (write.expected !== undefined) {
    const current = await connector.get(write.entity, write.id);
    if (current === null) throw new NotFoundError(`${connector.name}: ${write.entity} ${write.id} not found`);
    const moved = Object.entries(write.expected).filter(([field, value]) => fieldValue(current, field) !== value);
    if (moved.length > 0 && (await fenceIsCurrent()))
      throw new PreconditionFailedError(
        `${connector.name}: ${write.entity} ${write.id} changed since the plan read it (${moved.map(([field]) => field).join(', ')})`,
      );
  }
  // Checked last, after the read: the plan must still be current when the write goes out.
  if (!(await fenceIsCurrent())) throw new SupersededWriteError(write);
}

/** Starts the write worker of one connector. */
export function startWriteWorker(
  engine: Engine,
  slot: 'crm' | 'accounting',
  connector: Connector,
  connectorConfig: ConnectorConfig,
  redis: WorkerRedis,
  signals: WriteWorkerSignals = {},
): Worker<WriteJob> {
  const { connection, keyPrefix: prefix } = redis;
  const marks = new SyncMarks(redis.locks, prefix);
  // Jobs running at once share batch calls (./write-batcher.ts).
  const batcher = new WriteBatcher(connector, WRITE_WINDOW_MS, connector.limits?.batchSize?.write ?? 100);
  // Always a limiter: only with one does BullMQ honour a provider's pause (worker.rateLimit below)
  // when it hands out jobs, so a fetch already waiting cannot start the put-back job at once. The
  // default is far above any provider's ceiling; the connector kit keeps the real limits.
  const limiter = connectorConfig.rateLimit
    ? { max: connectorConfig.rateLimit.max, duration: connectorConfig.rateLimit.per }
    : { max: 1_000_000, duration: 1000 };
  const worker: Worker<WriteJob> = new Worker<WriteJob>(
    writeQueueName(slot),
    async (job: Job<WriteJob>, token?: string) => {
      const write = writeJob.parse(job.data);
      const log = engine.logger.child({
        jobId: job.id,
        requestId: write.requestId,
        connector: slot,
        entity: write.entity,
        recordId: write.id,
      });
      if (!connector.update) throw toJobError(new Error(`connector ${connector.name} cannot update records`));
      const { fence } = write;
      // The provider calls of an admin's write go ahead of bulk work, as the admin's own do.
      return withPriority(write.priority ?? 'bulk', async () => {
        try {
          // Noted before the call: a process killed right after it still knows the value as its own.
          // And before the compare, so that nothing slow (a store riding out an outage) comes between
          // the compare and the write. A write refused after this leaves a note of a value the record
          // does not hold, which counts for nothing (core/observe.ts).
          if (write.sources) await engine.store.recordCarried(slot, write, write.fields, write.sources, write.expected);
          await checkStillCurrent(connector, write, async () =>
            fence === undefined ? false : fenceHolds(redis.locks, prefix, fence),
          );
          const record = await batcher.write(write.entity, {
            id: write.id,
            fields: write.fields,
            ifMatch: write.ifMatch,
          });
          log.info({ fields: Object.keys(write.fields) }, 'written');
          // Spares a read of the echo, and tells a recovery that this job wrote (BullMQ forgets
          // finished jobs soon): a mark that cannot be set costs that read, and leaves the
          // recovery to the job's state.
          await marks
            .written(slot, record, job.id)
            .catch((error: unknown) => log.debug({ err: error }, 'echo and done marks not set'));
          return record;
        } catch (error) {
          const failure = classifyFailure(error);
          if (failure.kind === 'rateLimited') {
            // Pause the whole queue for this connector as the provider asked, and put the job
            // back without using up an attempt.
            log.warn({ waitMs: failure.waitMs }, 'rate limited by the provider');
            signals.rateLimited?.(failure.waitMs);
            // The worker's own rateLimit, not the queue's: set on the worker's connection, the pause is in
            // place before the job goes back, whereas the queue's connection may lose that race.
            // eslint-disable-next-line @typescript-eslint/no-deprecated
            await worker.rateLimit(failure.waitMs);
            throw Worker.RateLimitError();
          }
          if (error instanceof SupersededWriteError) {
            // Nobody waits for this write any more (its planner died, gave up or lost its lease): the
            // contact is planned again from what the sides hold now.
            log.warn({ err: error }, 'write refused unwritten; planning the contact again');
            await signals.replan?.(write);
            throw error;
          }
          await putOffWhileStoreUnavailable(job, token, error, log);
          log.warn({ err: error, final: failure.kind === 'final' }, 'write failed');
          throw toJobError(error);
        }
      });
    },
    { connection, prefix, concurrency: connectorConfig.concurrency, limiter },
  );
  worker.on('error', (error) => engine.logger.error({ err: error }, 'write worker error'));
  return worker;
}
