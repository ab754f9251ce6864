/** The console's first page: connectors, queues, relation states and the latest errors. */
import { z } from 'zod';
import type { Connector } from '../../../connectors/kit/types';
import type { ConnectorActivity } from '../ports/connector-activity';
import type { DriftStatus } from '../ports/drift';
import type { FirstSyncStatus } from '../ports/first-sync';
import type { ConsoleQueues } from '../ports/queues';
import type { Engine } from '../ports/index';
import type { ConnectorOverview, Overview, RelationRow, RelationState } from '../ports/console';
import { jobTargetKey, type QueueScan } from './queues';

/** What a health check may answer instead of throwing, to say the system is not reachable. */
const healthAnswer = z.object({ ok: z.unknown(), healthy: z.unknown(), error: z.unknown() }).partial();

/** A stored time (ISO text or epoch milliseconds) as ISO text. */
function asIso(value: string | null): string | null {
  if (value === null) return null;
  const time = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(time) ? new Date(time).toISOString() : value;
}

async function health(connector: Connector): Promise<{ healthy: boolean; healthError: string | null }> {
  // Some checks answer `{ ok: false }` or `{ healthy: false }` rather than throw.
  const check: (() => Promise<unknown>) | undefined = connector.checkHealth?.bind(connector);
  if (!check) return { healthy: true, healthError: 'no health check' };
  try {
    const answer = healthAnswer.safeParse(await check());
    if (answer.success && (answer.data.ok === false || answer.data.healthy === false))
      return { healthy: false, healthError: typeof answer.data.error === 'string' ? answer.data.error : 'unhealthy' };
    return { healthy: true, healthError: null };
  } catch (error) {
    return { healthy: false, healthError: error instanceof Error ? error.message : String(error) };
  }
}

/** Builds the overview from one queue scan (completed jobs included) and the relation rows. */
export async function buildOverview(
  engine: Engine,
  parts: {
    queues?: ConsoleQueues;
    activity?: ConnectorActivity;
    drift?: DriftStatus | null;
    firstSync?: FirstSyncStatus | null;
    scan: QueueScan;
    rows: RelationRow[];
    now: Date;
  },
): Promise<Overview> {
  const { config } = engine;
  const now = parts.now.getTime();
  const finishedSince = (queue: string, since: number) =>
    (parts.scan.completed.get(queue) ?? []).filter((job) => (job.finishedOn ?? 0) >= since).length;

  const connectors = await Promise.all(
    (['crm', 'accounting'] as const).map(async (slot): Promise<ConnectorOverview> => {
      const settings = config.connectors[slot];
      const { activity } = parts;
      const [lastPoll, renewAt] = activity
        ? await Promise.all([activity.lastSuccessfulPoll(slot), activity.subscriptionRenewAt(slot)])
        : [null, null];
      return {
        slot,
        kind: settings.kind,
        ...(await health(engine[slot])),
        lastSuccessfulPollAt: asIso(lastPoll),
        webhooks: { enabled: settings.webhooks, subscriptionsRenewAt: asIso(renewAt) },
        // Completed write jobs of the window, as far as the kept jobs reach.
        rateLimit: settings.rateLimit
          ? {
              max: settings.rateLimit.max,
              perMs: settings.rateLimit.per,
              usedInWindow: finishedSince(`write-${slot}`, now - settings.rateLimit.per),
            }
          : null,
      };
    }),
  );

  const queues = await Promise.all(
    (parts.queues?.queues ?? []).map(async (queue) => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized');
      return {
        name: queue.name,
        waiting: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0),
        active: counts['active'] ?? 0,
        delayed: counts['delayed'] ?? 0,
        failed: counts['failed'] ?? 0,
        completedLast5m: finishedSince(queue.name, now - 5 * 60_000),
        failedLast5m: parts.scan.failed.filter((failed) => failed.queue === queue.name && failed.at >= now - 5 * 60_000)
          .length,
      };
    }),
  );

  const relations: Overview['relations'] = { inSync: 0, pending: 0, failing: 0, conflict: 0, total: parts.rows.length };
  for (const row of parts.rows) relations[row.state satisfies RelationState] += 1;

  const byContact = new Map<string, string>();
  const byAccount = new Map<string, { id: string; contactId: string }>();
  for (const { relation } of parts.rows) {
    if (!byContact.has(relation.contactId)) byContact.set(relation.contactId, relation.id);
    byAccount.set(`${relation.accountKind}|${relation.accountId}`, { id: relation.id, contactId: relation.contactId });
  }
  const latestErrors = parts.scan.failed.slice(0, 10).map(({ queue, job, at }) => {
    const key = jobTargetKey(job);
    const [entity, id] = key === null ? [null, null] : (key.split('|') as [string, string]);
    const account = key === null ? undefined : byAccount.get(key);
    const contactId = entity === 'contact' ? id : (account?.contactId ?? null);
    return {
      at: new Date(at).toISOString(),
      reason: job.failedReason ?? '',
      jobId: job.id ?? '',
      queue,
      contactId,
      relationId: entity === 'contact' ? (byContact.get(id) ?? null) : (account?.id ?? null),
    };
  });
  return {
    connectors,
    queues,
    relations,
    drift: parts.drift ?? null,
    firstSync: parts.firstSync ?? null,
    latestErrors,
  };
}
