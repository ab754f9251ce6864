/**
 * The daemon: wires config, store, connectors, queues, workers, pollers and the HTTP server
 * together, and takes them apart again in order on shutdown.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/kit/types';
import { ConfigError } from '../config/load';
import type { TandemConfig } from '../config/schema';
import { ACCOUNT_KINDS, type AccountKind, type ConnectorSlot, type Entity } from '../core/model';
import { registerAdminApi, type DaemonStatus } from '../http/admin';
import { registerConsole } from '../http/console';
import { adminTokensFromEnv, type AdminTokens } from '../http/auth';
import { registerWebhookRoutes, webhookPath } from '../http/webhooks';
import { createReadiness, registerHealthRoutes, type HealthDeps } from '../http/health';
import { Metrics } from '../metrics/metrics';
import { recordSubscriptionRenewAt } from '../metrics/status-keys';
import { currentRequestId } from './logger';
import { schedulePolls, type PollSchedule } from '../intake/poller';
import { QueueWriteDispatcher } from '../queue/dispatcher';
import type { WriteJob } from '../queue/jobs';
import { createJobInspector } from '../queue/inspect';
import { INTAKE_QUEUE, SyncQueues, writeQueueName } from '../queue/queues';
import { createRedis, probeRedis } from '../queue/redis';
import { tryLock } from '../queue/lock';
import { ConflictProblem } from './ports/problems';
import { contactLockKey, startIntakeWorker, startWriteWorker } from '../queue/workers';
import { openStore } from '../store';
import type { Store } from './ports/store';
import { buildConnector, type BuildOptions } from './connectors';
import type { ResponseObserver } from '../../connectors/kit/http';
import { unsupportedMappings } from './check-mappings';
import type { Engine } from './ports/index';
import { createRelationService } from './relations';
import type { RelationService } from './ports/relations';
import { consoleQueues } from '../queue/console-queues';
import { redisConfigChannel } from '../queue/config-channel';
import { redisConnectorActivity } from '../metrics/status-keys';
import { applyStoredConfig, createConsoleService, startConfigSync, type FullConsoleService } from './console';
import { closable, type ClosableServer } from '../http/shutdown';
import { settlesWithin } from '../util/net';

/** What a process runs: everything, or one role of a split deployment. */
export type Role = 'all' | 'api' | 'worker' | 'scheduler';

/** Options of startDaemon. */
export interface DaemonOptions {
  config: TandemConfig;
  /** The file the config came from, for messages. */
  configFile?: string;
  logger: Logger;
  redisUrl: string;
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
  stop(): Promise<void>;
}

/** Starts a daemon; throws RedisUnavailableError or ConfigError-like errors before starting anything. */
export async function startDaemon(options: DaemonOptions): Promise<Daemon> {
  const { config, logger } = options;
  const role = options.role ?? 'all';
  const startedAt = new Date();
  // A token that is too short stops the start here, before anything listens.
  const adminTokens =
    options.adminTokens === undefined ? adminTokensFromEnv(options.env ?? process.env) : options.adminTokens;
  await probeRedis(options.redisUrl);
  const env = options.env ?? process.env;

  // --- metrics: one private registry per daemon; job counts are read from the queues on scrape.
  const metrics = new Metrics({
    jobCounts: () => jobCountsOf(queues),
    onCollectError: (error) => logger.warn({ err: error }, 'could not read job counts for /metrics'),
  });
  const observe = chainObservers(options.connectorOptions?.observe, metrics.observeResponse);
  // --- end metrics

  const publicUrl = config.server.publicUrl ?? `http://${config.server.host}:${config.server.port}`;
  const store = options.store ?? (await openStore({ databaseUrl: options.databaseUrl, dataDir: options.dataDir }));
  const ownsStore = !options.store;
  let connectors: Record<ConnectorSlot, Connector>;
  try {
    connectors =
      options.connectors ??
      buildConfiguredConnectors(config, options.configFile, {
        ...options.connectorOptions,
        observe,
        webhookUrl: (slot) => new URL(webhookPath(slot), publicUrl).toString(),
        storedSecrets: await loadRotatedSecrets(store),
        saveSecret: (slot, name, value) => store.setCursor(secretKey(slot), name, value),
        relationKinds: (accountIds) => relationKindsOf(store, accountIds),
      });
    const unsupported = unsupportedMappings(config, connectors.crm, connectors.accounting);
    if (unsupported.length > 0) throw new ConfigError(options.configFile ?? 'the config', unsupported);
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }

  const connection = createRedis(options.redisUrl);
  const lockRedis = createRedis(options.redisUrl);
  const queues = new RequestTaggedQueues(connection, config.queue);
  const dispatcher = new QueueWriteDispatcher(queues);
  const engine: Engine = {
    config,
    store,
    crm: connectors.crm,
    accounting: connectors.accounting,
    writes: dispatcher,
    logger,
    observer: metrics.syncObserver,
    lockContact: (contactId, work) => withContactLock(lockRedis, config.queue.prefix, contactId, work),
  };
  const service = createRelationService(engine, { jobs: createJobInspector(queues) });

  // Console: a config version saved from the console wins over the file's editable sections,
  // in every role, from the start and whenever one is saved.
  await applyStoredConfig(engine);
  const configChannel = redisConfigChannel({
    redisUrl: options.redisUrl,
    prefix: config.queue.prefix,
    publisher: lockRedis,
  });
  const configSync = await startConfigSync(engine, configChannel);
  const consoleService = createConsoleService({
    engine,
    relations: service,
    queues: consoleQueues(queues),
    activity: redisConnectorActivity(lockRedis, config.queue.prefix),
    configChannel,
    fileConfig: config,
  });

  const intakeWorkers: Worker[] = [];
  const writeWorkers: Worker[] = [];
  // BullMQ does not close a connection it was given, so the daemon closes these itself on stop.
  const workerConnections: Redis[] = [];
  const workerConnection = () => {
    const redis = createRedis(options.redisUrl);
    workerConnections.push(redis);
    return redis;
  };
  if (role === 'all' || role === 'worker') {
    // --- write-completion events: subscribed before any planner waits on them. Created lazily by
    // the first plan, a write finishing before the first XREAD is issued is never seen, and that
    // plan would wait out its whole timeout.
    await queues.writeEvents('crm');
    // --- end write-completion events
    intakeWorkers.push(startIntakeWorker(engine, workerConnection(), lockRedis));
    for (const slot of ['crm', 'accounting'] as const) {
      const signals = { rateLimited: (waitMs: number) => metrics.rateLimitWait(slot, waitMs) };
      writeWorkers.push(
        startWriteWorker(engine, slot, connectors[slot], config.connectors[slot], workerConnection(), signals),
      );
    }
  }

  const schedules = new Map<ConnectorSlot, PollSchedule>();
  const entitiesOf = (slot: ConnectorSlot): Entity[] =>
    connectors[slot].entities.filter(
      (entity) => entity === 'contact' || config.relationCodes[entity as AccountKind] !== null,
    );
  for (const slot of ['crm', 'accounting'] as const) {
    const connector = connectors[slot];
    if (!connector.listChanged) continue;
    const deps = {
      slot,
      connector,
      store,
      redis: lockRedis,
      prefix: config.queue.prefix,
      logger,
      entities: entitiesOf(slot),
      enqueue: (changes: Parameters<SyncQueues['enqueueChanges']>[0]) => queues.enqueueChanges(changes),
    };
    const runsOnSchedule = (role === 'all' || role === 'scheduler') && options.schedulePolling !== false;
    schedules.set(slot, runsOnSchedule ? schedulePolls(deps, config.connectors[slot].pollEvery) : manualPolls(deps));
  }
  const pollNow = async (slot: ConnectorSlot, entities?: Entity[]) => {
    await schedules.get(slot)?.pollNow(entities);
  };

  // --- probes and metrics routes (/readyz, /metrics), shared by the API server and the metrics port.
  const readiness = createReadiness([
    {
      name: 'redis',
      check: async () => {
        await lockRedis.ping();
      },
    },
    {
      name: 'store',
      check: async () => {
        await store.getCursor('readyz', 'readyz');
      },
    },
    ...(['crm', 'accounting'] as const).map((slot) => {
      const connector = connectors[slot];
      return {
        name: slot,
        check: connector.checkHealth ? () => (connector.checkHealth as () => Promise<void>)() : undefined,
      };
    }),
  ]);
  const health: HealthDeps = {
    readiness,
    metrics,
    metricsToken: options.metricsToken ?? nonEmpty(env.TANDEM_METRICS_TOKEN),
  };
  // --- end probes

  let server: ClosableServer | undefined;
  let url = '';
  const timers: NodeJS.Timeout[] = [];
  if (role === 'all' || role === 'api') {
    const app = Fastify({
      loggerInstance: logger.child(
        { component: 'http' },
        { level: logger.levelVal > 40 ? logger.level : 'warn' },
      ) as Logger,
      // --- request ids: one per request, unique across processes, carried into the jobs it enqueues.
      genReqId: requestIdOf,
      logController: new LogController({ requestIdLogLabel: 'requestId' }),
    }) as unknown as FastifyInstance;
    server = closable(app);
    // The id goes back to the caller, so a provider's delivery log can be matched with ours.
    app.addHook('onSend', async (request, reply) => {
      reply.header('x-request-id', request.id);
    });
    app.get('/healthz', async () => ({ status: 'ok' }));
    await registerHealthRoutes(app, health);
    await registerWebhookRoutes(app, {
      connectors: Object.fromEntries(
        (['crm', 'accounting'] as const)
          .filter((slot) => config.connectors[slot].webhooks)
          .map((slot) => [slot, connectors[slot]]),
      ),
      store,
      logger,
      publicUrl,
      enqueue: (changes) => queues.enqueueChanges(changes),
      pollNow: (slot, entities) => void pollNow(slot, entities),
      onRejected: (slot, status) => metrics.webhookRejected(slot, status),
    });
    if (adminTokens) {
      const status = () => daemonStatus({ role, startedAt, config, connectors, queues, store });
      await registerAdminApi(app, { service, status, tokens: adminTokens, version: process.env.npm_package_version });
      // --- console: /api/console, the pages under /ui and the queue board, with the admin API's tokens
      const boardQueues = [queues.intake, queues.writes.crm, queues.writes.accounting];
      await registerConsole(app, {
        tokens: adminTokens,
        console: consoleService,
        relations: service,
        status,
        queues: boardQueues,
      });
      // --- end console
    } else {
      logger.info(
        'admin API not mounted: set TANDEM_ADMIN_TOKENS (and optionally TANDEM_VIEWER_TOKENS) to tokens of 16 characters or more to enable it',
      );
    }
    url = await app.listen({ host: config.server.host, port: config.server.port });
    for (const slot of ['crm', 'accounting'] as const) {
      const connector = connectors[slot];
      if (connector.ensureSubscriptions && config.connectors[slot].webhooks) {
        const recordRenewAt = (renewAt: string) =>
          recordSubscriptionRenewAt(lockRedis, config.queue.prefix, slot, renewAt);
        timers.push(
          ...(await keepSubscriptions(
            connector,
            new URL(webhookPath(slot), publicUrl).toString(),
            logger,
            recordRenewAt,
          )),
        );
      }
    }
  }
  if (role === 'all' || role === 'api') {
    // Providers redeliver within hours, not weeks: a week of event ids is plenty to drop duplicates.
    const prune = () =>
      store
        .pruneProcessedEvents(new Date(Date.now() - 7 * 24 * 3600_000).toISOString())
        .catch((error: unknown) => logger.warn({ err: error }, 'could not prune processed webhook event ids'));
    const pruneTimer = setInterval(() => void prune(), 3600_000);
    pruneTimer.unref();
    timers.push(pruneTimer);
  }
  // --- metrics port: a worker or scheduler has no API server, but is still probed and scraped.
  let metricsServer: ClosableServer | undefined;
  let metricsUrl: string | undefined;
  const metricsPort = options.metricsPort ?? portOf(env.TANDEM_METRICS_PORT);
  if (role !== 'all' && role !== 'api' && metricsPort !== undefined) {
    const app = Fastify({ logger: false }) as unknown as FastifyInstance;
    metricsServer = closable(app);
    app.get('/healthz', async () => ({ status: 'ok' }));
    await registerHealthRoutes(app, health);
    metricsUrl = await app.listen({ host: config.server.host, port: metricsPort });
  }
  // --- end metrics port
  logger.info({ role, url: url || undefined, metricsUrl }, 'tandem started');

  let stopping: Promise<void> | undefined;
  const shutdownGraceMs = options.shutdownGraceMs ?? config.queue.shutdownGrace;
  const stop = () =>
    (stopping ??= (async () => {
      logger.info('stopping: no new changes are taken in, running jobs finish');
      // One budget for the whole stop, so it ends within the grace period however it is spent.
      const deadline = Date.now() + shutdownGraceMs;
      const left = () => Math.max(0, deadline - Date.now());
      timers.forEach((timer) => clearTimeout(timer));
      timers.forEach((timer) => clearInterval(timer));
      await configSync.stop();
      // No new requests, polls or intake jobs; those under way finish side by side. A running
      // intake job waits for the writes it enqueues: the write workers must keep taking jobs
      // until every intake job has finished, or that job (and stop) would hang.
      await Promise.all([
        server?.close(left(), logger),
        metricsServer?.close(left(), logger),
        ...[...schedules.entries()].map(async ([slot, schedule]) => {
          // A poll cut short saves no cursor: the next start polls the same changes again.
          if (!(await settlesWithin(schedule.stop(), left())))
            logger.warn({ connector: slot }, 'poll still running after the grace period: left unfinished');
        }),
        closeWithin(intakeWorkers, left(), logger),
      ]);
      // A planner cut short by the grace period stops waiting for its writes.
      dispatcher.close();
      await closeWithin(writeWorkers, left(), logger);
      workerConnections.forEach((redis) => redis.disconnect());
      await queues.close();
      await Promise.all(Object.values(connectors).map((connector) => connector.close?.()));
      connection.disconnect();
      lockRedis.disconnect();
      if (ownsStore) await store.close();
      logger.info('stopped');
    })());

  return { url, engine, queues, service, metrics, metricsUrl, console: consoleService, pollNow, stop };
}

/** What GET /api/status answers: role, uptime, connectors, queue job counts, relations per kind. */
async function daemonStatus(parts: {
  role: Role;
  startedAt: Date;
  config: TandemConfig;
  connectors: Record<ConnectorSlot, Connector>;
  queues: SyncQueues;
  store: Store;
}): Promise<DaemonStatus> {
  const { queues, store, config } = parts;
  const named = [
    [INTAKE_QUEUE, queues.intake],
    [writeQueueName('crm'), queues.writes.crm],
    [writeQueueName('accounting'), queues.writes.accounting],
  ] as const;
  const counts = await Promise.all(
    named.map(([, queue]) => queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed')),
  );
  const kinds = ['customer', 'vendor', 'bankAccount'] as const;
  // The store has no count query; listing ids per kind is fine at the sizes tandem serves.
  const relationCounts = await Promise.all(kinds.map(async (kind) => (await store.listRelations({ kind })).length));
  return {
    role: parts.role,
    startedAt: parts.startedAt.toISOString(),
    uptimeSeconds: Math.round((Date.now() - parts.startedAt.getTime()) / 1000),
    connectors: (['crm', 'accounting'] as const).map((slot) => ({
      slot,
      name: parts.connectors[slot].name,
      kind: config.connectors[slot].kind,
      system: parts.connectors[slot].system,
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

/** Builds the connectors; a setting a connector refuses (a company id that is not a GUID) is a ConfigError naming its section. */
function buildConfiguredConnectors(
  config: TandemConfig,
  configFile: string | undefined,
  options: BuildOptions,
): Record<ConnectorSlot, Connector> {
  const problems: string[] = [];
  const built: Partial<Record<ConnectorSlot, Connector>> = {};
  for (const slot of ['crm', 'accounting'] as const) {
    try {
      built[slot] = buildConnector(slot, config.connectors[slot], options);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      problems.push(message.startsWith(`connectors.${slot}`) ? message : `connectors.${slot}: ${message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(configFile ?? 'the config', problems);
  return built as Record<ConnectorSlot, Connector>;
}

function manualPolls(deps: Parameters<typeof schedulePolls>[0]): PollSchedule {
  return {
    stop: async () => undefined,
    pollNow: async (entities) => {
      const { pollOnce } = await import('../intake/poller');
      return pollOnce(deps, entities);
    },
  };
}

/** Registers webhook subscriptions and renews them before they expire. */
async function keepSubscriptions(
  connector: Connector,
  notificationUrl: string,
  logger: Logger,
  recordRenewAt: (renewAt: string) => Promise<void>,
): Promise<NodeJS.Timeout[]> {
  const timers: NodeJS.Timeout[] = [];
  const renew = async () => {
    try {
      const { renewAt } = await (connector.ensureSubscriptions as NonNullable<Connector['ensureSubscriptions']>)(
        notificationUrl,
      );
      logger.info({ connector: connector.name, renewAt }, 'webhook subscriptions in place');
      if (renewAt) {
        await recordRenewAt(renewAt).catch((error: unknown) =>
          logger.warn({ err: error }, 'could not record the subscription renewal time'),
        );
        const delay = Math.min(Math.max(Date.parse(renewAt) - Date.now(), 60_000), 2 ** 31 - 1);
        const timer = setTimeout(() => void renew(), delay);
        timer.unref();
        timers.push(timer);
      }
    } catch (error) {
      // Polling still sees every change; retry the subscription in a few minutes.
      logger.warn(
        { connector: connector.name, err: error },
        'could not set up webhook subscriptions; relying on polling',
      );
      const timer = setTimeout(() => void renew(), 5 * 60_000);
      timer.unref();
      timers.push(timer);
    }
  };
  await renew();
  return timers;
}

// --- metrics and request-id helpers

/** Job counts of the three queues, for the tandem_jobs gauge. */
async function jobCountsOf(queues: SyncQueues) {
  const named = [
    [INTAKE_QUEUE, queues.intake],
    [writeQueueName('crm'), queues.writes.crm],
    [writeQueueName('accounting'), queues.writes.accounting],
  ] as const;
  return Promise.all(
    named.map(async ([queue, jobs]) => ({
      queue,
      counts: await jobs.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed'),
    })),
  );
}

/** Calls every observer given; the HTTP client's observer must never throw. */
function chainObservers(...observers: Array<ResponseObserver | undefined>): ResponseObserver {
  const present = observers.filter((observer): observer is ResponseObserver => observer !== undefined);
  return (event) => present.forEach((observer) => observer(event));
}

/**
 * A request id per HTTP request: the caller's X-Request-Id when it looks like one (a proxy in front
 * set it), otherwise a fresh UUID, so ids stay unique across the processes of a split deployment.
 */
function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/**
 * The write queues, stamping each write job with the request id of the change being planned
 * (held by the intake worker in requestContext), so the write worker logs it as well.
 */
class RequestTaggedQueues extends SyncQueues {
  override async enqueueWrite(write: WriteJob) {
    const requestId = write.requestId ?? currentRequestId();
    return super.enqueueWrite(requestId === undefined ? write : { ...write, requestId });
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

function portOf(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError('TANDEM_METRICS_PORT', [`'${value}' is not a port number`]);
  return port;
}

// --- end metrics and request-id helpers

/** How long an operation waits for a running sync of the same contact. */
const CONTACT_LOCK_WAIT_MS = 30_000;

/** Runs `work` under the contact's lock, waiting for a sync of that contact to finish first. */
async function withContactLock<T>(redis: Redis, prefix: string, contactId: string, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + CONTACT_LOCK_WAIT_MS;
  for (;;) {
    const lock = await tryLock(redis, contactLockKey(prefix, contactId), 30_000);
    if (lock) {
      try {
        return await work();
      } finally {
        await lock.release();
      }
    }
    if (Date.now() > deadline)
      throw new ConflictProblem('IN_PROGRESS', `contact ${contactId} is being synchronized; try again in a moment`);
    await new Promise((resolve) => setTimeout(resolve, 50 + Math.floor(Math.random() * 100)));
  }
}

/**
 * Secrets a connector rotates (Xero's refresh token) are kept in the store, beside the cursors,
 * so a restart uses the newest one instead of the long-spent one in the environment.
 */
const ROTATED_SECRETS = ['refreshToken'] as const;
const secretKey = (slot: ConnectorSlot) => `secret-${slot}`;

async function loadRotatedSecrets(store: Store): Promise<Partial<Record<ConnectorSlot, Record<string, string>>>> {
  const loaded: Partial<Record<ConnectorSlot, Record<string, string>>> = {};
  for (const slot of ['crm', 'accounting'] as const) {
    for (const name of ROTATED_SECRETS) {
      const value = await store.getCursor(secretKey(slot), name);
      if (value) loaded[slot] = { ...loaded[slot], [name]: value };
    }
  }
  return loaded;
}

/** The account kinds the store links these accounting ids as. */
async function relationKindsOf(store: Store, accountIds: readonly string[]): Promise<Map<string, AccountKind[]>> {
  const kinds = new Map<string, AccountKind[]>();
  await Promise.all(
    accountIds.flatMap((id) =>
      ACCOUNT_KINDS.map(async (kind) => {
        if (await store.findRelationByAccount(kind, id)) kinds.set(id, [...(kinds.get(id) ?? []), kind]);
      }),
    ),
  );
  return kinds;
}

/** Closes workers, letting running jobs finish for up to `graceMs`, then closing them anyway. */
async function closeWithin(workers: Worker[], graceMs: number, logger: Logger): Promise<void> {
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
