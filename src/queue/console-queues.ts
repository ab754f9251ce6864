/** The daemon's queues as the console's port (src/app/ports/queues.ts). */
import type { ConsoleQueues, InspectableQueue } from '../app/ports/queues';
import { changeJobId } from './jobs';
import type { SyncQueues } from './queues';

/** The intake and write queues as ConsoleQueues. */
export function consoleQueues(queues: SyncQueues): ConsoleQueues {
  const inspectable = [queues.intake, queues.writes.crm, queues.writes.accounting].map((queue): InspectableQueue => ({
    name: queue.name,
    getJobCounts: (...states) => queue.getJobCounts(...states),
    getJobs: async (states, start, end) => queue.getJobs(states, start, end, false),
  }));
  return {
    async enqueueChange(change) {
      await queues.enqueueChanges([change]);
      return changeJobId(change);
    },
    queues: inspectable,
  };
}
