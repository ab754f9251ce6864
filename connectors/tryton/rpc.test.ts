import nock from 'nock';
import { z } from 'zod';
import { AuthFailedError, InvalidRequestError, NotFoundError, PreconditionFailedError } from '../kit/errors';
import { HttpClient } from '../kit/http';
import { containing, TrytonRpc } from './rpc';

const HOST = 'http://tryton.test:8000';
const PATH = '/shop/';
const session = (id: string) => `Session ${Buffer.from(`admin:1:${id}`).toString('base64')}`;

function rpc(): TrytonRpc {
  return new TrytonRpc(
    'accounting',
    { baseUrl: HOST, database: 'shop', credentials: { username: 'admin', password: 'pw' } },
    (options) => new HttpClient({ connector: 'accounting', ...options, retry: { baseDelayMs: 1 } }),
  );
}

/** Expects a login answered with session `id`, then the preferences call that follows it. */
function login(scope: nock.Scope, id: string): nock.Scope {
  return scope
    .post(PATH, { id: /.*/ as unknown as number, method: 'common.db.login', params: ['admin', { password: 'pw' }] })
    .reply(200, (_uri, body) => ({ id: (body as { id: number }).id, result: [1, id] }))
    .post(PATH, (body: { method: string }) => body.method === 'model.res.user.get_preferences')
    .matchHeader('authorization', session(id))
    .reply(200, { id: 0, result: { company: 1, language: 'en' } });
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => nock.cleanAll());
afterAll(() => nock.enableNetConnect());

it('logs in once, sends the session header and the user context', async () => {
  const scope = login(nock(HOST), 's1')
    .post(PATH, {
      id: /.*/ as unknown as number,
      method: 'model.party.party.read',
      params: [[7], ['name'], { company: 1, language: 'en', active_test: false }],
    })
    .matchHeader('authorization', session('s1'))
    .times(2)
    .reply(200, { id: 1, result: [{ id: 7, name: 'Adatum' }] });
  const client = rpc();
  expect(await client.model('party.party', 'read', [[7], ['name']], { active_test: false })).toEqual([
    { id: 7, name: 'Adatum' },
  ]);
  await client.model('party.party', 'read', [[7], ['name']], { active_test: false });
  expect(client.logins).toBe(1);
  scope.done();
});

it.each([401, 403])('logs in again once when the server answers %i, and repeats the call', async (status) => {
  const scope = login(nock(HOST), 's1')
    .post(PATH, (body: { method: string }) => body.method === 'model.party.party.search_count')
    .matchHeader('authorization', session('s1'))
    .reply(status, 'expired');
  login(scope, 's2')
    .post(PATH, (body: { method: string }) => body.method === 'model.party.party.search_count')
    .matchHeader('authorization', session('s2'))
    .reply(200, { id: 3, result: 4 });
  const client = rpc();
  expect(await client.model('party.party', 'search_count', [[]])).toBe(4);
  expect(client.logins).toBe(2);
  scope.done();
});

it('reports a refused login as AuthFailedError', async () => {
  const scope = nock(HOST).post(PATH).reply(401, 'Unauthorized');
  await expect(rpc().call('model.party.party.search_count', [[], {}])).rejects.toBeInstanceOf(AuthFailedError);
  scope.done();
});

it.each([
  [
    ['UserError', ['You are trying to read records "9" of "Party" that don\'t exist anymore.', '', null]],
    NotFoundError,
  ],
  [['UserError', ['The code on party must be unique.', '', null]], InvalidRequestError],
  [['ConcurrencyException', 'Records were modified in the meanwhile'], PreconditionFailedError],
  [['UserWarning', ['name', 'Are you sure?', '']], InvalidRequestError],
])('maps the JSON-RPC error %j to a named error', async (error, expected) => {
  const scope = login(nock(HOST), 's1')
    .post(PATH, (body: { method: string }) => body.method === 'model.party.party.write')
    .reply(200, { id: 2, error });
  await expect(rpc().model('party.party', 'write', [[9], { name: 'x' }])).rejects.toBeInstanceOf(expected);
  scope.done();
});

it('escapes %, _ and the escape character itself in a containing pattern', () => {
  expect(containing('100% off_peak \\ "x"')).toBe('%100\\% off\\_peak \\\\ "x"%');
  expect(containing('plain')).toBe('%plain%');
});

it('reads no more rows than a search asks for', async () => {
  const rows = [{ id: 1 }, { id: 2 }, { id: 3 }];
  const scope = login(nock(HOST), 's1')
    .post(
      PATH,
      (body: { method: string; params: unknown[] }) =>
        body.method === 'model.party.party.search_read' &&
        JSON.stringify(body.params.slice(0, 5)) ===
          JSON.stringify([[['name', 'ilike', '%a%']], 0, 3, [['id', 'ASC']], ['name']]),
    )
    .reply(200, { id: 2, result: rows });
  const found = await rpc().search(
    'party.party',
    z.object({ id: z.number() }),
    ['name'],
    [['name', 'ilike', '%a%']],
    3,
  );
  expect(found).toEqual(rows);
  scope.done();
});
