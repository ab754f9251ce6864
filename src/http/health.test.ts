import Fastify from 'fastify';
import { createReadiness, registerHealthRoutes } from './health';

const metrics = { contentType: 'text/plain; version=0.0.4; charset=utf-8', exposition: async () => 'tandem_up 1\n' };

describe('readiness', () => {
  it('is ready when every check passes; a connector without a check is skipped', async () => {
    const readiness = createReadiness([{ name: 'redis', check: async () => undefined }, { name: 'crm' }]);
    await expect(readiness()).resolves.toEqual({ status: 'ready', checks: { redis: 'ok', crm: 'skipped' } });
  });

  it('names the failing check with its message, and fails a check that hangs after the timeout', async () => {
    const readiness = createReadiness(
      [
        { name: 'redis', check: async () => undefined },
        { name: 'store', check: () => Promise.reject(new Error('connection refused')) },
        { name: 'crm', check: () => new Promise<void>(() => undefined) },
      ],
      { timeoutMs: 50 },
    );
    const started = Date.now();
    const report = await readiness();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(report).toEqual({
      status: 'not ready',
      checks: { redis: 'ok', store: 'connection refused', crm: 'crm did not answer within 50 ms' },
    });
  });

  it('reuses a report for the cache period and shares a running check', async () => {
    let clock = 0;
    let calls = 0;
    const readiness = createReadiness(
      [
        {
          name: 'crm',
          check: async () => {
            calls++;
          },
        },
      ],
      {
        cacheMs: 5000,
        now: () => clock,
      },
    );
    await Promise.all([readiness(), readiness()]);
    clock = 4999;
    await readiness();
    expect(calls).toBe(1);
    clock = 5000;
    await readiness();
    expect(calls).toBe(2);
  });
});

describe('probe and metrics routes', () => {
  const servers: Array<ReturnType<typeof Fastify>> = [];
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.close()));
  });

  /** A server with the routes; `get` calls it over loopback. */
  async function app(options: { ready: boolean; metricsToken?: string }) {
    const server = Fastify();
    servers.push(server);
    const readiness = createReadiness([
      {
        name: 'accounting',
        check: async () => (options.ready ? undefined : Promise.reject(new Error('token request refused'))),
      },
    ]);
    registerHealthRoutes(server, { readiness, metrics, metricsToken: options.metricsToken });
    const url = await server.listen({ host: '127.0.0.1', port: 0 });
    return {
      async get(path: string, headers: Record<string, string> = {}) {
        const response = await fetch(`${url}${path}`, { headers });
        const body = await response.text();
        return {
          statusCode: response.status,
          headers: { 'content-type': response.headers.get('content-type') ?? '' },
          body,
          json: () => JSON.parse(body) as unknown,
        };
      },
    };
  }

  it('answers /readyz with 200 or 503 and the failing check', async () => {
    const ready = await app({ ready: true });
    const ok = await ready.get('/readyz');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ status: 'ready', checks: { accounting: 'ok' } });
    const down = await app({ ready: false });
    const failed = await down.get('/readyz');
    expect(failed.statusCode).toBe(503);
    expect(failed.json()).toEqual({ status: 'not ready', checks: { accounting: 'token request refused' } });
  });

  it('serves /metrics openly without a token', async () => {
    const server = await app({ ready: true });
    const response = await server.get('/metrics');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toBe('tandem_up 1\n');
  });

  it('requires the bearer token when one is configured', async () => {
    const server = await app({ ready: true, metricsToken: 'metrics-token-0123456789' });
    expect((await server.get('/metrics')).statusCode).toBe(401);
    expect((await server.get('/metrics', { authorization: 'Bearer wrong' })).statusCode).toBe(401);
    const allowed = await server.get('/metrics', { authorization: 'Bearer metrics-token-0123456789' });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.body).toBe('tandem_up 1\n');
  });

  it('tells /readyz callers without the token only the verdict, not why a check fails', async () => {
    const server = await app({ ready: false, metricsToken: 'metrics-token-0123456789' });
    const probe = await server.get('/readyz');
    expect(probe.statusCode).toBe(503);
    expect(probe.json()).toEqual({ status: 'not ready' });
    const operator = await server.get('/readyz', { authorization: 'Bearer metrics-token-0123456789' });
    expect(operator.json()).toEqual({ status: 'not ready', checks: { accounting: 'token request refused' } });
  });
});
