/**
 * Metrics and probes: one private Prometheus registry per daemon (job counts read from the queues
 * on each scrape), the readiness checks behind /readyz, and the metrics port on which a worker or
 * scheduler, having no API server, is still probed and scraped.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { registerSecurityHeaders } from '../http/security';
import type { Logger } from 'pino';
import type { Connector } from '../../connectors/kit/types';
import type { ResponseObserver } from '../../connectors/kit/http';
import type { Store } from '../app/ports/store';
import { ConfigError } from '../config/load';
import { CONNECTOR_SLOTS, type ConnectorSlot } from '../core/model';
import { createReadiness, registerHealthRoutes, type HealthDeps } from '../http/health';
import { closable, type ClosableServer } from '../http/shutdown';
import { Metrics } from '../metrics/metrics';
import { INTAKE_QUEUE, writeQueueName, type SyncQueues } from '../queue/queues';

/** The daemon's metrics; `queues` is read on each scrape (the queues are opened after the metrics). */
export function createDaemonMetrics(queues: () => SyncQueues, logger: Logger): Metrics {
  return new Metrics({
    jobCounts: () => jobCountsOf(queues()),
    onCollectError: (error) => logger.warn({ err: error }, 'could not read job counts for /metrics'),
  });
}

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
export function chainObservers(...observers: Array<ResponseObserver | undefined>): ResponseObserver {
  const present = observers.filter((observer): observer is ResponseObserver => observer !== undefined);
  return (event) => present.forEach((observer) => observer(event));
}

/** What /readyz checks (Redis, the store, each connected system) and /metrics serves, for the API server and the metrics port. */
export function probes(parts: {
  ping: () => Promise<unknown>;
  store: Store;
  connectors: Record<ConnectorSlot, Connector>;
  metrics: Metrics;
  metricsToken?: string;
}): HealthDeps {
  const readiness = createReadiness([
    {
      name: 'redis',
      check: async () => {
        await parts.ping();
      },
    },
    {
      name: 'store',
      // One try: its error says since when and why the store is unreachable.
      check: () => parts.store.checkReachable(),
    },
    ...CONNECTOR_SLOTS.map((slot) => {
      const connector = parts.connectors[slot];
      return { name: slot, check: connector.checkHealth?.bind(connector) };
    }),
  ]);
  return { readiness, metrics: parts.metrics, metricsToken: parts.metricsToken };
}

/** Serves /healthz, /readyz and /metrics on their own port. */
export async function startMetricsServer(
  health: HealthDeps,
  listen: { host: string; port: number },
): Promise<{ server: ClosableServer; url: string }> {
  const app = Fastify({ logger: false }) as unknown as FastifyInstance;
  registerSecurityHeaders(app);
  const server = closable(app);
  app.get('/healthz', () => Promise.resolve({ status: 'ok' }));
  registerHealthRoutes(app, health);
  return { server, url: await app.listen(listen) };
}

/** The bearer token GET /metrics requires, when TANDEM_METRICS_TOKEN sets one. */
export function metricsTokenOf(env: NodeJS.ProcessEnv): string | undefined {
  const value = env.TANDEM_METRICS_TOKEN;
  return value !== undefined && value.trim() !== '' ? value : undefined;
}

/** The metrics port TANDEM_METRICS_PORT asks for, if any. */
export function metricsPortOf(env: NodeJS.ProcessEnv): number | undefined {
  const value = env.TANDEM_METRICS_PORT;
  if (value === undefined || value.trim() === '') return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new ConfigError('TANDEM_METRICS_PORT', [`'${value}' is not a port number`]);
  return port;
}
