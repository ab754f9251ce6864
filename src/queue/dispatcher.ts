/**
 * Carries out a plan's writes through the write queues and waits for each to finish, so the
 * planner (holding the contact's lock) stores the shadow only for confirmed writes.
 */
import { setMaxListeners, type EventEmitter } from 'node:events';
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { WriteDispatcher } from '../app/ports/index';
import { writeKey, type WriteOutcome } from '../core/confirm';
import { CONNECTOR_SLOTS, type SyncRecord } from '../core/model';
import type { RecordWrite } from '../core/plan';
import { currentFence } from './contact-lock';
import { writeJobId, type WriteJob } from './jobs';
import type { SyncQueues } from './queues';

/** How long a planner waits for its writes, retries included. */
const WRITE_WAIT_MS = 15 * 60_000;
/**
 * How soon the job's state is read as well, in case a completion event was not seen; each later
 * read waits twice as long, up to STATE_CHECK_MAX_MS. Many planners wait at once behind a
 * provider's ceiling, and reading every job's state every second would load Redis the most
 * exactly then.
 */
const STATE_CHECK_MS = 1000;
const STATE_CHECK_MAX_MS = 16_000;

/** A WriteDispatcher backed by the write queues. */
export class QueueWriteDispatcher implements WriteDispatcher {
  /** Aborted by close(): every pending wait ends at once, with its timers and listeners. */
  private readonly stopping = new AbortController();

  constructor(private readonly queues: SyncQueues) {
    // Every planner waiting for its writes listens for the stop: many at once is normal.
    setMaxListeners(0, this.stopping.signal);
  }

  async dispatch(
    writes: RecordWrite[],
    context: { planId: string; beforeWrites?: (jobIds: ReadonlyMap<string, string>) => Promise<void> },
  ): Promise<Map<string, WriteOutcome>> {
    const outcomes = new Map<string, WriteOutcome>();
    // Taken here, in the planner's own async context: the lock it runs under fences its writes.
    const fence = currentFence();
    const jobs = writes.map((write) => ({
      write,
      data: {
        connector: write.system,
        entity: write.entity,
        id: write.id,
        ifMatch: write.ifMatch,
        fields: write.fields,
        ...(write.ifMatch === undefined ? { expected: expectedValues(write) } : {}),
        sources: Object.fromEntries(write.changes.map((change) => [change.field, change.sourceModifiedAt])),
        planId: context.planId,
        ...(fence ? { fence } : {}),
      } satisfies WriteJob,
    }));
    await context.beforeWrites?.(new Map(jobs.map(({ write, data }) => [writeKey(write), writeJobId(data)])));
    await Promise.all(
      jobs.map(async ({ write, data }) => {
        try {
          if (this.stopping.signal.aborted) throw new Error(STOPPED);
          const events = await this.queues.writeEvents(write.system);
          const job: Job<WriteJob> = await this.queues.enqueueWrite(data);
          const record = await waitForWrite(job, this.queues.writes[write.system], events, this.stopping.signal);
          outcomes.set(writeKey(write), { ok: true, record, jobId: job.id });
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error);
          // Write jobs fail with "<CODE>: <message>" (see failure.ts); BullMQ keeps only the text.
          outcomes.set(writeKey(write), { ok: false, error: reason, code: /^([A-Z_]+): /.exec(reason)?.[1] });
        }
      }),
    );
    return outcomes;
  }

  async completed(jobIds: readonly string[]): Promise<ReadonlySet<string>> {
    // The write worker's notes first: BullMQ keeps only the newest finished jobs.
    const done = await this.queues.doneWrites(jobIds);
    // A long job id is a hash that no longer names its connector: both queues are asked.
    for (const id of jobIds.filter((jobId) => !done.has(jobId))) {
      for (const slot of CONNECTOR_SLOTS) {
        const job = await this.queues.writes[slot].getJob(id);
        if (job && (await job.getState()) === 'completed') done.add(id);
      }
    }
    return done;
  }

  /**
   * Ends every pending wait: a planner cut short by a stop learns that its writes were not
   * confirmed (so it stores no shadow for them) instead of waiting on a closed queue.
   */
  close(): void {
    this.stopping.abort();
  }
}

/** The value the plan read for each field the write changes. */
function expectedValues(write: RecordWrite): Record<string, string | null> {
  return Object.fromEntries(write.changes.map((change) => [change.field, change.from]));
}

/** Why a wait ended without an outcome. */
const STOPPED = 'the daemon stopped before the write was confirmed';

/**
 * Resolves with the written record when the write job completes, and rejects with its reason when
 * it fails for good. Completion events are the fast path; reading the job's state as well (after
 * a second, then less and less often) means a missed event (a reconnect, a reader that started
 * late) costs seconds, not the whole wait with the contact's lock held. Every timer and listener
 * is removed when the wait ends, however it ends.
 */
function waitForWrite(
  job: Job<WriteJob>,
  queue: Queue<WriteJob>,
  events: QueueEvents,
  signal: AbortSignal,
): Promise<SyncRecord> {
  const jobId = job.id as string;
  // QueueEvents also emits `completed:<id>` and `failed:<id>`, which its typings do not list.
  const emitter = events as unknown as EventEmitter;
  return new Promise<SyncRecord>((resolve, reject) => {
    let ended = false;
    let poll: NodeJS.Timeout | undefined;
    let checkEveryMs = STATE_CHECK_MS;
    const completedEvent = `completed:${jobId}`;
    const failedEvent = `failed:${jobId}`;
    // The record comes from Redis: a completed job may still lack it.
    const end = (outcome: { record: SyncRecord | null | undefined } | { error: Error }) => {
      if (ended) return;
      ended = true;
      clearTimeout(deadline);
      clearTimeout(poll);
      emitter.off(completedEvent, onCompleted);
      emitter.off(failedEvent, onFailed);
      signal.removeEventListener('abort', onStop);
      // A write job returns the record as written; the planner needs it to confirm the shadow.
      if ('record' in outcome && outcome.record) resolve(outcome.record);
      else
        reject('error' in outcome ? outcome.error : new Error(`write ${jobId} completed without the written record`));
    };
    const onCompleted = (args: { returnvalue: unknown }) => end({ record: args.returnvalue as SyncRecord | null });
    const onFailed = (args: { failedReason?: string }) =>
      end({ error: new Error(args.failedReason ?? `write ${jobId} failed`) });
    const onStop = () => end({ error: new Error(STOPPED) });
    const deadline = setTimeout(
      () => end({ error: new Error(`write ${jobId} did not finish within ${WRITE_WAIT_MS} ms`) }),
      WRITE_WAIT_MS,
    );
    const checkState = async () => {
      try {
        // The state first, then the job: a job read first could complete between the two reads
        // and be taken for finished without its return value.
        const state = await queue.getJobState(jobId);
        if (state === 'completed' || state === 'failed') {
          const current = await queue.getJob(jobId);
          if (!current) {
            end({ error: new Error(`write ${jobId} finished but its result was already removed`) });
          } else if (state === 'completed') {
            end({ record: current.returnvalue as SyncRecord | null });
          } else {
            end({ error: new Error(current.failedReason) });
          }
          return;
        }
      } catch {
        // A failed read is retried on the next tick; the events may still arrive.
      }
      checkEveryMs = Math.min(2 * checkEveryMs, STATE_CHECK_MAX_MS);
      if (!ended) poll = setTimeout(() => void checkState(), checkEveryMs);
    };
    emitter.on(completedEvent, onCompleted);
    emitter.on(failedEvent, onFailed);
    if (signal.aborted) {
      onStop();
      return;
    }
    signal.addEventListener('abort', onStop, { once: true });
    // A job just added cannot finish before these listeners hear it; one that was already there
    // (the same plan dispatched again after a crash) may have, and is found by the first read.
    poll = setTimeout(() => void checkState(), checkEveryMs);
  });
}
