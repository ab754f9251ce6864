/**
 * The Fastify server every sandbox runs on. Each API call is logged in one shape, failed on
 * demand, authenticated, held to the provider's rate limits and delayed by the latency knob
 * before the sandbox's own routes see it; refusals and errors go out in the provider's words.
 */
import type { IncomingHttpHeaders } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  applyRateLimitsOption,
  RateLimiter,
  type RateLimit,
  type RateLimitsOption,
  type SandboxAnswer,
} from './rate-limits';

/** Options every sandbox takes; each adds its own. */
export interface SandboxOptions<LimitName extends string = string> {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Delay added to every API call. */
  latencyMs?: number;
  /** Probabilities (0..1) that an API call fails with 429 or 5xx. */
  failures?: { rate429?: number; rate5xx?: number };
  /**
   * The provider's published rate limits, on by default. false turns them off (for unit tests of
   * other features); an entry per limit sets other numbers, or false turns that one off.
   */
  rateLimits?: RateLimitsOption<LimitName>;
  /** The clock of the rate limits, for tests that move time. */
  now?: () => number;
  /** How far the provider's clock is off (ms, + ahead): its record times and `Date` headers follow it. */
  clockOffsetMs?: number;
  /**
   * Keep each call's request and response body in the request log (default true). A long run that
   * only counts calls turns this off: the bodies hold every record the sandbox answered with.
   */
  logBodies?: boolean;
}

/**
 * The provider's wall clock: the real one moved by an offset, so tests can give two systems
 * clocks that disagree, as real servers' clocks sometimes do.
 */
export class SandboxClock {
  constructor(public offsetMs = 0) {}
  /** The provider's time now, epoch ms. */
  readonly now = (): number => Date.now() + this.offsetMs;
}

/**
 * Failures for the next API calls: the next `next429` are answered 429 with Retry-After, then
 * the next `next5xx` with the provider's 5xx. Each call sets the counts it names (0 cancels what
 * is pending) and leaves the others as they are; counts are never added up.
 */
export interface InjectedFailures {
  next429?: number;
  next5xx?: number;
  /**
   * The next calls are carried out, but their answers never arrive: after `timeoutAfterMs` the
   * connection is cut, as a client's timeout or a dropped connection would end it.
   */
  nextTimeouts?: number;
  /** How long a timed-out call holds its connection before it is cut (default 1000 ms); kept for later calls. */
  timeoutAfterMs?: number;
  /** Retry-After of injected 429s, in seconds (default 1); kept for later calls. */
  retryAfterSeconds?: number;
}

/** One call a sandbox answered (or is answering): the same shape in every sandbox. */
export interface SandboxRequest {
  method: string;
  /** Below the sandbox's API base (see its README), `token` for its token endpoint; Xero's carries the query too. */
  path: string;
  /** The query string, decoded, with its `?` ('' when there is none). */
  query: string;
  headers: IncomingHttpHeaders;
  requestBody?: unknown;
  /** When the call arrived (epoch ms, the real clock). */
  at: number;
  /** The answer's status; 0 until it is sent. */
  status: number;
  responseBody?: unknown;
}

/** The knobs and the request log every sandbox offers, under the same names. */
export interface SandboxControls {
  readonly port: number;
  /** Every API and token call so far, oldest first (injected failures and refusals included). */
  readonly requests: readonly SandboxRequest[];
  /** How many logged calls match; `path` matches when the logged path contains it. */
  readonly countRequests: (filter?: { method?: string; path?: string }) => number;
  /** Forgets the request log. */
  readonly resetRequests: () => void;
  readonly injectFailures: (failures: InjectedFailures) => void;
  readonly setLatency: (ms: number) => void;
  /** Moves the provider's clock (ms, + ahead of the real time): record times and `Date` headers follow. */
  readonly setClockOffset: (ms: number) => void;
  readonly close: () => Promise<void>;
}

/** What a sandbox tells the kit about its provider. */
export interface SandboxSpec<LimitName extends string> {
  /** Matches the API prefix of a URL; the logged path is what follows. Other URLs are neither logged nor limited. */
  api: RegExp;
  /** The token endpoint's path, when the sandbox has one; calls to a path ending in it are logged as `token`. */
  tokenPath?: string;
  /** Xero's exchanges keep the query string in the path. */
  pathWithQuery?: boolean;
  /** The provider's refusal of a call's credentials, or undefined to let the call through. */
  authenticate(request: FastifyRequest): SandboxAnswer | undefined;
  /** The provider's 429 for injected failures (body and headers besides Retry-After). */
  throttled(retryAfterSeconds: number): Omit<SandboxAnswer, 'status'>;
  /** The provider's 5xx for injected failures. */
  unavailable(): SandboxAnswer;
  /** The provider's answer to an unknown route (404), an unreadable request (400) or a bug (500). */
  failure(status: number, message: string): SandboxAnswer;
  /** The provider's published limits, by name. */
  rateLimits: Record<LimitName, RateLimit>;
}

/** A refusal a route throws; the kit sends its answer as it is. */
export class SandboxRefusal extends Error {
  readonly code = 'SANDBOX_REFUSAL';
  constructor(readonly answer: SandboxAnswer) {
    super(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body ?? answer.status));
  }
}

/** A failure a route throws; the kit answers it in the provider's words (`failure(status, message)`). */
export class SandboxFailure extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A write's answer, kept by the key a client sent with it (Xero's Idempotency-Key, QuickBooks'
 * requestid): a repeat with that key gets the first answer again, refusals included, instead of
 * running twice. A 5xx is not kept: the client may try again for real. Without a key, `run` runs.
 */
export function replayedAnswer(
  answers: Map<string, SandboxAnswer>,
  key: string | undefined,
  run: () => unknown,
): SandboxAnswer {
  let answer = key === undefined ? undefined : answers.get(key);
  if (answer === undefined) {
    try {
      answer = { status: 200, body: run() };
    } catch (error) {
      if (!(error instanceof SandboxRefusal)) throw error;
      answer = error.answer;
    }
  }
  if (key !== undefined && answer.status < 500) answers.set(key, answer);
  return answer;
}

/** Sends an answer: JSON for objects, text for strings, nothing for no body. */
export function sendAnswer(reply: FastifyReply, answer: SandboxAnswer): FastifyReply {
  reply.code(answer.status).headers(answer.headers ?? {});
  if (typeof answer.body === 'string' && !reply.hasHeader('content-type')) reply.type('text/plain');
  return answer.body === undefined ? reply.send() : reply.send(answer.body);
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const statusCodeSchema = z.object({ statusCode: z.number() });

/** Creates a sandbox's server with the kit's hooks; the sandbox adds its routes to `app`, then listens. */
export function createSandboxServer<LimitName extends string>(
  spec: SandboxSpec<LimitName>,
  options: SandboxOptions<LimitName>,
  /** The provider's clock; the sandbox's records take their times from it too. */
  clock = new SandboxClock(options.clockOffsetMs),
): { app: FastifyInstance; listen: () => Promise<{ origin: string; controls: SandboxControls }> } {
  let latencyMs = options.latencyMs ?? 0;
  const injected = { next429: 0, next5xx: 0, nextTimeouts: 0, timeoutAfterMs: 1000, retryAfterSeconds: 1 };
  const timedOut = new WeakSet<FastifyRequest>();
  const limiter = new RateLimiter(applyRateLimitsOption(spec.rateLimits, options.rateLimits), options.now);
  const requests: SandboxRequest[] = [];
  const entries = new WeakMap<FastifyRequest, SandboxRequest>();
  // BC's paths run long: companies(<guid>)/customers(<guid>).
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 2000 } });

  // Bodies are read leniently: an empty one is no body, whatever the content type says.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(String(body)));
    } catch {
      done(new SandboxRefusal(spec.failure(400, 'The request body is not valid JSON.')), undefined);
    }
  });
  app.setErrorHandler((error, _request, reply) => {
    if (error instanceof SandboxRefusal) return sendAnswer(reply, error.answer);
    const issue = error instanceof z.ZodError ? error.issues[0] : undefined;
    if (issue)
      return sendAnswer(reply, spec.failure(400, `Invalid input JSON: ${issue.path.join('.')}: ${issue.message}`));
    const status = statusCodeSchema.safeParse(error).data?.statusCode ?? 500;
    return sendAnswer(reply, spec.failure(status, error instanceof Error ? error.message : String(error)));
  });
  app.setNotFoundHandler((request, reply) =>
    sendAnswer(reply, spec.failure(404, `No HTTP resource was found that matches the request URI '${request.url}'.`)),
  );

  app.addHook('onRequest', async (request, reply) => {
    const queryAt = request.url.includes('?') ? request.url.indexOf('?') : request.url.length;
    const [pathname, search] = [request.url.slice(0, queryAt), request.url.slice(queryAt)];
    const prefix = spec.api.exec(pathname);
    const isToken = spec.tokenPath !== undefined && request.method === 'POST' && pathname.endsWith(spec.tokenPath);
    if (prefix === null && !isToken) return;
    const below = pathname.slice(prefix?.[0].length ?? 0);
    const path = isToken ? 'token' : spec.pathWithQuery === true ? `${below}${search}` : decodeURIComponent(below);
    const entry: SandboxRequest = {
      method: request.method,
      path,
      query: decodeURIComponent(search),
      headers: { ...request.headers },
      at: Date.now(),
      status: 0,
    };
    requests.push(entry);
    entries.set(request, entry);
    if (isToken) return;

    if (injected.next429 > 0 || Math.random() < (options.failures?.rate429 ?? 0)) {
      injected.next429 = Math.max(0, injected.next429 - 1);
      const answer = spec.throttled(injected.retryAfterSeconds);
      const headers = { 'Retry-After': String(injected.retryAfterSeconds), ...answer.headers };
      return sendAnswer(reply, { ...answer, status: 429, headers });
    }
    if (injected.next5xx > 0 || Math.random() < (options.failures?.rate5xx ?? 0)) {
      injected.next5xx = Math.max(0, injected.next5xx - 1);
      return sendAnswer(reply, spec.unavailable());
    }
    const refusal = spec.authenticate(request);
    if (refusal !== undefined) return sendAnswer(reply, refusal);
    const admission = limiter.admit({ method: request.method, path });
    if (!admission.admitted) return sendAnswer(reply, admission.answer);
    reply.headers(admission.headers);
    reply.raw.once('close', admission.release);
    if (injected.nextTimeouts > 0) {
      injected.nextTimeouts--;
      timedOut.add(request);
    }
    // The provider takes its time once the call is admitted, so a slow call holds its slot meanwhile.
    if (latencyMs > 0) await sleep(latencyMs);
  });
  app.addHook('onSend', async (request, reply, payload) => {
    // The provider's time, to the second as HTTP dates are (Node would stamp the real one).
    reply.header('date', new Date(clock.now()).toUTCString());
    const entry = entries.get(request);
    if (entry === undefined) return payload;
    if (options.logBodies !== false) {
      const text = typeof payload === 'string' ? payload : '';
      const json = String(reply.getHeader('content-type') ?? '').includes('json');
      entry.requestBody = request.body;
      entry.responseBody = text === '' ? undefined : json ? (JSON.parse(text) as unknown) : text;
    }
    if (timedOut.has(request)) {
      // Done, but the answer never arrives: the log keeps status 0.
      await sleep(injected.timeoutAfterMs);
      request.raw.socket.destroy();
    }
    return payload;
  });
  app.addHook('onResponse', async (request, reply) => {
    const entry = entries.get(request);
    if (entry !== undefined && !timedOut.has(request)) entry.status = reply.statusCode;
  });

  const listen = async () => {
    const host = options.host ?? '127.0.0.1';
    await app.listen({ port: options.port ?? 0, host });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('sandbox: no TCP address');
    const controls: SandboxControls = {
      port: address.port,
      requests,
      countRequests: ({ method, path } = {}) =>
        requests.filter(
          (entry) =>
            (method === undefined || entry.method === method.toUpperCase()) &&
            (path === undefined || entry.path.includes(path)),
        ).length,
      resetRequests: () => (requests.length = 0),
      injectFailures: (failures) => {
        injected.next429 = failures.next429 ?? injected.next429;
        injected.next5xx = failures.next5xx ?? injected.next5xx;
        injected.nextTimeouts = failures.nextTimeouts ?? injected.nextTimeouts;
        injected.timeoutAfterMs = failures.timeoutAfterMs ?? injected.timeoutAfterMs;
        injected.retryAfterSeconds = failures.retryAfterSeconds ?? injected.retryAfterSeconds;
      },
      setLatency: (ms) => (latencyMs = ms),
      setClockOffset: (ms) => (clock.offsetMs = ms),
      close: () => app.close(),
    };
    return { origin: `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`, controls };
  };
  return { app, listen };
}
