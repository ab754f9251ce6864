/**
 * Bearer tokens for the admin API. Admin tokens may read and change; viewer tokens may only read.
 * Tokens come from TANDEM_ADMIN_TOKENS and TANDEM_VIEWER_TOKENS (comma-separated).
 * The browser console signs in once with a token and then carries a session cookie instead.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { secretsEqual } from '../../connectors/kit/webhook';

/** What a token allows. */
export type AccessLevel = 'admin' | 'viewer';

/** The configured tokens per access level. */
export interface AdminTokens {
  admin: string[];
  viewer: string[];
  /** Where signed-out sessions are kept; without it signing out only clears the browser's cookie. */
  sessions?: SessionRevocations;
}

/** Signed-out console sessions, kept where every process of a deployment sees them (the store). */
export interface SessionRevocations {
  revokeSession(id: string, expiresAt: Date): Promise<void>;
  isSessionRevoked(id: string): Promise<boolean>;
}

/** Shorter tokens are too easy to guess to guard a write API. */
export const MIN_TOKEN_LENGTH = 16;

/** A token variable holds a token that is too short; the daemon refuses to start. */
export class AdminTokenError extends Error {
  readonly code = 'ADMIN_TOKEN_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'AdminTokenError';
  }
}

/**
 * Reads the tokens from the environment; null when neither variable is set (the admin API is then
 * not mounted). Throws AdminTokenError naming the variable and position of a token that is too short.
 */
export function adminTokensFromEnv(env: NodeJS.ProcessEnv = process.env): AdminTokens | null {
  const admin = splitTokens(env, 'TANDEM_ADMIN_TOKENS');
  const viewer = splitTokens(env, 'TANDEM_VIEWER_TOKENS');
  if (admin.length === 0 && viewer.length === 0) return null;
  return { admin, viewer };
}

function splitTokens(env: NodeJS.ProcessEnv, variable: string): string[] {
  const tokens = (env[variable] ?? '')
    .split(',')
    .map((token) => token.trim())
    .filter((token) => token !== '');
  tokens.forEach((token, index) => {
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new AdminTokenError(
        `${variable}: token ${index + 1} has ${token.length} characters; each token needs at least ${MIN_TOKEN_LENGTH} ` +
          `(generate one with 'openssl rand -hex 32')`,
      );
    }
  });
  return tokens;
}

/** Compares tokens in constant time, whatever their lengths: the one compare of the connector kit. */
export const tokensEqual = secretsEqual;

/** The access level of a presented token, or null when it is none of the configured ones. */
export function accessLevelOf(token: string, tokens: AdminTokens): AccessLevel | null {
  // Check every token, so the time taken does not tell which list (or position) matched.
  let level: AccessLevel | null = null;
  for (const candidate of tokens.viewer) if (tokensEqual(token, candidate) && level === null) level = 'viewer';
  for (const candidate of tokens.admin) if (tokensEqual(token, candidate)) level = 'admin';
  return level;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1] ?? null;
}

const READ_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The browser session's cookie. */
export const SESSION_COOKIE = 'tandem_session';
/** How long a browser session lasts. */
export const SESSION_TTL_SECONDS = 12 * 3600;
/** The header the console's pages send with every change; a cross-site form cannot set it. */
export const CSRF_HEADER = 'x-tandem-request';

/**
 * A session cookie value: `<level>.<expires>.<id>.<mac>`, the MAC keyed with the token itself.
 * The cookie never holds the token, every process of a split deployment can check it, removing a
 * token from the environment ends its sessions, and signing out revokes the random id.
 */
export function createSession(token: string, level: AccessLevel, nowMs = Date.now()): string {
  const expires = Math.floor(nowMs / 1000) + SESSION_TTL_SECONDS;
  const id = randomBytes(16).toString('base64url');
  return `${level}.${expires}.${id}.${sessionMac(token, level, expires, id)}`;
}

function sessionMac(token: string, level: AccessLevel, expires: number, id: string): string {
  return createHmac('sha256', token).update(`tandem-session.v2.${level}.${expires}.${id}`).digest('base64url');
}

/** A session whose MAC holds. */
export interface Session {
  level: AccessLevel;
  id: string;
  expiresAt: Date;
}

/** The session of a cookie value, or null when it is malformed, expired or its token is gone. */
export function readSession(value: string, tokens: AdminTokens, nowMs = Date.now()): Session | null {
  const match = /^(admin|viewer)\.(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!match) return null;
  const level = match[1] as AccessLevel;
  const expires = Number(match[2]);
  const id = match[3] ?? '';
  if (expires * 1000 <= nowMs) return null;
  let valid = false;
  for (const token of tokens[level])
    if (tokensEqual(match[4] ?? '', sessionMac(token, level, expires, id))) valid = true;
  return valid ? { level, id, expiresAt: new Date(expires * 1000) } : null;
}

/** One cookie of a Cookie header, or null. */
export function cookieValue(header: string | undefined, name: string): string | null {
  for (const part of (header ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name)
      return decodeURIComponent(part.slice(separator + 1).trim());
  }
  return null;
}

/** How a request proved who it is. */
export type Authentication =
  | { level: AccessLevel; via: 'bearer' }
  | { level: AccessLevel; via: 'cookie'; session: Session }
  | { level: null; problem: 'missing' | 'invalid_token' | 'invalid_session' | 'signed_out' | 'unverifiable' };

/**
 * Checks the bearer header, or without one the session cookie: its MAC, its expiry and whether it
 * was signed out. A wrong bearer token does not fall back to the cookie. When the store cannot
 * tell whether a session was signed out, the session is not taken (`unverifiable`); bearer
 * tokens still are.
 */
export async function authenticate(request: FastifyRequest, tokens: AdminTokens): Promise<Authentication> {
  const token = bearerToken(request.headers.authorization);
  if (token !== null) {
    const level = accessLevelOf(token, tokens);
    return level === null ? { level: null, problem: 'invalid_token' } : { level, via: 'bearer' };
  }
  const cookie = cookieValue(request.headers.cookie, SESSION_COOKIE);
  if (cookie === null) return { level: null, problem: 'missing' };
  const session = readSession(cookie, tokens);
  if (session === null) return { level: null, problem: 'invalid_session' };
  if (tokens.sessions) {
    try {
      if (await tokens.sessions.isSessionRevoked(session.id)) return { level: null, problem: 'signed_out' };
    } catch {
      return { level: null, problem: 'unverifiable' };
    }
  }
  return { level: session.level, via: 'cookie', session };
}

/** How many wrong tokens or sessions one client may send within FAILURE_WINDOW_MS before it is refused with 429. */
export const MAX_AUTH_FAILURES = 30;
const FAILURE_WINDOW_MS = 60_000;

/**
 * Counts a client's failed token checks and sign-ins (wrong token, forged or expired session)
 * over a sliding minute, so that guessing tokens costs a minute per 30 guesses. Kept per token
 * set, in the process: each process of a deployment counts its own clients.
 */
export class AuthFailures {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Seconds the client must wait before it is heard again, or 0. */
  retryAfter(client: string): number {
    const recent = this.recent(client);
    if (recent.length < MAX_AUTH_FAILURES) return 0;
    return Math.max(1, Math.ceil(((recent[0] ?? 0) + FAILURE_WINDOW_MS - this.now()) / 1000));
  }

  failed(client: string): void {
    const recent = this.recent(client);
    recent.push(this.now());
    this.failures.set(client, recent);
    // Clients that stopped long ago are forgotten, so the map stays as small as the guessing.
    if (this.failures.size > 10_000)
      for (const key of this.failures.keys()) if (this.recent(key).length === 0) this.failures.delete(key);
  }

  private recent(client: string): number[] {
    const since = this.now() - FAILURE_WINDOW_MS;
    return (this.failures.get(client) ?? []).filter((at) => at > since);
  }
}

const failuresByTokens = new WeakMap<AdminTokens, AuthFailures>();

/** The failure count of a token set (one per daemon). */
export function authFailuresOf(tokens: AdminTokens): AuthFailures {
  let failures = failuresByTokens.get(tokens);
  if (!failures) failuresByTokens.set(tokens, (failures = new AuthFailures()));
  return failures;
}

/** Answers 429 when the client has failed too often lately; true when it did. */
export function refuseGuessing(request: FastifyRequest, reply: FastifyReply, tokens: AdminTokens): boolean {
  const wait = authFailuresOf(tokens).retryAfter(request.ip);
  if (wait === 0) return false;
  reply
    .code(429)
    .header('retry-after', String(wait))
    .send({ error: 'TOO_MANY_FAILURES', message: `too many wrong tokens from this client; try again in ${wait} s` });
  return true;
}

/** Why a session cookie is not taken while the store is down. */
export const UNVERIFIABLE =
  'the store cannot tell whether this session was signed out, so it is not taken; try again shortly, or send a bearer token';

/** True for a method that only reads. */
export const isReadMethod = (method: string) => READ_METHODS.has(method);

/** True when a change carries the console's CSRF header. */
export const hasCsrfHeader = (request: FastifyRequest) => request.headers[CSRF_HEADER] === '1';

/**
 * An onRequest hook: 401 with `WWW-Authenticate: Bearer` without a known token or session, 403
 * when a viewer asks for a change, and 403 for a change made with the session cookie but without
 * the CSRF header. The access level is kept on the request for the handlers.
 */
export function requireToken(tokens: AdminTokens) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (refuseGuessing(request, reply, tokens)) return reply;
    const auth = await authenticate(request, tokens);
    if (auth.level === null) {
      if (auth.problem === 'unverifiable') {
        reply.code(503).header('retry-after', '5').send({ error: 'SESSION_UNVERIFIABLE', message: UNVERIFIABLE });
        return reply;
      }
      if (auth.problem !== 'missing') authFailuresOf(tokens).failed(request.ip);
      const messages = {
        missing: 'send an admin or viewer token as Authorization: Bearer <token>',
        invalid_token: 'the token is not one of the configured admin or viewer tokens',
        invalid_session: 'the session has expired or its token was removed; sign in again at /ui/login',
        signed_out: 'the session was signed out; sign in again at /ui/login',
      };
      reply
        .code(401)
        .header(
          'www-authenticate',
          auth.problem === 'missing' ? 'Bearer realm="tandem"' : 'Bearer realm="tandem", error="invalid_token"',
        )
        .send({ error: 'UNAUTHORIZED', message: messages[auth.problem] });
      return reply;
    }
    if (auth.level === 'viewer' && !isReadMethod(request.method)) {
      reply
        .code(403)
        .send({ error: 'FORBIDDEN', message: 'a viewer token may only read; changes need an admin token' });
      return reply;
    }
    if (auth.via === 'cookie' && !isReadMethod(request.method) && !hasCsrfHeader(request)) {
      reply.code(403).send({
        error: 'CSRF',
        message: `a change made with the session cookie must carry the header ${CSRF_HEADER}: 1`,
      });
      return reply;
    }
    accessLevels.set(request, auth.level);
    return undefined;
  };
}

const accessLevels = new WeakMap<FastifyRequest, AccessLevel>();

/** The access level requireToken granted to a request. */
export function accessLevelOfRequest(request: FastifyRequest): AccessLevel | undefined {
  return accessLevels.get(request);
}

/** Records the access level of a request authenticated elsewhere (the console's pages and queue board). */
export function grantAccessLevel(request: FastifyRequest, level: AccessLevel): void {
  accessLevels.set(request, level);
}
