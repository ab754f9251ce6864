/**
 * The webhook routes with real Redis queues: what a provider sees (status codes, the handshake)
 * and what gets enqueued.
 */
import { Worker, type Job } from 'bullmq';
import Fastify, { type FastifyInstance } from 'fastify';
import IORedis from 'ioredis';
import { createBusinessCentralWebhook } from '../connectors/business-central/webhook';
import { createHubSpotWebhook, hubSpotSignatureV3 } from '../connectors/hubspot/webhook';
import { registerWebhookRoutes } from '../src/http/webhooks';
import { pollOnce } from '../src/intake/poller';
import type { ChangeJob } from '../src/app/ports/changes';
import { SyncQueues } from '../src/queue/queues';
import { openPgliteStore } from '../src/store';
import { StoreUnavailableError, type Store } from '../src/app/ports/store';
import { waitFor } from '../src/util/net';
import {
  clearPrefix,
  fakeAccounting,
  fakeCrm,
  quietLogger,
  REDIS_URL,
  testConfig,
  uniquePrefix,
  type FakeConnector,
} from './support/fakes';

const prefix = uniquePrefix();
const PUBLIC_URL = 'https://tandem.example';
const SECRET = 'hubspot-client-secret';
const CLIENT_STATE = 'bc-client-state';
const COMPANY = '0b4c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3';

let store: Store;
let redis: IORedis;
let queues: SyncQueues;
let app: FastifyInstance;
let accounting: FakeConnector;
let failNextEnqueue = false;
/** When set, marks after this many succeed fail as an unreachable PostgreSQL would. */
let marksBeforeOutage: number | undefined;

/** The store, but markEventProcessed fails once `marksBeforeOutage` marks are used up. */
function withFailingMarks(inner: Store): Store {
  return new Proxy(inner, {
    get(target, property, receiver) {
      if (property !== 'markEventProcessed') {
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      }
      return (source: string, eventId: string) => {
        if (marksBeforeOutage !== undefined && marksBeforeOutage-- <= 0) {
          return Promise.reject(
            new StoreUnavailableError(
              'PostgreSQL unreachable at 127.0.0.1:5439 since 2026-12-01T14:50:00Z (ECONNREFUSED)',
              {
                endpoint: '127.0.0.1:5439',
                since: '2026-12-01T14:50:00Z',
                reason: 'ECONNREFUSED',
                outcomeUnknown: false,
              },
            ),
          );
        }
        return target.markEventProcessed(source, eventId);
      };
    },
  });
}
let baseUrl = '';
const polled: Array<{ slot: string; entities: string[] }> = [];

beforeAll(async () => {
  store = await openPgliteStore();
  redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  queues = new SyncQueues(redis, testConfig(prefix).queue);
  const crm = fakeCrm({ webhook: createHubSpotWebhook({ clientSecret: SECRET }) });
  accounting = fakeAccounting({
    webhook: createBusinessCentralWebhook({ companyId: COMPANY, clientState: CLIENT_STATE }),
    changedPages: (entity) =>
      entity === 'customer'
        ? [{ records: [accounting.put('customer', 'bulk-1', { name: 'Bulk' })], cursor: 'after-bulk' }]
        : [],
  });
  const enqueue = async (changes: ChangeJob[]) => {
    if (failNextEnqueue) {
      failNextEnqueue = false;
      throw new Error('Redis is unreachable');
    }
    await queues.enqueueChanges(changes);
  };
  app = Fastify();
  await registerWebhookRoutes(app, {
    connectors: { crm, accounting },
    store: withFailingMarks(store),
    logger: quietLogger,
    publicUrl: PUBLIC_URL,
    enqueue,
    pollNow: (slot, entities) => {
      polled.push({ slot, entities });
      void pollOnce(
        { slot, connector: accounting, store, redis, prefix, logger: quietLogger, enqueue, entities: ['customer'] },
        entities,
      );
    },
  });
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => {
  await app.close();
  await queues.close();
  await store.close();
  redis.disconnect();
  await clearPrefix(prefix);
});

const intakeIds = async () =>
  (await queues.intake.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']))
    .map((job) => job.data.id)
    .sort();

let nextEventId = 1;
/** A HubSpot event of a company's phone change. */
const hubSpotEvent = (objectId: number, eventId = nextEventId++) => ({
  eventId,
  subscriptionId: 1,
  portalId: 1,
  appId: 1,
  occurredAt: Date.now(),
  subscriptionType: 'company.propertyChange',
  attemptNumber: 0,
  objectId,
  propertyName: 'phone',
  propertyValue: '1',
});
function hubSpotBody(objectId: number, eventId = nextEventId++): string {
  return JSON.stringify([hubSpotEvent(objectId, eventId)]);
}

/** Posts to the running server as a provider would; the answer with its body read. */
async function post(path: string, headers: Record<string, string>, body?: string) {
  const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers, body });
  const text = await response.text();
  return {
    statusCode: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: text,
    json: () => JSON.parse(text) as unknown,
  };
}

function postHubSpot(body: string, signature?: string) {
  const timestamp = String(Date.now());
  return post(
    '/webhooks/crm',
    {
      'content-type': 'application/json',
      'x-hubspot-request-timestamp': timestamp,
      'x-hubspot-signature-v3':
        signature ?? hubSpotSignatureV3(SECRET, 'POST', `${PUBLIC_URL}/webhooks/crm`, body, timestamp),
    },
    body,
  );
}

function postBusinessCentral(value: unknown[]) {
  return post('/webhooks/accounting', { 'content-type': 'application/json' }, JSON.stringify({ value }));
}

test('a valid call is accepted with 202 and its change enqueued; a duplicate is dropped', async () => {
  const body = hubSpotBody(101);
  const first = await postHubSpot(body);
  expect(first.statusCode).toBe(202);
  expect(first.json()).toEqual({ accepted: 1, duplicates: 0 });
  expect(await intakeIds()).toContain('company-101');

  const before = await queues.intake.count();
  const again = await postHubSpot(body);
  expect(again.statusCode).toBe(202);
  expect(again.json()).toEqual({ accepted: 0, duplicates: 1 });
  expect(await queues.intake.count()).toBe(before);
});

test('a bad signature is refused with 401 and nothing is enqueued', async () => {
  const before = await intakeIds();
  const response = await postHubSpot(hubSpotBody(102), 'bm90IGEgc2lnbmF0dXJl');
  expect(response.statusCode).toBe(401);
  expect(await intakeIds()).toEqual(before);
});

test('a malformed body is refused with 400', async () => {
  expect((await postHubSpot('{"not": "an array"')).statusCode).toBe(400);
  expect((await postHubSpot('{"not": "events"}')).statusCode).toBe(400);
  expect((await postBusinessCentral([{ nonsense: true }])).statusCode).toBe(400);
});

test('when the queue cannot take the change: 503, and the redelivery is accepted', async () => {
  const body = hubSpotBody(103);
  failNextEnqueue = true;
  const refused = await postHubSpot(body);
  expect(refused.statusCode).toBe(503);
  expect(await intakeIds()).not.toContain('company-103');

  const redelivered = await postHubSpot(body);
  expect(redelivered.statusCode).toBe(202);
  expect(redelivered.json()).toEqual({ accepted: 1, duplicates: 0 });
  expect(await intakeIds()).toContain('company-103');
});

test("Business Central's validationToken handshake is answered with the token as plain text", async () => {
  const response = await post('/webhooks/accounting?validationToken=abc%20123', {});
  expect(response.statusCode).toBe(200);
  expect(response.contentType).toMatch(/^text\/plain/);
  expect(response.body).toBe('abc 123');
});

test('a Business Central notification with the wrong clientState is refused with 401', async () => {
  const before = await intakeIds();
  const response = await postBusinessCentral([
    {
      subscriptionId: 's1',
      clientState: 'guess',
      resource: `api/v2.0/companies(${COMPANY})/customers(c-9)`,
      changeType: 'updated',
      lastModifiedDateTime: new Date().toISOString(),
    },
  ]);
  expect(response.statusCode).toBe(401);
  expect(await intakeIds()).toEqual(before);
});

test('a Business Central notification naming a record by something else than a GUID is refused with 400', async () => {
  const before = await intakeIds();
  const response = await postBusinessCentral([
    {
      subscriptionId: 's1',
      clientState: CLIENT_STATE,
      resource: `api/v2.0/companies(${COMPANY})/customers(..%2F..%2Fetc)`,
      changeType: 'updated',
      lastModifiedDateTime: new Date().toISOString(),
    },
  ]);
  expect(response.statusCode).toBe(400);
  expect(response.json()).toEqual({ error: 'value.0.resource names no record by GUID' });
  expect(await intakeIds()).toEqual(before);
});

test('a Business Central collection notification polls that entity', async () => {
  // Polled before (a first poll hands on linked records only, and bulk-1 is not linked).
  await store.setCursor('accounting', 'customer', 'before-bulk');
  const response = await postBusinessCentral([
    {
      subscriptionId: 's1',
      clientState: CLIENT_STATE,
      resource: `api/v2.0/companies(${COMPANY})/customers`,
      changeType: 'collection',
      lastModifiedDateTime: new Date().toISOString(),
    },
  ]);
  expect(response.statusCode).toBe(202);
  expect(polled).toEqual([{ slot: 'accounting', entities: ['customer'] }]);
  await waitFor(async () => (await intakeIds()).includes('bulk-1'), 5_000);
  expect(accounting.polls.map((poll) => poll.entity)).toEqual(['customer']);
  await waitFor(async () => (await store.getCursor('accounting', 'customer')) === 'after-bulk', 5_000);
});

test('a signed HubSpot event whose time no date can hold is refused with 400 naming the field', async () => {
  const before = await intakeIds();
  const response = await postHubSpot(JSON.stringify([{ ...hubSpotEvent(104), occurredAt: 1e20 }]));
  expect(response.statusCode).toBe(400);
  expect(response.json()).toEqual({ error: expect.stringContaining('0.occurredAt: ') as unknown });
  expect(await intakeIds()).toEqual(before);
});

test('more events in one call than the provider sends are refused with 413; nothing is marked or enqueued', async () => {
  const events = (count: number, firstObject: number) =>
    JSON.stringify(Array.from({ length: count }, (_, index) => hubSpotEvent(firstObject + index)));
  const before = await intakeIds();
  const tooMany = events(101, 20_000);
  const refused = await postHubSpot(tooMany);
  expect(refused.statusCode).toBe(413);
  expect(refused.json()).toEqual({ error: '101 events in one call, more than the 100 the provider sends at most' });
  expect(await intakeIds()).toEqual(before);

  const hundred = await postHubSpot(events(100, 30_000));
  expect(hundred.statusCode).toBe(202);
  expect(hundred.json()).toEqual({ accepted: 100, duplicates: 0 });

  const notification = (index: number) => ({
    subscriptionId: 's1',
    clientState: CLIENT_STATE,
    resource: `api/v2.0/companies(${COMPANY})/customers(flood-${index})`,
    changeType: 'updated',
    lastModifiedDateTime: new Date().toISOString(),
  });
  const flood = await postBusinessCentral(Array.from({ length: 1001 }, (_, index) => notification(index)));
  expect(flood.statusCode).toBe(413);
  expect((await intakeIds()).filter((id) => id.startsWith('flood-'))).toEqual([]);
});

test('changes to accounts without a relation are taken after those of linked records', async () => {
  const own = new SyncQueues(redis, testConfig(`${prefix}-order`).queue);
  const report = (id: string, unlinked: boolean): ChangeJob => ({
    connector: 'accounting',
    entity: 'customer',
    id,
    source: 'webhook',
    ...(unlinked && { unlinked: true }),
  });
  await own.enqueueChanges(Array.from({ length: 5 }, (_, index) => report(`unknown-${index}`, true)));
  await own.enqueueChanges([report('linked-1', false)]);
  const taken: string[] = [];
  const worker = new Worker(
    own.intake.name,
    async (job: Job<ChangeJob>) => {
      taken.push(job.data.id);
      return Promise.resolve();
    },
    { connection: redis.duplicate(), prefix: own.intake.opts.prefix, concurrency: 1 },
  );
  try {
    await waitFor(() => taken.length === 6, 10_000);
    expect(taken[0]).toBe('linked-1');
  } finally {
    await worker.close();
    await own.close();
    await clearPrefix(`${prefix}-order`);
  }
});

describe('the store unreachable', () => {
  afterEach(() => {
    marksBeforeOutage = undefined;
  });

  test('a webhook whose events cannot be recorded is answered 503 with Retry-After, and its redelivery is taken', async () => {
    marksBeforeOutage = 0;
    const body = hubSpotBody(301);
    const refused = await fetch(`${baseUrl}/webhooks/crm`, { method: 'POST', headers: hubSpotHeaders(body), body });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(await refused.json()).toEqual({ error: 'store unavailable, retry later' });
    expect(await intakeIds()).not.toContain('company-301');

    marksBeforeOutage = undefined;
    const redelivered = await postHubSpot(body);
    expect(redelivered.statusCode).toBe(202);
    expect(redelivered.json()).toEqual({ accepted: 1, duplicates: 0 });
    expect(await intakeIds()).toContain('company-301');
  });

  test('events marked before the store went away are enqueued, so the redelivery dropping them loses nothing', async () => {
    // Two notices in one call: the first is recorded, the second finds the store gone.
    const body = JSON.stringify([...JSON.parse(hubSpotBody(303)), ...JSON.parse(hubSpotBody(304))]);
    marksBeforeOutage = 1;
    expect((await postHubSpot(body)).statusCode).toBe(503);
    expect(await intakeIds()).toContain('company-303');
    expect(await intakeIds()).not.toContain('company-304');

    marksBeforeOutage = undefined;
    const redelivered = await postHubSpot(body);
    expect(redelivered.statusCode).toBe(202);
    expect(redelivered.json()).toEqual({ accepted: 1, duplicates: 1 });
    expect(await intakeIds()).toContain('company-304');
  });
});

function hubSpotHeaders(body: string): Record<string, string> {
  const timestamp = String(Date.now());
  return {
    'content-type': 'application/json',
    'x-hubspot-request-timestamp': timestamp,
    'x-hubspot-signature-v3': hubSpotSignatureV3(SECRET, 'POST', `${PUBLIC_URL}/webhooks/crm`, body, timestamp),
  };
}
