import Fastify from 'fastify';
import pino from 'pino';
import { Writable } from 'node:stream';
import { closable } from './shutdown';

/** A logger whose lines are kept for the assertions. */
function recordingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

/** A server with a quick route and one that answers only when `release` is called. */
async function serverWithSlowRoute() {
  const app = Fastify();
  const { open, close } = closable(app);
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started: () => void = () => undefined;
  const slowStarted = new Promise<void>((resolve) => {
    started = resolve;
  });
  app.get('/quick', async () => ({ ok: true }));
  app.post('/slow', async () => {
    started();
    await released;
    return { ok: true };
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, open, close, url, release, slowStarted };
}

describe('closing the HTTP server within a grace period', () => {
  it('tracks only requests still being served', async () => {
    const { app, open, url, release, slowStarted } = await serverWithSlowRoute();
    await fetch(`${url}/quick`).then((response) => response.text());
    const slow = fetch(`${url}/slow`, { method: 'POST' }).then((response) => response.json());
    await slowStarted;
    expect([...open.values()].map(({ method, url: path }) => `${method} ${path}`)).toEqual(['POST /slow']);
    release();
    await expect(slow).resolves.toEqual({ ok: true });
    expect(open.size).toBe(0);
    await app.close();
  });

  it('lets a request being served finish within the grace period, with a keep-alive client', async () => {
    const { close, url, release, slowStarted } = await serverWithSlowRoute();
    // An idle keep-alive connection must not hold the close.
    await fetch(`${url}/quick`).then((response) => response.text());
    const slow = fetch(`${url}/slow`, { method: 'POST' }).then((response) => response.json());
    await slowStarted;
    const { logger, lines } = recordingLogger();
    const startedAt = Date.now();
    const closing = close(60_000, logger);
    setTimeout(release, 100);
    await closing;
    // Not held by the keep-alive connection the answer leaves behind (Fastify keeps those 72 s).
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    await expect(slow).resolves.toEqual({ ok: true });
    expect(lines).toEqual([]);
  });

  it('closes a connection still busy after the grace period and names its request', async () => {
    const { close, url, release, slowStarted } = await serverWithSlowRoute();
    const slow = fetch(`${url}/slow`, { method: 'POST' }).then(
      () => 'answered',
      () => 'connection closed',
    );
    await slowStarted;
    const { logger, lines } = recordingLogger();
    const startedAt = Date.now();
    await close(200, logger);
    expect(Date.now() - startedAt).toBeLessThan(5_000);
    expect(await slow).toBe('connection closed');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 40,
      graceMs: 200,
      msg: 'requests still open after the grace period: closing their connections',
    });
    expect(lines[0]?.requests).toEqual([{ method: 'POST', url: '/slow', openMs: expect.any(Number) }]);
    release();
  });
});
