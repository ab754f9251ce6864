/**
 * The queues as the daemon produces into them: each write job is stamped with the request id of
 * the change being planned (held by the intake worker in requestContext), so the write worker
 * logs it as well, and with the priority of the work that planned it (an admin's action is
 * interactive), so the write's provider calls keep it.
 */
import { currentPriority } from '../../connectors/kit/priority';
import { currentRequestId } from '../util/logger';
import type { WriteJob } from './jobs';
import { SyncQueues } from './queues';

/** SyncQueues whose write jobs carry the request id of the change that planned them. */
export class RequestTaggedQueues extends SyncQueues {
  override async enqueueWrite(write: WriteJob) {
    const requestId = write.requestId ?? currentRequestId();
    const priority = write.priority ?? (currentPriority() === 'interactive' ? 'interactive' : undefined);
    return super.enqueueWrite({
      ...write,
      ...(requestId === undefined ? {} : { requestId }),
      ...(priority === undefined ? {} : { priority }),
    });
  }
}
