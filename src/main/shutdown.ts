/**
 * Taking a daemon apart in order, within one grace period: first nothing new is taken in while
 * what runs finishes, then the writes those runs wait for, then the connections and the store.
 */
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/kit/types';
import type { ConfigSync } from '../app/console';
import type { ConnectorSlot } from '../core/model';
import type { ClosableServer } from '../http/shutdown';
import type { PollSchedule } from '../intake/poller';
import { settlesWithin } from '../util/net';
import type { DaemonQueues, DaemonStore } from './store-and-queues';
import type { Subscriptions } from './subscriptions';
import { closeWithin, type DaemonWorkers } from './workers';

/** Everything a daemon started. */
export interface RunningParts {
  store: DaemonStore;
  queues: DaemonQueues;
  connectors: Record<ConnectorSlot, Connector>;
  configSync: ConfigSync;
  workers: DaemonWorkers;
  schedules: ReadonlyMap<ConnectorSlot, PollSchedule>;
  /** The drift sweeps: a running one stops after the chunk it is comparing. */
  drift: { stop(): Promise<void> };
  /** The first sync: a running one stops after the batch it is linking, and resumes at the next start. */
  firstSync: { stop(): Promise<void> };
  servers: ReadonlyArray<ClosableServer | undefined>;
  subscriptions?: Subscriptions;
  timers: readonly NodeJS.Timeout[];
  /** The request budgets' own Redis connection, when the daemon opened one. */
  budgetRedis?: { disconnect(): void };
}

/** Stops every part; what is still running after `graceMs` is cut short (a job cut short runs again as stalled). */
export async function stopParts(parts: RunningParts, graceMs: number, logger: Logger): Promise<void> {
  logger.info('stopping: no new changes are taken in, running jobs finish');
  // One budget for the whole stop, so it ends within the grace period however it is spent.
  const deadline = Date.now() + graceMs;
  const left = () => Math.max(0, deadline - Date.now());
  parts.timers.forEach((timer) => clearInterval(timer));
  parts.subscriptions?.stop();
  await parts.configSync.stop();
  // No new requests, polls or intake jobs; those under way finish side by side. A running
  // intake job waits for the writes it enqueues: the write workers must keep taking jobs
  // until every intake job has finished, or that job (and stop) would hang.
  await Promise.all([
    ...parts.servers.map((server) => server?.close(left(), logger)),
    ...[...parts.schedules.entries()].map(async ([slot, schedule]) => {
      // A poll cut short saves no cursor: the next start polls the same changes again.
      if (!(await settlesWithin(schedule.stop(), left())))
        logger.warn({ connector: slot }, 'poll still running after the grace period: left unfinished');
    }),
    closeWithin(parts.workers.intake, left(), logger),
    (async () => {
      if (!(await settlesWithin(parts.drift.stop(), left())))
        logger.warn('drift sweep still running after the grace period: left unfinished');
    })(),
    (async () => {
      if (!(await settlesWithin(parts.firstSync.stop(), left())))
        logger.warn('first sync still running after the grace period: its batch is settled when it resumes');
    })(),
  ]);
  // A planner cut short by the grace period stops waiting for its writes.
  parts.queues.dispatcher.close();
  await closeWithin(parts.workers.writes, left(), logger);
  parts.workers.disconnect();
  await parts.queues.queues.close();
  await Promise.all(Object.values(parts.connectors).map((connector) => connector.close?.() ?? Promise.resolve()));
  parts.budgetRedis?.disconnect();
  parts.queues.connection.disconnect();
  parts.queues.lockRedis.disconnect();
  if (parts.store.owned) await parts.store.store.close();
  logger.info('stopped');
}
