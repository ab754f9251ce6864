/**
 * The workers of the `all` and `worker` roles: one intake worker running the intake use case, and
 * one write worker per connector. Each gets a connection of its own, which BullMQ does not close
 * itself, so they are closed here on stop.
 */
import type { Worker } from 'bullmq';
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/kit/types';
import { handleChange, type IntakeResult } from '../app/intake';
import type { ChangeJob } from '../app/ports/changes';
import type { Engine } from '../app/ports/index';
import type { RelationService } from '../app/ports/relations';
import type { TandemConfig } from '../config/schema';
import { CONNECTOR_SLOTS, type ConnectorSlot } from '../core/model';
import type { Metrics } from '../metrics/metrics';
import { createRedis, type RedisConnection } from '../queue/redis';
import { startIntakeWorker, startWriteWorker, type WriteWorkerSignals } from '../queue/workers';
import { settlesWithin } from '../util/net';
import type { DaemonQueues } from './store-and-queues';

/** The running workers, closed in two steps (see ./shutdown.ts). */
export interface DaemonWorkers {
  intake: Array<Worker<ChangeJob, IntakeResult>>;
  writes: Worker[];
  /** Disconnects the workers' own connections, once every worker is closed. */
  disconnect(): void;
}

/** What the workers run with. */
export interface WorkerSetup {
  engine: Engine;
  /** The config the daemon started with (its connector sections set concurrency and rate limits). */
  config: TandemConfig;
  connectors: Record<ConnectorSlot, Connector>;
  queues: DaemonQueues;
  relations: RelationService;
  metrics: Metrics;
}

/** No workers (the api and scheduler roles). */
export const NO_WORKERS: DaemonWorkers = { intake: [], writes: [], disconnect: () => undefined };

/** Starts the intake worker and the write workers. */
export async function startWorkers(setup: WorkerSetup): Promise<DaemonWorkers> {
  const { engine, connectors, queues, relations, metrics } = setup;
  const connections: RedisConnection[] = [];
  /** A worker's Redis: a connection of its own (BullMQ blocks on it), the shared one for locks. */
  const redis = () => {
    const connection = createRedis(queues.redis);
    connections.push(connection);
    return { connection, locks: queues.lockRedis, keyPrefix: queues.keyPrefix };
  };
  // Write-completion events are subscribed before any planner waits on them. Created lazily by
  // the first plan, a write finishing before the first XREAD is issued is never seen, and that
  // plan would wait out its whole timeout.
  await queues.queues.writeEvents('crm');
  const intake = startIntakeWorker(engine, redis(), (change, context) =>
    handleChange(engine, change, { ...context, relations }),
  );
  const writes = CONNECTOR_SLOTS.map((slot) => {
    const signals: WriteWorkerSignals = {
      rateLimited: (waitMs) => metrics.rateLimitWait(slot, waitMs),
      // The refused write's record stands for its contact: the intake plans that contact afresh.
      replan: (write) =>
        queues.queues.enqueueChanges([
          {
            connector: write.connector,
            entity: write.entity,
            id: write.id,
            source: 'replan',
            eventId: `replan-${write.planId}`,
            requestId: write.requestId,
          },
        ]),
    };
    const config = setup.config.connectors[slot];
    return startWriteWorker(engine, slot, connectors[slot], config, redis(), signals);
  });
  return {
    intake: [intake],
    writes,
    disconnect: () => connections.forEach((connection) => connection.disconnect()),
  };
}

/** Closes workers, letting running jobs finish for up to `graceMs`, then closing them anyway. */
export async function closeWithin(workers: readonly Worker[], graceMs: number, logger: Logger): Promise<void> {
  // Pausing takes no new jobs and resolves when the running ones are done; a close that waits
  // could not be turned into a forced one later (BullMQ keeps the first close).
  const inTime = await settlesWithin(Promise.all(workers.map((worker) => worker.pause())), graceMs);
  if (!inTime) {
    logger.warn(
      { graceMs, workers: workers.map((worker) => worker.name) },
      'jobs still running after the grace period: closing their workers; the jobs run again as stalled',
    );
  }
  await Promise.all(workers.map((worker) => worker.close(!inTime)));
}
