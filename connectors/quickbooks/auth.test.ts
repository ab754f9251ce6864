/** Intuit's refresh-token grant: a new refresh token is handed on before use, an unchanged one is not saved again. */
import nock from 'nock';
import { AuthFailedError, InvalidResponseError } from '../kit/errors';
import { INTUIT_TOKEN_URL, IntuitRefreshTokenProvider } from './auth';

const { origin, pathname } = new URL(INTUIT_TOKEN_URL);
const credentials = { clientId: 'client', clientSecret: 'secret', refreshToken: 'refresh-0' };

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

/** Answers one refresh that presents `presented` with `answer`. */
const tokenCall = (presented: string, status: number, answer: Record<string, unknown>) =>
  nock(origin)
    .post(
      pathname,
      (form: Record<string, string>) => form.grant_type === 'refresh_token' && form.refresh_token === presented,
    )
    .basicAuth({ user: 'client', pass: 'secret' })
    .reply(status, answer);

test('a rotated refresh token is saved, and the next refresh presents it', async () => {
  const saved: string[] = [];
  const provider = new IntuitRefreshTokenProvider(credentials, (token) => {
    saved.push(token);
  });
  const first = tokenCall('refresh-0', 200, { access_token: 'a1', expires_in: 3600, refresh_token: 'refresh-1' });
  expect(await provider.header()).toBe('Bearer a1');
  provider.invalidate();
  const second = tokenCall('refresh-1', 200, { access_token: 'a2', expires_in: 3600, refresh_token: 'refresh-1' });
  expect(await provider.header()).toBe('Bearer a2');
  first.done();
  second.done();
  // Intuit answers the same refresh token for about a day: it is saved once.
  expect(saved).toEqual(['refresh-1']);
});

test('a token answer without a refresh token, and a refused one, are errors', async () => {
  tokenCall('refresh-0', 200, { access_token: 'a1', expires_in: 3600 });
  await expect(new IntuitRefreshTokenProvider(credentials).header()).rejects.toBeInstanceOf(InvalidResponseError);
  tokenCall('refresh-0', 400, { error: 'invalid_grant' });
  await expect(new IntuitRefreshTokenProvider(credentials).header()).rejects.toBeInstanceOf(AuthFailedError);
});
