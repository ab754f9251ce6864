import nock from 'nock';
import { InvalidRequestError, InvalidResponseError } from '../kit/errors';
import type { Connector } from '../kit/types';
import { API, COMPANY, tenantConnector, tokenOnce, tenantApi } from '../../test/support/business-central/nock-tenant';
import { EXTERNAL_DOCUMENT_NUMBER_LENGTH, externalDocumentNumberFor } from './documents';

// Every body the connector sends and every canned answer are held to the APIV2 manifest.
const manifestViolations: string[] = [];
const bcApi = (options?: nock.Options) => tenantApi(manifestViolations, options);
afterEach(() => expect(manifestViolations.splice(0)).toEqual([]));

const QUOTES = `${API}/companies(${COMPANY})/salesQuotes`;
const ORDERS = `${API}/companies(${COMPANY})/salesOrders`;
const CUSTOMER = '130bbd17-dbb9-4790-9b12-2b0e9c9d22c3';
const QUOTE = 'b6f4017a-b749-ee11-ad0b-a1422c0f7f1f';

const connector = (): Connector => tenantConnector();

function quote(extra: Record<string, unknown> = {}) {
  return {
    '@odata.etag': 'W/"JzQ0O0JHRkE9Jw=="',
    id: QUOTE,
    number: '1006',
    externalDocumentNumber: '',
    documentDate: '2024-05-06',
    customerId: CUSTOMER,
    customerNumber: '10000',
    status: 'Draft',
    lastModifiedDateTime: '2024-05-06T08:00:00Z',
    ...extra,
  };
}

const lookupFilter = (number: string) => `externalDocumentNumber eq '${number}' and customerId eq ${CUSTOMER}`;

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

const token = () => tokenOnce();

describe('externalDocumentNumberFor', () => {
  it('is stable per key, upper-case and within BC’s 35 characters', () => {
    const number = externalDocumentNumberFor('relation-42:salesQuote:2024-05-06');
    expect(number).toBe(externalDocumentNumberFor('relation-42:salesQuote:2024-05-06'));
    expect(number).toMatch(/^TANDEM-[0-9A-F]{16}$/);
    expect(externalDocumentNumberFor('another key')).not.toBe(number);
  });

  it('keeps a readable reference in front, cut to fit', () => {
    const number = externalDocumentNumberFor('k', 'deal 8812345 for the spring campaign');
    expect(number).toMatch(/^DEAL 8812345 FOR T-[0-9A-F]{16}$/);
    expect(number.length).toBeLessThanOrEqual(EXTERNAL_DOCUMENT_NUMBER_LENGTH);
    expect(externalDocumentNumberFor('k', '   ')).toMatch(/^TANDEM-/);
  });
});

describe('createDocument', () => {
  it('lists the document types API v2.0 can start idempotently', () => {
    expect(connector().documents).toEqual(['salesQuote', 'salesOrder']);
  });

  it('looks for the key’s document first, then POSTs the customer and the derived externalDocumentNumber', async () => {
    const number = externalDocumentNumberFor('key-1');
    const auth = token();
    const api = bcApi({ reqheaders: { authorization: 'Bearer bc-token' } })
      .get(QUOTES)
      .query({ $filter: lookupFilter(number) })
      .reply(200, { value: [] })
      .post(QUOTES, { customerId: CUSTOMER, externalDocumentNumber: number })
      .reply(201, quote({ externalDocumentNumber: number }));
    const document = await connector().createDocument!('salesQuote', { accountId: CUSTOMER, idempotencyKey: 'key-1' });
    expect(document).toEqual({
      type: 'salesQuote',
      id: QUOTE,
      number: '1006',
      accountId: CUSTOMER,
      date: '2024-05-06',
      status: 'Draft',
    });
    api.done();
    auth.done();
  });

  it('returns the document an earlier attempt created instead of a second one', async () => {
    const number = externalDocumentNumberFor('key-2', 'Deal 7');
    token();
    const api = bcApi()
      .get(ORDERS)
      .query({ $filter: lookupFilter(number) })
      .reply(200, {
        value: [{ ...quote({ externalDocumentNumber: number, documentDate: undefined }), orderDate: '0001-01-01' }],
      });
    const document = await connector().createDocument!('salesOrder', {
      accountId: CUSTOMER,
      idempotencyKey: 'key-2',
      externalReference: 'Deal 7',
    });
    // BC's blank date reads as null.
    expect(document).toMatchObject({ type: 'salesOrder', id: QUOTE, accountId: CUSTOMER, date: null });
    api.done();
  });

  it('maps BC’s 400 for an unknown customer to InvalidRequestError', async () => {
    token();
    const api = bcApi()
      .get(QUOTES)
      .query(true)
      .reply(200, { value: [] })
      .post(QUOTES)
      .reply(400, { error: { code: 'Internal_RecordNotFound', message: 'The sell-to customer cannot be found.' } });
    const attempt = connector().createDocument!('salesQuote', { accountId: CUSTOMER, idempotencyKey: 'key-3' });
    await expect(attempt).rejects.toBeInstanceOf(InvalidRequestError);
    await expect(attempt).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('sell-to customer cannot be found'),
    });
    api.done();
  });

  it('refuses an answer for another customer', async () => {
    token();
    const api = bcApi()
      .get(QUOTES)
      .query(true)
      .reply(200, { value: [] })
      .post(QUOTES)
      .reply(201, quote({ customerId: '4b4f31f0-dc1c-4033-b2aa-ab03ca1d6ebc' }));
    await expect(
      connector().createDocument!('salesQuote', { accountId: CUSTOMER, idempotencyKey: 'key-4' }),
    ).rejects.toBeInstanceOf(InvalidResponseError);
    api.done();
  });

  it.each([
    ['purchaseQuote', CUSTOMER, 'key'],
    ['purchaseOrder', CUSTOMER, 'key'],
    ['salesQuote', 'C00010', 'key'],
    ['salesQuote', CUSTOMER, ''],
  ] as const)('refuses %s for %s (key %j) before any request', async (type, accountId, idempotencyKey) => {
    const auth = token();
    await expect(connector().createDocument!(type, { accountId, idempotencyKey })).rejects.toBeInstanceOf(
      InvalidRequestError,
    );
    expect(auth.isDone()).toBe(false);
  });
});
