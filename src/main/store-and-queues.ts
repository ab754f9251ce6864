/**
 * What a daemon runs on: the store (the one given, or one it opens and so closes on stop), the
 * Redis connections, the queues it produces into, and the dispatcher that carries out a plan's
 * writes through them.
 */
import type { Redis } from 'ioredis';
import type { Store } from '../app/ports/store';
import type { TandemConfig } from '../config/schema';
import { QueueWriteDispatcher } from '../queue/dispatcher';
import { createRedis } from '../queue/redis';
import { RequestTaggedQueues } from '../queue/request-tagged-queues';
import type { SyncQueues } from '../queue/queues';
import { openStore } from '../store';

/** The store a daemon uses, and whether the daemon opened it (then it closes it too). */
export interface DaemonStore {
  store: Store;
  owned: boolean;
}

/** Uses the given store, or opens the configured one. */
export async function openDaemonStore(options: {
  store?: Store;
  databaseUrl?: string;
  dataDir?: string;
}): Promise<DaemonStore> {
  if (options.store) return { store: options.store, owned: false };
  return { store: await openStore({ databaseUrl: options.databaseUrl, dataDir: options.dataDir }), owned: true };
}

/** The Redis side of a daemon. */
export interface DaemonQueues {
  /** The queues' connection. */
  connection: Redis;
  /** Locks, status keys and config announcements. */
  lockRedis: Redis;
  queues: SyncQueues;
  dispatcher: QueueWriteDispatcher;
}

/** Opens the connections and the queues. */
export function openQueues(redisUrl: string, queueConfig: TandemConfig['queue']): DaemonQueues {
  const connection = createRedis(redisUrl);
  const lockRedis = createRedis(redisUrl);
  const queues = new RequestTaggedQueues(connection, queueConfig);
  return { connection, lockRedis, queues, dispatcher: new QueueWriteDispatcher(queues) };
}
