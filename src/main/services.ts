/**
 * The use cases' services over the engine: the business-relation operations, the console's, and
 * the config version in force kept in step across processes. A version saved from the console wins
 * over the file's editable sections, in every role, from the start and whenever one is saved.
 */
import { applyStoredConfig, createConsoleService, startConfigSync, type ConfigSync } from '../app/console';
import type { FullConsoleService } from '../app/console';
import type { Engine } from '../app/ports/index';
import type { RelationService } from '../app/ports/relations';
import { createRelationService } from '../app/relations';
import type { TandemConfig } from '../config/schema';
import { redisConnectorActivity } from '../metrics/status-keys';
import { redisDriftStatus } from './drift';
import { redisFirstSyncStatus } from './first-sync';
import { redisConfigChannel } from '../queue/config-channel';
import { consoleQueues } from '../queue/console-queues';
import { createJobInspector } from '../queue/inspect';
import type { DaemonQueues } from './store-and-queues';

/** The services a daemon serves and runs its workers with. */
export interface DaemonServices {
  relations: RelationService;
  console: FullConsoleService;
  /** Follows the config versions saved elsewhere; stopped on shutdown. */
  configSync: ConfigSync;
}

/** Applies the stored config version, subscribes to new ones and creates the services. */
export async function startServices(
  engine: Engine,
  parts: { queues: DaemonQueues; fileConfig: TandemConfig; resync?: () => Promise<{ started: boolean }> },
): Promise<DaemonServices> {
  const { queues, lockRedis, keyPrefix: prefix, redis } = parts.queues;
  const relations = createRelationService(engine, { jobs: createJobInspector(queues) });
  await applyStoredConfig(engine);
  const configChannel = redisConfigChannel({ redis, prefix, publisher: lockRedis });
  const configSync = await startConfigSync(engine, configChannel);
  const console = createConsoleService({
    engine,
    relations,
    queues: consoleQueues(queues),
    activity: redisConnectorActivity(lockRedis, prefix),
    drift: redisDriftStatus(lockRedis, prefix),
    firstSync: redisFirstSyncStatus(lockRedis, prefix),
    configChannel,
    fileConfig: parts.fileConfig,
    resync: parts.resync,
  });
  return { relations, console, configSync };
}
