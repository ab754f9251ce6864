/** What GET /api/status answers: role, uptime, connectors, queue job counts, relations per kind. */
import type { Connector } from '../../connectors/kit/types';
import type { Store } from '../app/ports/store';
import type { TandemConfig } from '../config/schema';
import { ACCOUNT_KINDS, CONNECTOR_SLOTS, type ConnectorSlot } from '../core/model';
import type { DaemonStatus } from '../http/api/schemas';
import { INTAKE_QUEUE, writeQueueName, type SyncQueues } from '../queue/queues';

/** What the status is read from. */
export interface StatusSources {
  role: DaemonStatus['role'];
  startedAt: Date;
  config: TandemConfig;
  connectors: Record<ConnectorSlot, Connector>;
  queues: SyncQueues;
  store: Store;
}

/** Reads the daemon's status now. */
export async function daemonStatus(sources: StatusSources): Promise<DaemonStatus> {
  const { queues, store, config } = sources;
  const named = [
    [INTAKE_QUEUE, queues.intake],
    [writeQueueName('crm'), queues.writes.crm],
    [writeQueueName('accounting'), queues.writes.accounting],
  ] as const;
  const counts = await Promise.all(
    named.map(([, queue]) => queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')),
  );
  // The store has no count query; listing ids per kind is fine at the sizes tandem serves.
  const relationCounts = await Promise.all(
    ACCOUNT_KINDS.map(async (kind) => (await store.listRelations({ kind })).length),
  );
  return {
    role: sources.role,
    startedAt: sources.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - sources.startedAt.getTime()) / 1000),
    connectors: CONNECTOR_SLOTS.map((slot) => ({
      slot,
      name: sources.connectors[slot].name,
      kind: config.connectors[slot].kind,
      system: sources.connectors[slot].system,
    })),
    queues: Object.fromEntries(
      named.map(([name], index) => {
        const count = counts[index] ?? {};
        return [
          name,
          {
            waiting: count.waiting ?? 0,
            active: count.active ?? 0,
            delayed: count.delayed ?? 0,
            failed: count.failed ?? 0,
            completed: count.completed ?? 0,
          },
        ];
      }),
    ),
    relations: {
      customer: relationCounts[0] ?? 0,
      vendor: relationCounts[1] ?? 0,
      bankAccount: relationCounts[2] ?? 0,
    },
    relationCodes: { ...config.relationCodes },
  };
}
