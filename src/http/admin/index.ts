/**
 * Mounts the admin API under /api: bearer-token auth, zod-parsed requests, the route table, the
 * OpenAPI document, and one error format ({ error, message, field?, reason? }) (see ../api).
 */
import type { FastifyInstance } from 'fastify';
import type { DriftControl } from '../../app/ports/drift';
import type { FirstSyncControl } from '../../app/ports/first-sync';
import type { RelationService } from '../../app/ports/relations';
import type { AdminTokens } from '../auth';
import { guardApiScope, mountRoutes } from '../api/mount';
import { buildOpenApiDocument, OPENAPI_PATH } from '../api/openapi';
import type { DaemonStatus } from '../api/schemas';
import { CONSOLE_ROUTES } from '../console/routes';
import { ADMIN_ROUTES } from './routes';

export type { DaemonStatus } from '../api/schemas';
export { ADMIN_ROUTES } from './routes';

/** What the admin API needs. */
export interface AdminApiDeps {
  service: RelationService;
  status: () => Promise<DaemonStatus>;
  drift?: DriftControl;
  firstSync?: FirstSyncControl;
  tokens: AdminTokens;
  /** Shown in the OpenAPI document. */
  version?: string;
}

const PREFIX = '/api';

/** Registers the admin routes on `app` in their own scope. */
export async function registerAdminApi(app: FastifyInstance, deps: AdminApiDeps): Promise<void> {
  // The console's routes (src/http/console) are mounted with the admin API and share its document.
  const openApi = buildOpenApiDocument({
    version: deps.version ?? '0.0.0',
    routes: [...ADMIN_ROUTES, ...CONSOLE_ROUTES],
  });
  await app.register(
    (scope, _options, done) => {
      guardApiScope(scope, deps.tokens);
      scope.setNotFoundHandler((request, reply) =>
        reply
          .code(404)
          .send({ error: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
      );
      scope.get(OPENAPI_PATH.slice(PREFIX.length), () => Promise.resolve(openApi));
      mountRoutes(scope, ADMIN_ROUTES, PREFIX, deps);
      done();
    },
    { prefix: PREFIX },
  );
}
