import Fastify from 'fastify';
import { IdempotencyKeyReusedProblem } from '../../app/ports/problems';
import { StoreUnavailableError } from '../../app/ports/store';
import { problemReply } from './errors';
import { guardApiScope } from './mount';

const TOKEN = 'a-token-of-enough-length';
const unavailable = () =>
  new StoreUnavailableError(
    'PostgreSQL unreachable at 127.0.0.1:5439 since 2026-12-01T14:50:00Z (ECONNREFUSED); gave up after retrying for 20 s',
    { endpoint: '127.0.0.1:5439', since: '2026-12-01T14:50:00Z', reason: 'ECONNREFUSED', outcomeUnknown: false },
  );

describe('an unreachable store', () => {
  it('is answered 503 with a clear JSON error and Retry-After, not a generic 500', () => {
    expect(problemReply(unavailable(), 'req-1')).toEqual({
      status: 503,
      body: {
        error: 'STORE_UNAVAILABLE',
        message:
          'PostgreSQL unreachable at 127.0.0.1:5439 since 2026-12-01T14:50:00Z (ECONNREFUSED); gave up after retrying for 20 s',
        requestId: 'req-1',
      },
      headers: { 'Retry-After': '30' },
      log: false,
    });
  });

  it('is recognised behind an error that wraps it', () => {
    expect(problemReply(new Error('linking failed', { cause: unavailable() }), 'req-2').status).toBe(503);
  });

  it('reaches an API caller as such', async () => {
    const app = Fastify();
    await app.register((scope, _options, done) => {
      guardApiScope(scope, { admin: [TOKEN], viewer: [] });
      scope.get('/api/v1/relations', () => Promise.reject(unavailable()));
      done();
    });
    try {
      // Over a socket: Fastify's inject() loads an ES module jest on Node 20 cannot require.
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      const response = await fetch(`${url}/api/v1/relations`, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('30');
      expect(await response.json()).toMatchObject({
        error: 'STORE_UNAVAILABLE',
        message: expect.stringContaining('127.0.0.1:5439'),
      });
    } finally {
      await app.close();
    }
  });
});

describe('an idempotency key sent with another request', () => {
  it('is answered 422 with its code', () => {
    const reply = problemReply(new IdempotencyKeyReusedProblem('K1', 'createAccount'), 'req-3');
    expect(reply).toMatchObject({ status: 422, body: { error: 'IDEMPOTENCY_KEY_REUSED' }, log: false });
  });
});
