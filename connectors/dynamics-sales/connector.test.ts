/**
 * The requests the Dynamics 365 Sales connector sends, with real network off: the client
 * credentials token request with the environment's `.default` scope, the change tracking and
 * annotation preferences, If-Match on updates, and what it makes of 412, 404 and 429 answers.
 * Every expected call must have been made (`scope.done()`); every body and row is held to the manifest.
 */
import nock from 'nock';
import { bodyViolations, recordViolations } from '../../test/support/dynamics/manifest';
import { NotFoundError, PreconditionFailedError } from '../kit/errors';
import type { ChangedPage, Connector } from '../kit/types';
import { createDynamicsSalesConnector, rowIdFor } from './connector';

const ORG = 'https://contoso.crm4.dynamics.com';
const LOGIN = 'https://login.microsoftonline.com';
const API = '/api/data/v9.2';
const ACCOUNT = '60c4e274-0d87-e711-80e5-00155db19e6d';
const PARENT = '7a1d4e22-1b2d-4e6f-9a0b-1c2d3e4f5a01';

function connector(): Connector {
  return createDynamicsSalesConnector({
    name: 'crm',
    baseUrl: ORG,
    tokenUrl: `${LOGIN}/tenant-1/oauth2/v2.0/token`,
    clientId: 'app-id',
    clientSecret: 'app-secret',
    retry: { baseDelayMs: 1 },
    readWindowMs: 0,
  });
}

/** Azure AD's client credentials grant, asking for the environment's `.default` scope. */
function token(): nock.Scope {
  return nock(LOGIN)
    .post('/tenant-1/oauth2/v2.0/token', {
      grant_type: 'client_credentials',
      client_id: 'app-id',
      client_secret: 'app-secret',
      scope: `${ORG}/.default`,
    })
    .reply(200, { token_type: 'Bearer', expires_in: 3599, ext_expires_in: 3599, access_token: 'token-1' });
}

const accountRow = {
  '@odata.etag': 'W/"915244"',
  accountid: ACCOUNT,
  name: 'Monte Orton',
  telephone1: '555000',
  fax: '10101',
  modifiedon: '2026-05-01T10:00:00Z',
};

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('the Dynamics 365 Sales connector', () => {
  it('polls with Prefer: odata.track-changes, keeps each delta link, and hands on deleted rows', async () => {
    const auth = token();
    const api = nock(ORG, { reqheaders: { authorization: 'Bearer token-1' } })
      .get(`${API}/accounts`)
      .query(true)
      .matchHeader('prefer', /odata\.track-changes/)
      .reply(200, {
        value: [accountRow],
        '@odata.deltaLink': `${ORG}${API}/accounts?$select=name&$deltatoken=919042%2108%2f22%2f2017`,
      })
      .get(`${API}/contacts`)
      .query(true)
      .reply(200, { value: [], '@odata.deltaLink': `${ORG}${API}/contacts?$deltatoken=1` })
      .get(`${API}/accounts`)
      .query({ $select: 'name', $deltatoken: '919042!08/22/2017' })
      .matchHeader('prefer', /odata\.track-changes/)
      .reply(200, {
        value: [
          {
            '@odata.context': `${ORG}${API}/$metadata#accounts/$deletedEntity`,
            id: ACCOUNT.toUpperCase(),
            reason: 'deleted',
          },
        ],
        '@odata.deltaLink': `${ORG}${API}/accounts?$deltatoken=2`,
      })
      .get(`${API}/contacts`)
      .query({ $deltatoken: '1' })
      .reply(200, { value: [], '@odata.deltaLink': `${ORG}${API}/contacts?$deltatoken=1` });
    expect(recordViolations('account', accountRow)).toEqual([]);
    const crm = connector();
    const first: ChangedPage[] = [];
    for await (const page of crm.listChanged?.('contact', null) ?? []) first.push(page);
    expect(first[0]?.records.map((record) => [record.id, record.fields.phone])).toEqual([
      [`company-${ACCOUNT}`, '555000'],
    ]);
    const cursor = first.at(-1)?.cursor ?? null;
    const second: ChangedPage[] = [];
    for await (const page of crm.listChanged?.('contact', cursor) ?? []) second.push(page);
    expect(second[0]).toMatchObject({ records: [], deleted: [`company-${ACCOUNT}`] });
    expect(JSON.parse(second.at(-1)?.cursor ?? '{}')).toEqual({
      account: `${ORG}${API}/accounts?$deltatoken=2`,
      contact: `${ORG}${API}/contacts?$deltatoken=1`,
    });
    auth.done();
    api.done();
  });

  it('updates with If-Match: the etag planned against, * without; 412 and 404 are named errors', async () => {
    const auth = token();
    const sent: unknown[] = [];
    const api = nock(ORG)
      .patch(`${API}/accounts(${ACCOUNT})`, (body: unknown) => sent.push(body) > 0)
      .query(true)
      .matchHeader('if-match', 'W/"915244"')
      .reply(412, { error: { code: '0x80060882', message: 'The version of the existing record does not match' } })
      .patch(`${API}/accounts(${ACCOUNT})`, (body: unknown) => sent.push(body) > 0)
      .query(true)
      .matchHeader('if-match', '*')
      .reply(404, { error: { code: '0x80040217', message: 'account With Id = x Does Not Exist' } });
    const crm = connector();
    const update = { id: `company-${ACCOUNT}`, fields: { phone: '+1 555 0100', mobile: 'not an account column' } };
    await expect(crm.update?.('contact', { ...update, ifMatch: 'W/"915244"' })).rejects.toBeInstanceOf(
      PreconditionFailedError,
    );
    await expect(crm.update?.('contact', update)).rejects.toBeInstanceOf(NotFoundError);
    expect(sent).toEqual([{ telephone1: '+1 555 0100' }, { telephone1: '+1 555 0100' }]);
    for (const body of sent) expect(bodyViolations('account', 'PATCH', body)).toEqual([]);
    auth.done();
    api.done();
  });

  it('creates a person under the id its idempotency key gives, bound to its account, after a 429', async () => {
    const auth = token();
    const rowId = rowIdFor('key-1');
    let posted: unknown;
    const contactRow = {
      '@odata.etag': 'W/"1"',
      contactid: rowId,
      firstname: 'Anna van',
      lastname: 'Dijk',
      _parentcustomerid_value: PARENT,
      '_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'account',
      modifiedon: '2026-05-02T08:30:00Z',
    };
    expect(recordViolations('contact', contactRow)).toEqual([]);
    const api = nock(ORG)
      .get(`${API}/contacts(${rowId})`)
      .query(true)
      .reply(404, { error: { code: '0x80040217', message: 'contact With Id = x Does Not Exist' } })
      .post(`${API}/contacts`)
      .query(true)
      .reply(
        429,
        { error: { code: '0x80072322', message: 'Number of requests exceeded the limit' } },
        { 'Retry-After': '0' },
      )
      .post(`${API}/contacts`, (body: unknown) => {
        posted = body;
        return true;
      })
      .query(true)
      .matchHeader('prefer', /return=representation/)
      .reply(201, contactRow);
    const created = await connector().create?.(
      'contact',
      { name: 'Anna van Dijk' },
      { idempotencyKey: 'key-1', extra: { type: 'person', companyId: `company-${PARENT}` } },
    );
    expect(created).toMatchObject({ id: `person-${rowId}`, companyId: `company-${PARENT}`, type: 'person' });
    expect(posted).toEqual({
      contactid: rowId,
      firstname: 'Anna van',
      lastname: 'Dijk',
      'parentcustomerid_account@odata.bind': `/accounts(${PARENT})`,
    });
    expect(bodyViolations('contact', 'POST', posted)).toEqual([]);
    expect(rowIdFor('key-1')).toBe(rowId);
    expect(rowIdFor('key-2')).not.toBe(rowId);
    expect(rowId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    auth.done();
    api.done();
  });

  it('refuses an id that is not a Dynamics contact id before any call', async () => {
    await expect(connector().get('contact', `person-003000000000001AAA`)).rejects.toThrow(/Dynamics contact id/);
  });
});
