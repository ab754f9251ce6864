/**
 * What a daemon runs on: the store (the one given, or one it opens and so closes on stop), the
 * Redis connections, the queues it produces into, and the dispatcher that carries out a plan's
 * writes through them.
 */
import type { Store } from '../app/ports/store';
import type { TandemConfig } from '../config/schema';
import { QueueWriteDispatcher } from '../queue/dispatcher';
import { createRedis, keyPrefix, type RedisConnection, type RedisTarget } from '../queue/redis';
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
  /** Where the connections go; workers and subscriptions open their own there. */
  redis: RedisTarget;
  /**
   * The prefix of every key (queues, locks, status, the config channel): `queue.prefix`, as a hash
   * tag on a cluster. Everything the daemon names in Redis takes it from here.
   */
  keyPrefix: string;
  /** The queues' connection. */
  connection: RedisConnection;
  /** Locks, status keys and config announcements. */
  lockRedis: RedisConnection;
  queues: SyncQueues;
  dispatcher: QueueWriteDispatcher;
}

/** Opens the connections and the queues. */
export function openQueues(redis: RedisTarget, queueConfig: TandemConfig['queue']): DaemonQueues {
  const prefix = keyPrefix(queueConfig.prefix, redis);
  const connection = createRedis(redis);
  const lockRedis = createRedis(redis);
  const queues = new RequestTaggedQueues(connection, queueConfig, prefix);
  return { redis, keyPrefix: prefix, connection, lockRedis, queues, dispatcher: new QueueWriteDispatcher(queues) };
}
