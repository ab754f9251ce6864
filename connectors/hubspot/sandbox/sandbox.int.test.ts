import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '../../kit/errors';
import type { ChangedPage, Connector } from '../../kit/types';
import { createHubSpotConnector } from '../connector';
import { createHubSpotWebhook } from '../webhook';
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
    await sandbox.close();
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

  it('survives injected 429s and 5xx through the client retries', async () => {
    const company = sandbox.createCompany({ name: 'Retry Test BV' });
    sandbox.resetRequests();
    sandbox.injectFailures({ next429: 1, next5xx: 2, retryAfterSeconds: 0 });
    expect(await crm.get('contact', `company-${company.id}`)).toMatchObject({ fields: { name: 'Retry Test BV' } });
    expect(sandbox.requests.map((request) => request.status)).toEqual([429, 500, 500, 200]);
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
