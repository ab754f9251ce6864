/**
 * The daemon: composes the parts wired in this folder (store and queues, connectors, services,
 * workers, pollers, HTTP server, metrics and probes, webhook subscriptions) and takes them apart
 * again in order on stop (./shutdown.ts).
 */
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/kit/types';
import type { FullConsoleService } from '../app/console';
import type { BuildOptions } from '../app/connectors';
import type { Engine } from '../app/ports/index';
import type { RelationService } from '../app/ports/relations';
import type { Store } from '../app/ports/store';
import type { TandemConfig } from '../config/schema';
import type { ConnectorSlot, Entity } from '../core/model';
import { adminTokensFromEnv, type AdminTokens } from '../http/auth';
import type { ClosableServer } from '../http/shutdown';
import type { Metrics } from '../metrics/metrics';
import { withContactLock } from '../queue/contact-lock';
import type { SyncQueues } from '../queue/queues';
import { redisBudgets } from '../queue/budget';
import {
  createRedis,
  keyPrefix,
  probeRedis,
  redisTarget,
  type RedisConnection,
  type RedisTarget,
} from '../queue/redis';
import { setUpConnectors } from './connectors';
import { startHttpServer, pruneProcessedEvents } from './http';
import {
  chainObservers,
  createDaemonMetrics,
  metricsPortOf,
  metricsTokenOf,
  probes,
  startMetricsServer,
} from './metrics';
import { startPollers } from './pollers';
import { startDrift, type DaemonDrift } from './drift';
import { startFirstSync, type DaemonFirstSync } from './first-sync';
import { startServices } from './services';
import { stopParts } from './shutdown';
import { daemonStatus } from './status';
import { openDaemonStore, openQueues } from './store-and-queues';
import { keepSubscriptions, type Subscriptions } from './subscriptions';
import { NO_WORKERS, startWorkers } from './workers';

/** What a process runs: everything, or one role of a split deployment. */
export type Role = 'all' | 'api' | 'worker' | 'scheduler';

/** Options of startDaemon. */
export interface DaemonOptions {
  config: TandemConfig;
  /** The file the config came from, for messages. */
  configFile?: string;
  logger: Logger;
  /** REDIS_URL: one Redis, or for a cluster one or more of its nodes separated by commas. */
  redisUrl: string;
  /**
   * REDIS_CLUSTER: redisUrl is a Redis Cluster (default false). Every key then carries the
   * configured prefix as a hash tag (see keyPrefix in src/queue/redis.ts).
   */
  redisCluster?: boolean;
  databaseUrl?: string;
  dataDir?: string;
  role?: Role;
  /** Use these connectors instead of building them from config (tests). */
  connectors?: Record<ConnectorSlot, Connector>;
  /** Use this store instead of opening one (tests, demo). */
  store?: Store;
  connectorOptions?: BuildOptions;
  /**
   * How long stop() may take in all before it closes busy connections and workers anyway (default
   * `queue.shutdownGrace` from the config, 25 s: inside the usual 30 s a container gets); a job cut
   * short is picked up again as stalled.
   */
  shutdownGraceMs?: number;
  /** Start pollers on their schedule (default true). */
  schedulePolling?: boolean;
  /**
   * Tokens of the admin API; null leaves it unmounted. Without this option they are read from
   * TANDEM_ADMIN_TOKENS and TANDEM_VIEWER_TOKENS in `env`.
   */
  adminTokens?: AdminTokens | null;
  /** The environment to read settings from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** GET /metrics requires this bearer token when set (default: TANDEM_METRICS_TOKEN). */
  metricsToken?: string;
  /**
   * Roles without the HTTP server (worker, scheduler) serve /healthz, /readyz and /metrics on this
   * port when set (default: TANDEM_METRICS_PORT); 0 picks a free one.
   */
  metricsPort?: number;
}

/** A running daemon. */
export interface Daemon {
  readonly url: string;
  readonly engine: Engine;
  readonly queues: SyncQueues;
  /** The business-relation operations (link, unlink, create, match, ...). */
  readonly service: RelationService;
  /** This process's Prometheus metrics. */
  readonly metrics: Metrics;
  /** Where a worker or scheduler serves its probes and metrics (metricsPort), if anywhere. */
  readonly metricsUrl?: string;
  /** The console operations (overview, conflicts, undo, config versions, ...). */
  readonly console: FullConsoleService;
  /** Polls a connector at once (all its entities unless named). */
  pollNow(slot: ConnectorSlot, entities?: Entity[]): Promise<void>;
  /** The drift sweep: run one now, start one in the background, read its state. */
  readonly drift: DaemonDrift;
  /** The first sync: run one (or a dry run) now, start one in the background, read its state. */
  readonly firstSync: DaemonFirstSync;
  stop(): Promise<void>;
}

/**
 * The connectors' request budgets, shared with every other process of the deployment through
 * Redis (on a connection of their own: an admission precedes every provider call, and must not
 * queue behind BullMQ's blocking commands). Given budgets (tests) are used as they are.
 */
function openBudget(
  target: RedisTarget,
  config: TandemConfig,
  given: BuildOptions | undefined,
): { budgets: NonNullable<BuildOptions['budget']>; redis?: RedisConnection } {
  if (given?.budget) return { budgets: given.budget };
  // A command fails soon while Redis is away, so calls fall back to the limits kept in process.
  const redis = createRedis(target, { maxRetriesPerRequest: 1 });
  return { budgets: redisBudgets(redis, keyPrefix(config.queue.prefix, target)), redis };
}

/** Starts a daemon; throws RedisUnavailableError or ConfigError-like errors before starting anything. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const role = options.role ?? 'all';
  const env = options.env ?? process.env;
  const startedAt = new Date();
  const serves = role === 'all' || role === 'api';
  // A token that is too short stops the start here, before anything listens.
  const adminTokens = options.adminTokens === undefined ? adminTokensFromEnv(env) : options.adminTokens;
  const redis = redisTarget(options.redisUrl, options.redisCluster);
  await probeRedis(redis);

  const metrics = createDaemonMetrics(() => queues.queues, logger);
  const publicUrl = config.server.publicUrl ?? `http://${config.server.host}:${config.server.port}`;
  const store = await openDaemonStore(options);
  const budget = options.connectors ? undefined : openBudget(redis, config, options.connectorOptions);
  let connectors: Record<ConnectorSlot, Connector>;
  // The custom fields the connectors carry follow the config in force, which the console may change.
  let inForce: () => TandemConfig = () => config;
  const previewing = new Set<TandemConfig>();
  try {
    connectors = await setUpConnectors({
      config,
      configsInUse: () => [inForce(), ...previewing],
      logger,
      configFile: options.configFile,
      store: store.store,
      publicUrl,
      observe: chainObservers(options.connectorOptions?.observe, metrics.observeResponse),
      connectors: options.connectors,
      connectorOptions: { ...options.connectorOptions, ...(budget && { budget: budget.budgets }) },
    });
  } catch (error) {
    budget?.redis?.disconnect();
    if (store.owned) await store.store.close();
    throw error;
  }

  const queues = openQueues(redis, config.queue);
  const engine: Engine = {
    config,
    store: store.store,
    crm: connectors.crm,
    accounting: connectors.accounting,
    writes: queues.dispatcher,
    logger,
    observer: metrics.syncObserver,
    lockContact: (contactId, work) => withContactLock(queues.lockRedis, queues.keyPrefix, contactId, work),
  };
  inForce = () => engine.config;
  engine.previewing = previewing;
  // A saved mapping is applied to every relation by a drift sweep; the sweep is started below.
  let startSweep = (): Promise<{ started: boolean }> => Promise.resolve({ started: false });
  const services = await startServices(engine, { queues, fileConfig: config, resync: () => startSweep() });

  const workers =
    role === 'all' || role === 'worker'
      ? await startWorkers({
          engine,
          config,
          connectors,
          queues,
          relations: services.relations,
          metrics,
        })
      : NO_WORKERS;
  const pollers = startPollers({
    config,
    connectors,
    store: store.store,
    redis: queues.lockRedis,
    keyPrefix: queues.keyPrefix,
    queues: queues.queues,
    logger,
    observer: metrics.syncObserver,
    onSchedule: (role === 'all' || role === 'scheduler') && options.schedulePolling !== false,
  });
  const drift = startDrift({
    engine,
    config,
    connectors,
    queues: queues.queues,
    redis: queues.lockRedis,
    keyPrefix: queues.keyPrefix,
    metrics,
    logger,
    onSchedule: (role === 'all' || role === 'scheduler') && options.schedulePolling !== false,
  });
  startSweep = () => drift.start();
  const firstSync = startFirstSync({
    engine,
    config,
    connectors,
    redis: queues.lockRedis,
    keyPrefix: queues.keyPrefix,
    logger,
    resumeAtStart: (role === 'all' || role === 'scheduler') && options.schedulePolling !== false,
  });
  const health = probes({
    ping: () => queues.lockRedis.ping(),
    store: store.store,
    connectors,
    metrics,
    metricsToken: options.metricsToken ?? metricsTokenOf(env),
  });

  let api: { server: ClosableServer; url: string } | undefined;
  let subscriptions: Subscriptions | undefined;
  const timers: NodeJS.Timeout[] = [];
  if (serves) {
    api = await startHttpServer({
      config,
      logger,
      publicUrl,
      connectors,
      store: store.store,
      queues: queues.queues,
      metrics,
      health,
      relations: services.relations,
      console: services.console,
      // Signed-out console sessions are kept in the store, where every process sees them.
      adminTokens: adminTokens && { ...adminTokens, sessions: store.store },
      status: () => daemonStatus({ role, startedAt, config, connectors, queues: queues.queues, store: store.store }),
      pollNow: pollers.pollNow,
      drift,
      firstSync,
    });
    subscriptions = await keepSubscriptions({
      config,
      connectors,
      publicUrl,
      redis: queues.lockRedis,
      keyPrefix: queues.keyPrefix,
      logger,
    });
    timers.push(pruneProcessedEvents(store.store, logger));
  }
  // A worker or scheduler has no API server, but is still probed and scraped.
  const metricsPort = options.metricsPort ?? metricsPortOf(env);
  const probed =
    !serves && metricsPort !== undefined
      ? await startMetricsServer(health, { host: config.server.host, port: metricsPort })
      : undefined;
  logger.info({ role, url: api?.url, metricsUrl: probed?.url }, 'tandem started');

  let stopping: Promise<void> | undefined;
  const shutdownGraceMs = options.shutdownGraceMs ?? config.queue.shutdownGrace;
  const stop = () =>
    (stopping ??= stopParts(
      {
        store,
        queues,
        connectors,
        configSync: services.configSync,
        workers,
        schedules: pollers.schedules,
        drift,
        firstSync,
        servers: [api?.server, probed?.server],
        subscriptions,
        timers,
        budgetRedis: budget?.redis,
      },
      shutdownGraceMs,
      logger,
    ));

  return {
    url: api?.url ?? '',
    engine,
    queues: queues.queues,
    service: services.relations,
    metrics,
    metricsUrl: probed?.url,
    console: services.console,
    pollNow: pollers.pollNow,
    drift,
    firstSync,
    stop,
  };
}
