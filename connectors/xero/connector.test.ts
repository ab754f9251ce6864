/**
 * The Xero connector against nock. Every request it sends and every answer it parses here is
 * checked against Xero's OpenAPI document (test/support/xero/xero-nock.ts).
 */
import { longestWord } from '../kit/search';
import nock from 'nock';
import { InvalidRequestError, NotFoundError, RateLimitedError, TransientError } from '../kit/errors';
import type { ChangedPage, Connector } from '../kit/types';
import { createXeroConnector, type XeroConnectorOptions } from './connector';
import { xeroInfo } from './mappers';
import { xeroNock, type XeroNock } from '../../test/support/xero/xero-nock';

const IDENTITY = 'https://identity.xero.com';
const TENANT = '70784a63-d24b-46a9-a4db-0e70a274b056';
const C1 = '5cc8cf28-567e-4d43-b287-687cfcaec47c';
const C2 = '3ec601ad-eddc-4ccb-a8ac-736e88293b1b';
const C3 = '9b9ba9e5-e907-4b4e-8210-54d82b0aa479';
const BANK = 'ebd06280-af70-4bed-97c6-7451a454ad85';
const MAY_2 = Date.parse('2024-05-02T10:00:00Z');

const msDate = (ms: number) => `/Date(${ms}+0000)/`;

function contact(id: string, updated: number, extra: Record<string, unknown> = {}) {
  return {
    ContactID: id,
    ContactStatus: 'ACTIVE',
    Name: `Contact ${id.slice(0, 4)}`,
    EmailAddress: 'ap@example.com',
    IsCustomer: true,
    IsSupplier: false,
    Phones: [{ PhoneType: 'DEFAULT', PhoneNumber: '847-1294', PhoneAreaCode: '626', PhoneCountryCode: '1' }],
    Addresses: [
      {
        AddressType: 'POBOX',
        AddressLine1: 'PO Box 12',
        City: 'Palo Alto',
        Region: 'CA',
        PostalCode: '94020',
        Country: 'United States',
      },
    ],
    UpdatedDateUTC: msDate(updated),
    ...extra,
  };
}

function bankAccount(id: string, updated: number, extra: Record<string, unknown> = {}) {
  return {
    AccountID: id,
    Code: '090',
    Name: 'Business Bank Account',
    Type: 'BANK',
    Status: 'ACTIVE',
    BankAccountNumber: '0209087654321050',
    CurrencyCode: 'NZD',
    UpdatedDateUTC: msDate(updated),
    ...extra,
  };
}

function connector(overrides: Partial<XeroConnectorOptions> = {}): Connector {
  return createXeroConnector({
    name: 'accounting',
    tenantId: TENANT,
    auth: { clientId: 'client', clientSecret: 'secret', refreshToken: 'refresh-1' },
    retry: { baseDelayMs: 1 },
    ...overrides,
  });
}

function tokenEndpoint(from = 'refresh-1', to = 'refresh-2', access = 'access-1') {
  return nock(IDENTITY)
    .post(
      '/connect/token',
      (body: Record<string, string>) => body.grant_type === 'refresh_token' && body.refresh_token === from,
    )
    .basicAuth({ user: 'client', pass: 'secret' })
    .reply(200, { access_token: access, refresh_token: to, expires_in: 1800, token_type: 'Bearer' });
}

async function collect(pages: AsyncIterable<ChangedPage>): Promise<ChangedPage[]> {
  const result: ChangedPage[] = [];
  for await (const page of pages) result.push(page);
  return result;
}

let xero: XeroNock;
beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
beforeEach(() => {
  xero = xeroNock();
});
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('auth', () => {
  it('refreshes with the refresh token, hands the rotated one over, and sends the tenant header on every call', async () => {
    const rotated: string[] = [];
    const token = tokenEndpoint();
    xero
      .intercept('GET', `/Contacts/${C1}`, { headers: { authorization: 'Bearer access-1', 'xero-tenant-id': TENANT } })
      .reply(200, { Contacts: [contact(C1, MAY_2)] })
      .intercept('GET', `/Contacts/${C2}`, { headers: { authorization: 'Bearer access-1', 'xero-tenant-id': TENANT } })
      .reply(200, { Contacts: [contact(C2, MAY_2)] });
    const accounting = connector({
      auth: {
        clientId: 'client',
        clientSecret: 'secret',
        refreshToken: 'refresh-1',
        onRefreshToken: (next) => void rotated.push(next),
      },
    });
    await accounting.get('customer', C1);
    await accounting.get('customer', C2);
    expect(rotated).toEqual(['refresh-2']);
    token.done();
    xero.done();
  });

  it('after a 401 refreshes again with the rotated token and repeats the call', async () => {
    const rotated: string[] = [];
    const first = tokenEndpoint('refresh-1', 'refresh-2', 'access-1');
    const second = tokenEndpoint('refresh-2', 'refresh-3', 'access-2');
    xero
      .intercept('GET', `/Contacts/${C1}`, { headers: { authorization: 'Bearer access-1' } })
      .reply(401)
      .intercept('GET', `/Contacts/${C1}`, { headers: { authorization: 'Bearer access-2' } })
      .reply(200, { Contacts: [contact(C1, MAY_2)] });
    const accounting = connector({
      auth: {
        clientId: 'client',
        clientSecret: 'secret',
        refreshToken: 'refresh-1',
        onRefreshToken: (next) => void rotated.push(next),
      },
    });
    expect((await accounting.get('customer', C1))?.id).toBe(C1);
    expect(rotated).toEqual(['refresh-2', 'refresh-3']);
    first.done();
    second.done();
    xero.done();
  });

  it('a refused refresh is an AuthFailedError with the reason', async () => {
    nock(IDENTITY).post('/connect/token').reply(400, { error: 'invalid_grant' });
    await expect(connector().get('customer', C1)).rejects.toThrow(/token request refused: invalid_grant/);
  });
});

describe('listChanged', () => {
  beforeEach(() => tokenEndpoint());

  it('pages with includeArchived, sends If-Modified-Since, and moves the cursor to the highest UpdatedDateUTC', async () => {
    const full = Array.from({ length: 100 }, (_, index) =>
      contact(`00000000-0000-4000-8000-${String(index).padStart(12, '0')}`, MAY_2 + index * 1000),
    );
    xero
      .intercept('GET', '/Contacts', {
        query: { page: 1, includeArchived: true, order: 'UpdatedDateUTC ASC' },
        headers: { 'if-modified-since': '2024-05-01T00:00:00.000Z' },
      })
      .reply(200, { Contacts: full })
      .intercept('GET', '/Contacts', {
        query: { page: 2, includeArchived: true, order: 'UpdatedDateUTC ASC' },
        headers: { 'if-modified-since': '2024-05-01T00:00:00.000Z' },
      })
      .reply(200, { Contacts: [contact(C1, MAY_2 + 500_000)] });
    const pages = await collect(connector().listChanged!('customer', '2024-05-01T00:00:00Z'));
    expect(pages.map((page) => page.records.length)).toEqual([100, 1]);
    // A page that is not the last stops 1 ms below its last timestamp (ties may follow on the next).
    expect(pages.map((page) => page.cursor)).toEqual([
      new Date(MAY_2 + 99_000 - 1).toISOString(),
      new Date(MAY_2 + 500_000).toISOString(),
    ]);
    xero.done();
  });

  it('uses pageCount when Xero reports it, and reads from the start without a cursor', async () => {
    xero
      .intercept('GET', '/Contacts', { query: { page: 1, includeArchived: true, order: 'UpdatedDateUTC ASC' } })
      .reply(200, { pagination: { page: 1, pageSize: 1, pageCount: 2, itemCount: 2 }, Contacts: [contact(C1, MAY_2)] })
      .intercept('GET', '/Contacts', { query: { page: 2, includeArchived: true, order: 'UpdatedDateUTC ASC' } })
      .reply(200, {
        pagination: { page: 2, pageSize: 1, pageCount: 2, itemCount: 2 },
        Contacts: [contact(C2, MAY_2 + 1000)],
      });
    const pages = await collect(connector().listChanged!('customer', null));
    expect(pages.flatMap((page) => page.records.map((record) => record.id))).toEqual([C1, C2]);
    expect(xero.requests.every((request) => request.headers['if-modified-since'] === undefined)).toBe(true);
    xero.done();
  });

  it('drops the record at the cursor itself and reports each contact only under its kinds', async () => {
    const since = new Date(MAY_2).toISOString();
    xero.intercept('GET', '/Contacts', { query: true, times: 2 }).reply(200, {
      Contacts: [
        contact(C1, MAY_2),
        contact(C2, MAY_2 + 1000, { IsCustomer: false, IsSupplier: true }),
        contact(C3, MAY_2 + 2000, { IsCustomer: true, IsSupplier: true }),
      ],
    });
    const accounting = connector();
    const customers = await collect(accounting.listChanged!('customer', since));
    const vendors = await collect(accounting.listChanged!('vendor', since));
    expect(customers[0]!.records.map((record) => record.id)).toEqual([C3]);
    expect(vendors[0]!.records.map((record) => record.id)).toEqual([C2, C3]);
    expect(xeroInfo(vendors[0]!.records[1]!)?.kinds).toEqual(['customer', 'vendor']);
    xero.done();
  });

  it('counts contacts the engine tracks and contacts numbered with the kind prefix', async () => {
    xero.intercept('GET', '/Contacts', { query: true }).reply(200, {
      Contacts: [
        contact(C1, MAY_2, { IsCustomer: false }),
        contact(C2, MAY_2, { IsCustomer: false, ContactNumber: 'C-1A2B3C4D' }),
        contact(C3, MAY_2, { IsCustomer: false }),
      ],
    });
    const tracked = jest.fn(
      async (ids: readonly string[]) => new Map(ids.filter((id) => id === C1).map((id) => [id, ['customer' as const]])),
    );
    const accounting = connector({ contactNumberPrefix: { customer: 'C-' }, relationKinds: tracked });
    const [page] = await collect(accounting.listChanged!('customer', null));
    expect(page!.records.map((record) => record.id)).toEqual([C1, C2]);
    expect(tracked).toHaveBeenCalledWith([C1, C2, C3]);
    xero.done();
  });

  it('reports archived and merged contacts as records, with status and the surviving contact', async () => {
    xero.intercept('GET', '/Contacts', { query: true }).reply(200, {
      Contacts: [
        contact(C1, MAY_2, { ContactStatus: 'ARCHIVED' }),
        contact(C2, MAY_2 + 1000, { ContactStatus: 'ARCHIVED', MergedToContactID: C3 }),
      ],
    });
    const [page] = await collect(connector().listChanged!('customer', null));
    expect(page!.deleted).toBeUndefined();
    expect(page!.records.map((record) => [record.id, xeroInfo(record)?.status, xeroInfo(record)?.mergedInto])).toEqual([
      [C1, 'ARCHIVED', null],
      [C2, 'ARCHIVED', C3],
    ]);
    xero.done();
  });

  it('lists bank accounts with where Type=="BANK" and If-Modified-Since', async () => {
    xero
      .intercept('GET', '/Accounts', {
        query: { where: 'Type=="BANK"', order: 'UpdatedDateUTC ASC' },
        headers: { 'if-modified-since': '2024-05-01T00:00:00.000Z' },
      })
      .reply(200, { Accounts: [bankAccount(BANK, MAY_2)] });
    const [page] = await collect(connector().listChanged!('bankAccount', '2024-05-01T00:00:00.000Z'));
    expect(page).toEqual({
      records: [
        {
          entity: 'bankAccount',
          id: BANK,
          number: '090',
          fields: { name: 'Business Bank Account', bankAccountNo: '0209087654321050', currencyCode: 'NZD' },
          modifiedAt: '2024-05-02T10:00:00.000Z',
          xero: { status: 'ACTIVE', mergedInto: null, kinds: ['bankAccount'] },
        },
      ],
      cursor: '2024-05-02T10:00:00.000Z',
    });
    xero.done();
  });
});

describe('reads', () => {
  beforeEach(() => tokenEndpoint());

  it('get maps a contact; an unknown id is null; a merged contact names its survivor', async () => {
    xero
      .intercept('GET', `/Contacts/${C1}`)
      .reply(200, {
        Contacts: [contact(C1, MAY_2, { ContactStatus: 'ARCHIVED', MergedToContactID: C2, IsCustomer: false })],
      })
      .intercept('GET', `/Contacts/${C3}`)
      .reply(404, "The resource you're looking for cannot be found");
    const accounting = connector();
    const merged = await accounting.get('customer', C1);
    expect(merged).toMatchObject({
      entity: 'customer',
      id: C1,
      fields: { name: 'Contact 5cc8', phone: '1 626 847-1294', city: 'Palo Alto' },
    });
    expect(xeroInfo(merged!)).toEqual({ status: 'ARCHIVED', mergedInto: C2, kinds: [] });
    expect(await accounting.get('customer', C3)).toBeNull();
    xero.done();
  });

  it('batchGet reads contacts by IDs in one call and leaves out unknown ones', async () => {
    xero
      .intercept('GET', '/Contacts', { query: { IDs: `${C1},${C3},${C2}`, includeArchived: true, page: 1 } })
      .reply(200, { Contacts: [contact(C2, MAY_2), contact(C1, MAY_2)] });
    const records = await connector().batchGet!('customer', [C1, C3, C2]);
    expect(records.map((record) => record.id)).toEqual([C1, C2]);
    xero.done();
  });

  it('get of a bank account answers null for an account that is not of type BANK', async () => {
    xero
      .intercept('GET', `/Accounts/${BANK}`)
      .reply(200, { Accounts: [bankAccount(BANK, MAY_2, { Type: 'REVENUE', BankAccountNumber: undefined })] });
    expect(await connector().get('bankAccount', BANK)).toBeNull();
    xero.done();
  });
});

describe('search', () => {
  beforeEach(() => tokenEndpoint());
  // The kit asks the connector for four times what it shows; the connector reads twice that.
  const shown = 5;
  const searchQuery = (searchTerm: string) => ({ searchTerm, pageSize: shown * 4 * 2, page: 1, includeArchived: true });

  it('sends the longest word as searchTerm, verbatim, and keeps contacts of the kind every word occurs in', async () => {
    // Quotes, a backslash, an ampersand and where syntax: a query value, not a filter.
    const text = 'O\'Brien "Bakery" & Co\\ || Name!=null';
    xero.intercept('GET', '/Contacts', { query: searchQuery('Name!=null') }).reply(200, {
      Contacts: [
        contact(C1, MAY_2, { Name: 'O\'Brien "Bakery" & Co\\ || Name!=null' }),
        contact(C2, MAY_2, {
          Name: 'O\'Brien "Bakery" & Co\\ || Name!=null (supplier)',
          IsCustomer: false,
          IsSupplier: true,
        }),
        contact(C3, MAY_2, { Name: "Bakery O'Brien" }),
      ],
    });
    const found = await connector().search!('customer', text, shown);
    // C2 is only a supplier; C3 lacks some of the words.
    expect(found.map((record) => record.id)).toEqual([C1]);
    expect(found[0]).toMatchObject({ entity: 'customer', fields: { name: text } });
    expect(xero.requests).toHaveLength(1);
    xero.done();
  });

  it('looks a text that can be a tax number up in TaxNumber too, as typed and in upper case', async () => {
    xero
      .intercept('GET', '/Contacts', {
        query: {
          where: 'TaxNumber!=null&&(TaxNumber.Contains("gb 123-456/78")||TaxNumber.Contains("GB 123-456/78"))',
          pageSize: shown * 4,
          page: 1,
          includeArchived: true,
        },
      })
      .reply(200, { Contacts: [contact(C2, MAY_2, { Name: 'Adatum', TaxNumber: 'GB 123-456/78' })] })
      .intercept('GET', '/Contacts', { query: searchQuery('123-456/78') })
      .reply(200, { Contacts: [contact(C2, MAY_2, { Name: 'Adatum', TaxNumber: 'GB 123-456/78' })] });
    const found = await connector().search!('customer', 'gb 123-456/78', shown);
    expect(found.map((record) => [record.id, record.fields.vatRegistrationNo])).toEqual([[C2, 'GB 123-456/78']]);
    xero.done();
  });

  it('never puts a text with a quote or a backslash into a where clause', async () => {
    for (const text of ['12" || Name!=null || Name=="', 'GB1\\"', 'GB1234 AND IsCustomer==true'])
      xero.intercept('GET', '/Contacts', { query: searchQuery(longestWord(text)) }).reply(200, { Contacts: [] });
    const accounting = connector();
    for (const text of ['12" || Name!=null || Name=="', 'GB1\\"', 'GB1234 AND IsCustomer==true'])
      expect(await accounting.search!('vendor', text, shown)).toEqual([]);
    expect(xero.requests.map((request) => decodeURIComponent(request.path))).not.toContainEqual(
      expect.stringContaining('where'),
    );
    xero.done();
  });

  it('finds bank accounts in the one list of accounts of type BANK, by name, code or number', async () => {
    const OTHER = '0f8a2b1c-3d4e-4f5a-8b6c-7d8e9f0a1b2c';
    xero
      .intercept('GET', '/Accounts', { query: { where: 'Type=="BANK"', order: 'UpdatedDateUTC ASC' }, times: 3 })
      .reply(200, {
        Accounts: [
          bankAccount(BANK, MAY_2, { Name: 'Business Bank Account', Code: '090' }),
          bankAccount(OTHER, MAY_2, { Name: 'Savings %_ Account', Code: '091', BankAccountNumber: '12-3456' }),
        ],
      });
    const accounting = connector();
    expect((await accounting.search!('bankAccount', 'savings %_', shown)).map((record) => record.id)).toEqual([OTHER]);
    // By code, and by bank account number.
    expect((await accounting.search!('bankAccount', '090', shown)).map((record) => record.id)).toEqual([BANK]);
    expect((await accounting.search!('bankAccount', '12-3456', shown)).map((record) => record.id)).toEqual([OTHER]);
    xero.done();
  });
});

describe('writes', () => {
  beforeEach(() => tokenEndpoint());

  it('creates a contact with the Idempotency-Key header and the ContactNumber, after looking the number up', async () => {
    xero
      .intercept('GET', '/Contacts', { query: { where: 'ContactNumber=="T1A2B3C4D"', includeArchived: true, page: 1 } })
      .reply(200, { Contacts: [] })
      .intercept('POST', '/Contacts', {
        query: { summarizeErrors: false },
        headers: { 'idempotency-key': 'create-account-customer-company-1' },
        body: {
          Contacts: [
            {
              AccountNumber: 'ACC-7',
              Name: 'Adatum',
              Phones: [
                { PhoneType: 'DEFAULT', PhoneNumber: '+44 20 7946 0000', PhoneAreaCode: '', PhoneCountryCode: '' },
              ],
              ContactNumber: 'T1A2B3C4D',
            },
          ],
        },
      })
      .reply(200, {
        Contacts: [
          contact(C1, MAY_2, {
            Name: 'Adatum',
            IsCustomer: false,
            ContactNumber: 'T1A2B3C4D',
            Phones: [{ PhoneType: 'DEFAULT', PhoneNumber: '+44 20 7946 0000' }],
          }),
        ],
      });
    const accounting = connector();
    const created = await accounting.create!(
      'customer',
      { name: 'Adatum', phone: '+44 20 7946 0000' },
      { idempotencyKey: 'create-account-customer-company-1', extra: { number: 'T1A2B3C4D', AccountNumber: 'ACC-7' } },
    );
    expect(created).toMatchObject({
      entity: 'customer',
      id: C1,
      number: 'T1A2B3C4D',
      fields: { name: 'Adatum', phone: '+44 20 7946 0000' },
    });
    // Not flagged by Xero yet, but created as a customer: it counts as one.
    expect(xeroInfo(created)?.kinds).toEqual(['customer']);
    xero.done();
  });

  it('returns the contact a lost create already made, found by its number', async () => {
    xero
      .intercept('GET', '/Contacts', { query: true })
      .reply(200, { Contacts: [contact(C1, MAY_2, { ContactNumber: 'V-00000001', IsCustomer: false })] });
    const found = await connector().create!(
      'vendor',
      { name: 'Contact 5cc8' },
      { idempotencyKey: 'k', extra: { number: 'V-00000001' } },
    );
    expect(found.id).toBe(C1);
    expect(xero.requests.map((request) => request.method)).toEqual(['GET']);
    xero.done();
  });

  it('refuses unknown create options before any request', async () => {
    await expect(
      connector().create!('customer', { name: 'X' }, { idempotencyKey: 'k', extra: { paymentTermsId: 'x' } }),
    ).rejects.toBeInstanceOf(InvalidRequestError);
    nock.cleanAll();
  });

  it('a create refused by Xero is an InvalidRequestError with its message', async () => {
    xero.intercept('POST', '/Contacts', { query: { summarizeErrors: false } }).reply(200, {
      Contacts: [
        {
          ...contact(C1, MAY_2),
          HasValidationErrors: true,
          ValidationErrors: [{ Message: 'The contact name Adatum is already assigned to another contact.' }],
        },
      ],
    });
    await expect(connector().create!('customer', { name: 'Adatum' }, { idempotencyKey: 'k' })).rejects.toThrow(
      /already assigned/,
    );
    xero.done();
  });

  it('updates one contact with POST /Contacts/{id} and a fresh Idempotency-Key; an unknown id is NotFoundError', async () => {
    xero
      .intercept('POST', `/Contacts/${C1}`, {
        headers: { 'idempotency-key': /^[0-9a-f-]{36}$/ },
        body: {
          Contacts: [
            { EmailAddress: 'billing@adatum.example', Addresses: [{ AddressType: 'POBOX', City: 'Reading' }] },
          ],
        },
      })
      .reply(200, {
        Contacts: [
          contact(C1, MAY_2 + 1000, {
            EmailAddress: 'billing@adatum.example',
            Addresses: [{ AddressType: 'POBOX', City: 'Reading' }],
          }),
        ],
      })
      .intercept('POST', `/Contacts/${C3}`)
      .reply(404);
    const accounting = connector();
    const updated = await accounting.update!('customer', {
      id: C1,
      fields: { email: 'billing@adatum.example', city: 'Reading' },
    });
    expect(updated.fields).toMatchObject({ email: 'billing@adatum.example', city: 'Reading', address: null });
    await expect(accounting.update!('customer', { id: C3, fields: { email: 'x@example.com' } })).rejects.toBeInstanceOf(
      NotFoundError,
    );
    xero.done();
  });

  it('sends an update once: a 5xx or a 429 goes back to the write queue, which compares again first', async () => {
    xero
      .intercept('POST', `/Contacts/${C1}`)
      .reply(503)
      .intercept('POST', `/Contacts/${C1}`)
      .reply(429, undefined, { 'Retry-After': '0', 'X-Rate-Limit-Problem': 'minute' })
      .intercept('POST', '/Contacts', {
        query: { summarizeErrors: false },
        body: {
          Contacts: [
            { ContactID: C1, TaxNumber: 'GB1' },
            { ContactID: C2, TaxNumber: 'GB2' },
          ],
        },
      })
      .reply(502)
      .intercept('POST', `/Accounts/${C3}`)
      .reply(500);
    const accounting = connector();
    const write = { id: C1, fields: { email: 'billing@adatum.example' } };
    await expect(accounting.update!('customer', write)).rejects.toBeInstanceOf(TransientError);
    await expect(accounting.update!('customer', write)).rejects.toBeInstanceOf(RateLimitedError);
    await expect(
      accounting.batchUpdate!('customer', [
        { id: C1, fields: { vatRegistrationNo: 'GB1' } },
        { id: C2, fields: { vatRegistrationNo: 'GB2' } },
      ]),
    ).rejects.toBeInstanceOf(TransientError);
    await expect(accounting.update!('bankAccount', { id: C3, fields: { name: 'Ops' } })).rejects.toBeInstanceOf(
      TransientError,
    );
    xero.done();
  });

  it('retries a create inside the client: its Idempotency-Key makes the repeat safe', async () => {
    xero
      .intercept('GET', '/Contacts', { query: { where: 'ContactNumber=="T9"', includeArchived: true, page: 1 } })
      .reply(200, { Contacts: [] })
      .intercept('POST', '/Contacts', { query: { summarizeErrors: false }, headers: { 'idempotency-key': 'key-9' } })
      .reply(503)
      .intercept('POST', '/Contacts', { query: { summarizeErrors: false }, headers: { 'idempotency-key': 'key-9' } })
      .reply(200, { Contacts: [contact(C1, MAY_2, { Name: 'Adatum', ContactNumber: 'T9' })] });
    const created = await connector().create!(
      'customer',
      { name: 'Adatum' },
      { idempotencyKey: 'key-9', extra: { number: 'T9' } },
    );
    expect(created.id).toBe(C1);
    xero.done();
  });

  it('batchUpdate writes all contacts in one POST with summarizeErrors=false and reports each item', async () => {
    xero
      .intercept('POST', '/Contacts', {
        query: { summarizeErrors: false },
        headers: { 'idempotency-key': /^[0-9a-f-]{36}$/ },
        body: {
          Contacts: [
            { ContactID: C1, TaxNumber: 'GB123' },
            { ContactID: C3, TaxNumber: 'GB456' },
            { ContactID: C2, Name: '' },
          ],
        },
      })
      .reply(200, {
        Contacts: [
          contact(C1, MAY_2 + 1000, { TaxNumber: 'GB123' }),
          { ContactID: C3, HasValidationErrors: true, ValidationErrors: [{ Message: 'Contact not found' }] },
          {
            ...contact(C2, MAY_2),
            HasValidationErrors: true,
            ValidationErrors: [{ Message: 'The contact name must be specified.' }],
          },
        ],
      });
    const results = await connector().batchUpdate!('customer', [
      { id: C1, fields: { vatRegistrationNo: 'GB123' } },
      { id: C3, fields: { vatRegistrationNo: 'GB456' } },
      { id: C2, fields: { name: null } },
      { id: C2, fields: { homePage: 'https://adatum.example' } },
    ]);
    expect(results.map((result) => [result.id, result.ok])).toEqual([
      [C1, true],
      [C3, false],
      [C2, false],
      [C2, false],
    ]);
    expect(results[0]!.ok && results[0]!.record.fields.vatRegistrationNo).toBe('GB123');
    expect(!results[1]!.ok && results[1]!.error).toBeInstanceOf(NotFoundError);
    expect(!results[2]!.ok && results[2]!.error).toBeInstanceOf(InvalidRequestError);
    expect(!results[3]!.ok && results[3]!.error.message).toMatch(/no writable field 'homePage'/);
    xero.done();
  });

  it('creates a bank account with PUT /Accounts, its Code and the Idempotency-Key; updates with POST /Accounts/{id}', async () => {
    xero
      .intercept('GET', '/Accounts', { query: { where: 'Code=="T0001"' } })
      .reply(200, { Accounts: [] })
      .intercept('PUT', '/Accounts', {
        headers: { 'idempotency-key': 'bank-1' },
        body: { Name: 'Operating', BankAccountNumber: '12-3456-7890123-00', Code: 'T0001', Type: 'BANK' },
      })
      .reply(200, {
        Accounts: [
          bankAccount(BANK, MAY_2, { Name: 'Operating', Code: 'T0001', BankAccountNumber: '12-3456-7890123-00' }),
        ],
      })
      .intercept('POST', `/Accounts/${BANK}`, { body: { Accounts: [{ Name: 'Operating NZD' }] } })
      .reply(200, { Accounts: [bankAccount(BANK, MAY_2 + 1000, { Name: 'Operating NZD', Code: 'T0001' })] });
    const accounting = connector();
    const created = await accounting.create!(
      'bankAccount',
      { name: 'Operating', bankAccountNo: '12-3456-7890123-00' },
      { idempotencyKey: 'bank-1', extra: { number: 'T0001' } },
    );
    expect(created).toMatchObject({ entity: 'bankAccount', id: BANK, number: 'T0001' });
    const updated = await accounting.update!('bankAccount', { id: BANK, fields: { name: 'Operating NZD' } });
    expect(updated.fields.name).toBe('Operating NZD');
    xero.done();
  });
});

describe('rate limits', () => {
  beforeEach(() => tokenEndpoint());

  it('pauses before the next call when X-MinLimit-Remaining runs low, instead of running into a 429', async () => {
    let now = 1_000_000;
    const sleeps: number[] = [];
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        now += ms;
      },
    };
    xero
      .intercept('GET', `/Contacts/${C1}`)
      .reply(200, { Contacts: [contact(C1, MAY_2)] }, { 'X-MinLimit-Remaining': '4', 'X-DayLimit-Remaining': '4000' })
      .intercept('GET', `/Contacts/${C2}`)
      .reply(200, { Contacts: [contact(C2, MAY_2)] }, { 'X-MinLimit-Remaining': '58' });
    const accounting = connector({ limiterClock: clock });
    await accounting.get('customer', C1);
    expect(sleeps).toEqual([]);
    await accounting.get('customer', C2);
    // The window opened with the first call; the second waits until it has passed.
    expect(sleeps).toEqual([60_000]);
    xero.done();
  });

  it('fails at once, without a request, when X-DayLimit-Remaining says the day is used up', async () => {
    xero
      .intercept('GET', `/Contacts/${C1}`)
      .reply(200, { Contacts: [contact(C1, MAY_2)] }, { 'X-MinLimit-Remaining': '50', 'X-DayLimit-Remaining': '0' });
    const accounting = connector();
    await accounting.get('customer', C1);
    const error = await accounting.get('customer', C2).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).message).toMatch(/limit of 5000 requests per 86400 s/);
    // Until the day window of the first call has passed.
    expect((error as RateLimitedError).retryAfterMs).toBeGreaterThan(86_000_000);
    xero.done();
  });

  it('keeps at most 5 calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const ids = Array.from({ length: 8 }, (_, index) => `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`);
    for (const id of ids) {
      xero.intercept('GET', `/Contacts/${id}`, { delayMs: 20 }).reply(200, { Contacts: [contact(id, MAY_2)] });
    }
    xero.scope.on('request', () => {
      most = Math.max(most, ++inFlight);
    });
    xero.scope.on('replied', () => {
      inFlight--;
    });
    // Each read on its own (no batch read shared by them): the limit on calls in flight is what is tested.
    const accounting = connector({ readWindowMs: 0 });
    await Promise.all(ids.map((id) => accounting.get('customer', id)));
    expect(most).toBeLessThanOrEqual(5);
    xero.done();
  });

  it('waits out a 429 with Retry-After through the shared client, and hands a long one to the queue', async () => {
    xero
      .intercept('GET', `/Contacts/${C1}`)
      .reply(429, undefined, { 'Retry-After': '0', 'X-Rate-Limit-Problem': 'minute' })
      .intercept('GET', `/Contacts/${C1}`)
      .reply(200, { Contacts: [contact(C1, MAY_2)] })
      .intercept('GET', `/Contacts/${C2}`)
      .reply(429, undefined, { 'Retry-After': '3600', 'X-Rate-Limit-Problem': 'day' });
    const accounting = connector();
    expect((await accounting.get('customer', C1))?.id).toBe(C1);
    const error = await accounting.get('customer', C2).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(3_600_000);
    xero.done();
  });
});

describe('checkHealth and entities', () => {
  it('probes the bank accounts; contacts are not an entity of this connector', async () => {
    tokenEndpoint();
    xero
      .intercept('GET', '/Accounts', { query: { where: 'Type=="BANK"' }, headers: { 'if-modified-since': /^\d{4}-/ } })
      .reply(200, { Accounts: [] });
    const accounting = connector();
    await expect(accounting.checkHealth!()).resolves.toBeUndefined();
    await expect(accounting.get('contact', C1)).rejects.toBeInstanceOf(InvalidRequestError);
    expect(accounting.entities).toEqual(['customer', 'vendor', 'bankAccount']);
    xero.done();
  });
});
