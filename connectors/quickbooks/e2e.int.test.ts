/**
 * tandem with QuickBooks Online as the accounting side, end to end through the QuickBooks and
 * HubSpot sandboxes, configured as a user would (`kind: quickbooks`): a CRM change reaches the QBO
 * customer as a sparse update, the rotated refresh token survives a restart, a signed QBO webhook
 * brings a change back to the CRM, a name another vendor has is refused with what to do (never
 * renamed), a merge in QuickBooks moves the relation to the survivor, and a deactivated customer
 * stays linked and untouched.
 */
import { randomUUID } from 'node:crypto';
import { startHubSpotSandbox, type HubSpotSandbox } from '../hubspot/sandbox';
import { startQuickBooksSandbox, type QboSandbox } from './sandbox';
import { startDaemon } from '../../src/main/daemon';
import { configSchema } from '../../src/config/schema';
import { openPgliteStore } from '../../src/store';
import type { Store } from '../../src/app/ports/store';
import { waitFor } from '../../src/util/net';
import { clearPrefix, quietLogger, REDIS_URL } from '../../test/support/fakes';
import { checkQboEntity } from '../../test/support/quickbooks/qbo-schema';
import { intuitSignature } from './webhook';

const VERIFIER = 'e2e-verifier-token';
let hubspot: HubSpotSandbox;
let qbo: QboSandbox;
let store: Store;
const prefix = `t${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  hubspot = await startHubSpotSandbox({ token: 'hs-token', log: () => undefined });
  qbo = await startQuickBooksSandbox({ refreshToken: 'first-refresh-token', checkEntity: checkQboEntity });
  store = await openPgliteStore();
});
afterAll(async () => {
  await Promise.all([hubspot.close(), qbo.close()]);
  await store.close();
  await clearPrefix(prefix);
});

function config() {
  return configSchema.parse({
    connectors: {
      crm: { kind: 'hubspot', baseUrl: hubspot.url, credentials: { token: 'hs-token' }, webhooks: false },
      accounting: {
        kind: 'quickbooks',
        baseUrl: qbo.url,
        realmId: qbo.realmId,
        credentials: {
          tokenUrl: qbo.tokenUrl,
          clientId: qbo.clientId,
          clientSecret: qbo.clientSecret,
          refreshToken: 'first-refresh-token',
          webhookVerifierToken: VERIFIER,
        },
      },
    },
    relationCodes: { customer: 'CUST' },
    mappings: {
      customer: [
        { contact: 'name', account: 'name' },
        { contact: 'phone', account: 'phone' },
        { contact: 'city', account: 'city' },
      ],
    },
    server: { host: '127.0.0.1', port: 0 },
    queue: { prefix, backoff: '50ms', attempts: 2 },
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

const phoneOf = (id: string) =>
  (qbo.get('Customer', id)?.PrimaryPhone as { FreeFormNumber?: string } | undefined)?.FreeFormNumber;

test('CRM to QBO and back, the refresh token across a restart, a taken name refused, a merge followed, a deactivation left alone', async () => {
  const company = hubspot.createCompany({ name: 'Half Moon Bikes', phone: '+1 650 555 0100', city: 'Half Moon Bay' });
  const customer = qbo.create('Customer', {
    DisplayName: 'Half Moon Bikes',
    PrimaryPhone: { FreeFormNumber: '+1 650 555 0100' },
    BillAddr: { Line1: '1 Main St', City: 'Half Moon Bay', PostalCode: '94019' },
  });
  const contactId = `company-${company.id}`;
  const accountId = String(customer.Id);
  const relation = await store.createRelation({
    contactId,
    accountKind: 'customer',
    accountId,
    relationCode: 'CUST',
    origin: 'linked',
  });

  let daemon = await start();
  try {
    hubspot.updateCompany(company.id, { phone: '+1 650 555 0199' });
    await daemon.queues.enqueueChanges([
      { connector: 'crm', entity: 'contact', id: contactId, source: 'manual', eventId: 'one' },
    ]);
    await waitFor(async () => phoneOf(accountId) === '+1 650 555 0199', 10_000);
    // A sparse update of the phone: the address QBO keeps whole is still there.
    expect(qbo.get('Customer', accountId)).toMatchObject({ BillAddr: { Line1: '1 Main St', PostalCode: '94019' } });
  } finally {
    await daemon.stop();
  }
  const kept = (await store.listRotatedSecrets()).find(
    (secret) => secret.slot === 'accounting' && secret.name === 'refreshToken',
  )?.value;
  expect(kept).toBe(qbo.refreshToken);
  expect(kept).not.toBe('first-refresh-token');

  // The config's refresh token is spent: the restart must use the kept one to reach QBO at all.
  qbo.revokeTokens();
  daemon = await start();
  try {
    // A change in QuickBooks, told by a signed webhook, reaches the CRM.
    qbo.update('Customer', accountId, { BillAddr: { Line1: '1 Main St', City: 'Pacifica', PostalCode: '94044' } });
    const body = JSON.stringify({
      eventNotifications: [
        {
          realmId: qbo.realmId,
          dataChangeEvent: {
            entities: [{ name: 'Customer', id: accountId, operation: 'Update', lastUpdated: new Date().toISOString() }],
          },
        },
      ],
    });
    const answer = await fetch(`${daemon.url}/webhooks/accounting`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'intuit-signature': intuitSignature(body, VERIFIER) },
      body,
    });
    expect(answer.status).toBe(200);
    await waitFor(async () => hubspot.getCompany(company.id)?.properties.city === 'Pacifica', 10_000);

    // A name a vendor already has: QBO refuses it (6240), tandem says what to do and renames nothing.
    qbo.create('Vendor', { DisplayName: 'Half Moon Cycles' });
    hubspot.updateCompany(company.id, { name: 'Half Moon Cycles' });
    await daemon.queues.enqueueChanges([
      { connector: 'crm', entity: 'contact', id: contactId, source: 'manual', eventId: 'two' },
    ]);
    await waitFor(async () => (await daemon.service.relationStatus(relation.id)).lastError !== null, 10_000);
    const status = await daemon.service.relationStatus(relation.id);
    expect(JSON.stringify(status.lastError)).toMatch(/'Half Moon Cycles' is already used .*Rename one of them/);
    expect(qbo.get('Customer', accountId)?.DisplayName).toBe('Half Moon Bikes');

    // Merged in QuickBooks into another customer: the relation moves to the survivor.
    hubspot.updateCompany(company.id, { name: 'Half Moon Bikes' });
    const survivor = String(qbo.create('Customer', { DisplayName: 'Half Moon Bikes Inc' }).Id);
    qbo.merge('Customer', accountId, survivor);
    const merge = JSON.stringify({
      eventNotifications: [
        {
          realmId: qbo.realmId,
          dataChangeEvent: {
            entities: [
              {
                name: 'Customer',
                id: survivor,
                operation: 'Merge',
                lastUpdated: new Date().toISOString(),
                deletedId: accountId,
              },
            ],
          },
        },
      ],
    });
    const merged = await fetch(`${daemon.url}/webhooks/accounting`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'intuit-signature': intuitSignature(merge, VERIFIER) },
      body: merge,
    });
    expect(merged.status).toBe(200);
    await waitFor(async () => (await store.findRelationsByContact(contactId))[0]?.accountId === survivor, 10_000);

    // Deactivated in QuickBooks: the relation and the contact stay, and nothing is written to it.
    qbo.update('Customer', survivor, { Active: false });
    const token = qbo.get('Customer', survivor)?.SyncToken;
    hubspot.updateCompany(company.id, { phone: '+1 650 555 0142' });
    await daemon.queues.enqueueChanges([
      { connector: 'crm', entity: 'contact', id: contactId, source: 'manual', eventId: 'three' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await store.findRelationsByContact(contactId)).toHaveLength(1);
    expect(qbo.get('Customer', survivor)).toMatchObject({ Active: false, SyncToken: token });
    expect(hubspot.getCompany(company.id)).toBeDefined();
  } finally {
    await daemon.stop();
  }
});
