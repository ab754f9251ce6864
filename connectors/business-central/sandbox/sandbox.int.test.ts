import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUSINESS_CENTRAL_RATE_LIMITS,
  businessCentralSandboxSeed,
  COLLECTION_NAMES,
  SEED_IDS,
  startBusinessCentralSandbox,
  type BusinessCentralSandbox,
} from './index';
import { requestLogViolations } from '../../../test/support/business-central/manifest';

/** A body as JSON.parse returns it, for the assertions to read. */
type ParsedJson = ReturnType<typeof JSON.parse>;

async function tokenFor(sandbox: BusinessCentralSandbox): Promise<string> {
  const response = await fetch(sandbox.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
      scope: 'https://api.businesscentral.dynamics.com/.default',
    }),
  });
  const body = (await response.json()) as { access_token: string; expires_in: number };
  expect(body.expires_in).toBe(3599);
  return body.access_token;
}

describe('Business Central sandbox', () => {
  let sandbox: BusinessCentralSandbox;
  let call: (
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<{ status: number; body: ParsedJson }>;

  beforeEach(async () => {
    sandbox = await startBusinessCentralSandbox({ seed: businessCentralSandboxSeed(), pageSize: 2 });
    const token = await tokenFor(sandbox);
    call = async (method, path, body, headers = {}) => {
      const response = await fetch(path.startsWith('http') ? path : `${sandbox.url}/${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
    };
  });
  afterEach(async () => {
    // Every body the sandbox accepted and every record it answered are held to the APIV2 manifest
    // (the tests send bodies BC refuses on purpose).
    const violations = requestLogViolations(sandbox.requests, { acceptedBodiesOnly: true });
    await sandbox.close();
    expect(violations).toEqual([]);
  });

  const customers = () => `companies(${sandbox.companyId})/customers`;

  it('requires a bearer token from its token endpoint', async () => {
    const response = await fetch(`${sandbox.url}/companies`);
    expect(response.status).toBe(401);
    const refused = await fetch(sandbox.tokenUrl, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'x', client_secret: 'y' }),
    });
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('lists the company and pages customers with $top, $skip and nextLink', async () => {
    expect((await call('GET', 'companies')).body.value).toEqual([expect.objectContaining({ id: sandbox.companyId })]);
    const first = await call('GET', customers());
    expect(first.body.value.map((row: { number: string }) => row.number)).toEqual(['C00010', 'C00020']);
    const second = await call('GET', first.body['@odata.nextLink']);
    expect(second.body.value.map((row: { number: string }) => row.number)).toEqual(['C00030']);
    expect(second.body['@odata.nextLink']).toBeUndefined();
    const window = await call('GET', `${customers()}?$skip=1&$top=1`);
    expect(window.body.value.map((row: { number: string }) => row.number)).toEqual(['C00020']);
    const filtered = await call(
      'GET',
      `${customers()}?$filter=${encodeURIComponent("number eq 'C00030' or displayName eq 'Lindqvist Möbler AB'")}`,
    );
    expect(filtered.body.value).toHaveLength(2);
    expect((await call('GET', `${customers()}?$filter=nonsense`)).status).toBe(400);
  });

  it('pages from rows selected once per query, and selects again after any change', async () => {
    const byNumber = `${customers()}?$orderby=${encodeURIComponent('number desc')}`;
    const first = await call('GET', byNumber);
    expect(first.body.value.map((row: { number: string }) => row.number)).toEqual(['C00030', 'C00020']);
    // A direct edit between two pages: the next page is read from the records as they are now.
    const [last] = first.body.value as Array<{ id: string }>;
    sandbox.updateCustomer(last?.id ?? '', { displayName: 'Renamed AB' });
    const again = await call('GET', byNumber);
    expect(again.body.value[0]).toMatchObject({ number: 'C00030', displayName: 'Renamed AB' });
    const next = await call('GET', first.body['@odata.nextLink']);
    expect(next.body.value.map((row: { number: string }) => row.number)).toEqual(['C00010']);
  });

  it('numbers new records, changes the etag on every write and guards writes with If-Match', async () => {
    const created = await call('POST', customers(), { displayName: 'Ferreira & Filhos Lda' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ number: 'C00040', displayName: 'Ferreira & Filhos Lda', addressLine1: '' });
    expect(created.body['@odata.etag']).toMatch(/^W\/"Jz/);
    const path = `${customers()}(${created.body.id})`;

    expect((await call('PATCH', path, { city: 'Porto' })).status).toBe(400);
    const updated = await call('PATCH', path, { city: 'Porto' }, { 'If-Match': created.body['@odata.etag'] });
    expect(updated.status).toBe(200);
    expect(updated.body['@odata.etag']).not.toBe(created.body['@odata.etag']);
    expect(Date.parse(updated.body.lastModifiedDateTime)).toBeGreaterThan(
      Date.parse(created.body.lastModifiedDateTime),
    );

    const stale = await call('PATCH', path, { city: 'Braga' }, { 'If-Match': created.body['@odata.etag'] });
    expect(stale).toEqual({
      status: 412,
      body: { error: { code: 'Request_EntityChanged', message: expect.any(String) } },
    });
    expect((await call('PATCH', path, { nickname: 'x' }, { 'If-Match': '*' })).status).toBe(400);
    expect((await call('DELETE', path, undefined, { 'If-Match': updated.body['@odata.etag'] })).status).toBe(204);
    expect((await call('GET', path)).status).toBe(404);
  });

  it('refuses what BC’s APIV2 pages refuse: properties they lack and fields BC fills itself', async () => {
    const refusal = (message: string) => ({ status: 400, body: { error: { code: 'BadRequest', message } } });
    expect(await call('POST', customers(), { displayName: 'x', name2: 'y' })).toEqual(
      refusal(
        "The property 'name2' does not exist on type 'Microsoft.NAV.customer'. Make sure to only use property names that are defined by the type.",
      ),
    );
    expect(await call('POST', customers(), { displayName: 'x', balanceDue: 10 })).toEqual(
      refusal("Control 'balanceDue' is read-only."),
    );
    expect(await call('POST', customers(), { displayName: 'x', id: SEED_IDS.customers.vanDijk })).toEqual(
      refusal("Control 'id' is read-only."),
    );
    const vendor = `companies(${sandbox.companyId})/vendors(${SEED_IDS.vendors.brenner})`;
    expect(await call('PATCH', vendor, { balance: 5 }, { 'If-Match': '*' })).toEqual(
      refusal("Control 'balance' is read-only."),
    );
    const contact = await call('POST', `companies(${sandbox.companyId})/contacts`, { displayName: 'Ana Costa' });
    const contactPath = `companies(${sandbox.companyId})/contacts(${contact.body.id})`;
    expect(
      (await call('PATCH', contactPath, { contactBusinessRelation: 'Customer' }, { 'If-Match': '*' })).status,
    ).toBe(400);
    const quotes = `companies(${sandbox.companyId})/salesQuotes`;
    const quote = await call('POST', quotes, { customerId: SEED_IDS.customers.moreau });
    // A document's number comes from its series, its status from BC's actions.
    expect(await call('POST', quotes, { customerId: SEED_IDS.customers.moreau, number: 'Q-1' })).toEqual(
      refusal("Control 'number' is read-only."),
    );
    expect(await call('PATCH', `${quotes}(${quote.body.id})`, { status: 'Accepted' }, { 'If-Match': '*' })).toEqual(
      refusal("Control 'status' is read-only."),
    );
    // A direct edit stands for BC's own processes, which do set them.
    sandbox.collection('salesQuotes').update(String(quote.body.id), { status: 'Sent' });
    expect(sandbox.updateVendor(SEED_IDS.vendors.brenner, { balance: 120 })).toMatchObject({ balance: 120 });
  });

  it('renames a customer whose number a PATCH changes, unless another customer has it', async () => {
    const path = `${customers()}(${SEED_IDS.customers.moreau})`;
    expect((await call('PATCH', path, { number: 'MOREAU' }, { 'If-Match': '*' })).body).toMatchObject({
      id: SEED_IDS.customers.moreau,
      number: 'MOREAU',
    });
    expect((await call('PATCH', path, { number: 'C00010' }, { 'If-Match': '*' })).body).toEqual({
      error: { code: 'Internal_EntityWithSameKeyExists', message: expect.stringContaining("No.='C00010'") },
    });
  });

  it('answers every collection with exactly the properties of its APIV2 page', async () => {
    const company = `companies(${sandbox.companyId})`;
    await call('POST', `${company}/contacts`, { displayName: 'Ana Costa', type: 'Person' });
    await call('POST', `${company}/salesQuotes`, { customerId: SEED_IDS.customers.moreau });
    await call('POST', `${company}/salesOrders`, { customerId: SEED_IDS.customers.moreau });
    await call('POST', `${company}/purchaseOrders`, { vendorId: SEED_IDS.vendors.brenner });
    for (const collection of COLLECTION_NAMES) {
      const page = await call('GET', `${company}/${collection}`);
      expect([collection, page.body.value.length > 0]).toEqual([collection, true]);
    }
    await call('GET', 'companies');
    await call('GET', company);
    // The request log is held to the manifest after each test (see afterEach).
  });

  it('serves sales quotes, sales orders and purchase orders', async () => {
    const quote = await call('POST', `companies(${sandbox.companyId})/salesQuotes`, {
      customerId: SEED_IDS.customers.moreau,
      documentDate: '2024-05-01',
    });
    expect(quote.body).toMatchObject({
      number: 'SQ00010',
      customerNumber: 'C00030',
      customerName: 'Boulangerie Moreau SARL',
      status: 'Draft',
      documentDate: '2024-05-01',
    });
    const order = await call('POST', `companies(${sandbox.companyId})/salesOrders`, {
      customerId: SEED_IDS.customers.vanDijk,
    });
    expect(order.body).toMatchObject({ number: 'SO00010', customerNumber: 'C00010' });
    const purchase = await call('POST', `companies(${sandbox.companyId})/purchaseOrders`, {
      vendorId: SEED_IDS.vendors.brenner,
    });
    expect(purchase.body).toMatchObject({ number: 'PO00010', vendorName: 'Brenner Werkzeugbau GmbH' });
    expect(
      (await call('POST', `companies(${sandbox.companyId})/purchaseOrders`, { vendorId: SEED_IDS.customers.moreau }))
        .status,
    ).toBe(400);
    expect((await call('GET', `companies(${sandbox.companyId})/salesQuotes`)).body.value).toHaveLength(1);
  });

  it('answers $batch item by item and refuses more than 100 operations', async () => {
    const etag = String(sandbox.getVendor(SEED_IDS.vendors.brenner)!['@odata.etag']);
    const batch = await call('POST', '$batch', {
      requests: [
        {
          id: 'a',
          method: 'PATCH',
          url: `companies(${sandbox.companyId})/vendors(${SEED_IDS.vendors.brenner})`,
          headers: { 'Content-Type': 'application/json', 'If-Match': etag },
          body: { city: 'Ulm' },
        },
        {
          id: 'b',
          method: 'PATCH',
          url: `companies(${sandbox.companyId})/vendors(${SEED_IDS.vendors.castellano})`,
          headers: { 'If-Match': etag },
          body: { city: 'Parma' },
        },
        { id: 'c', method: 'GET', url: `companies(${sandbox.companyId})/vendors(${SEED_IDS.vendors.castellano})` },
      ],
    });
    expect(batch.body.responses.map((item: { id: string; status: number }) => [item.id, item.status])).toEqual([
      ['a', 200],
      ['b', 412],
      ['c', 200],
    ]);
    const tooMany = Array.from({ length: 101 }, (_, index) => ({ id: String(index), method: 'GET', url: 'companies' }));
    expect((await call('POST', '$batch', { requests: tooMany })).status).toBe(400);
  });

  it('fails the next requests on demand and adds latency', async () => {
    sandbox.injectFailures({ next429: 1, next5xx: 1, retryAfterSeconds: 7 });
    const throttled = await fetch(`${sandbox.url}/companies`);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toBe('7');
    expect((await call('GET', 'companies')).status).toBe(503);
    expect((await call('GET', 'companies')).status).toBe(200);
    sandbox.setLatency(30);
    const started = Date.now();
    await call('GET', 'companies');
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(sandbox.countRequests({ path: 'companies' })).toBe(4);
  });

  it('holds calls to BC’s limit per user, answering 429 in BC’s words with Retry-After', async () => {
    // 6,000 calls in a sliding five minutes (operational limits of Business Central online).
    expect(BUSINESS_CENTRAL_RATE_LIMITS.perUser).toMatchObject({ limit: 6000, windowMs: 300_000 });
    await sandbox.close();
    sandbox = await startBusinessCentralSandbox({
      seed: businessCentralSandboxSeed(),
      rateLimits: { perUser: { limit: 3 } },
    });
    const token = await tokenFor(sandbox);
    const answers = [];
    for (let index = 0; index < 4; index++)
      answers.push(await fetch(`${sandbox.url}/companies`, { headers: { authorization: `Bearer ${token}` } }));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429]);
    // Three calls per five minutes refill one call every 100 seconds.
    expect(answers[3]!.headers.get('retry-after')).toBe('100');
    expect(await answers[3]!.json()).toEqual({
      error: { code: 'Application_TooManyRequests', message: expect.stringMatching(/^Too many requests reached/) },
    });
  });

  it('refuses a webhook subscription for a resource BC does not notify about', async () => {
    const response = await call('POST', 'subscriptions', {
      notificationUrl: 'http://127.0.0.1:9/hook',
      resource: `/api/v2.0/companies(${sandbox.companyId})/bankAccounts`,
    });
    expect(response.status).toBe(400);
  });

  it('retries a failing notification endpoint, then drops the notification and keeps serving', async () => {
    await sandbox.close();
    sandbox = await startBusinessCentralSandbox({ seed: businessCentralSandboxSeed(), notificationDelayMs: 5 });
    const token = await tokenFor(sandbox);
    const receiver = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      const validationToken = url.searchParams.get('validationToken');
      if (validationToken !== null) response.writeHead(200, { 'content-type': 'text/plain' }).end(validationToken);
      else response.writeHead(503).end();
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const notificationUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const created = await fetch(`${sandbox.url}/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          notificationUrl,
          resource: `/api/v2.0/companies(${sandbox.companyId})/customers`,
          clientState: 'x',
        }),
      });
      expect(created.status).toBe(201);
      sandbox.updateCustomer(SEED_IDS.customers.moreau, { city: 'Lyon' });
      await sandbox.flushNotifications();
      expect(sandbox.deliveries.map((delivery) => delivery.status)).toEqual([503, 503, 503]);
      expect(sandbox.subscriptions()).toHaveLength(1);
      expect(sandbox.getCustomer(SEED_IDS.customers.moreau)).toMatchObject({ city: 'Lyon' });
    } finally {
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });

  it('keeps its data in a file across restarts', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'bc-sandbox-'));
    const file = join(directory, 'data.json');
    try {
      const first = await startBusinessCentralSandbox({ file, seed: businessCentralSandboxSeed() });
      const created = first.createVendor({ displayName: 'Kowalski Sp. z o.o.' });
      await first.close();
      const second = await startBusinessCentralSandbox({ file, seed: businessCentralSandboxSeed() });
      expect(second.getVendor(String(created.id))).toMatchObject({
        number: 'V00030',
        displayName: 'Kowalski Sp. z o.o.',
      });
      expect(second.listCustomers()).toHaveLength(3);
      expect(second.createVendor({ displayName: 'Next' }).number).toBe('V00040');
      await second.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('reads a file written before its records moved to the kit store', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'bc-sandbox-'));
    const file = join(directory, 'data.json');
    const id = '9e3f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b';
    const expirationDateTime = new Date(Date.now() + 86_400_000).toISOString();
    const resource = `/api/v2.0/companies(${sandbox.companyId})/vendors`;
    writeFileSync(
      file,
      JSON.stringify({
        version: 2,
        lastTimestamp: Date.parse('2024-05-01T10:00:00.000Z'),
        numbers: { vendors: 30 },
        records: {
          vendors: [
            {
              id,
              number: 'V00030',
              displayName: 'Kowalski',
              lastModifiedDateTime: '2024-05-01T10:00:00.000Z',
              version: 1,
            },
          ],
        },
        subscriptions: [
          {
            subscriptionId: 'abc123',
            notificationUrl: 'http://127.0.0.1:9/hook',
            resource,
            clientState: 'x',
            expirationDateTime,
            lastModifiedDateTime: '2024-05-01T09:00:00.000Z',
            userId: '00000000-0000-0000-0000-000000000001',
            version: 2,
          },
        ],
      }),
    );
    try {
      const upgraded = await startBusinessCentralSandbox({ file, seed: businessCentralSandboxSeed() });
      expect(upgraded.listVendors()).toEqual([
        expect.objectContaining({ id, number: 'V00030', lastModifiedDateTime: '2024-05-01T10:00:00.000Z' }),
      ]);
      expect(upgraded.subscriptions()).toEqual([
        expect.objectContaining({ subscriptionId: 'abc123', resource, clientState: 'x', expirationDateTime }),
      ]);
      expect(upgraded.createVendor({ displayName: 'Next' }).number).toBe('V00040');
      await upgraded.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
