/**
 * Probes and metrics for container orchestrators and Prometheus. GET /readyz answers whether this
 * process can do its work now (Redis, the store, each connected system); GET /metrics serves the
 * Prometheus text format, open unless a token is configured. /healthz (process alive) stays with
 * the daemon.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bearerToken, tokensEqual } from './auth';

/** One dependency readiness depends on. `check` resolves when it is reachable; absent: nothing to check. */
export interface ReadinessCheck {
  name: string;
  check?: () => Promise<void>;
}

/** What /readyz answers. Each check is 'ok', 'skipped' (nothing to check) or the failure's message. */
export interface ReadinessReport {
  status: 'ready' | 'not ready';
  checks: Record<string, string>;
}

/** Options of createReadiness. */
export interface ReadinessOptions {
  /** A check not done within this is failed (default 3 s). */
  timeoutMs?: number;
  /** A report is reused for this long, so frequent probes do not hammer the providers (default 5 s). */
  cacheMs?: number;
  now?: () => number;
}

/** Returns a function that runs every check in parallel, each within the timeout, cached briefly. */
export function createReadiness(
  checks: ReadinessCheck[],
  options: ReadinessOptions = {},
): () => Promise<ReadinessReport> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const cacheMs = options.cacheMs ?? 5000;
  const now = options.now ?? Date.now;
  let cached: { at: number; report: Promise<ReadinessReport> } | undefined;
  const run = async (): Promise<ReadinessReport> => {
    const results = await Promise.all(
      checks.map(async ({ name, check }): Promise<[string, string]> => {
        if (!check) return [name, 'skipped'];
        try {
          await withTimeout(check(), timeoutMs, `${name} did not answer within ${timeoutMs} ms`);
          return [name, 'ok'];
        } catch (error) {
          return [name, error instanceof Error ? error.message : String(error)];
        }
      }),
    );
    const ready = results.every(([, result]) => result === 'ok' || result === 'skipped');
    return { status: ready ? 'ready' : 'not ready', checks: Object.fromEntries(results) };
  };
  return () => {
    // Probes arriving while a check runs share it; a finished report is reused for cacheMs.
    if (!cached || now() - cached.at >= cacheMs) cached = { at: now(), report: run() };
    return cached.report;
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** What the probe and metrics routes need. */
export interface HealthDeps {
  readiness: () => Promise<ReadinessReport>;
  metrics: { contentType: string; exposition(): Promise<string> };
  /** When set, GET /metrics requires `Authorization: Bearer <token>`. */
  metricsToken?: string;
}

/** Registers GET /readyz and GET /metrics. */
export function registerHealthRoutes(app: FastifyInstance, deps: HealthDeps): void {
  const authorized = (request: FastifyRequest) => {
    const given = bearerToken(request.headers.authorization);
    return deps.metricsToken === undefined || (given !== null && tokensEqual(given, deps.metricsToken));
  };
  app.get('/readyz', async (request, reply) => {
    const report = await deps.readiness();
    // A probe needs the verdict only; why a check fails (hosts, errors) is for the token's holder.
    return reply
      .code(report.status === 'ready' ? 200 : 503)
      .send(authorized(request) ? report : { status: report.status });
  });
  app.get('/metrics', async (request, reply) => {
    if (deps.metricsToken) {
      if (!authorized(request)) {
        return reply.code(401).header('WWW-Authenticate', 'Bearer').send({ error: 'a valid bearer token is required' });
      }
    }
    return reply.type(deps.metrics.contentType).send(await deps.metrics.exposition());
  });
}
