import nock from 'nock';
import { InvalidResponseError, PreconditionFailedError, TransientError } from '../kit/errors';
import type { ChangedPage, Connector } from '../kit/types';
import {
  API,
  HOST,
  COMPANY,
  LOGIN,
  TOKEN_PATH,
  tenantConnector,
  tenantApi,
} from '../../test/support/business-central/nock-tenant';

// Every body the connector sends and every canned answer are held to the APIV2 manifest.
const manifestViolations: string[] = [];
const bcApi = (options?: nock.Options) => tenantApi(manifestViolations, options);
afterEach(() => expect(manifestViolations.splice(0)).toEqual([]));

const CUSTOMERS = `${API}/companies(${COMPANY})/customers`;
const C1 = '130bbd17-dbb9-4790-9b12-2b0e9c9d22c3';
const C2 = '4b4f31f0-dc1c-4033-b2aa-ab03ca1d6ebc';
const PAYMENT_TERMS = '3bb5b4b6-ea4c-43ca-ba1c-3b69e29a6668';

function customer(id: string, modified: string, extra: Record<string, unknown> = {}) {
  return {
    '@odata.etag': `W/"etag-${id.slice(0, 4)}-${modified}"`,
    id,
    number: 'C00010',
    displayName: 'Adatum Corporation',
    email: '',
    lastModifiedDateTime: modified,
    ...extra,
  };
}

const connector = (): Connector => tenantConnector();

async function collect(pages: AsyncIterable<ChangedPage>): Promise<ChangedPage[]> {
  const result: ChangedPage[] = [];
  for await (const page of pages) result.push(page);
  return result;
}

let token: nock.Scope;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
beforeEach(() => {
  token = nock(LOGIN).post(TOKEN_PATH).reply(200, { expires_in: 3599, access_token: 'bc-token' });
});
afterEach(() => {
  try {
    token.done();
  } finally {
    nock.cleanAll();
  }
});
afterAll(() => nock.enableNetConnect());

describe('listChanged', () => {
  it('filters by the cursor, follows @odata.nextLink and advances the cursor', async () => {
    const api = bcApi({ reqheaders: { authorization: 'Bearer bc-token' } })
      .get(CUSTOMERS)
      .query({ $filter: 'lastModifiedDateTime gt 2024-05-01T00:00:00.000Z', $orderby: 'lastModifiedDateTime asc' })
      .reply(200, {
        value: [customer(C1, '2024-05-02T10:00:00Z'), customer(C2, '2024-05-03T10:00:00Z')],
        '@odata.nextLink': `${HOST}${CUSTOMERS}?$skiptoken=2`,
      })
      .get(CUSTOMERS)
      .query({ $skiptoken: '2' })
      .reply(200, { value: [customer(C1, '2024-05-04T09:30:00.250Z')] });
    const pages = await collect(connector().listChanged!('customer', '2024-05-01T00:00:00Z'));
    expect(pages.map((page) => page.records.length)).toEqual([2, 1]);
    // The first page stops 1 ms below its last timestamp: a record sharing it may be on page two.
    expect(pages.map((page) => page.cursor)).toEqual(['2024-05-03T09:59:59.999Z', '2024-05-04T09:30:00.250Z']);
    expect(pages[0]!.records[0]).toMatchObject({
      entity: 'customer',
      id: C1,
      number: 'C00010',
      fields: { name: 'Adatum Corporation', email: null },
      version: 'W/"etag-130b-2024-05-02T10:00:00Z"',
    });
    api.done();
  });

  it('reads everything without a filter when there is no cursor', async () => {
    const api = bcApi()
      .get(CUSTOMERS)
      .query({ $orderby: 'lastModifiedDateTime asc' })
      .times(2)
      .reply(200, { value: [] });
    const bc = connector();
    const pages = await collect(bc.listChanged!('customer', null));
    expect(pages).toEqual([{ records: [], cursor: '' }]);
    // The empty cursor saved from that page means "from the start" again.
    await collect(bc.listChanged!('customer', pages[0]!.cursor));
    api.done();
  });

  it('rejects a page that breaks the schema', async () => {
    const api = bcApi()
      .get(CUSTOMERS)
      .query(true)
      .reply(200, { value: [{ displayName: 'no id' }] });
    await expect(collect(connector().listChanged!('customer', null))).rejects.toBeInstanceOf(InvalidResponseError);
    api.done();
  });
});

describe('retries', () => {
  it('waits out a 429 with Retry-After, then succeeds', async () => {
    const api = bcApi()
      .get(`${CUSTOMERS}(${C1})`)
      .reply(429, { error: { code: 'Application_TooManyRequests', message: 'slow down' } }, { 'Retry-After': '0' })
      .get(`${CUSTOMERS}(${C1})`)
      .reply(200, customer(C1, '2024-05-02T10:00:00Z'));
    expect((await connector().get('customer', C1))?.id).toBe(C1);
    api.done();
  });

  it('retries a 5xx, then gives up with TransientError', async () => {
    const recovering = bcApi()
      .get(`${CUSTOMERS}(${C1})`)
      .reply(503)
      .get(`${CUSTOMERS}(${C1})`)
      .reply(200, customer(C1, '2024-05-02T10:00:00Z'));
    const bc = connector();
    expect((await bc.get('customer', C1))?.id).toBe(C1);
    recovering.done();

    const failing = bcApi()
      .get(`${CUSTOMERS}(${C2})`)
      .times(4)
      .reply(500, { error: { code: 'Internal_ServerError', message: 'boom' } });
    await expect(bc.get('customer', C2)).rejects.toBeInstanceOf(TransientError);
    failing.done();
  });

  it('fetches a new token after a 401 and repeats the call', async () => {
    const again = nock(LOGIN).post(TOKEN_PATH).reply(200, { expires_in: 3599, access_token: 'bc-token-2' });
    const api = bcApi()
      .get(`${CUSTOMERS}(${C1})`)
      .matchHeader('authorization', 'Bearer bc-token')
      .reply(401)
      .get(`${CUSTOMERS}(${C1})`)
      .matchHeader('authorization', 'Bearer bc-token-2')
      .reply(200, customer(C1, '2024-05-02T10:00:00Z'));
    expect((await connector().get('customer', C1))?.id).toBe(C1);
    api.done();
    again.done();
  });

  it('answers null for a record BC does not have', async () => {
    const api = bcApi()
      .get(`${CUSTOMERS}(${C1})`)
      .reply(404, { error: { code: 'BadRequest_NotFound', message: 'gone' } });
    expect(await connector().get('customer', C1)).toBeNull();
    api.done();
  });
});

describe('writes', () => {
  it('PATCHes with If-Match and maps null to an empty string', async () => {
    const api = bcApi()
      .patch(`${CUSTOMERS}(${C1})`, { displayName: 'Adatum Corp.', email: '' })
      .matchHeader('if-match', 'W/"planned"')
      .reply(200, customer(C1, '2024-05-05T00:00:00Z', { displayName: 'Adatum Corp.' }));
    const record = await connector().update!('customer', {
      id: C1,
      fields: { name: 'Adatum Corp.', email: null },
      ifMatch: 'W/"planned"',
    });
    expect(record.fields).toMatchObject({ name: 'Adatum Corp.', email: null });
    api.done();
  });

  it('reads the current etag first when the update has none', async () => {
    const api = bcApi()
      .get(`${CUSTOMERS}(${C1})`)
      .reply(200, { ...customer(C1, '2024-05-02T10:00:00Z'), '@odata.etag': 'W/"current"' })
      .patch(`${CUSTOMERS}(${C1})`)
      .matchHeader('if-match', 'W/"current"')
      .reply(200, customer(C1, '2024-05-05T00:00:00Z'));
    await connector().update!('customer', { id: C1, fields: { city: 'Seattle' } });
    api.done();
  });

  it('surfaces a 412 as PreconditionFailedError without retrying', async () => {
    const api = bcApi()
      .patch(`${CUSTOMERS}(${C1})`)
      .once()
      .reply(412, {
        error: { code: 'Request_EntityChanged', message: 'Another user has already changed the record.' },
      });
    await expect(
      connector().update!('customer', { id: C1, fields: { city: 'Seattle' }, ifMatch: 'W/"old"' }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    api.done();
  });

  it('sends one $batch and reports each item', async () => {
    let sent: unknown;
    const api = bcApi()
      .post(`${API}/$batch`, (body: unknown) => {
        sent = body;
        return true;
      })
      .reply(200, {
        responses: [
          { id: '0', status: 200, headers: {}, body: customer(C1, '2024-05-05T00:00:00Z', { city: 'Oslo' }) },
          {
            id: '1',
            status: 412,
            headers: {},
            body: { error: { code: 'Request_EntityChanged', message: 'Another user has already changed the record.' } },
          },
        ],
      });
    const results = await connector().batchUpdate!('customer', [
      { id: C1, fields: { city: 'Oslo' }, ifMatch: 'W/"a"' },
      { id: C2, fields: { city: 'Bergen' }, ifMatch: 'W/"b"' },
    ]);
    expect(sent).toEqual({
      requests: [
        {
          method: 'PATCH',
          id: '0',
          url: `companies(${COMPANY})/customers(${C1})`,
          headers: { 'Content-Type': 'application/json', 'If-Match': 'W/"a"' },
          body: { city: 'Oslo' },
        },
        {
          method: 'PATCH',
          id: '1',
          url: `companies(${COMPANY})/customers(${C2})`,
          headers: { 'Content-Type': 'application/json', 'If-Match': 'W/"b"' },
          body: { city: 'Bergen' },
        },
      ],
    });
    expect(results[0]).toMatchObject({ id: C1, ok: true, record: { fields: { city: 'Oslo' } } });
    expect(results[1]).toMatchObject({ id: C2, ok: false });
    const stale = results[1];
    expect(stale && !stale.ok && stale.error).toBeInstanceOf(PreconditionFailedError);
    api.done();
  });

  it('splits batches at 100 operations', async () => {
    const updates = Array.from({ length: 150 }, (_, index) => ({
      id: `00000000-0000-0000-0000-${String(index).padStart(12, '0')}`,
      fields: { city: 'Oslo' },
      ifMatch: 'W/"x"',
    }));
    const sizes: number[] = [];
    const api = bcApi()
      .post(`${API}/$batch`)
      .times(2)
      .reply(200, (_uri, body) => {
        const requests = (body as { requests: Array<{ id: string; url: string }> }).requests;
        sizes.push(requests.length);
        return { responses: requests.map((request) => ({ id: request.id, status: 412 })) };
      });
    const results = await connector().batchUpdate!('customer', updates);
    expect(sizes).toEqual([100, 50]);
    expect(results).toHaveLength(150);
    expect(results.every((result) => !result.ok)).toBe(true);
    api.done();
  });

  it('creates with template values and looks up a chosen number first', async () => {
    const api = bcApi()
      .get(CUSTOMERS)
      .query({ $filter: "number eq 'WEB-0042'" })
      .reply(200, { value: [] })
      .post(CUSTOMERS, { number: 'WEB-0042', paymentTermsId: PAYMENT_TERMS, displayName: 'Fabrikam' })
      .reply(201, customer(C2, '2024-05-05T00:00:00Z', { number: 'WEB-0042', displayName: 'Fabrikam' }));
    const record = await connector().create!(
      'customer',
      { name: 'Fabrikam' },
      { idempotencyKey: 'ignored', extra: { number: 'WEB-0042', paymentTermsId: PAYMENT_TERMS } },
    );
    expect(record).toMatchObject({ id: C2, number: 'WEB-0042' });
    api.done();
  });

  it('reads several records with one $batch of GETs, leaving out the missing', async () => {
    let sent: unknown;
    const api = bcApi()
      .post(`${API}/$batch`, (body: unknown) => {
        sent = body;
        return true;
      })
      .reply(200, {
        responses: [
          { id: '0', status: 200, headers: {}, body: customer(C1, '2024-05-02T10:00:00Z') },
          { id: '1', status: 404, headers: {}, body: { error: { code: 'BadRequest_NotFound', message: 'gone' } } },
        ],
      });
    const records = await connector().batchGet!('customer', [C1, C2]);
    expect(records.map((record) => record.id)).toEqual([C1]);
    expect(sent).toEqual({
      requests: [
        { method: 'GET', id: '0', url: `companies(${COMPANY})/customers(${C1})` },
        { method: 'GET', id: '1', url: `companies(${COMPANY})/customers(${C2})` },
      ],
    });
    api.done();
  });

  it('fails a batch read whose item was throttled, as the GET alone would', async () => {
    bcApi()
      .post(`${API}/$batch`)
      .reply(200, {
        responses: [
          { id: '0', status: 200, headers: {}, body: customer(C1, '2024-05-02T10:00:00Z') },
          { id: '1', status: 429, headers: { 'Retry-After': '7' }, body: {} },
        ],
      });
    await expect(connector().batchGet!('customer', [C1, C2])).rejects.toMatchObject({ retryAfterMs: 7000 });
  });
});
