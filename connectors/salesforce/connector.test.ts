/**
 * The requests the Salesforce connector sends, with real network off: each in the shape of the
 * REST API Developer Guide's own examples (sObject Collections, SOQL with nextRecordsUrl,
 * getDeleted, sObject Rows with If-Unmodified-Since, the client credentials token request), and
 * the answers it reads from them. Every expected call must have been made (`scope.done()`).
 */
import nock from 'nock';
import { PreconditionFailedError, RateLimitedError } from '../kit/errors';
import type { ChangedPage, Connector } from '../kit/types';
import { decodeCursor } from './changes';
import { createSalesforceConnector } from './connector';

const ORG = 'https://acme.my.salesforce.com';
const API = '/services/data/v60.0';
const ACCOUNT = '001xx000003DGb2AAG';
const OTHER = '001xx000003DGb3AAG';

function connector(now?: () => number): Connector {
  return createSalesforceConnector({
    name: 'crm',
    baseUrl: ORG,
    clientId: 'consumer-key',
    clientSecret: 'consumer-secret',
    retry: { baseDelayMs: 1 },
    readWindowMs: 0,
    ...(now && { now }),
  });
}

/** The token request of the client credentials flow: a form, and an answer without expires_in. */
function token(scope: nock.Scope): nock.Scope {
  return scope
    .post('/services/oauth2/token', {
      grant_type: 'client_credentials',
      client_id: 'consumer-key',
      client_secret: 'consumer-secret',
    })
    .reply(200, { access_token: 'session-1', instance_url: ORG, token_type: 'Bearer', issued_at: '1' });
}

const account = (id: string, stamp: string, fields: Record<string, unknown> = {}) => ({
  attributes: { type: 'Account', url: `${API}/sobjects/Account/${id}` },
  Id: id,
  SystemModstamp: stamp,
  LastModifiedDate: stamp,
  IsDeleted: false,
  MasterRecordId: null,
  Name: `Account ${id}`,
  ...fields,
});
const LIMITS = { DailyApiRequests: { Max: 100000, Remaining: 99000 } };
const ACCOUNT_FIELDS =
  'Id,SystemModstamp,LastModifiedDate,IsDeleted,MasterRecordId,Name,BillingStreet,BillingPostalCode,BillingCity,BillingState,BillingCountry,Phone,Fax,Website';

async function drain(pages: AsyncIterable<ChangedPage>): Promise<ChangedPage[]> {
  const all: ChangedPage[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

test('polls Accounts then Contacts with SOQL on SystemModstamp, following nextRecordsUrl, and then getDeleted', async () => {
  let now = Date.parse('2024-05-01T10:00:00Z');
  const crm = connector(() => now);
  const scope = token(nock(ORG)).get(`${API}/limits`).reply(200, LIMITS);
  scope
    .get(`${API}/query`)
    .query({ q: `SELECT ${ACCOUNT_FIELDS} FROM Account ORDER BY SystemModstamp, Id` })
    .reply(200, {
      totalSize: 2,
      done: false,
      nextRecordsUrl: `${API}/query/01gD0000002HU6KIAW-2000`,
      records: [account(ACCOUNT, '2024-05-01T09:00:00.000+0000')],
    })
    .get(`${API}/query/01gD0000002HU6KIAW-2000`)
    .reply(200, { totalSize: 2, done: true, records: [account(OTHER, '2024-05-01T09:00:00.000+0000')] })
    .get(`${API}/query`)
    .query((query) => typeof query.q === 'string' && query.q.endsWith('FROM Contact ORDER BY SystemModstamp, Id'))
    .reply(200, { totalSize: 0, done: true, records: [] });
  const first = await drain(crm.listChanged!('contact', null));
  expect(first.flatMap((page) => page.records.map((record) => record.id))).toEqual([
    `company-${ACCOUNT}`,
    `company-${OTHER}`,
  ]);
  const cursor = first.at(-1)!.cursor;
  expect(decodeCursor(cursor).Account).toEqual({
    since: '2024-05-01T09:00:00.000Z',
    seen: [`company-${ACCOUNT}`, `company-${OTHER}`],
  });
  scope.done();

  // A minute later: from the mark's second, the two already seen dropped; then getDeleted in its documented form.
  now += 61_000;
  const again = nock(ORG)
    .get(`${API}/query`)
    .query({
      q: `SELECT ${ACCOUNT_FIELDS} FROM Account WHERE SystemModstamp >= 2024-05-01T09:00:00Z ORDER BY SystemModstamp, Id`,
    })
    .reply(200, {
      totalSize: 3,
      done: true,
      records: [
        account(ACCOUNT, '2024-05-01T09:00:00.000+0000'),
        account(OTHER, '2024-05-01T09:00:00.000+0000'),
        account('001xx000003DGb4AAG', '2024-05-01T10:00:30.000+0000'),
      ],
    })
    .get(`${API}/query`)
    .query(true)
    .reply(200, { totalSize: 0, done: true, records: [] })
    .get(`${API}/sobjects/Account/deleted/`)
    .query({ start: '2024-05-01T10:00:00+00:00', end: '2024-05-01T10:01:01+00:00' })
    .reply(200, {
      deletedRecords: [{ id: '001xx000003DGb9AAG', deletedDate: '2024-05-01T10:00:40.000+0000' }],
      earliestDateAvailable: '2024-04-20T00:00:00.000+0000',
      latestDateCovered: '2024-05-01T10:01:00.000+0000',
    })
    .get(`${API}/sobjects/Contact/deleted/`)
    .query(true)
    .reply(200, { deletedRecords: [], latestDateCovered: '2024-05-01T10:01:00.000+0000' });
  const second = await drain(crm.listChanged!('contact', cursor));
  expect(second.flatMap((page) => page.records.map((record) => record.id))).toEqual(['company-001xx000003DGb4AAG']);
  expect(second.flatMap((page) => page.deleted ?? [])).toEqual(['company-001xx000003DGb9AAG']);
  expect(decodeCursor(second.at(-1)!.cursor).deletedUntil).toBe('2024-05-01T10:01:00.000Z');
  again.done();
});

test('a batch update is one PATCH /composite/sobjects with allOrNone false and an attributes map per record', async () => {
  const crm = connector();
  const scope = token(nock(ORG))
    .patch(`${API}/composite/sobjects`, {
      allOrNone: false,
      records: [
        { attributes: { type: 'Account' }, id: ACCOUNT, Phone: '+31 20 555 0100' },
        { attributes: { type: 'Account' }, id: OTHER, Website: null },
      ],
    })
    .reply(200, [
      { id: ACCOUNT, success: true, errors: [] },
      {
        id: OTHER,
        success: false,
        errors: [{ statusCode: 'ENTITY_IS_DELETED', message: 'entity is deleted', fields: [] }],
      },
    ])
    .get(`${API}/composite/sobjects/Account`)
    .query({ ids: ACCOUNT, fields: ACCOUNT_FIELDS })
    .reply(200, [account(ACCOUNT, '2024-05-01T10:00:00.000+0000', { Phone: '+31 20 555 0100' })], {
      'Sforce-Limit-Info': 'api-usage=18/100000',
    });
  const results = await crm.batchUpdate!('contact', [
    { id: `company-${ACCOUNT}`, fields: { phone: '+31 20 555 0100' } },
    { id: `company-${OTHER}`, fields: { homePage: null } },
  ]);
  expect(
    results.map((result) => [result.id, result.ok, result.ok ? result.record.fields.phone : result.error.name]),
  ).toEqual([
    [`company-${ACCOUNT}`, true, '+31 20 555 0100'],
    [`company-${OTHER}`, false, 'NotFoundError'],
  ]);
  scope.done();
});

test('a single update with a version compares LastModifiedDate, then sends If-Unmodified-Since as an HTTP date', async () => {
  const crm = connector();
  const version = '2024-05-01T10:00:00.250Z';
  const scope = token(nock(ORG))
    .get(`${API}/composite/sobjects/Account`)
    .query({ ids: ACCOUNT, fields: 'Id,SystemModstamp,LastModifiedDate' })
    .reply(200, [
      {
        attributes: { type: 'Account' },
        Id: ACCOUNT,
        SystemModstamp: '2024-05-01T10:00:00.250+0000',
        LastModifiedDate: '2024-05-01T10:00:00.250+0000',
      },
    ])
    .patch(`${API}/sobjects/Account/${ACCOUNT}`, { Phone: '1' })
    .matchHeader('if-unmodified-since', 'Wed, 01 May 2024 10:00:01 GMT')
    .reply(204)
    .get(`${API}/sobjects/Account/${ACCOUNT}`)
    .query({ fields: ACCOUNT_FIELDS })
    .reply(200, account(ACCOUNT, '2024-05-01T10:00:02.000+0000', { Phone: '1' }));
  expect(
    (await crm.update!('contact', { id: `company-${ACCOUNT}`, fields: { phone: '1' }, ifMatch: version })).fields.phone,
  ).toBe('1');
  scope.done();

  // Modified since: refused before any write.
  const stale = nock(ORG)
    .get(`${API}/composite/sobjects/Account`)
    .query(true)
    .reply(200, [
      {
        attributes: { type: 'Account' },
        Id: ACCOUNT,
        SystemModstamp: '2024-05-01T10:00:05.000+0000',
        LastModifiedDate: '2024-05-01T10:00:05.000+0000',
      },
    ]);
  await expect(
    crm.update!('contact', { id: `company-${ACCOUNT}`, fields: { phone: '2' }, ifMatch: version }),
  ).rejects.toBeInstanceOf(PreconditionFailedError);
  stale.done();
});

test('a create looks up the idempotency key with an escaped SOQL literal, then POSTs one record to sObject Collections', async () => {
  const crm = connector();
  const key = "demo-o'brien\\1";
  const scope = token(nock(ORG))
    .get(`${API}/query`)
    .query({
      q: `SELECT ${ACCOUNT_FIELDS} FROM Account WHERE Tandem_Idempotency_Key__c = 'demo-o\\'brien\\\\1' LIMIT 1`,
    })
    .reply(200, { totalSize: 0, done: true, records: [] })
    .post(`${API}/composite/sobjects`, {
      allOrNone: false,
      records: [{ attributes: { type: 'Account' }, Name: "O'Brien Ltd", Tandem_Idempotency_Key__c: key }],
    })
    .reply(200, [{ id: ACCOUNT, success: true, errors: [] }])
    .get(`${API}/sobjects/Account/${ACCOUNT}`)
    .query(true)
    .reply(200, account(ACCOUNT, '2024-05-01T10:00:00.000+0000', { Name: "O'Brien Ltd" }));
  expect(
    (await crm.create!('contact', { name: "O'Brien Ltd", email: 'not on accounts' }, { idempotencyKey: key })).id,
  ).toBe(`company-${ACCOUNT}`);
  scope.done();
});

test('403 REQUEST_LIMIT_EXCEEDED is a RateLimitedError, and the allocation in Sforce-Limit-Info keeps its reserve', async () => {
  const crm = connector();
  const scope = token(nock(ORG))
    .get(`${API}/sobjects/Account/${ACCOUNT}`)
    .query(true)
    .reply(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
  await expect(crm.get('contact', `company-${ACCOUNT}`)).rejects.toBeInstanceOf(RateLimitedError);
  scope.done();

  const nearlySpent = nock(ORG)
    .get(`${API}/limits`)
    .reply(200, { DailyApiRequests: { Max: 1000, Remaining: 90 } }, { 'Sforce-Limit-Info': 'api-usage=910/1000' });
  await crm.checkHealth!();
  nearlySpent.done();
  // 90 left of 1,000 with 10% kept for others: refused before it is sent (no interceptor would answer it).
  await expect(crm.get('contact', `company-${ACCOUNT}`)).rejects.toBeInstanceOf(RateLimitedError);
});
