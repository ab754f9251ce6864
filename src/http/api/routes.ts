/**
 * A route table's shape, shared by the admin API (src/http/admin) and the console's API
 * (src/http/console): method, path, who may call it, the request schemas, the documented
 * responses and the service call. The Fastify adapter (./mount.ts) and the OpenAPI document
 * (./openapi.ts) are both built from such tables.
 */
import type { z } from 'zod';
import type { RequestPriority } from '../../../connectors/kit/priority';
import type { DriftControl } from '../../app/ports/drift';
import type { FirstSyncControl } from '../../app/ports/first-sync';
import type { Actor, RelationService } from '../../app/ports/relations';
import type { DaemonStatus } from './schemas';

/** Who may call a route: reads need any token, changes an admin token. */
export type Access = 'read' | 'change';

/** The parsed request a handler gets. */
export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  actor: Actor;
  /** The Idempotency-Key header, when the route accepts one. */
  idempotencyKey?: string;
}

/** What the handlers may use. */
export interface RouteDeps {
  service: RelationService;
  status: () => Promise<DaemonStatus>;
  /** The drift sweep; absent where the daemon runs none (the routes then answer 404). */
  drift?: DriftControl;
  /** The first sync; absent where the daemon runs none (the routes then answer 404). */
  firstSync?: FirstSyncControl;
}

/** A handler's answer; JSON unless `headers` set a content type. */
export interface RouteResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** One documented response. */
export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

/** One route. */
export interface RouteSpec<P extends z.ZodType, Q extends z.ZodType, B extends z.ZodType> {
  method: 'GET' | 'POST' | 'DELETE';
  /** Fastify syntax (`/api/relations/:id`). */
  url: string;
  operationId: string;
  summary: string;
  access: Access;
  params: P;
  query: Q;
  body?: B;
  /** Accepts an Idempotency-Key header. */
  idempotent?: boolean;
  /**
   * The priority of the provider calls the handler makes (see connectors/kit/priority.ts):
   * interactive unless the route starts bulk work (matching every unlinked record).
   */
  priority?: RequestPriority;
  responses: Record<number, ResponseSpec>;
  handle(input: RouteInput<z.output<P>, z.output<Q>, z.output<B>>, deps: RouteDeps): Promise<RouteResult>;
}

/** A route with its types erased, as the table holds it. */
export type AdminRoute = RouteSpec<z.ZodType, z.ZodType, z.ZodType>;
