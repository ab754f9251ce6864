/**
 * The workers: the intake worker turns a change into a plan for the contact it concerns (one
 * contact at a time, across every process), the write workers carry out field writes per
 * connector within its rate limit.
 */
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Connector } from '../../connectors/kit/types';
import type { AccountKind } from '../core/model';
import type { Engine } from '../app/ports/index';
import { removeAccountRelation, syncContact, WritesFailedError, type SyncOutcome } from '../app/sync-contact';
import { ConflictProblem } from '../app/ports/problems';
import { createRelationService, syncPersonFields } from '../app/relations';
import type { RelationService } from '../app/ports/relations';
import type { ConnectorConfig } from '../config/schema';
import { requestContext } from '../app/logger';
import { classifyFailure, toJobError } from './failure';
import { changeJob, type ChangeJob } from '../app/ports/changes';
import { writeJob, type WriteJob } from './jobs';
import { tryLock } from './lock';
import { INTAKE_QUEUE, writeQueueName } from './queues';

/** What an intake job did, kept as its return value for ops. */
export type IntakeResult =
  | SyncOutcome
  | { status: 'unlinked' }
  | { status: 'relationRemoved' }
  | { status: 'contactCreated'; relationId: string; created: boolean }
  | { status: 'personFieldsWritten'; fields: number };

const LOCK_LEASE_MS = 30_000;

/** The Redis key of a contact's lock. */
export const contactLockKey = (prefix: string, contactId: string) => `${prefix}:lock:contact:${contactId}`;

/** Starts the intake worker. */
export function startIntakeWorker(
  engine: Engine,
  connection: Redis,
  lockRedis: Redis,
  relations: RelationService = createRelationService(engine),
): Worker<ChangeJob, IntakeResult> {
  const { prefix, intakeConcurrency } = engine.config.queue;
  const worker: Worker<ChangeJob, IntakeResult> = new Worker<ChangeJob, IntakeResult>(
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
      // The write jobs this change plans carry its request id (see the daemon's write queues).
      return requestContext.run({ requestId: change.requestId }, async (): Promise<IntakeResult> => {
        let contactId = change.id;
        if (change.entity !== 'contact') {
          const relation = await engine.store.findRelationByAccount(change.entity, change.id);
          if (!relation) {
            const kind = change.entity;
            if (
              !change.deleted &&
              !change.initial &&
              engine.config.automaticContacts[kind] &&
              engine.config.relationCodes[kind] !== null
            ) {
              return automaticContact(relations, kind, change.id, log);
            }
            log.debug('change to an account without a business relation: nothing to sync');
            return { status: 'unlinked' };
          }
          if (change.deleted) {
            await removeAccountRelation({ ...engine, logger: log }, relation);
            return { status: 'relationRemoved' };
          }
          contactId = relation.contactId;
        }
        const lock = await tryLock(lockRedis, contactLockKey(prefix, contactId), LOCK_LEASE_MS);
        if (!lock) {
          // Another job is syncing this contact: run again shortly, after it, so this one reads
          // that job's result. Moving to delayed does not use up an attempt.
          await job.moveToDelayed(Date.now() + 100 + Math.floor(Math.random() * 200), token);
          throw new DelayedError();
        }
        try {
          log.debug({ contactId }, 'planning');
          const outcome = await syncContact({ ...engine, logger: log }, contactId, `${job.id}-a${job.attemptsMade}`);
          if (
            outcome.status === 'noRelations' &&
            change.entity === 'contact' &&
            !change.deleted &&
            engine.config.persons.fieldsToAccount.length > 0
          ) {
            // Perhaps a person: its listed fields go to its company's accounts.
            const fields = await syncPersonFields(
              { ...engine, logger: log },
              contactId,
              `${job.id}-p${job.attemptsMade}`,
            );
            if (fields > 0) return { status: 'personFieldsWritten', fields };
          }
          log.info({ contactId, ...outcome }, 'change processed');
          return outcome;
        } catch (error) {
          if (error instanceof WritesFailedError && error.permanent) {
            // Kept as failed with its reason; an operator retries it once the cause is fixed.
            log.error({ contactId, err: error }, 'change refused by the target system; not retried');
            throw new UnrecoverableError(error.message);
          }
          log.warn({ contactId, err: error }, 'change not fully applied; will retry');
          throw toJobError(error);
        } finally {
          await lock.release();
        }
      });
    },
    { connection, prefix, concurrency: intakeConcurrency, autorun: true },
  );
  worker.on('error', (error) => engine.logger.error({ err: error }, 'intake worker error'));
  return worker;
}

/**
 * A new account of a kind with automatic contacts gets a company contact, exactly once: the key
 * is the account's, so a webhook and a poll reporting it (even at the same moment) run it once.
 */
async function automaticContact(
  relations: RelationService,
  kind: AccountKind,
  accountId: string,
  log: Engine['logger'],
): Promise<IntakeResult> {
  try {
    const result = await relations.createContactFromAccount(
      { accountKind: kind, accountId, origin: 'automatic' },
      { name: 'tandem' },
    );
    log.info({ contactId: result.contact.id, created: result.created }, 'automatic contact for a new account');
    return { status: 'contactCreated', relationId: result.relation.id, created: result.created };
  } catch (error) {
    // Linked meanwhile (by hand, or by another report of the same account): nothing left to do.
    if (error instanceof ConflictProblem && (error.code === 'ACCOUNT_LINKED' || error.code === 'IN_PROGRESS'))
      return { status: 'unlinked' };
    throw toJobError(error);
  }
}

/** What a write worker reports beyond its log lines (metrics). */
export interface WriteWorkerSignals {
  /** The provider rate-limited a write; the queue pauses for `waitMs`. */
  rateLimited?(waitMs: number): void;
}

/** Starts the write worker of one connector. */
export function startWriteWorker(
  engine: Engine,
  slot: 'crm' | 'accounting',
  connector: Connector,
  connectorConfig: ConnectorConfig,
  connection: Redis,
  signals: WriteWorkerSignals = {},
): Worker<WriteJob> {
  const { prefix } = engine.config.queue;
  const limiter = connectorConfig.rateLimit
    ? { max: connectorConfig.rateLimit.max, duration: connectorConfig.rateLimit.per }
    : undefined;
  const worker: Worker<WriteJob> = new Worker<WriteJob>(
    writeQueueName(slot),
    async (job: Job<WriteJob>) => {
      const write = writeJob.parse(job.data);
      const log = engine.logger.child({
        jobId: job.id,
        requestId: write.requestId,
        connector: slot,
        entity: write.entity,
        recordId: write.id,
      });
      if (!connector.update) throw toJobError(new Error(`connector ${connector.name} cannot update records`));
      try {
        const record = await connector.update(write.entity, {
          id: write.id,
          fields: write.fields,
          ifMatch: write.ifMatch,
        });
        log.info({ fields: Object.keys(write.fields) }, 'written');
        return record;
      } catch (error) {
        const failure = classifyFailure(error);
        if (failure.kind === 'rateLimited') {
          // Pause the whole queue for this connector as the provider asked, and put the job
          // back without using up an attempt.
          log.warn({ waitMs: failure.waitMs }, 'rate limited by the provider');
          signals.rateLimited?.(failure.waitMs);
          await worker.rateLimit(failure.waitMs);
          throw Worker.RateLimitError();
        }
        log.warn({ err: error, final: failure.kind === 'final' }, 'write failed');
        throw toJobError(error);
      }
    },
    { connection, prefix, concurrency: connectorConfig.concurrency, limiter },
  );
  worker.on('error', (error) => engine.logger.error({ err: error }, 'write worker error'));
  return worker;
}
