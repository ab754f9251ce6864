/**
 * Signals of a running daemon over fake connectors and real Redis: the request id of a webhook on
 * every log line of the jobs it started, Prometheus metrics after real syncs, /readyz, the Redis
 * keys the console's overview reads, and secrets kept out of the logs on the paths that see them.
 */
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import IORedis from 'ioredis';
import { AxiosError, AxiosHeaders } from 'axios';
import { RateLimitedError } from '../connectors/kit/errors';
import { createHubSpotConnector } from '../connectors/hubspot';
import type { WebhookAdapter } from '../connectors/kit/types';
import { createLogger } from '../src/util/logger';
import { lastSuccessfulPoll, subscriptionRenewAt } from '../src/metrics/status-keys';
import { waitFor } from '../src/util/net';
import { fakeAccounting, fakeCrm, REDIS_URL, startFakeRig, testConfig, type FakeRig } from './support/fakes';

/** Collects a logger's JSON lines. */
function captureLogs(level = 'debug') {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((line) => line.trim() !== ''),
      );
      done();
    },
  });
  const logger = createLogger({ level, destination });
  return { logger, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

/** A webhook adapter for the fake CRM: JSON `{ id, eventId, occurredAt }`, signed with header x-fake-signature: good. */
const fakeWebhook: WebhookAdapter = {
  handle(request) {
    if (request.headers['x-fake-signature'] !== 'good')
      return { kind: 'rejected', status: 401, reason: 'signature does not match' };
    const body = JSON.parse(request.rawBody.toString('utf8')) as { id: string; eventId: string; occurredAt?: string };
    return {
      kind: 'notices',
      notices: [{ entity: 'contact', id: body.id, eventId: body.eventId, occurredAt: body.occurredAt }],
    };
  },
};

const METRICS_TOKEN = 'metrics-token-0123456789';

describe('signals of a running daemon', () => {
  const logs = captureLogs();
  let rig: FakeRig;
  const renewAt = '2031-01-01T00:00:00.000Z';

  beforeAll(async () => {
    const crm = Object.assign(fakeCrm({ webhook: fakeWebhook, changedPages: () => [{ records: [], cursor: 'c1' }] }), {
      ensureSubscriptions: async () => ({ renewAt }),
    });
    rig = await startFakeRig({
      crmConnector: crm,
      accountingConnector: fakeAccounting(),
      crm: { webhooks: true },
      daemon: { role: 'all', logger: logs.logger, metricsToken: METRICS_TOKEN },
    });
  });
  afterAll(async () => {
    await rig.stop();
  });

  const webhook = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${rig.daemon.url}/webhooks/crm`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-fake-signature': 'good', ...headers },
      body: JSON.stringify(body),
    });

  it('puts the webhook request id and a job id on every line of the jobs it started', async () => {
    await rig.linked('company-1', 'cust-1', { name: 'Adatum', phone: '111', city: 'Graz' });
    const edited = rig.crm.edit('contact', 'company-1', { phone: '222' });
    const response = await webhook(
      { id: 'company-1', eventId: 'ev-1', occurredAt: edited.modifiedAt },
      { 'x-request-id': 'req-signals-1' },
    );
    expect(response.status).toBe(202);
    expect(response.headers.get('x-request-id')).toBe('req-signals-1');
    await waitFor(async () => rig.accounting.value('customer', 'cust-1', 'phone') === '222', 10_000, 20);
    await waitFor(
      async () => logs.parsed().some((line) => line.msg === 'change processed' && line.requestId === 'req-signals-1'),
      5000,
      20,
    );

    const lines = logs.parsed();
    const jobIds = new Set(
      lines
        .filter((line) => line.requestId === 'req-signals-1' && typeof line.jobId === 'string')
        .map((line) => line.jobId as string),
    );
    // The intake job (chg-...) and the write job it planned (w-...) both logged.
    expect([...jobIds].some((id) => id.startsWith('chg-'))).toBe(true);
    expect([...jobIds].some((id) => id.startsWith('w-'))).toBe(true);
    const ofTheseJobs = lines.filter((line) => jobIds.has(line.jobId as string));
    expect(ofTheseJobs.map((line) => line.msg)).toEqual(
      expect.arrayContaining(['planning', 'written', 'change processed']),
    );
    for (const line of ofTheseJobs)
      expect(line).toMatchObject({ requestId: 'req-signals-1', jobId: expect.any(String) });
  });

  it('makes up a unique request id when the caller sends none', async () => {
    const edited = rig.crm.edit('contact', 'company-1', { city: 'Linz' });
    const response = await webhook({ id: 'company-1', eventId: 'ev-2', occurredAt: edited.modifiedAt });
    const requestId = response.headers.get('x-request-id') ?? '';
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    await waitFor(async () => rig.accounting.value('customer', 'cust-1', 'city') === 'Linz', 10_000, 20);
    await waitFor(
      async () => logs.parsed().some((line) => line.msg === 'written' && line.requestId === requestId),
      5000,
      20,
    );
  });

  it('exports metrics of what happened, behind the metrics token', async () => {
    // A conflict: both sides changed the phone; the accounting edit is later and wins.
    rig.crm.edit('contact', 'company-1', { phone: '333' });
    rig.accounting.edit('customer', 'cust-1', { phone: '444' });
    // The next CRM write is rate limited once.
    let limited = false;
    rig.crm.beforeUpdate = () => {
      if (limited) return;
      limited = true;
      throw new RateLimitedError('crm: slow down', 200);
    };
    await rig.contactChanged('company-1');
    await waitFor(async () => rig.crm.value('contact', 'company-1', 'phone') === '444', 10_000, 20);
    expect((await webhook({ id: 'company-1', eventId: 'ev-3' }, { 'x-fake-signature': 'forged' })).status).toBe(401);
    // The accounting system reports tandem's own write back: an echo, nothing is written.
    const writesBefore = rig.crm.updates.length;
    await rig.daemon.queues.enqueueChanges([rig.accounting.change('customer', 'cust-1', 'accounting')]);
    await waitFor(
      async () => (await rig.daemon.metrics.exposition()).includes('tandem_echoes_suppressed_total{system="any"}'),
      10_000,
      20,
    );
    expect(rig.crm.updates.length).toBe(writesBefore);

    expect((await fetch(`${rig.daemon.url}/metrics`)).status).toBe(401);
    const response = await fetch(`${rig.daemon.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const value = (line: string) =>
      Number(
        text
          .split('\n')
          .find((candidate) => candidate.startsWith(`${line} `))
          ?.slice(line.length + 1),
      );
    expect(value('tandem_sync_latency_seconds_count{target="accounting"}')).toBeGreaterThanOrEqual(2);
    expect(value('tandem_sync_latency_seconds_count{target="crm"}')).toBeGreaterThanOrEqual(1);
    expect(value('tandem_conflicts_total{field="phone"}')).toBe(1);
    expect(value('tandem_echoes_suppressed_total{system="any"}')).toBeGreaterThanOrEqual(1);
    expect(value('tandem_rate_limit_waits_total{connector="crm",source="queue"}')).toBe(1);
    expect(value('tandem_rate_limit_wait_seconds_total{connector="crm"}')).toBeCloseTo(0.2);
    expect(value('tandem_webhook_rejections_total{connector="crm",status="401"}')).toBe(1);
    expect(value('tandem_jobs{queue="intake",state="completed"}')).toBeGreaterThanOrEqual(3);
    expect(value('tandem_jobs{queue="write-accounting",state="completed"}')).toBeGreaterThanOrEqual(2);
    expect(text).toContain('process_resident_memory_bytes');
  });

  it('is ready when Redis and the store answer (the fakes have no health check)', async () => {
    // The checks are for the metrics token's holder; a probe without it gets the verdict.
    const response = await fetch(`${rig.daemon.url}/readyz`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: { redis: 'ok', store: 'ok', crm: 'skipped', accounting: 'skipped' },
    });
    expect(await (await fetch(`${rig.daemon.url}/readyz`)).json()).toEqual({ status: 'ready' });
    const health = await fetch(`${rig.daemon.url}/healthz`);
    expect(health.status).toBe(200);
    expect(health.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves probes and metrics of a worker, which has no API server, on the metrics port', async () => {
    const worker = await startFakeRig({ store: rig.store, daemon: { role: 'worker', metricsPort: 0 } });
    try {
      expect(worker.daemon.url).toBe('');
      const base = worker.daemon.metricsUrl ?? '';
      expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(health.headers.get('x-content-type-options')).toBe('nosniff');
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const metrics = await fetch(`${base}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('tandem_jobs{queue="intake",state="waiting"} 0');
      expect((await fetch(`${base}/webhooks/crm`, { method: 'POST' })).status).toBe(404);
    } finally {
      await worker.stop();
    }
  });

  it('records the last successful poll and the subscription renewal time in Redis', async () => {
    const redis = new IORedis(REDIS_URL);
    try {
      expect(await lastSuccessfulPoll(redis, rig.prefix, 'crm')).toBeNull();
      const before = Date.now();
      await rig.daemon.pollNow('crm');
      const last = await lastSuccessfulPoll(redis, rig.prefix, 'crm');
      expect(Date.parse(last ?? '')).toBeGreaterThanOrEqual(before - 1000);
      expect(await subscriptionRenewAt(redis, rig.prefix, 'crm')).toBe(renewAt);
      expect(await subscriptionRenewAt(redis, rig.prefix, 'accounting')).toBeNull();
    } finally {
      redis.disconnect();
    }
  });

  const AUTHORIZATION = 'Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWp3dA.sig';
  const HUBSPOT_TOKEN = 'pat-eu1-5b0f3c2a-9d1e-4f7a-8c3b-2e6d1a0f9b7c';
  const CLIENT_SECRET = 'Qx8~bc-client-secret-value-7Zp';
  const SECRETS = [AUTHORIZATION, 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWp3dA.sig', HUBSPOT_TOKEN, CLIENT_SECRET];

  it('never writes an Authorization header, a bearer token, a HubSpot token or a client secret', async () => {
    // A provider that echoes the request's Authorization header into its error body.
    const provider = Fastify();
    provider.get('/crm/v3/objects/companies/:id', async (request, reply) =>
      reply.code(400).send({ status: 'error', message: `bad request with ${String(request.headers.authorization)}` }),
    );
    const providerUrl = await provider.listen({ host: '127.0.0.1', port: 0 });
    const crm = createHubSpotConnector({
      name: 'crm',
      baseUrl: providerUrl,
      token: HUBSPOT_TOKEN,
      retry: { attempts: 1 },
    });
    try {
      // 1. The HTTP client's error, logged as the workers log failures.
      const failure = await crm.get('contact', 'company-7').catch((error: unknown) => error);
      expect(String(failure)).toContain(HUBSPOT_TOKEN);
      logs.logger.warn({ err: failure }, 'write failed');
      // 2. A raw axios error carries the request's headers in its config.
      const headers = new AxiosHeaders({ Authorization: AUTHORIZATION });
      logs.logger.error(
        { err: new AxiosError('Request failed with status code 401', 'ERR_BAD_REQUEST', { headers }) },
        'request failed',
      );
      // 3. The HTTP server's request logger (warn and above) on a rejected webhook carrying credentials.
      const rejected = await fetch(`${rig.daemon.url}/webhooks/crm`, {
        method: 'POST',
        headers: {
          authorization: AUTHORIZATION,
          'x-fake-signature': `forged ${CLIENT_SECRET}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ id: 'company-1', eventId: 'ev-x', token: HUBSPOT_TOKEN }),
      });
      expect(rejected.status).toBe(401);
      logs.logger.warn(
        {
          req: {
            method: 'POST',
            url: '/webhooks/crm',
            headers: { authorization: AUTHORIZATION, 'x-hubspot-signature-v3': CLIENT_SECRET },
          },
        },
        'request',
      );
      // 4. The configuration, printed whole.
      const config = testConfig('tsecret', {
        crm: { credentials: { token: HUBSPOT_TOKEN, webhookSecret: CLIENT_SECRET } },
        accounting: {
          credentials: { tokenUrl: 'http://127.0.0.1:9/token', clientId: 'app', clientSecret: CLIENT_SECRET },
        },
      });
      logs.logger.info({ config }, 'configuration');
      logs.logger.info({ connectors: config.connectors }, 'connectors');
      await waitFor(async () => logs.lines.some((line) => line.includes('webhook rejected')), 5000, 20);

      const output = logs.lines.join('\n');
      expect(output).toContain('write failed');
      expect(output).toContain('configuration');
      expect(output).toContain('[redacted]');
      for (const secret of SECRETS) expect(output).not.toContain(secret);
    } finally {
      await provider.close();
    }
  });
});
