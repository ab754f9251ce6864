/**
 * The HTTP server of the `all` and `api` roles: probes, webhooks, and (with admin tokens) the admin
 * API and the console. Every request gets an id, unique across processes, that goes back to the
 * caller and into the jobs it enqueues.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/kit/types';
import type { FullConsoleService } from '../app/console';
import { markUnlinked } from '../app/intake';
import type { DriftControl } from '../app/ports/drift';
import type { FirstSyncControl } from '../app/ports/first-sync';
import type { RelationService } from '../app/ports/relations';
import type { Store } from '../app/ports/store';
import type { TandemConfig } from '../config/schema';
import { CONNECTOR_SLOTS, type ConnectorSlot, type Entity } from '../core/model';
import { registerAdminApi } from '../http/admin';
import type { DaemonStatus } from '../http/api/schemas';
import type { AdminTokens } from '../http/auth';
import { registerConsole } from '../http/console';
import { registerHealthRoutes, type HealthDeps } from '../http/health';
import { registerSecurityHeaders } from '../http/security';
import { closable, type ClosableServer } from '../http/shutdown';
import { registerWebhookRoutes } from '../http/webhooks';
import type { Metrics } from '../metrics/metrics';
import type { SyncQueues } from '../queue/queues';

/** What the server serves. */
export interface HttpSetup {
  config: TandemConfig;
  logger: Logger;
  publicUrl: string;
  connectors: Record<ConnectorSlot, Connector>;
  store: Store;
  queues: SyncQueues;
  metrics: Metrics;
  health: HealthDeps;
  relations: RelationService;
  console: FullConsoleService;
  /** Tokens of the admin API and the console; null leaves both unmounted. */
  adminTokens: AdminTokens | null;
  status: () => Promise<DaemonStatus>;
  pollNow(slot: ConnectorSlot, entities?: Entity[]): Promise<void>;
  drift: DriftControl;
  firstSync: FirstSyncControl;
}

/** Builds the server and listens on the configured host and port. */
export async function startHttpServer(setup: HttpSetup): Promise<{ server: ClosableServer; url: string }> {
  const { config, logger, connectors, queues, metrics } = setup;
  const app = Fastify({
    loggerInstance: logger.child(
      { component: 'http' },
      { level: logger.levelVal > 40 ? logger.level : 'warn' },
    ) as Logger,
    genReqId: requestIdOf,
    trustProxy: trustedProxies(config.server.trustProxy),
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
  }) as unknown as FastifyInstance;
  const server = closable(app);
  // The id goes back to the caller, so a provider's delivery log can be matched with ours.
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  registerSecurityHeaders(app);
  app.get('/healthz', () => Promise.resolve({ status: 'ok' }));
  registerHealthRoutes(app, setup.health);
  await registerWebhookRoutes(app, {
    connectors: Object.fromEntries(
      CONNECTOR_SLOTS.filter((slot) => config.connectors[slot].webhooks).map((slot) => [slot, connectors[slot]]),
    ),
    store: setup.store,
    logger,
    publicUrl: setup.publicUrl,
    enqueue: async (changes) =>
      await queues.enqueueChanges(await markUnlinked(setup.store, changes), {
        onEcho: (change) => metrics.syncObserver.echoSuppressed?.(change.connector),
      }),
    pollNow: (slot, entities) => void setup.pollNow(slot, entities),
    onRejected: (slot, status) => metrics.webhookRejected(slot, status),
  });
  if (setup.adminTokens) {
    const tokens = setup.adminTokens;
    await registerAdminApi(app, {
      service: setup.relations,
      status: setup.status,
      drift: setup.drift,
      firstSync: setup.firstSync,
      tokens,
      version: process.env.npm_package_version,
    });
    // The console: /api/console, the pages under /ui and the queue board, with the admin API's tokens.
    await registerConsole(app, {
      tokens,
      console: setup.console,
      relations: setup.relations,
      status: setup.status,
      queues: [queues.intake, queues.writes.crm, queues.writes.accounting],
    });
  } else {
    logger.info(
      'admin API not mounted: set TANDEM_ADMIN_TOKENS (and optionally TANDEM_VIEWER_TOKENS) to tokens of 16 characters or more to enable it',
    );
  }
  const url = await app.listen({ host: config.server.host, port: config.server.port });
  return { server, url };
}

/**
 * Forgets processed webhook event ids older than a week, every hour. Providers redeliver within
 * hours, not weeks: a week of event ids is plenty to drop duplicates.
 */
export function pruneProcessedEvents(store: Store, logger: Logger): NodeJS.Timeout {
  const prune = () =>
    store
      .pruneProcessedEvents(new Date(Date.now() - 7 * 24 * 3600_000).toISOString())
      .catch((error: unknown) => logger.warn({ err: error }, 'could not prune processed webhook event ids'));
  const timer = setInterval(() => void prune(), 3600_000);
  timer.unref();
  return timer;
}

/**
 * A request id per HTTP request: the caller's X-Request-Id when it looks like one (a proxy in front
 * set it), otherwise a fresh UUID, so ids stay unique across the processes of a split deployment.
 */
function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** `server.trustProxy` as Fastify takes it: a number of hops becomes "the nearest n hops". */
function trustedProxies(
  setting: TandemConfig['server']['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  return typeof setting === 'number' ? (_address, hop) => hop < setting : setting;
}
