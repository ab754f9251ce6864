/**
 * Carries out a plan's writes through the write queues and waits for each to finish, so the
 * planner (holding the contact's lock) stores the shadow only for confirmed writes.
 */
import type { Job, Queue, QueueEvents } from 'bullmq';
import type { WriteDispatcher } from '../app/ports';
import { writeKey, type WriteOutcome } from '../core/confirm';
import type { SyncRecord } from '../core/model';
import type { RecordWrite } from '../core/plan';
import type { WriteJob } from './jobs';
import type { SyncQueues } from './queues';

/** How long a planner waits for its writes, retries included. */
const WRITE_WAIT_MS = 15 * 60_000;
/** How often the job's state is read as well, in case a completion event was not seen. */
const STATE_CHECK_MS = 1000;

/** A WriteDispatcher backed by the write queues. */
export class QueueWriteDispatcher implements WriteDispatcher {
  constructor(private readonly queues: SyncQueues) {}

  async dispatch(writes: RecordWrite[], context: { planId: string }): Promise<Map<string, WriteOutcome>> {
    const outcomes = new Map<string, WriteOutcome>();
    await Promise.all(
      writes.map(async (write) => {
        const data: WriteJob = {
          connector: write.system,
          entity: write.entity,
          id: write.id,
          ifMatch: write.ifMatch,
          fields: write.fields,
          planId: context.planId,
        };
        const events = await this.queues.writeEvents(write.system);
        const job: Job<WriteJob> = await this.queues.enqueueWrite(data);
        try {
          const record = await waitForWrite(job, this.queues.writes[write.system], events);
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
}

/**
 * Resolves with the written record when the write job completes, and rejects with its reason when
 * it fails for good. Completion events are the fast path; reading the job's state every second
 * as well means a missed event (a reconnect, a reader that started late) costs a second, not the
 * whole wait with the contact's lock held.
 */
async function waitForWrite(job: Job<WriteJob>, queue: Queue<WriteJob>, events: QueueEvents): Promise<SyncRecord> {
  let done = false;
  const byEvent = job.waitUntilFinished(events, WRITE_WAIT_MS) as Promise<SyncRecord>;
  const byState = (async (): Promise<SyncRecord> => {
    const deadline = Date.now() + WRITE_WAIT_MS;
    while (!done && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, STATE_CHECK_MS));
      if (done) break;
      const current = await queue.getJob(job.id as string);
      if (current && (await current.isCompleted())) return current.returnvalue as SyncRecord;
      if (current && (await current.isFailed())) throw new Error(current.failedReason);
    }
    throw new Error(`write ${job.id} did not finish within ${WRITE_WAIT_MS} ms`);
  })();
  // Whichever loses the race must not surface as an unhandled rejection.
  byEvent.catch(() => undefined);
  byState.catch(() => undefined);
  try {
    return await Promise.race([byEvent, byState]);
  } finally {
    done = true;
  }
}
