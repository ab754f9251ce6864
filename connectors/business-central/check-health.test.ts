/** The accounting connector's readiness check: one authenticated GET of the company. */
import nock from 'nock';
import type { Connector } from '../kit/types';
import {
  API,
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

const connector = (): Connector => tenantConnector({ attempts: 1 });

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('Business Central checkHealth', () => {
  it('reads the company with a bearer token from the client-credentials flow', async () => {
    const token = nock(LOGIN).post(TOKEN_PATH).reply(200, { expires_in: 3599, access_token: 'bc-token' });
    const api = bcApi({ reqheaders: { authorization: 'Bearer bc-token' } })
      .get(`${API}/companies(${COMPANY})`)
      .reply(200, { id: COMPANY, name: 'CRONUS' });
    await expect(connector().checkHealth?.()).resolves.toBeUndefined();
    token.done();
    api.done();
  });

  it('rejects with the reason when the credentials are refused', async () => {
    const token = nock(LOGIN)
      .post(TOKEN_PATH)
      .reply(400, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
    await expect(connector().checkHealth?.()).rejects.toThrow(/token request refused/);
    token.done();
  });

  it('rejects when the company id is unknown', async () => {
    nock(LOGIN).post(TOKEN_PATH).reply(200, { expires_in: 3599, access_token: 'bc-token' });
    const api = bcApi()
      .get(`${API}/companies(${COMPANY})`)
      .reply(404, { error: { code: 'BadRequest_NotFound', message: 'company not found' } });
    await expect(connector().checkHealth?.()).rejects.toThrow(/404/);
    api.done();
  });

  it('counts a 429 as reachable: the credentials were accepted', async () => {
    nock(LOGIN).post(TOKEN_PATH).reply(200, { expires_in: 3599, access_token: 'bc-token' });
    const api = bcApi().get(`${API}/companies(${COMPANY})`).reply(429, {}, { 'Retry-After': '30' });
    await expect(connector().checkHealth?.()).resolves.toBeUndefined();
    api.done();
  });
});
