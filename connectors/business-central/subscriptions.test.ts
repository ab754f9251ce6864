import nock from 'nock';
import { HttpClient } from '../kit/http';
import { tenantApi } from '../../test/support/business-central/nock-tenant';
import { ensureSubscriptions, subscriptionResource } from './subscriptions';

// Every body the connector sends and every canned answer are held to the APIV2 manifest.
const manifestViolations: string[] = [];
const bcApi = (options?: nock.Options) => tenantApi(manifestViolations, options);
afterEach(() => expect(manifestViolations.splice(0)).toEqual([]));

const HOST = 'https://api.businesscentral.dynamics.com';
const API = '/v2.0/contoso/production/api/v2.0';
const COMPANY = 'f64eba74-dacd-4854-a584-1834f68cfc3a';
const HOOK = 'https://tandem.example.com/webhooks/accounting';
const NOW = new Date('2024-05-01T00:00:00Z');
const http = new HttpClient({
  connector: 'accounting',
  baseURL: `${HOST}${API}`,
  auth: { header: async () => 'Bearer t' },
  retry: { baseDelayMs: 1 },
});

function subscription(id: string, resource: string, expires: string, clientState = 'secret') {
  return {
    '@odata.etag': `W/"${id}"`,
    subscriptionId: id,
    notificationUrl: HOOK,
    resource,
    clientState,
    expirationDateTime: expires,
  };
}

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('ensureSubscriptions', () => {
  it('creates the missing subscriptions and returns when to renew', async () => {
    const scope = bcApi()
      .get(`${API}/subscriptions`)
      .reply(200, { value: [] })
      .post(`${API}/subscriptions`, {
        notificationUrl: HOOK,
        resource: `/api/v2.0/companies(${COMPANY})/customers`,
        clientState: 'secret',
      })
      .reply(201, subscription('s1', subscriptionResource(COMPANY, 'customer'), '2024-05-04T00:00:00Z'))
      .post(`${API}/subscriptions`, {
        notificationUrl: HOOK,
        resource: `/api/v2.0/companies(${COMPANY})/vendors`,
        clientState: 'secret',
      })
      .reply(201, subscription('s2', subscriptionResource(COMPANY, 'vendor'), '2024-05-03T23:00:00Z'));
    const result = await ensureSubscriptions({
      http,
      companyId: COMPANY,
      notificationUrl: HOOK,
      clientState: 'secret',
      now: NOW,
    });
    expect(result).toEqual({ renewAt: '2024-05-02T23:00:00.000Z' });
    scope.done();
  });

  it('renews a subscription expiring within a day with If-Match and keeps a fresh one', async () => {
    const scope = bcApi()
      .get(`${API}/subscriptions`)
      .reply(200, {
        value: [
          subscription('s1', `api/v2.0/companies(${COMPANY})/customers`, '2024-05-01T20:00:00Z'),
          subscription('s2', `/api/v2.0/companies(${COMPANY})/vendors`, '2024-05-03T12:00:00Z'),
        ],
      })
      .patch(`${API}/subscriptions('s1')`, {
        notificationUrl: HOOK,
        resource: `/api/v2.0/companies(${COMPANY})/customers`,
        clientState: 'secret',
      })
      .matchHeader('if-match', 'W/"s1"')
      .reply(200, subscription('s1', `/api/v2.0/companies(${COMPANY})/customers`, '2024-05-04T00:00:00Z'));
    const result = await ensureSubscriptions({
      http,
      companyId: COMPANY,
      notificationUrl: HOOK,
      clientState: 'secret',
      now: NOW,
    });
    expect(result).toEqual({ renewAt: '2024-05-02T12:00:00.000Z' });
    scope.done();
  });

  it('renews a subscription that carries another clientState', async () => {
    const scope = bcApi()
      .get(`${API}/subscriptions`)
      .reply(200, {
        value: [
          subscription('s1', `/api/v2.0/companies(${COMPANY})/customers`, '2024-05-03T20:00:00Z', 'old-secret'),
          subscription('s2', `/api/v2.0/companies(${COMPANY})/vendors`, '2024-05-03T20:00:00Z'),
        ],
      })
      .patch(`${API}/subscriptions('s1')`)
      .reply(200, subscription('s1', `/api/v2.0/companies(${COMPANY})/customers`, '2024-05-04T00:00:00Z'));
    await ensureSubscriptions({ http, companyId: COMPANY, notificationUrl: HOOK, clientState: 'secret', now: NOW });
    scope.done();
  });
});
