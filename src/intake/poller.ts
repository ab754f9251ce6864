/**
 * Polling: on each tick, ask a connector for what changed since its cursor, enqueue the changes,
 * and only then move the cursor forward, so a crash between the two re-reads a page rather than
 * losing it. A Redis lock makes one process poll a connector per tick, however many run.
 */
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/kit/types';
import type { AccountKind, ConnectorSlot, Entity, SyncRecord } from '../core/model';
import type { ChangeJob } from '../app/ports/changes';
import { tryLock } from '../queue/lock';
import type { RedisConnection } from '../queue/redis';
import { recordSuccessfulPoll } from '../metrics/status-keys';
import type { Store } from '../app/ports/store';

/** What a poll needs. */
export interface PollerDeps {
  slot: ConnectorSlot;
  connector: Connector;
  store: Store;
  redis: RedisConnection;
  prefix: string;
  logger: Logger;
  enqueue(changes: ChangeJob[]): Promise<void>;
  /** Entities to poll (the connector's own, less the ones whose kind is not synchronized). */
  entities: readonly Entity[];
  /**
   * Whether a first poll hands on CRM contacts without relations too: they may be persons whose
   * listed fields go to their company's accounts (config persons.fieldsToAccount).
   */
  initialUnlinkedContacts?: boolean;
}

/** The outcome of one poll. */
export interface PollResult {
  polled: boolean;
  changes: number;
}

/** Polls every entity once, unless another process is polling this connector right now. */
export async function pollOnce(deps: PollerDeps, only?: readonly Entity[]): Promise<PollResult> {
  const { connector } = deps;
  if (!connector.listChanged) return { polled: false, changes: 0 };
  const lock = await tryLock(deps.redis, `${deps.prefix}:lock:poll:${deps.slot}`, 60_000);
  if (!lock) return { polled: false, changes: 0 };
  let changes = 0;
  try {
    for (const entity of only ?? deps.entities) {
      let cursor = await deps.store.getCursor(connector.name, entity);
      // A first poll lists every existing record; marked so they are not taken for new accounts.
      const initial = cursor === null;
      for await (const page of connector.listChanged(entity, cursor)) {
        const records = initial ? await linkedOnly(deps, page.records) : page.records;
        const jobs: ChangeJob[] = records.map((record) => ({
          connector: deps.slot,
          entity: record.entity,
          id: record.id,
          occurredAt: record.modifiedAt,
          source: 'poll',
          ...(initial ? { initial: true } : {}),
        }));
        for (const id of page.deleted ?? [])
          jobs.push({ connector: deps.slot, entity, id, deleted: true, source: 'poll' });
        // Seen now, so a field edited before the record's next edit keeps its own time even when
        // the sync comes after both (see core/observe.ts).
        await deps.store.observeRecords(deps.slot, page.records);
        await deps.enqueue(jobs);
        changes += jobs.length;
        if (page.cursor !== cursor) {
          await deps.store.setCursor(connector.name, entity, page.cursor);
          cursor = page.cursor;
        }
      }
    }
    if (changes > 0) deps.logger.info({ connector: deps.slot, changes }, 'poll found changes');
    // Only a full poll of every entity counts: the console shows it as "last successful poll".
    if (only === undefined) await recordSuccessfulPoll(deps.redis, deps.prefix, deps.slot);
    return { polled: true, changes };
  } finally {
    await lock.release();
  }
}

/**
 * The records of a first poll that can need a sync. A first poll lists every record there is
 * (a fresh start with 100,000 on each side would make 200,000 jobs), and only a linked one has
 * anything to sync: the others are the first sync's to link, and an initial report makes no
 * automatic contact (see app/intake.ts). CRM contacts may be persons with fields to pass on.
 */
async function linkedOnly(deps: PollerDeps, records: readonly SyncRecord[]): Promise<SyncRecord[]> {
  // Each lookup is one of many in a statement (the store gathers them).
  const linked = await Promise.all(
    records.map(async (record) =>
      record.entity === 'contact'
        ? deps.initialUnlinkedContacts === true || (await deps.store.findRelationsByContact(record.id)).length > 0
        : (await deps.store.findRelationByAccount(record.entity as AccountKind, record.id)) !== null,
    ),
  );
  return records.filter((_, index) => linked[index]);
}

/**
 * Turns an interval into a node-cron expression (with seconds). Intervals must divide a minute
 * or be whole minutes dividing an hour, so ticks line up across processes.
 */
export function cronFor(intervalMs: number): string {
  const seconds = Math.round(intervalMs / 1000);
  if (seconds >= 1 && seconds < 60 && 60 % seconds === 0) return `*/${seconds} * * * * *`;
  const minutes = seconds / 60;
  if (Number.isInteger(minutes) && minutes >= 1 && minutes < 60 && 60 % minutes === 0) return `0 */${minutes} * * * *`;
  // minutes >= 60: an interval under half a second rounds to 0 and would give the invalid '*/0'.
  if (Number.isInteger(minutes) && minutes >= 60 && minutes % 60 === 0 && minutes <= 1440)
    return `0 0 */${minutes / 60} * * *`;
  throw new Error(`poll interval of ${seconds}s must divide a minute (1-30s), an hour (1-30m) or be whole hours`);
}

/** A running schedule. */
export interface PollSchedule {
  stop(): Promise<void>;
  /** Polls now (for example after a webhook said many records changed). */
  pollNow(entities?: readonly Entity[]): Promise<PollResult>;
}

/** Schedules polls; a tick that comes while the last poll still runs is skipped. */
export function schedulePolls(deps: PollerDeps, intervalMs: number): PollSchedule {
  let running: Promise<PollResult> | null = null;
  const run = (entities?: readonly Entity[]) => {
    if (running) return running;
    running = pollOnce(deps, entities)
      .catch((error: unknown) => {
        deps.logger.warn({ connector: deps.slot, err: error }, 'poll failed; the cursor stays where it was');
        return { polled: false, changes: 0 };
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const onTick = async () => {
    // Every process's cron fires at the same moment; the first to claim the tick polls.
    const tick = Math.floor((Date.now() + 500) / intervalMs);
    const claimed = await deps.redis
      .set(`${deps.prefix}:poll-tick:${deps.slot}:${tick}`, '1', 'PX', Math.max(intervalMs * 2, 2000), 'NX')
      .catch(() => null);
    if (claimed === 'OK') await run();
  };
  const task: ScheduledTask = cron.schedule(cronFor(intervalMs), () => void onTick(), {
    noOverlap: true,
    name: `poll-${deps.slot}`,
  });
  return {
    async stop() {
      await task.stop();
      if (running) await running;
    },
    pollNow: run,
  };
}
