/**
 * Mounts a route table on a Fastify scope: bearer-token (or session) auth, every request part
 * parsed with its route's zod schema before the handler runs, and one error format
 * ({ error, message, field?, reason? }) for the admin API and the console's API alike.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { withPriority } from '../../../connectors/kit/priority';
import { accessLevelOfRequest, requireToken, type AdminTokens } from '../auth';
import { InvalidRequestError, invalidRequest, problemReply } from './errors';
import type { AdminRoute, RouteDeps } from './routes';

const idempotencyHeader = z.object({ 'idempotency-key': z.string().min(1).max(200).optional() });

/** Token (or session) auth and the one error format, for a scope of API routes. */
export function guardApiScope(scope: FastifyInstance, tokens: AdminTokens): void {
  scope.addHook('onRequest', requireToken(tokens));
  scope.setErrorHandler((error, request, reply) => {
    const { status, body, log, headers } = problemReply(error, request.id);
    if (log) request.log.error({ err: error, route: request.routeOptions.url }, 'admin request failed');
    else if (status === 503) request.log.warn({ err: error, route: request.routeOptions.url }, 'store unavailable');
    if (headers) reply.headers(headers);
    return reply.code(status).send(body);
  });
}

/** Adds routes of a route table to a scope mounted at `prefix`; each request is parsed before its handler runs. */
export function mountRoutes(
  scope: FastifyInstance,
  routes: readonly AdminRoute[],
  prefix: string,
  deps: RouteDeps,
): void {
  for (const route of routes) {
    scope.route({
      method: route.method,
      url: route.url.slice(prefix.length),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const input = parseRequest(route, request);
        // An admin waits for the answer: the provider calls made for it go ahead of bulk work.
        const result = await withPriority(route.priority ?? 'interactive', () => route.handle(input, deps));
        if (result.headers) reply.headers(result.headers);
        return reply.code(result.status).send(result.body);
      },
    });
  }
}

// A missing value reads better as "required" than as "expected string, received undefined".
const parseOptions = { error: (issue: { input?: unknown }) => (issue.input === undefined ? 'required' : undefined) };

function parsePart(location: 'params' | 'query' | 'body' | 'headers', schema: z.ZodType, value: unknown): unknown {
  const result = schema.safeParse(value, parseOptions);
  if (!result.success) throw invalidRequest(location, result.error);
  return result.data;
}

function parseRequest(route: AdminRoute, request: FastifyRequest) {
  const params = parsePart('params', route.params, request.params ?? {});
  const query = parsePart('query', route.query, request.query ?? {});
  const body = route.body ? parsePart('body', route.body, request.body ?? {}) : undefined;
  const emptyObject =
    typeof request.body === 'object' && request.body !== null && Object.keys(request.body).length === 0;
  if (!route.body && request.body !== undefined && request.body !== null && !emptyObject) {
    throw new InvalidRequestError('body', 'this route takes no body');
  }
  const key = route.idempotent
    ? (parsePart('headers', idempotencyHeader, request.headers) as z.output<typeof idempotencyHeader>)[
        'idempotency-key'
      ]
    : undefined;
  const level = accessLevelOfRequest(request) ?? 'viewer';
  return { params, query, body, actor: { name: level }, idempotencyKey: key };
}
