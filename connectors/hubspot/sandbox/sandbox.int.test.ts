import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../../kit/errors';
import type { ChangedPage, Connector } from '../../kit/types';
import { createHubSpotConnector } from '../connector';
import { createHubSpotWebhook } from '../webhook';
import { exchangeViolations, routeModels } from '../../../test/support/hubspot/models';
import { type HubSpotSandbox, hubspotSandboxSeed, startHubSpotSandbox } from './index';

const TOKEN = 'int-test-token';
const SECRET = 'int-test-client-secret';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
}

/** A tiny webhook receiver; answers with the given statuses in turn, then 204. */
async function startReceiver(
  statuses: number[] = [],
): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        rawBody: Buffer.concat(chunks),
      });
      response.statusCode = statuses.shift() ?? 204;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/hubspot`,
    received,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function drain(pages: AsyncIterable<ChangedPage>): Promise<{ ids: string[]; cursor: string | null }> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for await (const page of pages) {
    ids.push(...page.records.map((record) => record.id));
    cursor = page.cursor;
  }
  return { ids, cursor };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('HubSpot connector against the sandbox', () => {
  let sandbox: HubSpotSandbox;
  let crm: Connector;
  const logged: string[] = [];

  beforeEach(async () => {
    sandbox = await startHubSpotSandbox({
      token: TOKEN,
      seed: hubspotSandboxSeed(),
      log: (message) => logged.push(message),
    });
    crm = createHubSpotConnector({
      name: 'crm',
      baseUrl: sandbox.url,
      token: TOKEN,
      retry: { baseDelayMs: 1 },
      webhookSecret: SECRET,
    });
  });
  afterEach(async () => {
    // Every call the connector made, and every answer the sandbox gave it, as HubSpot's own models have them.
    const exchanges = sandbox.requests.map((request) => ({ ...request, path: `${request.path}${request.query}` }));
    await sandbox.close();
    expect(exchanges.flatMap(exchangeViolations)).toEqual([]);
  });

  it('lists everything, then only what changed after the cursor', async () => {
    const first = await drain(crm.listChanged!('contact', null));
    expect(first.ids).toHaveLength(7);
    expect(first.ids.slice(0, 4).every((id) => id.startsWith('company-'))).toBe(true);

    await pause(5);
    const [someCompany] = first.ids;
    sandbox.updateCompany(someCompany!.replace('company-', ''), { city: 'Rotterdam' });
    const added = sandbox.createContact({ firstname: 'Pieter', lastname: 'Bakker' });
    const second = await drain(crm.listChanged!('contact', first.cursor));
    expect(second.ids).toEqual([someCompany, `person-${added.id}`]);

    const third = await drain(crm.listChanged!('contact', second.cursor));
    expect(third.ids).toEqual([]);
  });

  it('creates once per idempotency key, updates and batch-updates round-trip', async () => {
    const created = await crm.create!(
      'contact',
      { name: 'Brightwater Logistics BV', city: 'Utrecht', vatRegistrationNo: 'NL001' },
      { idempotencyKey: 'rel-1' },
    );
    const again = await crm.create!('contact', { name: 'Brightwater Logistics BV' }, { idempotencyKey: 'rel-1' });
    expect(again.id).toBe(created.id);
    const hubSpotId = created.id.replace('company-', '');
    expect(sandbox.getCompany(hubSpotId)?.properties).toMatchObject({
      name: 'Brightwater Logistics BV',
      tandem_vat_registration_no: 'NL001',
      tandem_idempotency_key: 'rel-1',
    });

    const employee = await crm.create!(
      'contact',
      { name: 'Sanne de Wit', email: 'sanne@brightwater.example' },
      { idempotencyKey: 'rel-2', extra: { type: 'person', companyId: created.id } },
    );
    expect(employee).toMatchObject({ companyId: created.id });
    expect(sandbox.getContact(employee.id.replace('person-', ''))?.properties).toMatchObject({
      firstname: 'Sanne de',
      lastname: 'Wit',
      associatedcompanyid: hubSpotId,
    });

    const updated = await crm.update!('contact', { id: created.id, fields: { phone: '+31 30 123 4567', city: null } });
    expect(updated.fields).toMatchObject({ phone: '+31 30 123 4567', city: null });
    expect(sandbox.getCompany(hubSpotId)?.properties.city).toBeUndefined();

    const results = await crm.batchUpdate!('contact', [
      { id: created.id, fields: { territoryCode: 'NORTH' } },
      { id: employee.id, fields: { mobile: '+31 6 5555 1234', name: 'Sanne Wit' } },
      { id: 'company-99999', fields: { city: 'Nowhere' } },
    ]);
    expect(results.map((result) => result.ok)).toEqual([true, true, false]);
    expect(!results[2]!.ok && results[2]!.error).toBeInstanceOf(NotFoundError);
    expect(sandbox.getContact(employee.id.replace('person-', ''))?.properties).toMatchObject({
      mobilephone: '+31 6 5555 1234',
      firstname: 'Sanne',
      lastname: 'Wit',
    });
    expect(await crm.get('contact', created.id)).toMatchObject({
      fields: { territoryCode: 'NORTH', phone: '+31 30 123 4567' },
    });

    const batch = await crm.batchGet!('contact', [employee.id, created.id, 'person-99999']);
    expect(batch.map((record) => record.id)).toEqual([employee.id, created.id]);
    expect(await crm.get('contact', 'person-99999')).toBeNull();
  });

  it('searches companies and people by name, e-mail and VAT no. for the pickers', async () => {
    const bakery = sandbox.createCompany({
      name: 'Bakkerij "De Korenschoof" & Zn',
      tandem_vat_registration_no: 'NL8123.45.678B01',
    });
    sandbox.createCompany({ name: 'Korenschoof Metals' });
    const person = sandbox.createContact({
      firstname: 'Pieter',
      lastname: 'Korenschoof',
      email: 'pieter@korenschoof.example',
    });
    sandbox.resetRequests();
    // Both words must occur: the token search finds the metals company too, the kit leaves it out.
    const found = await crm.search!('contact', 'korenschoof bakkerij', 10);
    expect(found.map((record) => record.id)).toEqual([`company-${bakery.id}`]);
    const searches = sandbox.requests.filter((request) => request.path.endsWith('/search'));
    expect(searches.map((request) => request.path)).toEqual([
      '/crm/v3/objects/companies/search',
      '/crm/v3/objects/contacts/search',
    ]);
    // Quotes and ampersands are data in the JSON body, not syntax.
    expect((await crm.search!('contact', '"De Korenschoof" & Zn', 10)).map((record) => record.id)).toEqual([
      `company-${bakery.id}`,
    ]);
    expect((await crm.search!('contact', 'pieter@korenschoof.example', 10)).map((record) => record.id)).toEqual([
      `person-${person.id}`,
    ]);
    expect((await crm.search!('contact', 'NL8123.45.678B01', 10))[0]?.id).toBe(`company-${bakery.id}`);
    // A person's name is split over two properties; the search still finds the whole name.
    expect((await crm.search!('contact', 'Pieter Korenschoof', 10)).map((record) => record.id)).toEqual([
      `person-${person.id}`,
    ]);
    // An id typed in is read directly.
    expect((await crm.search!('contact', `company-${bakery.id}`, 10)).map((record) => record.id)).toEqual([
      `company-${bakery.id}`,
    ]);
    expect(await crm.search!('contact', 'nobody-by-this-name', 10)).toEqual([]);
  });

  it('survives injected 429s and 5xx through the client retries', async () => {
    const company = sandbox.createCompany({ name: 'Retry Test BV' });
    sandbox.resetRequests();
    sandbox.injectFailures({ next429: 1, next5xx: 2, retryAfterSeconds: 0 });
    expect(await crm.get('contact', `company-${company.id}`)).toMatchObject({ fields: { name: 'Retry Test BV' } });
    expect(sandbox.requests.map((request) => request.status)).toEqual([429, 500, 500, 200]);
  });

  it("reads each field's time from the property history, 50 records per batch read", async () => {
    const created = sandbox.createCompany({ name: 'History BV', city: 'Delft' });
    await pause(5);
    await crm.update!('contact', { id: `company-${created.id}`, fields: { phone: '+31 15 000 0000' } });
    const record = await crm.get('contact', `company-${created.id}`);
    const createdAt = sandbox.getCompany(created.id)?.createdAt;
    const modifiedAt = sandbox.getCompany(created.id)?.updatedAt;
    expect(createdAt).not.toBe(modifiedAt);
    expect(record?.modifiedAt).toBe(modifiedAt);
    expect(record?.fieldModifiedAt).toMatchObject({ name: createdAt, city: createdAt, phone: modifiedAt });

    const ids = Array.from(
      { length: 120 },
      (_, index) => `company-${sandbox.createCompany({ name: `Bulk ${index}` }).id}`,
    );
    sandbox.resetRequests();
    const records = await crm.batchGet!('contact', ids);
    expect(records).toHaveLength(120);
    expect(records.every((read) => read.fieldModifiedAt?.name !== undefined)).toBe(true);
    const reads = sandbox.requests.filter((request) => request.path === '/crm/v3/objects/companies/batch/read');
    expect(reads.map((request) => request.status)).toEqual([200, 200, 200]);
  });

  it('delivers signed webhooks that the connector adapter accepts', async () => {
    const receiver = await startReceiver();
    try {
      sandbox.setWebhookTarget({ targetUrl: receiver.url, clientSecret: SECRET, batchDelayMs: 5 });
      const company = sandbox.createCompany({ name: 'Webhook BV' });
      sandbox.updateCompany(company.id, { city: 'Leiden', phone: '+31 71 1' });
      await crm.update!('contact', { id: `company-${company.id}`, fields: { homePage: 'https://webhook.example' } });
      sandbox.deleteCompany(company.id);
      await sandbox.flushWebhooks();

      const events = receiver.received.flatMap(
        (call) =>
          JSON.parse(call.rawBody.toString('utf8')) as {
            subscriptionType: string;
            changeSource: string;
            propertyName?: string;
          }[],
      );
      expect(events.map((event) => [event.subscriptionType, event.propertyName ?? null, event.changeSource])).toEqual([
        ['company.creation', null, 'CRM_UI'],
        ['company.propertyChange', 'city', 'CRM_UI'],
        ['company.propertyChange', 'phone', 'CRM_UI'],
        ['company.propertyChange', 'website', 'INTEGRATION'],
        ['company.deletion', null, 'CRM_UI'],
      ]);

      const notices = receiver.received.flatMap((call) => {
        const outcome = crm.webhook!.handle(
          { method: call.method, url: receiver.url, headers: call.headers, rawBody: call.rawBody },
          new Date(),
        );
        if (outcome.kind !== 'notices') throw new Error(`rejected: ${JSON.stringify(outcome)}`);
        return outcome.notices;
      });
      expect(notices).toHaveLength(5);
      expect(new Set(notices.map((notice) => notice.id))).toEqual(new Set([`company-${company.id}`]));
      expect(notices[4]).toMatchObject({ deleted: true });

      const other = createHubSpotWebhook({ clientSecret: 'not-the-secret' });
      const call = receiver.received[0]!;
      expect(
        other.handle(
          { method: call.method, url: receiver.url, headers: call.headers, rawBody: call.rawBody },
          new Date(),
        ),
      ).toMatchObject({ kind: 'rejected', status: 401 });
    } finally {
      await receiver.close();
    }
  });

  it('retries a failed delivery and drops it after a few attempts without crashing', async () => {
    const receiver = await startReceiver([500]);
    try {
      sandbox.setWebhookTarget({
        targetUrl: receiver.url,
        clientSecret: SECRET,
        batchDelayMs: 1,
        retryDelaysMs: [5, 5],
      });
      sandbox.createContact({ firstname: 'Retry' });
      await sandbox.flushWebhooks();
      expect(receiver.received).toHaveLength(2);
      expect(logged).toEqual([]);
      expect(JSON.parse(receiver.received[1]!.rawBody.toString('utf8'))).toMatchObject([
        { subscriptionType: 'contact.creation', attemptNumber: 1 },
      ]);
    } finally {
      await receiver.close();
    }
    sandbox.setWebhookTarget({ targetUrl: receiver.url, clientSecret: SECRET, batchDelayMs: 1, retryDelaysMs: [5, 5] });
    sandbox.createContact({ firstname: 'Lost' });
    await sandbox.flushWebhooks();
    expect(logged.some((message) => message.includes('dropped 1 webhook event'))).toBe(true);
    expect(await crm.get('contact', 'company-10001')).not.toBeNull();
  });

  it('pages past 10,000 changes by falling back to the list endpoint', async () => {
    for (let index = 0; index < 10_050; index++) sandbox.createCompany({ name: `Bulk ${index}` });
    sandbox.resetRequests();
    const { ids } = await drain(crm.listChanged!('contact', null));
    expect(ids.filter((id) => id.startsWith('company-'))).toHaveLength(10_054);
    expect(new Set(ids).size).toBe(ids.length);
    expect(
      sandbox.requests.filter((request) => request.method === 'GET' && request.path === '/crm/v3/objects/companies'),
    ).toHaveLength(101);
  });
});

describe('HubSpot sandbox answers like HubSpot', () => {
  let sandbox: HubSpotSandbox;
  beforeAll(async () => {
    sandbox = await startHubSpotSandbox({ token: TOKEN, log: () => undefined });
  });
  afterAll(async () => {
    await sandbox.close();
  });
  // The calls below are the tests' own, some wrong on purpose; what the sandbox answers with 2xx on
  // the routes tandem uses must be what HubSpot's models describe.
  afterEach(() => {
    const answers = sandbox.requests
      .filter((request) => request.status >= 200 && request.status < 300 && routeModels(request.method, request.path))
      .map((request) => ({ ...request, requestBody: undefined }));
    sandbox.resetRequests();
    expect(answers.flatMap(exchangeViolations)).toEqual([]);
  });

  const call = (method: string, path: string, body?: unknown, token = TOKEN) =>
    fetch(`${sandbox.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    }).then(async (response) => ({
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>,
    }));

  it('refuses a missing or wrong token with 401', async () => {
    expect(await call('GET', '/crm/v3/objects/companies', undefined, 'wrong')).toMatchObject({
      status: 401,
      body: { status: 'error', category: 'INVALID_AUTHENTICATION' },
    });
  });

  it('refuses unknown properties, oversized batches and paging past 10,000', async () => {
    expect(await call('POST', '/crm/v3/objects/companies', { properties: { colour: 'blue' } })).toMatchObject({
      status: 400,
      body: { category: 'VALIDATION_ERROR' },
    });
    expect(await call('POST', '/crm/v3/objects/contacts', { properties: { lastmodifieddate: '1' } })).toMatchObject({
      status: 400,
    });
    const inputs = Array.from({ length: 101 }, (_, index) => ({ id: String(index + 1) }));
    expect((await call('POST', '/crm/v3/objects/companies/batch/read', { inputs })).status).toBe(400);
    expect((await call('POST', '/crm/v3/objects/companies/search', { after: '10000', limit: 10 })).status).toBe(400);
    expect((await call('POST', '/crm/v3/objects/companies/search', { limit: 201 })).status).toBe(400);
    expect(
      (
        await call('POST', '/crm/v3/objects/companies/search', {
          filterGroups: [{ filters: [{ propertyName: 'colour', operator: 'EQ', value: 'x' }] }],
        })
      ).status,
    ).toBe(400);
  });

  it('answers 404 with HubSpot’s body and 429 with Retry-After', async () => {
    expect(await call('GET', '/crm/v3/objects/contacts/1')).toMatchObject({
      status: 404,
      body: { status: 'error', category: 'OBJECT_NOT_FOUND' },
    });
    sandbox.injectFailures({ next429: 1, retryAfterSeconds: 2 });
    const limited = await call('GET', '/crm/v3/objects/contacts/1');
    expect(limited).toMatchObject({
      status: 429,
      body: { errorType: 'RATE_LIMIT', policyName: 'SECONDLY', message: 'You have reached your secondly limit.' },
    });
    expect(limited.headers.get('retry-after')).toBe('2');
  });

  it('holds calls to HubSpot’s published limits: 190 per 10 seconds, and 5 searches per second', async () => {
    // The limits' clock stands still unless the test moves it, so refills come only when told.
    let clock = Date.now();
    const limited = await startHubSpotSandbox({ token: TOKEN, log: () => undefined, now: () => clock });
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const list = () => fetch(`${limited.url}/crm/v3/objects/companies?limit=1`, { headers });
    const search = () =>
      fetch(`${limited.url}/crm/v3/objects/companies/search`, { method: 'POST', headers, body: '{}' });
    try {
      const answers: Response[] = [];
      for (let index = 0; index < 191; index += 20)
        answers.push(...(await Promise.all(Array.from({ length: Math.min(20, 191 - index) }, list))));
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(190);
      const refused = answers.find((answer) => answer.status === 429)!;
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(refused.headers.get('x-hubspot-ratelimit-max')).toBe('190');
      expect(refused.headers.get('x-hubspot-ratelimit-remaining')).toBe('0');
      expect(refused.headers.get('x-hubspot-ratelimit-interval-milliseconds')).toBe('10000');
      expect(await refused.json()).toMatchObject({
        status: 'error',
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
        correlationId: expect.any(String),
      });
      const remaining = answers.filter((answer) => answer.status === 200).map((answer) => answer.headers);
      expect(
        remaining.map((found) => Number(found.get('x-hubspot-ratelimit-remaining'))).sort((a, b) => a - b),
      ).toEqual(Array.from({ length: 190 }, (_, index) => index));

      // Searches have their own bucket, untouched by the list calls, and report no limit headers.
      const searches = [];
      for (let index = 0; index < 6; index++) searches.push(await search());
      expect(searches.map((answer) => answer.status)).toEqual([200, 200, 200, 200, 200, 429]);
      expect(searches[0]!.headers.get('x-hubspot-ratelimit-remaining')).toBeNull();
      expect(await searches[5]!.json()).toMatchObject({ errorType: 'RATE_LIMIT', policyName: 'SECONDLY' });
      clock += 1000;
      const paced = [];
      for (let index = 0; index < 8; index++) {
        paced.push((await search()).status);
        clock += 200;
      }
      expect(paced).toEqual(Array(8).fill(200));
    } finally {
      await limited.close();
    }
  });

  it('searches with filters and sorts, and never moves modified dates backwards', async () => {
    const a = sandbox.createCompany({ name: 'Alpha', city: 'Utrecht' });
    const b = sandbox.createCompany({ name: 'Beta', city: 'utrecht' });
    sandbox.createCompany({ name: 'Gamma', city: 'Gouda' });
    const updated = sandbox.updateCompany(a.id, { phone: '1' });
    expect(Date.parse(updated.properties.hs_lastmodifieddate ?? '')).toBeGreaterThanOrEqual(
      Date.parse(b.properties.hs_lastmodifieddate ?? ''),
    );
    const found = await call('POST', '/crm/v3/objects/companies/search', {
      filterGroups: [{ filters: [{ propertyName: 'city', operator: 'EQ', value: 'UTRECHT' }] }],
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'DESCENDING' }],
      properties: ['name'],
      limit: 1,
    });
    expect(found.body).toMatchObject({
      total: 2,
      results: [{ id: a.id, properties: { name: 'Alpha' } }],
      paging: { next: { after: '1' } },
    });
  });

  it('matches CONTAINS_TOKEN against the value or one of its words, with * as a wildcard', async () => {
    const a = sandbox.createContact({ firstname: 'Ann', email: 'ann@hubspot.com' });
    const b = sandbox.createContact({ firstname: 'Bob', email: 'bob@example.com', company: 'Hub Spot Fans' });
    // Spaced out: the sandbox holds searches to HubSpot's five per second.
    const ids = async (propertyName: string, value: string, operator = 'CONTAINS_TOKEN') =>
      (await pause(210)) ??
      (
        (
          await call('POST', '/crm/v3/objects/contacts/search', {
            filterGroups: [{ filters: [{ propertyName, operator, value }] }],
          })
        ).body as { results: { id: string }[] }
      ).results.map((result) => result.id);
    expect(await ids('email', '*@hubspot.com')).toEqual([a.id]);
    expect(await ids('email', 'ANN@HUBSPOT.COM')).toEqual([a.id]);
    expect(await ids('company', 'spot')).toEqual([b.id]);
    expect(await ids('company', 'sp')).toEqual([]);
    expect(await ids('company', '*po*')).toEqual([b.id]);
    // Regular-expression characters are plain text.
    expect(await ids('email', '.*')).toEqual([]);
    expect(await ids('email', '*@hubspot.com', 'NOT_CONTAINS_TOKEN')).toContain(b.id);
    expect(await ids('email', '*@hubspot.com', 'NOT_CONTAINS_TOKEN')).not.toContain(a.id);
  });

  it('answers propertiesWithHistory on GET and batch read, newest first, only for the properties asked', async () => {
    const created = sandbox.createCompany({ name: 'Historic BV', city: 'Delft' });
    await pause(5);
    const patched = await call('PATCH', `/crm/v3/objects/companies/${created.id}`, { properties: { city: 'Leiden' } });
    expect(patched.status).toBe(200);
    await pause(5);
    const edited = sandbox.updateCompany(created.id, { city: '' });
    const query = 'properties=name,city&propertiesWithHistory=city,name,phone,colour';
    const got = await call('GET', `/crm/v3/objects/companies/${created.id}?${query}`);
    expect(got.status).toBe(200);
    const history = got.body.propertiesWithHistory as Record<
      string,
      { value: string; timestamp: string; sourceType: string }[]
    >;
    // Never set (phone) or unknown (colour): no history.
    expect(Object.keys(history).sort()).toEqual(['city', 'name']);
    expect(history.city).toEqual([
      expect.objectContaining({ value: '', timestamp: edited.updatedAt, sourceType: 'CRM_UI' }),
      expect.objectContaining({ value: 'Leiden', timestamp: patched.body.updatedAt, sourceType: 'INTEGRATION' }),
      expect.objectContaining({ value: 'Delft', timestamp: created.createdAt, sourceType: 'CRM_UI' }),
    ]);
    expect(history.name).toEqual([expect.objectContaining({ value: 'Historic BV', timestamp: created.createdAt })]);
    expect((await call('GET', `/crm/v3/objects/companies/${created.id}?properties=city`)).body).not.toHaveProperty(
      'propertiesWithHistory',
    );

    const read = await call('POST', '/crm/v3/objects/companies/batch/read', {
      properties: ['city'],
      propertiesWithHistory: ['city'],
      inputs: [{ id: created.id }],
    });
    expect(read.body.results).toEqual([
      expect.objectContaining({ id: created.id, propertiesWithHistory: { city: history.city } }),
    ]);
    // HubSpot reads at most 50 records per batch with history, 100 without.
    const inputs = Array.from({ length: 51 }, () => ({ id: created.id }));
    expect(
      (await call('POST', '/crm/v3/objects/companies/batch/read', { propertiesWithHistory: ['city'], inputs })).status,
    ).toBe(400);
    expect((await call('POST', '/crm/v3/objects/companies/batch/read', { inputs })).status).toBe(200);
  });

  it('keeps at most the last 20 values of a property', async () => {
    const created = sandbox.createCompany({ name: 'Busy BV' });
    for (let index = 1; index <= 25; index++) sandbox.updateCompany(created.id, { phone: `+31 ${index}` });
    const got = await call('GET', `/crm/v3/objects/companies/${created.id}?propertiesWithHistory=phone`);
    const phones = (got.body.propertiesWithHistory as Record<string, { value: string }[]>).phone ?? [];
    expect(phones.map((entry) => entry.value)).toEqual(Array.from({ length: 20 }, (_, index) => `+31 ${25 - index}`));
  });

  it('loads a state file saved before it kept history: one entry per property at the record time', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hubspot-sandbox-'));
    try {
      const file = join(directory, 'portal.json');
      const updatedAt = Date.parse('2024-05-01T10:00:00.000Z');
      const record = { id: '10001', createdAt: updatedAt - 1000, updatedAt, fields: { name: 'Old BV', city: 'Gouda' } };
      const state = {
        lastTime: updatedAt,
        nextIds: { companies: 10_002, contacts: 50_001 },
        collections: { companies: [record] },
      };
      writeFileSync(file, JSON.stringify(state));
      const old = await startHubSpotSandbox({ file });
      try {
        expect(old.getCompany('10001')?.properties).toMatchObject({ name: 'Old BV', city: 'Gouda' });
        const response = await fetch(`${old.url}/crm/v3/objects/companies/10001?propertiesWithHistory=city,name`, {
          headers: { authorization: 'Bearer sandbox-token' },
        });
        const body = (await response.json()) as { propertiesWithHistory: Record<string, unknown[]> };
        expect(body.propertiesWithHistory).toEqual({
          city: [expect.objectContaining({ value: 'Gouda', timestamp: '2024-05-01T10:00:00.000Z' })],
          name: [expect.objectContaining({ value: 'Old BV', timestamp: '2024-05-01T10:00:00.000Z' })],
        });
        old.updateCompany('10001', { city: 'Leiden' });
      } finally {
        await old.close();
      }
      // Saved again in the new shape, the history carries on.
      const reopened = await startHubSpotSandbox({ file });
      const response = await fetch(`${reopened.url}/crm/v3/objects/companies/10001?propertiesWithHistory=city`, {
        headers: { authorization: 'Bearer sandbox-token' },
      });
      const body = (await response.json()) as { propertiesWithHistory: Record<string, { value: string }[]> };
      expect(body.propertiesWithHistory.city?.map((entry) => entry.value)).toEqual(['Leiden', 'Gouda']);
      await reopened.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('keeps its records in a file across restarts', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'hubspot-sandbox-'));
    try {
      const file = join(directory, 'portal.json');
      const first = await startHubSpotSandbox({ file, seed: hubspotSandboxSeed() });
      const company = first.createCompany({ name: 'Persisted BV' });
      await first.close();
      const second = await startHubSpotSandbox({ file, seed: hubspotSandboxSeed() });
      expect(second.getCompany(company.id)?.properties.name).toBe('Persisted BV');
      expect(second.createCompany({ name: 'Next' }).id).toBe(String(Number(company.id) + 1));
      await second.close();
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
