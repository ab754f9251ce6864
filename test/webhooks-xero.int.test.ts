/**
 * Xero's webhook deliveries through the real route: Xero counts anything but 200 with an empty
 * body as a failed delivery, for the intent-to-receive check and for events alike.
 */
import Fastify from 'fastify';
import IORedis from 'ioredis';
import { createXeroWebhook, xeroSignature } from '../connectors/xero/webhook';
import { registerWebhookRoutes } from '../src/http/webhooks';
import { SyncQueues } from '../src/queue/queues';
import { openPgliteStore } from '../src/store';
import {
  clearPrefix,
  fakeAccounting,
  fakeCrm,
  quietLogger,
  REDIS_URL,
  testConfig,
  uniquePrefix,
} from './support/fakes';

const KEY = 'xero-webhook-key-0123456789';
const TENANT = 'c2cc9b6e-9458-4c7d-93cc-f02b81b0594f';
const CONTACT = '717f2bfc-c6d4-41fd-b238-3f2f0c0cf777';

test('intent to receive and event deliveries are answered 200 with an empty body; the change is enqueued', async () => {
  const prefix = uniquePrefix();
  const store = await openPgliteStore();
  const redis = new IORedis(REDIS_URL, { maxRetriesPerRequest: null });
  const queues = new SyncQueues(redis, testConfig(prefix).queue);
  const accounting = fakeAccounting({
    webhook: createXeroWebhook({
      key: KEY,
      tenantId: TENANT,
      knownKinds: (id) => (id === CONTACT ? ['customer'] : undefined),
    }),
  });
  const app = Fastify();
  await registerWebhookRoutes(app, {
    connectors: { crm: fakeCrm(), accounting },
    store,
    logger: quietLogger,
    publicUrl: 'http://127.0.0.1',
    enqueue: (changes) => queues.enqueueChanges(changes),
  });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const send = async (body: string, signature = xeroSignature(body, KEY)) => {
    const response = await fetch(`${base}/webhooks/accounting`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-xero-signature': signature },
      body,
    });
    return { status: response.status, body: await response.text() };
  };
  try {
    const intent = JSON.stringify({ events: [], firstEventSequence: 0, lastEventSequence: 0, entropy: 'ABCDEFGHIJ' });
    expect(await send(intent)).toEqual({ status: 200, body: '' });
    expect((await send(intent, 'bm90IHRoZSBzaWduYXR1cmU=')).status).toBe(401);

    const event = {
      resourceUrl: `https://api.xero.com/api.xro/2.0/Contacts/${CONTACT}`,
      resourceId: CONTACT,
      eventDateUtc: '2024-06-21T01:15:39.902',
      eventType: 'UPDATE',
      eventCategory: 'CONTACT',
      tenantId: TENANT,
      tenantType: 'ORGANISATION',
    };
    expect(
      await send(
        JSON.stringify({ events: [event], firstEventSequence: 1, lastEventSequence: 1, entropy: 'KLMNOPQRST' }),
      ),
    ).toEqual({ status: 200, body: '' });
    const jobs = await queues.intake.getJobs(['waiting', 'delayed']);
    expect(jobs.map((job) => [job.data.entity, job.data.id])).toEqual([['customer', CONTACT]]);
  } finally {
    await app.close();
    await queues.close();
    await store.close();
    redis.disconnect();
    await clearPrefix(prefix);
  }
});
