/**
 * The queues: one intake queue (change events, planned per contact) and one write queue per
 * connector (field writes per target record, rate limited per connector).
 */
import { Queue, QueueEvents, type JobsOptions } from 'bullmq';
import type { TandemConfig } from '../config/schema';
import { changeJobId, writeJobId, type WriteJob } from './jobs';
import type { ChangeJob } from '../app/ports/changes';
import type { ConnectorSlot } from '../core/model';
import type { RedisConnection } from './redis';
import { SyncMarks } from './sync-marks';

/** Queue names; the key prefix (see keyPrefix in ./redis.ts) namespaces the Redis keys. */
export const INTAKE_QUEUE = 'intake';
export const writeQueueName = (slot: ConnectorSlot) => `write-${slot}`;
/** The BullMQ priority of changes to unlinked accounts (ChangeJob.unlinked): behind every other change. */
const UNLINKED_PRIORITY = 1000;

/** The queues a process produces into. */
export class SyncQueues {
  readonly intake: Queue<ChangeJob>;
  readonly writes: Record<ConnectorSlot, Queue<WriteJob>>;
  private events?: Record<ConnectorSlot, QueueEvents>;
  private eventsReady?: Promise<Record<ConnectorSlot, QueueEvents>>;
  private readonly eventConnections: RedisConnection[] = [];
  private readonly marks: SyncMarks;

  /**
   * `keyPrefix` is the prefix of the queues' keys: the configured one on a single Redis, the
   * configured one as a hash tag on a cluster.
   */
  constructor(
    private readonly connection: RedisConnection,
    private readonly queueConfig: TandemConfig['queue'],
    readonly keyPrefix: string = queueConfig.prefix,
  ) {
    const prefix = keyPrefix;
    this.marks = new SyncMarks(connection, prefix);
    this.intake = new Queue<ChangeJob>(INTAKE_QUEUE, { connection, prefix, defaultJobOptions: this.jobOptions() });
    this.writes = {
      crm: new Queue<WriteJob>(writeQueueName('crm'), { connection, prefix, defaultJobOptions: this.jobOptions() }),
      accounting: new Queue<WriteJob>(writeQueueName('accounting'), {
        connection,
        prefix,
        defaultJobOptions: this.jobOptions(),
      }),
    };
  }

  /** Retries with exponential backoff; finished jobs kept within bounds so Redis stays flat. */
  jobOptions(): JobsOptions {
    return {
      attempts: this.queueConfig.attempts,
      backoff: { type: 'exponential', delay: this.queueConfig.backoff },
      removeOnComplete: { count: this.queueConfig.keepCompleted, age: 24 * 3600 },
      removeOnFail: { count: this.queueConfig.keepFailed },
    };
  }

  /**
   * Enqueues changes; one already queued under the same id is not added again. The echo of a
   * write of tandem's (see SyncMarks) is not added at all: the intake would drop it unread, and a
   * bulk write's echoes would otherwise cost a job each. `onEcho` hears of each one dropped.
   */
  async enqueueChanges(changes: ChangeJob[], options: { onEcho?: (change: ChangeJob) => void } = {}): Promise<void> {
    if (changes.length === 0) return;
    const echoes = await this.marks.ownWrites(changes);
    const fresh = changes.filter((change, index) => {
      if (!echoes[index]) return true;
      options.onEcho?.(change);
      return false;
    });
    if (fresh.length === 0) return;
    await this.intake.addBulk(
      fresh.map((change) => ({
        name: 'change',
        data: change,
        // BullMQ hands out jobs without a priority before any prioritized one.
        opts: { jobId: changeJobId(change), ...(change.unlinked === true && { priority: UNLINKED_PRIORITY }) },
      })),
    );
  }

  /** The write jobs among these noted as done by the write worker (see SyncMarks). */
  doneWrites(jobIds: readonly string[]): Promise<Set<string>> {
    return this.marks.doneJobs(jobIds);
  }

  /** Adds a write job and returns it. */
  async enqueueWrite(write: WriteJob) {
    return this.writes[write.connector].add('write', write, { jobId: writeJobId(write) });
  }

  /** Completion events of a write queue (opened on first use: only planners need them). */
  async writeEvents(slot: ConnectorSlot): Promise<QueueEvents> {
    this.eventsReady ??= this.openWriteEvents();
    return (await this.eventsReady)[slot];
  }

  private async openWriteEvents(): Promise<Record<ConnectorSlot, QueueEvents>> {
    const prefix = this.keyPrefix;
    const open = async (slot: ConnectorSlot) => {
      // Read on from the newest event already in the stream, not from "now" at the first
      // blocking read: a write that finishes while the reader starts is then not missed.
      const newest = await this.connection.xrevrange(`${prefix}:${writeQueueName(slot)}:events`, '+', '-', 'COUNT', 1);
      const duplicate = this.connection.duplicate();
      this.eventConnections.push(duplicate);
      const events = new QueueEvents(writeQueueName(slot), {
        connection: duplicate,
        prefix,
        lastEventId: newest[0]?.[0] ?? '0-0',
      });
      await events.waitUntilReady();
      return events;
    };
    const [crm, accounting] = await Promise.all([open('crm'), open('accounting')]);
    this.events = { crm, accounting };
    return this.events;
  }

  async close(): Promise<void> {
    await Promise.all([this.intake.close(), this.writes.crm.close(), this.writes.accounting.close()]);
    if (this.events) await Promise.all(Object.values(this.events).map((events) => events.close()));
    // QueueEvents leaves a connection it was given open; these duplicates are ours to close.
    this.eventConnections.forEach((connection) => connection.disconnect());
  }
}
