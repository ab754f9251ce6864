import Fastify, { type FastifyInstance } from 'fastify';
import { registerSecurityHeaders } from './security';

let app: FastifyInstance;
let base = '';

beforeAll(async () => {
  app = Fastify() as unknown as FastifyInstance;
  registerSecurityHeaders(app);
  app.get('/ui/queues', async (_request, reply) => reply.type('text/html').send('<html></html>'));
  app.get('/ui/login', async (_request, reply) =>
    reply.type('text/html').header('content-security-policy', "default-src 'self'; frame-ancestors 'none'").send(''),
  );
  app.get('/api/relations', async () => ({ relations: [] }));
  app.get('/api/export', async (_request, reply) => reply.header('cache-control', 'private, max-age=60').send({}));
  app.get('/healthz', async () => ({ status: 'ok' }));
  base = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
});

const headersOf = async (path: string) => (await fetch(`${base}${path}`)).headers;

describe('security headers', () => {
  it('forbid framing every page under /ui, keeping a policy a page set itself', async () => {
    const board = await headersOf('/ui/queues?status=failed');
    expect(board.get('x-frame-options')).toBe('DENY');
    expect(board.get('content-security-policy')).toBe("frame-ancestors 'none'");
    expect((await headersOf('/ui/login')).get('content-security-policy')).toBe(
      "default-src 'self'; frame-ancestors 'none'",
    );
  });

  it('keep API answers out of caches unless a route says otherwise', async () => {
    expect((await headersOf('/api/relations')).get('cache-control')).toBe('no-store');
    expect((await headersOf('/api/export')).get('cache-control')).toBe('private, max-age=60');
    expect((await headersOf('/api/unknown')).get('cache-control')).toBe('no-store');
  });

  it('forbid sniffing everywhere, 404s included; nothing outside /ui is kept from framing', async () => {
    for (const path of ['/healthz', '/api/unknown', '/nowhere', '/ui/queues'])
      expect((await headersOf(path)).get('x-content-type-options')).toBe('nosniff');
    expect((await headersOf('/healthz')).get('x-frame-options')).toBeNull();
  });
});
