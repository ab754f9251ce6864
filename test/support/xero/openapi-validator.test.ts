/** The spec checks themselves: they pass what Xero documents and fail what it does not. */
import axios from 'axios';
import nock from 'nock';
import { accountingValidator, validateWebhookBody } from './openapi-validator';
import { xeroNock } from './xero-nock';

const TENANT = '70784a63-d24b-46a9-a4db-0e70a274b056';
const CONTACT_ID = '5cc8cf28-567e-4d43-b287-687cfcaec47c';
const validator = accountingValidator();

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('OpenAPI validator (xero_accounting.yaml)', () => {
  it('finds the operation by method and path template, preferring the template whose parameter fits', () => {
    expect(validator.findOperation('GET', `/Contacts/${CONTACT_ID}`)?.operation.template).toBe('/Contacts/{ContactID}');
    expect(validator.findOperation('GET', '/Contacts/CUST-001')?.operation.template).toBe('/Contacts/{ContactNumber}');
    expect(validator.findOperation('POST', '/Contacts?summarizeErrors=false')?.operation.operation.operationId).toBe(
      'updateOrCreateContacts',
    );
    expect(validator.findOperation('GET', '/NoSuchThing')).toBeNull();
  });

  it('accepts a documented request and refuses a Contact with a property of the wrong type', () => {
    const good = {
      method: 'POST',
      path: '/Contacts?summarizeErrors=false',
      headers: { 'Xero-tenant-id': TENANT },
      body: { Contacts: [{ Name: 'Adatum', Phones: [{ PhoneType: 'DEFAULT', PhoneNumber: '1' }] }] },
    };
    expect(validator.validateRequest(good)).toEqual([]);
    expect(validator.validateRequest({ ...good, body: { Contacts: [{ Name: 42 }] } })).toEqual([
      expect.stringContaining('body/Contacts/0/Name must be string'),
    ]);
    expect(
      validator.validateRequest({ ...good, body: { Contacts: [{ Name: 'A', Phones: [{ PhoneType: 'HOME' }] }] } }),
    ).toEqual([expect.stringContaining('PhoneType must be equal to one of the allowed values')]);
  });

  it('refuses in requests a property the document does not list, a missing tenant header, and unknown or mistyped query parameters', () => {
    expect(
      validator.validateRequest({
        method: 'POST',
        path: '/Contacts',
        headers: { 'xero-tenant-id': TENANT },
        body: { Contacts: [{ Name: 'A', EmailAdress: 'typo@example.com' }] },
      }),
    ).toEqual([expect.stringContaining('must NOT have additional properties {"additionalProperty":"EmailAdress"}')]);
    expect(validator.validateRequest({ method: 'GET', path: '/Contacts?page=1', headers: {} })).toEqual([
      expect.stringContaining("required header 'xero-tenant-id' is missing"),
    ]);
    expect(
      validator.validateRequest({
        method: 'GET',
        path: '/Contacts?page=first&archived=true',
        headers: { 'xero-tenant-id': TENANT },
      }),
    ).toEqual([
      expect.stringContaining('query page must be integer'),
      expect.stringContaining("query parameter 'archived' is not in the operation getContacts"),
    ]);
    expect(
      validator.validateRequest({
        method: 'GET',
        path: '/Contacts',
        headers: { 'xero-tenant-id': TENANT, 'If-Modified-Since': 'yesterday' },
      }),
    ).toEqual([expect.stringContaining('header If-Modified-Since must match format "date-time"')]);
  });

  it('checks answers against the schema of their status; undocumented statuses pass only without a JSON body', () => {
    expect(
      validator.validateResponse({
        method: 'GET',
        path: `/Contacts/${CONTACT_ID}`,
        status: 200,
        body: { Contacts: [{ ContactID: CONTACT_ID, ContactStatus: 'ACTIVE' }] },
      }),
    ).toEqual([]);
    expect(
      validator.validateResponse({
        method: 'GET',
        path: `/Contacts/${CONTACT_ID}`,
        status: 200,
        body: { Contacts: [{ ContactID: 'not-a-uuid', ContactStatus: 'GONE' }] },
      }),
    ).toHaveLength(2);
    expect(
      validator.validateResponse({
        method: 'POST',
        path: '/Contacts',
        status: 400,
        body: { ErrorNumber: 10, Type: 'ValidationException', Message: 'A validation exception occurred' },
      }),
    ).toEqual([]);
    expect(
      validator.validateResponse({
        method: 'GET',
        path: `/Contacts/${CONTACT_ID}`,
        status: 404,
        body: 'The resource you are looking for cannot be found',
      }),
    ).toEqual([]);
    expect(
      validator.validateResponse({
        method: 'GET',
        path: `/Contacts/${CONTACT_ID}`,
        status: 404,
        body: { Message: 'nope' },
      }),
    ).toEqual([expect.stringContaining('not documented')]);
  });

  it('fails the test through xeroNock when the request breaks the document', async () => {
    const xero = xeroNock();
    xero.intercept('POST', '/Contacts').reply(200, { Contacts: [] });
    await axios.post(
      'https://api.xero.com/api.xro/2.0/Contacts',
      { Contacts: [{ Name: 'Adatum', IsCustomer: 'yes' }] },
      { headers: { 'Xero-tenant-id': TENANT } },
    );
    expect(() => xero.done()).toThrow(/IsCustomer must be boolean/);
  });

  it('fails the test through xeroNock when the canned answer breaks the document', async () => {
    const xero = xeroNock();
    xero
      .intercept('GET', `/Contacts/${CONTACT_ID}`)
      .reply(200, { Contacts: [{ ContactID: CONTACT_ID, Phones: 'none' }] });
    await axios.get(`https://api.xero.com/api.xro/2.0/Contacts/${CONTACT_ID}`, {
      headers: { 'Xero-tenant-id': TENANT },
    });
    expect(() => xero.done()).toThrow(/Phones must be array/);
  });
});

describe('webhook body validator (xero-webhooks.yaml)', () => {
  const event = {
    resourceUrl: `https://api.xero.com/api.xro/2.0/Contacts/${CONTACT_ID}`,
    resourceId: CONTACT_ID,
    eventDateUtc: '2024-06-21T01:15:39.902',
    eventType: 'UPDATE',
    eventCategory: 'CONTACT',
    tenantId: TENANT,
    tenantType: 'ORGANISATION',
  };

  it("accepts the documented shape, with Xero's zone-less eventDateUtc", () => {
    expect(
      validateWebhookBody({ events: [event], firstEventSequence: 1, lastEventSequence: 1, entropy: 'S0m3r4Nd0mt3xt' }),
    ).toEqual([]);
    expect(validateWebhookBody({ events: [], firstEventSequence: 1, lastEventSequence: 1, entropy: 'x' })).toEqual([]);
  });

  it('refuses an unknown event type and a missing entropy', () => {
    expect(
      validateWebhookBody({ events: [{ ...event, eventType: 'DELETE' }], firstEventSequence: 1, lastEventSequence: 1 })
        .length,
    ).toBeGreaterThan(0);
  });
});
