/**
 * A JobInspector over the queues: which intake and write jobs concern a contact or an account,
 * and the latest that failed. Scans a bounded number of jobs per queue and state, enough for an
 * operator's status page without walking a large backlog.
 */
import type { Job } from 'bullmq';
import type { JobInspector, JobTarget } from '../app/ports/relations';
import type { SyncQueues } from './queues';

const PENDING_STATES = ['waiting', 'active', 'delayed', 'prioritized'] as const;

/** Creates an inspector; `scanLimit` bounds the jobs read per queue and state. */
export function createJobInspector(queues: SyncQueues, scanLimit = 500): JobInspector {
  const all = () => [queues.intake, queues.writes.crm, queues.writes.accounting];
  const concerns = (job: Job | undefined, targets: JobTarget[]) => {
    const data = job?.data as { entity?: unknown; id?: unknown } | undefined;
    return targets.some((target) => data?.entity === target.entity && data.id === target.id);
  };
  return {
    async pendingFor(targets) {
      const found: Array<{ queue: string; id: string; state: string }> = [];
      for (const queue of all()) {
        for (const state of PENDING_STATES) {
          const jobs: Job[] = await queue.getJobs([state], 0, scanLimit - 1);
          for (const job of jobs)
            if (concerns(job, targets) && job.id) found.push({ queue: queue.name, id: job.id, state });
        }
      }
      return found;
    },
    async lastFailureFor(targets) {
      let latest: { at: string; reason: string; jobId: string } | null = null;
      for (const queue of all()) {
        const jobs: Job[] = await queue.getJobs(['failed'], 0, scanLimit - 1);
        for (const job of jobs) {
          if (!concerns(job, targets) || !job.id) continue;
          const at = new Date(job.finishedOn ?? job.timestamp).toISOString();
          if (latest === null || at > latest.at) latest = { at, reason: job.failedReason, jobId: job.id };
        }
      }
      return latest;
    },
  };
}
