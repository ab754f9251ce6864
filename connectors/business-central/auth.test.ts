import nock from 'nock';
import { AuthFailedError } from '../kit/errors';
import { ClientCredentialsTokenProvider, DEFAULT_SCOPE } from './auth';

const LOGIN = 'https://login.microsoftonline.com';
const TOKEN_PATH = '/contoso.onmicrosoft.com/oauth2/v2.0/token';
const credentials = { tokenUrl: `${LOGIN}${TOKEN_PATH}`, clientId: 'app-id', clientSecret: 's3cret' };

beforeAll(() => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
});
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

describe('ClientCredentialsTokenProvider', () => {
  it('posts the client credentials form and reuses the token', async () => {
    const scope = nock(LOGIN)
      .post(TOKEN_PATH, {
        grant_type: 'client_credentials',
        client_id: 'app-id',
        client_secret: 's3cret',
        scope: DEFAULT_SCOPE,
      })
      .matchHeader('content-type', 'application/x-www-form-urlencoded')
      .reply(200, { token_type: 'Bearer', expires_in: 3599, access_token: 'token-1' });
    const provider = new ClientCredentialsTokenProvider(credentials);
    expect(await provider.header()).toBe('Bearer token-1');
    expect(await provider.header()).toBe('Bearer token-1');
    scope.done();
  });

  it('shares one token request between concurrent callers', async () => {
    const scope = nock(LOGIN)
      .post(TOKEN_PATH)
      .delay(20)
      .once()
      .reply(200, { expires_in: 3599, access_token: 'shared' });
    const provider = new ClientCredentialsTokenProvider(credentials);
    const headers = await Promise.all([provider.header(), provider.header(), provider.header()]);
    expect(headers).toEqual(['Bearer shared', 'Bearer shared', 'Bearer shared']);
    scope.done();
  });

  it('renews 60 s before expiry', async () => {
    let now = 1_000_000;
    const scope = nock(LOGIN)
      .post(TOKEN_PATH)
      .reply(200, { expires_in: 3600, access_token: 'first' })
      .post(TOKEN_PATH)
      .reply(200, { expires_in: 3600, access_token: 'second' });
    const provider = new ClientCredentialsTokenProvider(credentials, { now: () => now });
    expect(await provider.header()).toBe('Bearer first');
    now += 3600_000 - 60_001;
    expect(await provider.header()).toBe('Bearer first');
    now += 2;
    expect(await provider.header()).toBe('Bearer second');
    scope.done();
  });

  it('fetches a new token after invalidate', async () => {
    const scope = nock(LOGIN)
      .post(TOKEN_PATH)
      .reply(200, { expires_in: 3600, access_token: 'first' })
      .post(TOKEN_PATH)
      .reply(200, { expires_in: 3600, access_token: 'second' });
    const provider = new ClientCredentialsTokenProvider(credentials);
    await provider.header();
    provider.invalidate();
    expect(await provider.header()).toBe('Bearer second');
    scope.done();
  });

  it("turns a refusal into AuthFailedError with the provider's description", async () => {
    const scope = nock(LOGIN)
      .post(TOKEN_PATH)
      .reply(401, { error: 'invalid_client', error_description: 'AADSTS7000215: Invalid client secret provided.' });
    const provider = new ClientCredentialsTokenProvider({ ...credentials, scope: 'custom/.default' });
    const failure = provider.header();
    await expect(failure).rejects.toBeInstanceOf(AuthFailedError);
    await expect(failure).rejects.toThrow(/AADSTS7000215/);
    scope.done();
  });
});
