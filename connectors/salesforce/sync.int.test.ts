/**
 * tandem with Salesforce as the CRM, end to end through the Salesforce and Business Central
 * sandboxes, Redis and PGlite: an Account's change, polled, reaches the linked customer; the
 * customer's change, polled, reaches the Account.
 */
import { randomUUID } from 'node:crypto';
import { startBusinessCentralSandbox, type BusinessCentralSandbox } from '../business-central/sandbox';
import { startDaemon, type Daemon } from '../../src/main/daemon';
import { configSchema } from '../../src/config/schema';
import { openPgliteStore } from '../../src/store';
import type { Store } from '../../src/app/ports/store';
import { waitFor } from '../../src/util/net';
import { clearPrefix, quietLogger, REDIS_URL } from '../../test/support/fakes';
import { requireServers } from '../../test/support/servers';
import { startSalesforceSandbox, type SalesforceSandbox } from './sandbox';

let salesforce: SalesforceSandbox;
let bc: BusinessCentralSandbox;
let store: Store;
let daemon: Daemon;
const prefix = `t${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  await requireServers(['redis']);
  salesforce = await startSalesforceSandbox({ fieldHistory: true });
  bc = await startBusinessCentralSandbox({});
  store = await openPgliteStore();
  const config = configSchema.parse({
    connectors: {
      crm: {
        kind: 'salesforce',
        baseUrl: salesforce.url,
        credentials: { clientId: salesforce.clientId, clientSecret: salesforce.clientSecret },
        fieldHistory: true,
      },
      accounting: {
        kind: 'business-central',
        baseUrl: bc.url,
        companyId: bc.companyId,
        credentials: { tokenUrl: bc.tokenUrl, clientId: bc.clientId, clientSecret: bc.clientSecret },
        webhooks: false,
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
    queue: { prefix, backoff: '50ms', attempts: 3 },
  });
  daemon = await startDaemon({
    config,
    logger: quietLogger,
    redisUrl: REDIS_URL,
    store,
    schedulePolling: false,
    adminTokens: null,
    connectorOptions: { retry: { baseDelayMs: 5 } },
  });
});
afterAll(async () => {
  await daemon?.stop();
  await Promise.all([salesforce?.close(), bc?.close()]);
  await store?.close();
  await clearPrefix(prefix);
});

test('an Account change reaches the linked customer, and the customer change the Account, both by polling', async () => {
  const account = salesforce.createAccount({ Name: 'Fjord Fisk AS', Phone: '+47 22 00 00 01', BillingCity: 'Oslo' });
  const customer = bc.createCustomer({ displayName: 'Fjord Fisk AS', phoneNumber: '+47 22 00 00 01', city: 'Oslo' });
  const contactId = `company-${account.Id}`;
  const customerId = String(customer.id);
  await store.createRelation({
    contactId,
    accountKind: 'customer',
    accountId: customerId,
    relationCode: 'CUST',
    origin: 'linked',
  });
  // A first poll of each side records where polling starts.
  await daemon.pollNow('crm');
  await daemon.pollNow('accounting');

  salesforce.updateAccount(account.Id, { Phone: '+47 22 00 00 02' });
  await daemon.pollNow('crm');
  await waitFor(async () => bc.getCustomer(customerId)?.phoneNumber === '+47 22 00 00 02', 10_000);

  await new Promise((resolve) => setTimeout(resolve, 20));
  bc.updateCustomer(customerId, { city: 'Bergen' });
  await daemon.pollNow('accounting');
  await waitFor(async () => salesforce.getAccount(account.Id)?.BillingCity === 'Bergen', 10_000);
  expect(salesforce.getAccount(account.Id)).toMatchObject({ Phone: '+47 22 00 00 02', Name: 'Fjord Fisk AS' });
  // tandem's writes went through sObject Collections or sObject Rows of the pinned version only.
  const writes = salesforce.requests.filter(
    (request) => request.path !== 'token' && (request.method === 'PATCH' || request.method === 'POST'),
  );
  expect(writes.length).toBeGreaterThan(0);
  for (const write of writes) expect(write.path).toMatch(/^\/(composite\/sobjects|sobjects\/Account\/\w+)$/);
});

test('an Account merged into another: the relation follows the survivor, and both customer and Accounts stay', async () => {
  const survivor = salesforce.createAccount({
    Name: 'Nordlys Energi AS',
    Phone: '+47 22 00 01 00',
    BillingCity: 'Oslo',
  });
  const loser = salesforce.createAccount({ Name: 'Nordlys Energi', Phone: '+47 22 00 01 99', BillingCity: 'Oslo' });
  const customer = bc.createCustomer({ displayName: 'Nordlys Energi', phoneNumber: '+47 22 00 01 99', city: 'Oslo' });
  const customerId = String(customer.id);
  await store.createRelation({
    contactId: `company-${loser.Id}`,
    accountKind: 'customer',
    accountId: customerId,
    relationCode: 'CUST',
    origin: 'linked',
  });
  salesforce.mergeAccounts(survivor.Id, [loser.Id]);
  // The drift sweep reads the loser as merged; its sync moves the relation and syncs the survivor.
  await daemon.drift.runNow();
  await waitFor(
    async () => (await store.findRelationByAccount('customer', customerId))?.contactId === `company-${survivor.Id}`,
    10_000,
  );
  await waitFor(async () => bc.getCustomer(customerId)?.phoneNumber === '+47 22 00 01 00', 10_000);
  expect(bc.getCustomer(customerId)?.displayName).toBe('Nordlys Energi AS');
  expect(salesforce.getAccount(survivor.Id)).toMatchObject({ Name: 'Nordlys Energi AS' });
  expect(await store.queryAudit({ contactId: `company-${survivor.Id}`, kind: 'link' })).toEqual([
    expect.objectContaining({
      details: expect.objectContaining({ reason: 'merged', movedFromContact: `company-${loser.Id}` }),
    }),
  ]);
});
