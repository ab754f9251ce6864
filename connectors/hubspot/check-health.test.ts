/** The CRM connector's readiness check: one authenticated GET of a single company, tried once. */
import nock from 'nock';
import { watchedByModels } from '../../test/support/hubspot/models';
import { createHubSpotConnector } from './connector';

const API = 'https://api.hubapi.com';

// Every request the connector sends and every canned answer below are held to HubSpot's own models.
const modelViolations: string[] = [];
const hubspotApi = () => watchedByModels(nock(API), modelViolations);
afterEach(() => expect(modelViolations.splice(0)).toEqual([]));
const TOKEN = 'pat-eu1-health';

function connector() {
  return createHubSpotConnector({ name: 'crm', token: TOKEN, retry: { baseDelayMs: 1, attempts: 4 } });
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('HubSpot checkHealth', () => {
  it('lists one company with the private-app token', async () => {
    const api = nock(API, { reqheaders: { authorization: `Bearer ${TOKEN}` } })
      .get('/crm/v3/objects/companies')
      .query({ limit: '1', archived: 'false' })
      .reply(200, { results: [] });
    await expect(connector().checkHealth?.()).resolves.toBeUndefined();
    api.done();
  });

  it('rejects at once on a refused token, without retries', async () => {
    const api = hubspotApi()
      .get('/crm/v3/objects/companies')
      .query(true)
      .reply(401, { status: 'error', message: 'Authentication credentials not found.' });
    await expect(connector().checkHealth?.()).rejects.toThrow(/401/);
    api.done();
  });

  it('rejects a 5xx after one try, so a probe answers within its timeout', async () => {
    const api = hubspotApi().get('/crm/v3/objects/companies').query(true).once().reply(502, 'bad gateway');
    await expect(connector().checkHealth?.()).rejects.toThrow(/502/);
    api.done();
    expect(nock.pendingMocks()).toEqual([]);
  });

  it('counts a 429 as reachable: the token was accepted', async () => {
    const api = hubspotApi()
      .get('/crm/v3/objects/companies')
      .query(true)
      .reply(429, { status: 'error' }, { 'Retry-After': '1' });
    await expect(connector().checkHealth?.()).resolves.toBeUndefined();
    api.done();
  });
});
