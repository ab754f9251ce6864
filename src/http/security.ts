/**
 * Headers every answer carries so that a browser cannot be turned against tandem: no answer is
 * sniffed into another type, no console or queue board page is framed by another site (a framed
 * admin session could pause or clean queues through clicks it did not mean), and no API answer
 * is kept in a shared or browser cache.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** The console's pages and the queue board live under this path. */
const UI_PREFIX = '/ui';
const API_PREFIX = '/api';

/** Sets the headers of one answer; headers a route set itself are kept. */
export function applySecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff');
  const path = request.url.split('?', 1)[0] ?? '';
  const under = (prefix: string) => path === prefix || path.startsWith(`${prefix}/`);
  if (under(UI_PREFIX)) {
    reply.header('x-frame-options', 'DENY');
    // The board's pages bring their own scripts and styles: only framing is ruled out for them.
    if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', "frame-ancestors 'none'");
  }
  if (under(API_PREFIX) && !reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
}

/** Adds the headers to every answer of `app`, errors and 404s included. */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply) => {
    applySecurityHeaders(request, reply);
  });
}
