/**
 * tandem with Xero as the accounting side, end to end through the Xero sandbox and the HubSpot
 * sandbox: a CRM change reaches the Xero contact, the rotated refresh token survives a restart,
 * and a merge in Xero moves the business relation to the surviving contact.
 */
import { randomUUID } from 'node:crypto';
import { startHubSpotSandbox, type HubSpotSandbox } from '../connectors/hubspot/sandbox';
import { startXeroSandbox, type XeroSandbox } from '../connectors/xero/sandbox';
import { startDaemon } from '../src/main/daemon';
import { configSchema } from '../src/config/schema';
import { openPgliteStore } from '../src/store';
import type { Store } from '../src/app/ports/store';
import { waitFor } from '../src/util/net';
import { clearPrefix, quietLogger, REDIS_URL } from './support/fakes';

let hubspot: HubSpotSandbox;
let xero: XeroSandbox;
let store: Store;
const prefix = `t${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  hubspot = await startHubSpotSandbox({ token: 'hs-token', log: () => undefined });
  xero = await startXeroSandbox({ refreshToken: 'first-refresh-token' });
  store = await openPgliteStore();
});
afterAll(async () => {
  await Promise.all([hubspot.close(), xero.close()]);
  await store.close();
  await clearPrefix(prefix);
});

function config() {
  return configSchema.parse({
    connectors: {
      crm: { kind: 'hubspot', baseUrl: hubspot.url, credentials: { token: 'hs-token' }, webhooks: false },
      accounting: {
        kind: 'xero',
        baseUrl: xero.url,
        tenantId: xero.tenantId,
        credentials: {
          tokenUrl: xero.tokenUrl,
          clientId: xero.clientId,
          clientSecret: xero.clientSecret,
          refreshToken: 'first-refresh-token',
        },
        webhooks: false,
      },
    },
    relationCodes: { customer: 'CUST' },
    mappings: {
      customer: [
        { contact: 'name', account: 'name' },
        { contact: 'phone', account: 'phone' },
      ],
    },
    server: { host: '127.0.0.1', port: 0 },
    queue: { prefix, backoff: '50ms', attempts: 3 },
  });
}

const start = () =>
  startDaemon({
    config: config(),
    logger: quietLogger,
    redisUrl: REDIS_URL,
    store,
    schedulePolling: false,
    adminTokens: null,
    connectorOptions: { retry: { baseDelayMs: 5 } },
  });

test('a CRM change reaches the Xero contact; the rotated refresh token is kept across a restart; a merge moves the relation', async () => {
  const company = hubspot.createCompany({ name: 'Kiwi Tools Ltd', phone: '+64 9 300 1000' });
  const contact = xero.createContact({
    Name: 'Kiwi Tools Ltd',
    ContactNumber: 'C-0001',
    Phones: [{ PhoneType: 'DEFAULT', PhoneNumber: '+64 9 300 1000' }],
  });
  const contactId = `company-${company.id}`;
  const accountId = String(contact.ContactID);
  await store.createRelation({ contactId, accountKind: 'customer', accountId, relationCode: 'CUST', origin: 'linked' });

  let daemon = await start();
  try {
    hubspot.updateCompany(company.id, { phone: '+64 9 300 2000' });
    await daemon.queues.enqueueChanges([
      { connector: 'crm', entity: 'contact', id: contactId, source: 'manual', eventId: 'first' },
    ]);
    await waitFor(
      async () =>
        (await store.findRelationsByContact(contactId)).length === 1 &&
        JSON.stringify(xero.getContact(accountId)?.Phones ?? []).includes('300 2000'),
      10_000,
    );
  } finally {
    await daemon.stop();
  }
  const kept = (await store.listRotatedSecrets()).find(
    (secret) => secret.slot === 'accounting' && secret.name === 'refreshToken',
  )?.value;
  expect(kept).toBe(xero.refreshToken);
  expect(kept).not.toBe('first-refresh-token');

  // The environment's token is spent; a restart must use the kept one to reach Xero at all.
  daemon = await start();
  try {
    const survivor = xero.createContact({ Name: 'Kiwi Tools Limited', ContactNumber: 'C-0002' });
    xero.mergeContact(accountId, String(survivor.ContactID));
    await daemon.queues.enqueueChanges([
      { connector: 'crm', entity: 'contact', id: contactId, source: 'manual', eventId: 'second' },
    ]);
    // The relation moves with its audit entry, in one transaction.
    await waitFor(
      async () =>
        (await store.findRelationsByContact(contactId))[0]?.accountId === String(survivor.ContactID) &&
        (await store.queryAudit({ contactId, kind: 'link' })).length > 0,
      10_000,
    );
    expect(await store.queryAudit({ contactId, kind: 'link' })).toEqual([
      expect.objectContaining({ details: expect.objectContaining({ reason: 'merged', movedFrom: accountId }) }),
    ]);
    expect(hubspot.getCompany(company.id)).toBeDefined();
  } finally {
    await daemon.stop();
  }
});
