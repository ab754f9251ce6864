/**
 * One bounded scan of the console's queues (src/app/ports/queues.ts): the pending jobs per
 * record, the failed ones and, when asked for, the recently completed ones.
 */
import type { ConsoleQueues, JobState, ScannedJob } from '../ports/queues';
import type { PendingJob } from '../ports/relations';

const PENDING_STATES: JobState[] = ['waiting', 'active', 'delayed', 'prioritized'];

/** The record a job concerns, as `entity|id`. */
export function jobTargetKey(job: ScannedJob): string | null {
  const data = job.data as { entity?: unknown; id?: unknown } | null;
  return typeof data?.entity === 'string' && typeof data.id === 'string' ? `${data.entity}|${data.id}` : null;
}

/** One bounded look into every queue. */
export interface QueueScan {
  /** Pending jobs per record (`entity|id`). */
  pending: Map<string, PendingJob[]>;
  /** Failed jobs, newest first. */
  failed: Array<{ queue: string; job: ScannedJob; at: number }>;
  /** Completed jobs per queue (only when asked for). */
  completed: Map<string, ScannedJob[]>;
}

/** Reads at most `limit` jobs per queue and state. */
export async function scanQueues(
  queues: ConsoleQueues | undefined,
  options: { completed: boolean; limit?: number },
): Promise<QueueScan> {
  const limit = options.limit ?? 1000;
  const scan: QueueScan = { pending: new Map(), failed: [], completed: new Map() };
  if (!queues) return scan;
  await Promise.all(
    queues.queues.map(async (queue) => {
      const [pendingByState, failed, completed] = await Promise.all([
        Promise.all(PENDING_STATES.map(async (state) => ({ state, jobs: await queue.getJobs([state], 0, limit - 1) }))),
        queue.getJobs(['failed'], 0, limit - 1),
        options.completed ? queue.getJobs(['completed'], 0, limit - 1) : Promise.resolve([]),
      ]);
      for (const { state, jobs } of pendingByState) {
        for (const job of jobs) {
          const key = jobTargetKey(job);
          if (key === null || !job.id) continue;
          scan.pending.set(key, [...(scan.pending.get(key) ?? []), { queue: queue.name, id: job.id, state }]);
        }
      }
      for (const job of failed) scan.failed.push({ queue: queue.name, job, at: job.finishedOn ?? job.timestamp });
      if (options.completed) scan.completed.set(queue.name, completed);
    }),
  );
  scan.failed.sort((a, b) => b.at - a.at);
  return scan;
}
