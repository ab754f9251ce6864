/**
 * Bull Board under /ui/queues behind the console's auth, over a real BullMQ queue in Redis: the
 * admin retries a failed job; a viewer sees the board read-only and its changing calls get 403.
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import IORedis from 'ioredis';
import pino from 'pino';
import { registerAdminApi, type DaemonStatus } from '../src/http/admin';
import { FakeRelationService } from './support/fake-relation-service';
import { registerConsole } from '../src/http/console';
import { registerSecurityHeaders } from '../src/http/security';
import { FakeConsoleService } from './support/fake-console-service';
import { REDIS_URL } from './support/harness';

const ADMIN = 'admin-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';
const TOKENS = { admin: [ADMIN], viewer: [VIEWER] };

let app: FastifyInstance;
let baseUrl: string;
let queue: Queue;
let connection: IORedis;
const prefix = `tb${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  connection = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  queue = new Queue('write-accounting', { connection, prefix });
  app = Fastify({ loggerInstance: pino({ level: 'silent' }) }) as unknown as FastifyInstance;
  // As the daemon's server does (src/main/http.ts).
  registerSecurityHeaders(app);
  const relations = new FakeRelationService();
  const status = async () => ({}) as DaemonStatus;
  await registerAdminApi(app, { service: relations, status, tokens: TOKENS });
  await registerConsole(app, { tokens: TOKENS, console: new FakeConsoleService(), relations, status, queues: [queue] });
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
});

async function send(method: string, url: string, headers: Record<string, string> = {}) {
  const response = await fetch(new URL(url, baseUrl), { method, headers, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

async function sessionOf(token: string): Promise<string> {
  const response = await fetch(new URL('/ui/login', baseUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  return (response.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

/** A job that failed for good, as a write that gave up would. */
async function failedJob(): Promise<string> {
  const job = await queue.add('write', { field: 'phone' }, { attempts: 1 });
  const worker = new Worker(
    'write-accounting',
    async () => {
      throw new Error('Business Central answered 503');
    },
    { connection: new IORedis(REDIS_URL, { maxRetriesPerRequest: null }), prefix },
  );
  await new Promise<void>((resolve) => worker.on('failed', () => resolve()));
  await worker.close();
  await worker.disconnect();
  return String(job.id);
}

it('redirects to the login without a session, and answers the API with 401', async () => {
  const page = await send('GET', '/ui/queues');
  expect(page.status).toBe(302);
  expect(page.headers.get('location')).toBe('/ui/login?next=%2Fui%2Fqueues');
  expect((await send('GET', '/ui/queues/api/queues')).status).toBe(401);
  expect((await send('PUT', '/ui/queues/api/queues/write-accounting/retry/failed')).status).toBe(401);
});

it('lets the admin see and retry failed jobs', async () => {
  const jobId = await failedJob();
  const cookie = await sessionOf(ADMIN);
  const page = await send('GET', '/ui/queues', { cookie });
  expect(page.status).toBe(200);
  expect(page.text).toContain('tandem queues');
  // No other site may frame the board, where clicks pause, retry, clean or obliterate queues.
  expect(page.headers.get('x-frame-options')).toBe('DENY');
  expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  expect(page.headers.get('x-content-type-options')).toBe('nosniff');
  const list = await send('GET', '/ui/queues/api/queues?activeQueue=write-accounting&status=failed&page=1', { cookie });
  expect(list.status).toBe(200);
  const listed = list.json().queues.find((q: { name: string }) => q.name === 'write-accounting');
  expect(listed).toMatchObject({ readOnlyMode: false, allowRetries: true });
  expect(listed.counts.failed).toBe(1);

  // The board's own page cannot add the console header; the browser's Sec-Fetch-Site vouches for it.
  expect((await send('PUT', `/ui/queues/api/queues/write-accounting/${jobId}/retry`, { cookie })).status).toBe(403);
  const retried = await send('PUT', `/ui/queues/api/queues/write-accounting/${jobId}/retry`, {
    cookie,
    'sec-fetch-site': 'same-origin',
  });
  expect(retried.status).toBe(204);
  expect(await queue.getJobState(jobId)).toBe('waiting');
});

it('shows a viewer the board read-only and refuses its changes with 403', async () => {
  const jobId = await failedJob();
  const cookie = await sessionOf(VIEWER);
  expect((await send('GET', '/ui/queues', { cookie })).status).toBe(200);
  const list = await send('GET', '/ui/queues/api/queues?activeQueue=write-accounting&status=failed&page=1', { cookie });
  expect(list.json().queues.find((q: { name: string }) => q.name === 'write-accounting')).toMatchObject({
    readOnlyMode: true,
    allowRetries: false,
  });
  for (const [method, url] of [
    ['PUT', `/ui/queues/api/queues/write-accounting/${jobId}/retry`],
    ['PUT', '/ui/queues/api/queues/write-accounting/retry/failed'],
    ['PUT', '/ui/queues/api/queues/write-accounting/clean/failed'],
    ['PUT', `/ui/queues/api/queues/write-accounting/${jobId}/promote`],
    ['PUT', '/ui/queues/api/queues/pause'],
  ] as const) {
    const response = await send(method, url, { cookie, 'sec-fetch-site': 'same-origin', 'x-tandem-request': '1' });
    expect({ url, status: response.status }).toEqual({ url, status: 403 });
  }
  // With a bearer token as well.
  expect(
    (await send('PUT', '/ui/queues/api/queues/write-accounting/clean/failed', { authorization: `Bearer ${VIEWER}` }))
      .status,
  ).toBe(403);
  expect(await queue.getJobState(jobId)).toBe('failed');
});

it("shows a viewer the jobs' stack traces without the server's paths, and no Redis server details", async () => {
  await failedJob();
  const url = '/ui/queues/api/queues?activeQueue=write-accounting&status=failed&page=1';
  const traces = async (headers: Record<string, string>) => {
    const queues = (await send('GET', url, headers)).json().queues as Array<{
      name: string;
      jobs: Array<{ stacktrace: string[] }>;
    }>;
    return (queues.find((q) => q.name === 'write-accounting')?.jobs ?? []).flatMap((job) => job.stacktrace);
  };
  const adminTraces = await traces({ authorization: `Bearer ${ADMIN}` });
  expect(adminTraces.join('\n')).toContain(process.cwd());
  const viewerTraces = await traces({ authorization: `Bearer ${VIEWER}` });
  expect(viewerTraces.length).toBe(adminTraces.length);
  expect(viewerTraces.join('\n')).not.toContain(process.cwd());
  expect(viewerTraces.join('\n')).toMatch(/console-api\.int\.test\.ts:\d+/);

  expect((await send('GET', '/ui/queues/api/redis/stats', { authorization: `Bearer ${VIEWER}` })).status).toBe(403);
  expect((await send('GET', '/ui/queues/api/redis/stats', { authorization: `Bearer ${ADMIN}` })).status).toBe(200);
});
