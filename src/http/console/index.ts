/**
 * The web console: its API under /api/console, its pages under /ui (plain HTML, one small module
 * per page, one stylesheet, no build step), sign-in with a session cookie, and Bull Board under
 * /ui/queues. Mounted next to the admin API, with the same tokens.
 */
import type { Queue } from 'bullmq';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleService } from '../../app/ports/console';
import type { RelationService } from '../../app/ports/relations';
import {
  accessLevelOf,
  authFailuresOf,
  authenticate,
  cookieValue,
  createSession,
  grantAccessLevel,
  hasCsrfHeader,
  readSession,
  refuseGuessing,
  SESSION_COOKIE,
  SESSION_TTL_SECONDS,
  UNVERIFIABLE,
  type AccessLevel,
  type AdminTokens,
} from '../auth';
import { guardApiScope, mountRoutes } from '../api/mount';
import type { DaemonStatus } from '../api/schemas';
import { registerQueueBoard } from './board';
import { CONSOLE_PAGES, loginPage, pageHtml } from './pages';
import { CONSOLE_ROUTES, type ConsoleRouteDeps } from './routes';
import { loadStaticAssets } from './static-assets';

export { CONSOLE_ROUTES } from './routes';

/** What the console needs. */
export interface ConsoleDeps {
  tokens: AdminTokens;
  console: ConsoleService;
  relations: RelationService;
  status: () => Promise<DaemonStatus>;
  /** The queues Bull Board shows; none leaves /ui/queues unmounted. */
  queues?: readonly Queue[];
}

const API_PREFIX = '/api/console';
const UI_PREFIX = '/ui';

/** Registers the console API, the pages, sign-in and the queue board on `app`. */
export async function registerConsole(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const routeDeps: ConsoleRouteDeps = { service: deps.relations, status: deps.status, console: deps.console };
  await app.register(
    (scope, _options, done) => {
      guardApiScope(scope, deps.tokens);
      mountRoutes(scope, CONSOLE_ROUTES, API_PREFIX, routeDeps);
      done();
    },
    { prefix: API_PREFIX },
  );
  await app.register(
    (scope, _options, done) => {
      registerPages(scope, deps.tokens);
      done();
    },
    { prefix: UI_PREFIX },
  );
  if (deps.queues && deps.queues.length > 0)
    await registerQueueBoard(app, { tokens: deps.tokens, queues: deps.queues, basePath: `${UI_PREFIX}/queues` });
}

function registerPages(scope: FastifyInstance, tokens: AdminTokens): void {
  const assets = loadStaticAssets();
  // The login form also works without JavaScript, as a plain form post.
  scope.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );

  scope.get('/static/:file', async (request, reply) => {
    const asset = assets.get((request.params as { file: string }).file);
    if (!asset) return reply.code(404).type('text/plain').send('not found');
    return reply.type(asset.type).header('cache-control', 'no-cache').header('etag', asset.etag).send(asset.body);
  });

  scope.get('/login', async (request, reply) => {
    const next = safeNext((request.query as { next?: unknown }).next);
    return html(reply, loginPage({ next }));
  });

  scope.post('/login', async (request, reply) => {
    if (refuseCrossSite(request, reply) || refuseGuessing(request, reply, tokens)) return reply;
    const body = (request.body ?? {}) as { token?: unknown; next?: unknown };
    const token = typeof body.token === 'string' ? body.token.trim() : '';
    const level = token ? accessLevelOf(token, tokens) : null;
    const isForm = (request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    if (level === null) {
      authFailuresOf(tokens).failed(request.ip);
      if (isForm)
        return html(
          reply.code(401),
          loginPage({ next: safeNext(body.next), error: 'That is not an admin or viewer token.' }),
        );
      return reply
        .code(401)
        .send({ error: 'UNAUTHORIZED', message: 'the token is not one of the configured admin or viewer tokens' });
    }
    reply.header('set-cookie', sessionCookie(request, createSession(token, level), SESSION_TTL_SECONDS));
    if (isForm) return reply.code(303).header('location', safeNext(body.next)).send();
    return reply.send({ level });
  });

  scope.post('/logout', async (request, reply) => {
    if (refuseCrossSite(request, reply)) return reply;
    // The session is revoked, not only dropped by this browser: a copy of the cookie stops working too.
    const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
    const session = cookie === null ? null : readSession(cookie, tokens);
    if (session && tokens.sessions) {
      try {
        await tokens.sessions.revokeSession(session.id, session.expiresAt);
      } catch (error) {
        request.log.warn({ err: error }, 'sign-out could not be recorded');
        return reply.code(503).header('retry-after', '5').send({
          error: 'SIGN_OUT_FAILED',
          message: 'the store could not record the sign-out, so the session still works; try again shortly',
        });
      }
    }
    reply.header('set-cookie', sessionCookie(request, '', 0));
    return hasCsrfHeader(request)
      ? reply.code(204).send()
      : reply.code(303).header('location', `${UI_PREFIX}/login`).send();
  });

  for (const page of CONSOLE_PAGES) {
    scope.get(page.path.slice(UI_PREFIX.length), async (request, reply) => {
      const level = await pageAccess(request, reply, tokens);
      if (level === null) return reply;
      return html(reply, pageHtml(page, level));
    });
  }
}

/**
 * Refuses (403) a sign-in or sign-out posted by another site: a form there could otherwise sign
 * the user out, or sign them in with the attacker's token. Browsers tell the origin of a post
 * (Sec-Fetch-Site, or Origin); a client that sends neither is not a browser on another site.
 */
function refuseCrossSite(request: FastifyRequest, reply: FastifyReply): boolean {
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  let sameOrigin = true;
  if (typeof site === 'string') sameOrigin = site === 'same-origin' || site === 'none';
  else if (typeof origin === 'string') sameOrigin = originHost(origin) === request.headers.host;
  if (sameOrigin) return false;
  reply.code(403).send({ error: 'CSRF', message: 'sign-in and sign-out are only taken from the console itself' });
  return true;
}

/** The host (and port) of an Origin header, or null for `null` and anything unreadable. */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

/** The access level for a page, or null after redirecting to the login page (or answering 503). */
async function pageAccess(
  request: FastifyRequest,
  reply: FastifyReply,
  tokens: AdminTokens,
): Promise<AccessLevel | null> {
  const auth = await authenticate(request, tokens);
  if (auth.level === null) {
    if (auth.problem === 'unverifiable')
      reply.code(503).header('retry-after', '5').type('text/plain').send(UNVERIFIABLE);
    else
      reply
        .code(302)
        .header('location', `${UI_PREFIX}/login?next=${encodeURIComponent(request.url)}`)
        .send();
    return null;
  }
  grantAccessLevel(request, auth.level);
  return auth.level;
}

/** Only paths of the console itself, so the login page cannot be used to send someone elsewhere. */
function safeNext(value: unknown): string {
  return typeof value === 'string' && /^\/ui(\/[A-Za-z0-9/_\-.?=&%]*)?$/.test(value) && !value.startsWith('/ui/login')
    ? value
    : UI_PREFIX;
}

function sessionCookie(request: FastifyRequest, value: string, maxAge: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

function html(reply: FastifyReply, body: string): FastifyReply {
  return reply
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header(
      'content-security-policy',
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    )
    .send(body);
}
