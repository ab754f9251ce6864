import nock from 'nock';
import { watchedByModels } from '../../test/support/hubspot/models';
import {
  EntityNotServedError,
  InvalidResponseError,
  NotFoundError,
  RateLimitedError,
  TransientError,
} from '../kit/errors';
import type { ChangedPage, Connector } from '../kit/types';
import { decodeCursor } from './changes';
import { createHubSpotConnector } from './connector';

const API = 'https://api.hubapi.com';

// Every request the connector sends and every canned answer below are held to HubSpot's own models.
const modelViolations: string[] = [];
const hubspotApi = () => watchedByModels(nock(API), modelViolations);
afterEach(() => expect(modelViolations.splice(0)).toEqual([]));
const TOKEN = 'pat-eu1-test';

function connector(overrides: { attempts?: number; now?: () => number } = {}): Connector {
  return createHubSpotConnector({
    name: 'crm',
    token: TOKEN,
    retry: { baseDelayMs: 1, attempts: overrides.attempts ?? 4 },
    ...(overrides.now ? { now: overrides.now } : {}),
  });
}

function company(id: string | number, modified: string, properties: Record<string, string | null> = {}) {
  return {
    id: String(id),
    properties: { name: `Company ${id}`, hs_lastmodifieddate: modified, ...properties },
    createdAt: modified,
    updatedAt: modified,
    archived: false,
  };
}

function person(id: string | number, modified: string, properties: Record<string, string | null> = {}) {
  return {
    id: String(id),
    properties: { firstname: 'Ada', lastname: `Person${id}`, lastmodifieddate: modified, ...properties },
    createdAt: modified,
    updatedAt: modified,
    archived: false,
  };
}

async function drain(pages: AsyncIterable<ChangedPage>): Promise<ChangedPage[]> {
  const all: ChangedPage[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

const emptySearch = { total: 0, results: [] };

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

describe('HubSpot connector over HTTP', () => {
  it('describes itself', () => {
    const crm = createHubSpotConnector({ name: 'crm', token: TOKEN, webhookSecret: 's' });
    expect(crm.system).toBe('crm');
    expect(crm.entities).toEqual(['contact']);
    for (const method of ['listChanged', 'get', 'batchGet', 'create', 'update', 'batchUpdate', 'checkHealth'] as const)
      expect({ method, type: typeof crm[method] }).toEqual({ method, type: 'function' });
    expect(crm.webhook).toBeDefined();
    expect(connector().webhook).toBeUndefined();
    expect(crm.fields.contact).toContain('mobile');
  });

  it('sends the private app token and maps the answer', async () => {
    const scope = nock(API, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .get('/crm/v3/objects/contacts/77')
      .query((query) => String(query.properties).split(',').includes('associatedcompanyid'))
      .reply(200, person(77, '2024-05-01T10:00:00.000Z', { associatedcompanyid: '501', email: 'ada@example.com' }));
    const record = await connector().get('contact', 'person-77');
    expect(record).toMatchObject({
      id: 'person-77',
      type: 'person',
      companyId: 'company-501',
      fields: { name: 'Ada Person77', email: 'ada@example.com' },
    });
    scope.done();
  });

  it("asks a GET for the mapped properties' history and takes the field times from it", async () => {
    const scope = hubspotApi()
      .get('/crm/v3/objects/companies/501')
      .query((query) => {
        const history = String(query.propertiesWithHistory).split(',');
        return history.includes('city') && history.includes('phone') && !history.includes('hs_lastmodifieddate');
      })
      .reply(200, {
        ...company(501, '2024-05-03T12:00:00.000Z', { city: 'Utrecht', phone: '+31 30 200 0000' }),
        propertiesWithHistory: {
          city: [
            { value: 'Utrecht', timestamp: '2024-05-01T09:00:00.000Z', sourceType: 'CRM_UI', sourceId: 'userId:1' },
            { value: 'Delft', timestamp: '2024-04-01T09:00:00.000Z', sourceType: 'INTEGRATION', sourceId: '54321' },
          ],
          phone: [{ value: '+31 30 200 0000', timestamp: '2024-05-03T12:00:00.000Z', sourceType: 'CRM_UI' }],
        },
      });
    const record = await connector().get('contact', 'company-501');
    expect(record?.fieldModifiedAt).toEqual({ city: '2024-05-01T09:00:00.000Z', phone: '2024-05-03T12:00:00.000Z' });
    expect(record?.modifiedAt).toBe('2024-05-03T12:00:00.000Z');
    scope.done();
  });

  it("asks a batch read for the mapped properties' history, 50 ids per call: 120 ids take 3 calls", async () => {
    const bodies: { inputs: { id: string }[]; properties: string[]; propertiesWithHistory?: string[] }[] = [];
    const scope = hubspotApi()
      .post('/crm/v3/objects/companies/batch/read')
      .times(3)
      .reply((_uri, raw) => {
        const body = raw as (typeof bodies)[number];
        bodies.push(body);
        const results = body.inputs.map((input) => ({
          ...company(input.id, '2024-05-03T12:00:00.000Z', { city: 'Utrecht' }),
          propertiesWithHistory: {
            city: [{ value: 'Utrecht', timestamp: '2024-05-01T09:00:00.000Z', sourceType: 'CRM_UI' }],
          },
        }));
        return [200, { status: 'COMPLETE', results }];
      });
    const ids = Array.from({ length: 120 }, (_, index) => `company-${index + 1}`);
    const records = await connector().batchGet!('contact', ids);
    expect(bodies.map((body) => body.inputs.length)).toEqual([50, 50, 20]);
    for (const body of bodies) {
      expect(body.propertiesWithHistory).toEqual(expect.arrayContaining(['name', 'city', 'phone']));
      expect(body.propertiesWithHistory).not.toContain('hs_lastmodifieddate');
      expect(body.properties).toContain('hs_lastmodifieddate');
    }
    expect(records).toHaveLength(120);
    expect(records[0]?.fieldModifiedAt).toEqual({ city: '2024-05-01T09:00:00.000Z' });
    scope.done();
  });

  it('pages through the search, companies first, with a cursor per page', async () => {
    const bodies: unknown[] = [];
    const scope = hubspotApi()
      .post(
        '/crm/v3/objects/companies/search',
        (body: { after?: string }) => (bodies.push(body), body.after === undefined),
      )
      .reply(200, {
        total: 3,
        results: [company(1, '2024-05-01T10:00:00.000Z'), company(2, '2024-05-01T10:00:01.000Z')],
        paging: { next: { after: '2' } },
      })
      .post('/crm/v3/objects/companies/search', (body: { after?: string }) => body.after === '2')
      .reply(200, { total: 3, results: [company(3, '2024-05-01T10:00:02.000Z')] })
      .post('/crm/v3/objects/contacts/search')
      .reply(200, { total: 1, results: [person(9, '2024-05-01T09:00:00.000Z')] });
    const pages = await drain(connector().listChanged!('contact', null));
    expect(pages.map((page) => page.records.map((record) => record.id))).toEqual([
      ['company-1', 'company-2'],
      ['company-3'],
      ['person-9'],
    ]);
    expect(bodies[0]).toMatchObject({
      filterGroups: [],
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
      limit: 100,
    });
    expect(decodeCursor(pages[1]!.cursor)).toEqual({
      v: 1,
      companies: { since: '2024-05-01T10:00:02.000Z', seen: ['company-3'] },
      contacts: { since: null, seen: [] },
    });
    scope.done();
  });

  it('resumes from the cursor with a GTE filter and skips records it already returned', async () => {
    const cursor = JSON.stringify({
      v: 1,
      companies: { since: '2024-05-01T10:00:02.000Z', seen: ['company-3'] },
      contacts: { since: null, seen: [] },
    });
    const since = String(Date.parse('2024-05-01T10:00:02.000Z'));
    const scope = hubspotApi()
      .post(
        '/crm/v3/objects/companies/search',
        (body: { filterGroups: unknown; sorts: unknown; properties: string[]; limit: number }) => {
          expect(body.filterGroups).toEqual([
            { filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: since }] },
          ]);
          expect(body.sorts).toEqual([{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }]);
          expect(body.properties).toContain('tandem_vat_registration_no');
          return body.limit === 100;
        },
      )
      .reply(200, {
        total: 2,
        results: [company(3, '2024-05-01T10:00:02.000Z'), company(4, '2024-05-01T10:00:02.000Z')],
      })
      .post('/crm/v3/objects/contacts/search')
      .reply(200, emptySearch);
    const pages = await drain(connector().listChanged!('contact', cursor));
    expect(pages.map((page) => page.records.map((record) => record.id))).toEqual([['company-4']]);
    expect(decodeCursor(pages[0]!.cursor).companies).toEqual({
      since: '2024-05-01T10:00:02.000Z',
      seen: ['company-3', 'company-4'],
    });
    scope.done();
  });

  it('falls back to the list endpoint when the search reports more than 10,000 results', async () => {
    const cursor = JSON.stringify({
      v: 1,
      companies: { since: '2024-05-01T00:00:00.000Z', seen: [] },
      contacts: { since: null, seen: [] },
    });
    const scope = hubspotApi()
      .post('/crm/v3/objects/companies/search')
      .reply(200, {
        total: 10_001,
        results: [company(7, '2024-05-02T00:00:00.000Z')],
        paging: { next: { after: '100' } },
      })
      .get('/crm/v3/objects/companies')
      .query(
        (query) =>
          query.limit === '100' &&
          query.after === undefined &&
          String(query.properties).includes('hs_lastmodifieddate'),
      )
      .reply(200, {
        results: [company(1, '2024-04-01T00:00:00.000Z'), company(2, '2024-05-03T00:00:00.000Z')],
        paging: { next: { after: '2' } },
      })
      .get('/crm/v3/objects/companies')
      .query((query) => query.after === '2')
      .reply(200, { results: [company(3, '2024-05-02T00:00:00.000Z'), company(4, '2024-03-01T00:00:00.000Z')] })
      .post('/crm/v3/objects/contacts/search')
      .reply(200, emptySearch);
    const pages = await drain(
      connector({ now: () => Date.parse('2024-06-01T00:00:00.000Z') }).listChanged!('contact', cursor),
    );
    expect(pages.flatMap((page) => page.records.map((record) => record.id))).toEqual(['company-2', 'company-3']);
    // Mid-scan pages keep the old mark; the last one moves it to the newest record seen.
    expect(decodeCursor(pages[0]!.cursor).companies.since).toBe('2024-05-01T00:00:00.000Z');
    expect(decodeCursor(pages[1]!.cursor).companies).toEqual({
      since: '2024-05-03T00:00:00.000Z',
      seen: ['company-2'],
    });
    scope.done();
  });

  it('switches to the list endpoint when search paging reaches 10,000', async () => {
    const scope = hubspotApi()
      .post('/crm/v3/objects/companies/search')
      .reply(200, {
        total: 9_950,
        results: [company(1, '2024-05-01T00:00:00.000Z')],
        paging: { next: { after: '10000' } },
      })
      .get('/crm/v3/objects/companies')
      .query(true)
      .reply(200, {
        results: [
          company(1, '2024-05-01T00:00:00.000Z'),
          company(2, '2024-04-01T00:00:00.000Z'),
          company(3, '2024-05-05T00:00:00.000Z'),
        ],
      })
      .post('/crm/v3/objects/contacts/search')
      .reply(200, emptySearch);
    const pages = await drain(
      connector({ now: () => Date.parse('2024-06-01T00:00:00.000Z') }).listChanged!('contact', null),
    );
    // company-1 came from the search and is not repeated; company-2 is older than the mark.
    expect(pages.map((page) => page.records.map((record) => record.id))).toEqual([['company-1'], ['company-3']]);
    scope.done();
  });

  it('reads in batches of at most 50 per object type (with history), mixed ids grouped', async () => {
    const sizes: Record<string, number[]> = { companies: [], contacts: [] };
    const reply =
      (objectType: 'companies' | 'contacts') =>
      (_uri: string, raw: nock.Body): [number, nock.Body] => {
        const body = raw as { inputs: { id: string }[] };
        sizes[objectType]!.push(body.inputs.length);
        const results = body.inputs
          .filter((input) => input.id !== '150')
          .map((input) =>
            objectType === 'companies'
              ? company(input.id, '2024-05-01T00:00:00Z')
              : person(input.id, '2024-05-01T00:00:00Z'),
          );
        const complete = results.length === body.inputs.length;
        return [
          complete ? 200 : 207,
          {
            status: 'COMPLETE',
            results,
            ...(complete
              ? {}
              : { errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', context: { ids: ['150'] } }] }),
          },
        ];
      };
    const scope = hubspotApi()
      .post('/crm/v3/objects/companies/batch/read')
      .times(3)
      .reply(reply('companies'))
      .post('/crm/v3/objects/contacts/batch/read')
      .reply(reply('contacts'));
    const ids = [...Array.from({ length: 150 }, (_, index) => `company-${index + 1}`), 'person-1', 'person-2'];
    const records = await connector().batchGet!('contact', ids);
    expect(sizes).toEqual({ companies: [50, 50, 50], contacts: [2] });
    expect(records).toHaveLength(151);
    expect(records.map((record) => record.id)).not.toContain('company-150');
    scope.done();
  });

  it('updates in batches of at most 100 and reports items HubSpot did not find', async () => {
    const sizes: number[] = [];
    const scope = hubspotApi()
      .post('/crm/v3/objects/companies/batch/update')
      .times(2)
      .reply((_uri, body) => {
        const { inputs } = body as { inputs: { id: string; properties: Record<string, string> }[] };
        sizes.push(inputs.length);
        const results = inputs
          .filter((input) => input.id !== '7')
          .map((input) => ({
            id: input.id,
            properties: { ...input.properties, hs_lastmodifieddate: '2024-05-01T00:00:00Z' },
          }));
        const missing = inputs.length - results.length;
        return [
          missing ? 207 : 200,
          {
            status: 'COMPLETE',
            results,
            ...(missing
              ? {
                  errors: [
                    { status: 'error', category: 'OBJECT_NOT_FOUND', message: 'not found', context: { ids: ['7'] } },
                  ],
                }
              : {}),
          },
        ];
      });
    const updates = Array.from({ length: 120 }, (_, index) => ({
      id: `company-${index + 1}`,
      fields: { city: `City ${index + 1}` },
    }));
    const results = await connector().batchUpdate!('contact', [...updates, { id: 'vendor-1', fields: {} }]);
    expect(sizes).toEqual([100, 20]);
    expect(results).toHaveLength(121);
    expect(results[0]).toMatchObject({ id: 'company-1', ok: true, record: { fields: { city: 'City 1' } } });
    expect(results[6]).toMatchObject({ id: 'company-7', ok: false });
    const notFound = results[6]!;
    expect(!notFound.ok && notFound.error).toBeInstanceOf(NotFoundError);
    expect(results[120]).toMatchObject({ id: 'vendor-1', ok: false });
    scope.done();
  });

  it('writes a refused batch one record at a time to find the bad one', async () => {
    const scope = hubspotApi()
      .post('/crm/v3/objects/contacts/batch/update')
      .reply(400, { status: 'error', category: 'VALIDATION_ERROR', message: 'Property values were not valid' })
      .patch('/crm/v3/objects/contacts/1', { properties: { email: 'ok@example.com' } })
      .reply(200, person(1, '2024-05-01T00:00:00Z', { email: 'ok@example.com' }))
      .patch('/crm/v3/objects/contacts/2', { properties: { email: 'not an email' } })
      .reply(400, { status: 'error', category: 'VALIDATION_ERROR', message: 'INVALID_EMAIL' });
    const results = await connector().batchUpdate!('contact', [
      { id: 'person-1', fields: { email: 'ok@example.com' } },
      { id: 'person-2', fields: { email: 'not an email' } },
    ]);
    expect(results.map((result) => [result.id, result.ok])).toEqual([
      ['person-1', true],
      ['person-2', false],
    ]);
    scope.done();
  });

  it('stops a batch update on throttling instead of reporting items as failed', async () => {
    // A wait longer than the client's maxRetryAfterMs goes to the queue at once.
    const scope = hubspotApi().post('/crm/v3/objects/companies/batch/update').reply(429, {}, { 'Retry-After': '60' });
    await expect(
      connector().batchUpdate!('contact', [{ id: 'company-1', fields: { city: 'Ede' } }]),
    ).rejects.toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 60_000 });
    scope.done();
  });

  it('waits out a 429 with Retry-After and then succeeds', async () => {
    const scope = hubspotApi()
      .get('/crm/v3/objects/companies/5')
      .query(true)
      .reply(
        429,
        {
          status: 'error',
          message: 'You have reached your secondly limit.',
          errorType: 'RATE_LIMIT',
          policyName: 'SECONDLY',
        },
        { 'Retry-After': '0' },
      )
      .get('/crm/v3/objects/companies/5')
      .query(true)
      .reply(200, company(5, '2024-05-01T00:00:00Z'));
    expect(await connector().get('contact', 'company-5')).toMatchObject({ id: 'company-5' });
    scope.done();
  });

  it('retries 5xx and succeeds, and gives up with a TransientError', async () => {
    const recovering = hubspotApi()
      .get('/crm/v3/objects/companies/5')
      .query(true)
      .times(2)
      .reply(502, 'Bad Gateway')
      .get('/crm/v3/objects/companies/5')
      .query(true)
      .reply(200, company(5, '2024-05-01T00:00:00Z', { city: 'Delft' }));
    expect(await connector().get('contact', 'company-5')).toMatchObject({ fields: { city: 'Delft' } });
    recovering.done();

    const failing = hubspotApi()
      .get('/crm/v3/objects/companies/5')
      .query(true)
      .times(3)
      .reply(503, { status: 'error', message: 'down' });
    await expect(connector({ attempts: 3 }).get('contact', 'company-5')).rejects.toBeInstanceOf(TransientError);
    failing.done();
  });

  it('sends an update once: a 5xx or a 429 goes back to the write queue, which compares again before retrying', async () => {
    const scope = hubspotApi()
      .patch('/crm/v3/objects/companies/5', { properties: { city: 'Delft' } })
      .reply(502, 'Bad Gateway')
      .patch('/crm/v3/objects/companies/5', { properties: { city: 'Delft' } })
      .reply(429, { status: 'error', message: 'You have reached your secondly limit.' }, { 'Retry-After': '0' });
    const write = { id: 'company-5', fields: { city: 'Delft' } };
    await expect(connector().update!('contact', write)).rejects.toBeInstanceOf(TransientError);
    await expect(connector().update!('contact', write)).rejects.toBeInstanceOf(RateLimitedError);
    scope.done();
  });

  it('returns null for a 404 on get and throws NotFoundError on update', async () => {
    const notFound = { status: 'error', message: 'Object not found.', category: 'OBJECT_NOT_FOUND' };
    const scope = hubspotApi()
      .get('/crm/v3/objects/contacts/404')
      .query(true)
      .reply(404, notFound)
      .patch('/crm/v3/objects/contacts/404')
      .reply(404, notFound);
    expect(await connector().get('contact', 'person-404')).toBeNull();
    await expect(connector().update!('contact', { id: 'person-404', fields: { phone: '1' } })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    scope.done();
  });

  it('throws InvalidResponseError on a body outside the documented schema', async () => {
    // Answers HubSpot's models do not allow, on purpose: not watched.
    const scope = nock(API)
      .get('/crm/v3/objects/companies/5')
      .query(true)
      .reply(200, { id: 5, props: {} })
      .post('/crm/v3/objects/companies/search')
      .reply(200, { results: 'none' });
    await expect(connector().get('contact', 'company-5')).rejects.toBeInstanceOf(InvalidResponseError);
    await expect(drain(connector().listChanged!('contact', null))).rejects.toBeInstanceOf(InvalidResponseError);
    scope.done();
  });

  it('finds the record a previous attempt created instead of creating it twice', async () => {
    const scope = hubspotApi()
      .post(
        '/crm/v3/objects/companies/search',
        (body: { filterGroups: { filters: { propertyName: string; value: string }[] }[] }) => {
          const filter = body.filterGroups[0]?.filters[0];
          return filter?.propertyName === 'tandem_idempotency_key' && filter.value === 'key-1';
        },
      )
      .reply(200, { total: 1, results: [company(42, '2024-05-01T00:00:00Z', { tandem_idempotency_key: 'key-1' })] });
    const record = await connector().create!(
      'contact',
      { name: 'Whitfield & Hale Retail Ltd' },
      { idempotencyKey: 'key-1' },
    );
    expect(record.id).toBe('company-42');
    scope.done();
  });

  it('creates a person with the idempotency key and its company association', async () => {
    const scope = hubspotApi()
      .post('/crm/v3/objects/contacts/search')
      .reply(200, emptySearch)
      .post('/crm/v3/objects/contacts', {
        properties: {
          firstname: 'Eleanor',
          lastname: 'Hale',
          email: 'eleanor@whitfieldhale.example',
          tandem_idempotency_key: 'key-2',
        },
        associations: [
          { to: { id: '501' }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 1 }] },
        ],
      })
      .reply(
        201,
        person(90, '2024-05-01T00:00:00Z', {
          firstname: 'Eleanor',
          lastname: 'Hale',
          email: 'eleanor@whitfieldhale.example',
        }),
      );
    const record = await connector().create!(
      'contact',
      { name: 'Eleanor Hale', email: 'eleanor@whitfieldhale.example', phone: null },
      { idempotencyKey: 'key-2', extra: { type: 'person', companyId: 'company-501' } },
    );
    expect(record).toMatchObject({
      id: 'person-90',
      type: 'person',
      companyId: 'company-501',
      fields: { name: 'Eleanor Hale' },
    });
    scope.done();
  });

  it('refuses ids and entities that are not HubSpot contacts', async () => {
    await expect(connector().get('contact', 'customer-1')).rejects.toThrow(/not a HubSpot contact id/);
    await expect(connector().get('customer', 'company-1')).rejects.toThrow(
      new EntityNotServedError('crm', 'customer', ['contact']),
    );
  });
});
