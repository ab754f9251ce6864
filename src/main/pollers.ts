/**
 * Polling: per connector that can list its changes, a schedule in the `all` and `scheduler` roles
 * (unless polling is off), and polls on demand in every role (after a webhook said many records
 * changed, or from a test).
 */
import type { Logger } from 'pino';
import { withPriority } from '../../connectors/kit/priority';
import type { Connector } from '../../connectors/kit/types';
import { markUnlinked } from '../app/intake';
import type { SyncObserver } from '../app/ports/index';
import type { Store } from '../app/ports/store';
import type { TandemConfig } from '../config/schema';
import { CONNECTOR_SLOTS, type ConnectorSlot, type Entity } from '../core/model';
import { pollOnce, schedulePolls, type PollerDeps, type PollSchedule } from '../intake/poller';
import type { SyncQueues } from '../queue/queues';
import type { RedisConnection } from '../queue/redis';

/** What the pollers run with. */
export interface PollerSetup {
  config: TandemConfig;
  connectors: Record<ConnectorSlot, Connector>;
  store: Store;
  redis: RedisConnection;
  /** The prefix of tandem's Redis keys (see keyPrefix in src/queue/redis.ts). */
  keyPrefix: string;
  queues: SyncQueues;
  logger: Logger;
  /** Hears of the echoes of tandem's own writes that polls report (dropped before the queue). */
  observer?: SyncObserver;
  /** Poll on the configured schedule (otherwise only on demand). */
  onSchedule: boolean;
}

/** The pollers of a daemon. */
export interface DaemonPollers {
  schedules: ReadonlyMap<ConnectorSlot, PollSchedule>;
  /** Polls a connector at once (all its entities unless named). */
  pollNow: (slot: ConnectorSlot, entities?: Entity[]) => Promise<void>;
}

/** Sets up a poller per connector that can list its changes. */
export function startPollers(setup: PollerSetup): DaemonPollers {
  const { config, connectors, queues } = setup;
  const schedules = new Map<ConnectorSlot, PollSchedule>();
  for (const slot of CONNECTOR_SLOTS) {
    const connector = connectors[slot];
    if (!connector.listChanged) continue;
    const deps: PollerDeps = {
      slot,
      connector,
      store: setup.store,
      redis: setup.redis,
      prefix: setup.keyPrefix,
      logger: setup.logger,
      // A kind without a relation code is not synchronized, so not polled either.
      entities: connector.entities.filter((entity) => entity === 'contact' || config.relationCodes[entity] !== null),
      initialUnlinkedContacts: config.persons.fieldsToAccount.length > 0,
      enqueue: async (changes) =>
        await queues.enqueueChanges(await markUnlinked(setup.store, changes), {
          onEcho: (change) => setup.observer?.echoSuppressed?.(change.connector),
        }),
    };
    schedules.set(slot, setup.onSchedule ? schedulePolls(deps, config.connectors[slot].pollEvery) : manualPolls(deps));
  }
  return {
    schedules,
    async pollNow(slot, entities) {
      // A poll is bulk work, whoever asks for it.
      await withPriority('bulk', async () => schedules.get(slot)?.pollNow(entities));
    },
  };
}

/** Polls only when asked. */
function manualPolls(deps: PollerDeps): PollSchedule {
  return {
    stop: () => Promise.resolve(),
    pollNow: (entities) => pollOnce(deps, entities),
  };
}
