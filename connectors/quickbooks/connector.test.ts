/**
 * The QuickBooks connector against nock. Every request body it sends and every answer it parses
 * here is checked against Intuit's entity manifest (test/support/quickbooks/qbo-nock.ts).
 */
import nock from 'nock';
import { qboNock, QBO_ORIGIN, type QboNock } from '../../test/support/quickbooks/qbo-nock';
import { NotFoundError, PreconditionFailedError, RateLimitedError } from '../kit/errors';
import type { ChangedPage, Connector } from '../kit/types';
import { DuplicateDisplayNameError } from './client';
import { createQuickBooksConnector } from './connector';

const REALM = '4620816365171234567';
const TOKEN_URL = 'https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer';

function customer(id: string, lastUpdated: string, extra: Record<string, unknown> = {}) {
  return {
    Id: id,
    SyncToken: '4',
    MetaData: { CreateTime: '2026-11-01T08:00:00-08:00', LastUpdatedTime: lastUpdated },
    DisplayName: `Customer ${id}`,
    Active: true,
    PrimaryPhone: { FreeFormNumber: '(650) 555-1212' },
    BillAddr: {
      Id: '7',
      Line1: '12 Ocean Dr.',
      City: 'Half Moon Bay',
      CountrySubDivisionCode: 'CA',
      PostalCode: '94213',
    },
    ...extra,
  };
}
const fault = (code: string, message: string, detail = message) => ({
  Fault: { Error: [{ Message: message, Detail: detail, code, element: '' }], type: 'ValidationFault' },
  time: '2026-12-06T10:00:00.000-08:00',
});

let api: QboNock;
let saved: string[];
let connector: Connector;

beforeAll(() => {
  nock.disableNetConnect();
});
afterAll(() => nock.enableNetConnect());

beforeEach(() => {
  nock.cleanAll();
  saved = [];
  nock(new URL(TOKEN_URL).origin)
    .post(new URL(TOKEN_URL).pathname, (body: Record<string, string>) => body.refresh_token === 'stored-refresh')
    .basicAuth({ user: 'client', pass: 'secret' })
    .reply(200, { access_token: 'access-1', token_type: 'bearer', expires_in: 3600, refresh_token: 'rotated-refresh' });
  api = qboNock(REALM);
  connector = createQuickBooksConnector({
    name: 'accounting',
    realmId: REALM,
    // The refresh token an earlier run kept wins over the config's.
    storedSecrets: { refreshToken: 'stored-refresh' },
    auth: { clientId: 'client', clientSecret: 'secret', refreshToken: 'config-refresh' },
    saveSecret: async (name, value) => {
      saved.push(`${name}=${value}`);
      await Promise.resolve();
    },
    retry: { baseDelayMs: 1, attempts: 2 },
    readWindowMs: 0,
  });
});

describe('the QuickBooks connector', () => {
  test('reads with the pinned minorversion, a bearer from the stored refresh token, and keeps the rotated one', async () => {
    api.intercept('GET', '/customer/58').reply(200, {
      Customer: customer('58', '2026-12-01T10:15:30-08:00'),
      time: '2026-12-06T10:00:00.000-08:00',
    });
    const record = await connector.get('customer', '58');
    expect(record).toMatchObject({ id: '58', version: '4', fields: { city: 'Half Moon Bay', county: 'CA' } });
    expect(api.requests[0]?.query.get('minorversion')).toBe('75');
    expect(saved).toEqual(['refreshToken=rotated-refresh']);
    api.done();
  });

  test('an unknown id (Fault 610) reads as null, and its update as NotFoundError', async () => {
    api.intercept('GET', '/vendor/404', 2).reply(400, fault('610', 'Object Not Found'));
    expect(await connector.get('vendor', '404')).toBeNull();
    await expect(connector.update!('vendor', { id: '404', fields: { phone: '1' } })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    api.done();
  });

  test('an update is sparse, carries the SyncToken, writes BillAddr whole; a stale SyncToken is PreconditionFailedError', async () => {
    api.intercept('GET', '/customer/58', 2).reply(200, { Customer: customer('58', '2026-12-01T10:15:30-08:00') });
    api.intercept('POST', '/customer').reply(200, {
      Customer: customer('58', '2026-12-01T10:16:00-08:00', { SyncToken: '5', BillAddr: { City: 'Pacifica' } }),
    });
    const written = await connector.update!('customer', { id: '58', fields: { city: 'Pacifica' }, ifMatch: '4' });
    expect(written).toMatchObject({ version: '5', fields: { city: 'Pacifica' } });
    const [, update] = api.requests;
    expect(update?.query.get('operation')).toBe('update');
    expect(update?.body).toEqual({
      Id: '58',
      SyncToken: '4',
      sparse: true,
      BillAddr: { Id: '7', Line1: '12 Ocean Dr.', City: 'Pacifica', CountrySubDivisionCode: 'CA', PostalCode: '94213' },
    });
    // Planned against SyncToken 3, the record is at 4: refused before anything is written.
    await expect(
      connector.update!('customer', { id: '58', fields: { phone: '2' }, ifMatch: '3' }),
    ).rejects.toBeInstanceOf(PreconditionFailedError);
    api.done();
  });

  test('QBO refusing a stale SyncToken (5010) is PreconditionFailedError', async () => {
    api.intercept('GET', '/customer/58').reply(200, { Customer: customer('58', '2026-12-01T10:15:30-08:00') });
    api.intercept('POST', '/customer').reply(400, fault('5010', 'Stale Object Error'));
    await expect(connector.update!('customer', { id: '58', fields: { phone: '3' } })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    api.done();
  });

  test('a DisplayName another customer, vendor or employee has (6240) is a clear error, never a rename', async () => {
    api
      .intercept('POST', '/vendor')
      .reply(
        400,
        fault(
          '6240',
          'Duplicate Name Exists Error',
          'The name supplied already exists. : Another customer, vendor or employee is already using this name.',
        ),
      );
    const creating = connector.create!('vendor', { name: 'Brenner Werkzeugbau' }, { idempotencyKey: 'k-1' });
    await expect(creating).rejects.toBeInstanceOf(DuplicateDisplayNameError);
    await expect(creating).rejects.toThrow(/'Brenner Werkzeugbau' is already used .* Rename one of them/);
    const [create] = api.requests;
    expect(create?.body).toEqual({ CompanyName: 'Brenner Werkzeugbau', DisplayName: 'Brenner Werkzeugbau' });
    expect(create?.query.get('requestid')).toMatch(/^tandem-[0-9a-f]{32}$/);
    api.done();
  });

  test('search sends the longest word in a like pattern, a quote escaped as QBO documents', async () => {
    api.intercept('GET', '/query').reply(200, {
      QueryResponse: { Customer: [customer('61', '2026-12-01T10:15:30-08:00', { DisplayName: "O'Brien Traders" })] },
    });
    const found = await connector.search!('customer', "o'brien traders", 5);
    expect(found.map((record) => record.id)).toEqual(['61']);
    expect(api.requests[0]?.query.get('query')).toBe(
      "select * from Customer where DisplayName like '%o\\'brien%' maxresults 20",
    );
    api.done();
  });

  test('polls by CDC within 30 days, and by query from the start or after a full CDC answer', async () => {
    const cursor = JSON.stringify({
      since: new Date(Date.now() - 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      seen: {},
    });
    const changedAt = new Date(Date.now() - 60_000).toISOString();
    api.intercept('GET', '/cdc').reply(200, {
      CDCResponse: [{ QueryResponse: [{ Customer: [customer('58', changedAt, { Active: false })] }] }],
      time: changedAt,
    });
    const pages: ChangedPage[] = [];
    for await (const page of connector.listChanged!('customer', cursor)) pages.push(page);
    expect(
      pages.map((page) => page.records.map((record) => [record.id, 'archived' in record && record.archived])),
    ).toEqual([[['58', true]]]);
    expect(api.requests[0]?.query.get('entities')).toBe('Customer');

    const full = Array.from({ length: 1000 }, (_, index) => customer(String(index + 1), changedAt));
    api.intercept('GET', '/cdc').reply(200, { CDCResponse: [{ QueryResponse: [{ Customer: full }] }] });
    api.intercept('GET', '/query').reply(200, { QueryResponse: { Customer: [customer('59', changedAt)] } });
    const fallback: ChangedPage[] = [];
    for await (const page of connector.listChanged!('customer', cursor)) fallback.push(page);
    expect(fallback.flatMap((page) => page.records.map((record) => record.id))).toEqual(['59']);
    expect(api.requests.at(-1)?.query.get('query')).toMatch(
      /^select \* from Customer where MetaData\.LastUpdatedTime >= '.+Z' and Active in \(true, false\) orderby MetaData\.LastUpdatedTime startposition 1 maxresults 1000$/,
    );
    api.done();
  });

  test('a deletion CDC reports is handed on once: the cursor moves past it', async () => {
    const cursor = JSON.stringify({
      since: new Date(Date.now() - 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      seen: {},
    });
    const deletedAt = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const answer = {
      CDCResponse: [
        {
          QueryResponse: [
            { Customer: [{ Id: '77', status: 'Deleted', domain: 'QBO', MetaData: { LastUpdatedTime: deletedAt } }] },
          ],
        },
      ],
    };
    api.intercept('GET', '/cdc', 2).reply(200, answer);
    const poll = async (from: string) => {
      const pages: ChangedPage[] = [];
      for await (const page of connector.listChanged!('customer', from)) pages.push(page);
      return pages;
    };
    const [first] = await poll(cursor);
    expect(first?.deleted).toEqual(['77']);
    const [second] = await poll(first?.cursor ?? '');
    expect(second?.deleted).toBeUndefined();
    expect(second?.cursor).toBe(first?.cursor);
    api.done();
  });

  test('a batch update reads the SyncTokens in one query and writes in one batch; each item fails on its own', async () => {
    api.intercept('GET', '/query').reply(200, {
      QueryResponse: {
        Customer: [customer('58', '2026-12-01T10:15:30-08:00'), customer('59', '2026-12-01T10:15:30-08:00')],
      },
    });
    api.intercept('POST', '/batch').reply(200, {
      BatchItemResponse: [
        {
          bId: '0',
          Customer: customer('58', '2026-12-01T10:20:00-08:00', {
            SyncToken: '5',
            PrimaryPhone: { FreeFormNumber: '1' },
          }),
        },
        { bId: '1', Fault: fault('5010', 'Stale Object Error').Fault },
      ],
    });
    const results = await connector.batchUpdate!('customer', [
      { id: '58', fields: { phone: '1' } },
      { id: '59', fields: { phone: '2' } },
      { id: '60', fields: { phone: '3' } },
    ]);
    expect(results.map((result) => [result.id, result.ok, result.ok ? null : result.error.constructor.name])).toEqual([
      ['58', true, null],
      ['59', false, 'PreconditionFailedError'],
      ['60', false, 'NotFoundError'],
    ]);
    const batch = api.requests.at(-1)?.body as { BatchItemRequest: unknown[] };
    expect(batch.BatchItemRequest).toEqual([
      {
        bId: '0',
        operation: 'update',
        Customer: { Id: '58', SyncToken: '4', sparse: true, PrimaryPhone: { FreeFormNumber: '1' } },
      },
      {
        bId: '1',
        operation: 'update',
        Customer: { Id: '59', SyncToken: '4', sparse: true, PrimaryPhone: { FreeFormNumber: '2' } },
      },
    ]);
    api.done();
  });

  test('a 429 that outlives the retries goes back to the queue for the 60 s Intuit asks for', async () => {
    api.intercept('GET', '/customer/58', 2).reply(429, {
      Fault: {
        Error: [
          {
            Message: 'message=ThrottleExceeded; errorCode=003001; statusCode=429',
            Detail: 'The request limit was reached.',
            code: '3001',
          },
        ],
        type: 'SERVICE',
      },
    });
    const reading = connector.get('customer', '58');
    await expect(reading).rejects.toBeInstanceOf(RateLimitedError);
    await expect(reading).rejects.toMatchObject({ retryAfterMs: 60_000 });
    api.done();
  });

  test('a bank account is an Account of type Bank: another type reads as null', async () => {
    api.intercept('GET', '/account/35').reply(200, {
      Account: {
        Id: '35',
        SyncToken: '0',
        MetaData: { LastUpdatedTime: '2026-12-01T10:15:30-08:00' },
        Name: 'Sales',
        AccountType: 'Income',
      },
    });
    expect(await connector.get('bankAccount', '35')).toBeNull();
    await expect(connector.get('bankAccount', 'not-a-number')).rejects.toThrow(/not a QuickBooks id/);
    api.done();
  });
});

test('the nock helper itself fails on a request body Intuit does not allow', async () => {
  nock.cleanAll();
  const scope = qboNock(REALM);
  scope.intercept('POST', '/customer').reply(200, { Customer: customer('1', '2026-12-01T10:15:30-08:00') });
  await fetch(`${QBO_ORIGIN}/v3/company/${REALM}/customer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ DisplayName: 'x', Email: 'a@b.example', BillAddr: 'Main St' }),
  });
  expect(() => scope.done()).toThrow(/Customer\.Email: not in the schema[\s\S]*Customer\.BillAddr: expected an object/);
});

test('batch requests keep to 40 a minute besides the 10 a second of every request', async () => {
  nock.cleanAll();
  nock(new URL(TOKEN_URL).origin)
    .post(new URL(TOKEN_URL).pathname)
    .reply(200, { access_token: 'a', expires_in: 3600, refresh_token: 'r' });
  let now = Date.parse('2026-12-06T10:00:00Z');
  const slept: number[] = [];
  const paced = createQuickBooksConnector({
    name: 'accounting',
    realmId: REALM,
    auth: { clientId: 'client', clientSecret: 'secret', refreshToken: 'r0' },
    limiterClock: {
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
        await Promise.resolve();
      },
    },
    readWindowMs: 0,
  });
  const scope = qboNock(REALM);
  scope
    .intercept('GET', '/query', 41)
    .reply(200, { QueryResponse: { Customer: [customer('58', '2026-12-01T10:15:30-08:00')] } });
  scope.intercept('POST', '/batch', 41).reply(200, {
    BatchItemResponse: [{ bId: '0', Customer: customer('58', '2026-12-01T10:20:00-08:00') }],
  });
  for (let call = 0; call < 41; call++)
    await paced.batchUpdate!('customer', [{ id: '58', fields: { phone: String(call) } }]);
  scope.done();
  // 82 requests at 10 a second take about 8 s; the 41st batch waits for the first to leave its minute.
  expect(Math.max(...slept)).toBeGreaterThan(40_000);
  expect(now - Date.parse('2026-12-06T10:00:00Z')).toBeGreaterThanOrEqual(60_000);
});
