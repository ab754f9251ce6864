/**
 * Stopping the HTTP server within a bound. `server.close()` alone is not enough: a request still
 * being served when it is called leaves a keep-alive connection behind, and Fastify keeps those
 * for 72 s, so one webhook delivery in flight would hold a stop for over a minute. Here, once the
 * stop begins, every answer closes its connection; requests being served may finish for a grace
 * period; connections still busy after it are closed, and the log names the requests that held it.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { settlesWithin } from '../util/net';

/** A request the server is still serving. */
export interface OpenRequest {
  method: string;
  url: string;
  since: number;
}

/** What `closable` gives: the requests being served, and the bounded close. */
export interface ClosableServer {
  /** The requests being served, by request id. */
  readonly open: ReadonlyMap<string, OpenRequest>;
  /** Closes the server, letting the requests being served finish for `graceMs`. */
  close(graceMs: number, logger: Logger): Promise<void>;
}

/** Prepares `app` for a bounded close (register before the routes). */
export function closable(app: FastifyInstance): ClosableServer {
  const open = new Map<string, OpenRequest>();
  let closing = false;
  app.addHook('onRequest', (request, _reply, done) => {
    open.set(request.id, { method: request.method, url: request.url, since: Date.now() });
    done();
  });
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.addHook('onResponse', (request, _reply, done) => {
    open.delete(request.id);
    done();
  });
  app.addHook('onRequestAbort', (request, done) => {
    open.delete(request.id);
    done();
  });
  return {
    open,
    async close(graceMs, logger) {
      closing = true;
      const closed = app.close();
      if (await settlesWithin(closed, graceMs)) return;
      const now = Date.now();
      const requests = [...open.values()].map(({ method, url, since }) => ({ method, url, openMs: now - since }));
      logger.warn({ graceMs, requests }, 'requests still open after the grace period: closing their connections');
      app.server.closeAllConnections();
      await closed;
    },
  };
}
