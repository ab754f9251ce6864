/**
 * The console API and pages over fake services, on a loopback port: every console route, 401
 * without auth, 403 for a viewer's changes, 400 naming the field, sign-in with the session cookie,
 * the CSRF header rule, pages redirecting to the login, static files, the OpenAPI document.
 * (Requests go over real HTTP: Fastify's inject() does not load under this jest setup.)
 */
import { AuthFailures, MAX_AUTH_FAILURES } from '../src/http/auth';
import Fastify, { type FastifyInstance } from 'fastify';
import pino from 'pino';
import { registerAdminApi, type DaemonStatus } from '../src/http/admin';
import { FakeRelationService } from './support/fake-relation-service';
import { createSession, readSession, SESSION_COOKIE } from '../src/http/auth';
import { CONSOLE_ROUTES, registerConsole } from '../src/http/console';
import { CONSOLE_PAGES } from '../src/http/console/pages';
import { loadStaticAssets, staticDir } from '../src/http/console/static-assets';
import { FakeConsoleService } from './support/fake-console-service';
import { openApiPath } from '../src/http/api/openapi';
import { openPgliteStore } from '../src/store/open-store';

const ADMIN = 'admin-token-0123456789abcdef';
const VIEWER = 'viewer-token-0123456789abcdef';
const TOKENS = { admin: [ADMIN], viewer: [VIEWER] };
const STATUS: DaemonStatus = {
  role: 'all',
  startedAt: '2024-05-01T10:00:00.000Z',
  uptimeSeconds: 1,
  connectors: [],
  queues: {},
  relations: { customer: 0, vendor: 0, bankAccount: 0 },
  relationCodes: { customer: 'CUST', vendor: null, bankAccount: null },
};

let app: FastifyInstance;
let baseUrl: string;
let consoleService: FakeConsoleService;
let relations: FakeRelationService;

beforeEach(async () => {
  consoleService = new FakeConsoleService();
  relations = new FakeRelationService();
  app = Fastify({ loggerInstance: pino({ level: 'silent' }) }) as unknown as FastifyInstance;
  const status = async () => STATUS;
  // A daemon of its own per test, with its own count of failed token checks.
  const tokens = { ...TOKENS };
  await registerAdminApi(app, { service: relations, status, tokens });
  await registerConsole(app, { tokens, console: consoleService, relations, status });
  baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
});
afterEach(async () => {
  await app.close();
});

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function send(
  method: string,
  url: string,
  options: {
    token?: string | null;
    cookie?: string;
    body?: unknown;
    headers?: Record<string, string>;
    form?: string;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token === undefined && options.cookie === undefined ? ADMIN : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.cookie) headers.cookie = options.cookie;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body);
  } else if (options.form !== undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = options.form;
  }
  const response = await fetch(new URL(url, baseUrl), { method, headers, body, redirect: 'manual' });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

/** Signs in and answers the Cookie header to send. */
async function signIn(token: string): Promise<string> {
  const response = await send('POST', '/ui/login', { token: null, body: { token } });
  expect(response.status).toBe(200);
  const setCookie = response.headers.get('set-cookie') ?? '';
  expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=`));
  return setCookie.split(';')[0] as string;
}

const YAML = 'mappings:\n  customer:\n    - contact: phone\n      account: phone\n      direction: toCrm\n';

describe('console routes', () => {
  it('answers the fields a mapping of a kind may name, per side, and 400 without a kind', async () => {
    const fields = await send('GET', '/api/console/fields?kind=customer', { token: VIEWER });
    expect(fields.status).toBe(200);
    expect(fields.json().contact).toContainEqual(
      expect.objectContaining({ name: 'custom.customer_tier', custom: true }),
    );
    expect(consoleService.calls).toContainEqual({ method: 'describeFields', args: ['customer'] });
    const missing = await send('GET', '/api/console/fields', { token: VIEWER });
    expect(missing.status).toBe(400);
    expect(missing.json()).toMatchObject({ field: expect.stringMatching(/kind/) });
  });

  it('answers the overview, relation rows with filters, history and conflicts', async () => {
    const overview = await send('GET', '/api/console/overview', { token: VIEWER });
    expect(overview.status).toBe(200);
    expect(overview.json()).toMatchObject({
      relations: { total: 3, conflict: 1 },
      connectors: [{ slot: 'crm' }, { slot: 'accounting', healthy: false }],
    });

    const rows = await send('GET', '/api/console/relations?kind=customer&state=conflict&text=adat&limit=10&offset=0', {
      token: VIEWER,
    });
    expect(rows.status).toBe(200);
    expect(rows.json()).toMatchObject({ total: 1, rows: [{ relation: { id: 'R2' }, state: 'conflict' }] });
    expect(consoleService.callsOf('listRelationRows')[0]).toEqual([
      { kind: 'customer', state: 'conflict', text: 'adat', limit: 10, offset: 0 },
    ]);

    const history = await send('GET', '/api/console/relations/R1/history?limit=5', { token: VIEWER });
    expect(history.json()).toEqual([expect.objectContaining({ id: 'A1', field: 'phone' })]);
    expect(consoleService.callsOf('history')[0]).toEqual(['R1', 5]);
    expect((await send('GET', '/api/console/relations/R404/history')).status).toBe(404);

    const conflicts = await send('GET', '/api/console/conflicts?relationId=R2', { token: VIEWER });
    expect(conflicts.json()).toEqual([
      expect.objectContaining({
        auditId: 'A2',
        field: 'phone',
        winner: expect.objectContaining({ system: 'accounting' }),
      }),
    ]);
  });

  it('resyncs, applies a losing value and undoes a change as the admin', async () => {
    const resync = await send('POST', '/api/console/relations/R1/resync');
    expect(resync.status).toBe(202);
    expect(resync.json()).toEqual({ jobId: 'job-1' });
    expect(consoleService.callsOf('resync')[0]).toEqual(['R1', { name: 'admin' }]);

    const apply = await send('POST', '/api/console/conflicts/A2/apply-loser', { body: { loserIndex: 0 } });
    expect(apply.status).toBe(200);
    expect(apply.json()).toEqual({ writes: 2 });
    expect(consoleService.callsOf('applyLosingValue')[0]).toEqual(['A2', { loserIndex: 0 }, { name: 'admin' }]);
    expect((await send('POST', '/api/console/conflicts/A2/apply-loser', { body: {} })).status).toBe(200);

    const undo = await send('POST', '/api/console/audit/A1/undo');
    expect(undo.json()).toEqual({ writes: 1 });
    expect((await send('POST', '/api/console/audit/A404/undo')).status).toBe(404);
  });

  it('exports the audit log as CSV with the filters of /api/audit', async () => {
    const csv = await send('GET', '/api/console/audit.csv?contactId=C1&kind=fieldChange&from=2024-05-01', {
      token: VIEWER,
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toContain('attachment');
    expect(csv.text.split('\n')[0]).toBe('id,appliedAt,kind,contactId,field');
    expect(csv.text).toContain('A1,');
    expect(consoleService.callsOf('auditCsv')[0]).toEqual([
      { contactId: 'C1', kind: 'fieldChange', from: '2024-05-01' },
    ]);
  });

  it('rejects a proposed pair', async () => {
    const response = await send('POST', '/api/console/matches/reject', {
      body: { contactId: 'C3', accountKind: 'vendor', accountId: 'V1' },
    });
    expect(response.status).toBe(204);
    expect(consoleService.rejected).toEqual([{ contactId: 'C3', accountKind: 'vendor', accountId: 'V1' }]);
  });

  it('validates, previews, saves, lists and restores config versions', async () => {
    const state = await send('GET', '/api/console/config', { token: VIEWER });
    expect(state.json()).toMatchObject({ source: 'file', version: null, fileDiffers: false });

    const bad = await send('POST', '/api/console/config/validate', {
      body: { yaml: YAML.replace('toCrm', 'sideways') },
    });
    expect(bad.json()).toEqual({
      problems: [{ path: 'mappings.customer.0.direction', message: expect.stringContaining('toCrm') }],
    });
    // Valid: the answer carries the editable sections as data, which the mapping table reads.
    expect((await send('POST', '/api/console/config/validate', { body: { yaml: YAML } })).json()).toEqual({
      problems: [],
      editable: { mappings: { customer: [{ contact: 'phone', account: 'phone', direction: 'both' }] } },
    });

    const preview = await send('POST', '/api/console/config/preview', { body: { yaml: YAML } });
    expect(preview.json()).toMatchObject({
      valid: true,
      changedKeys: ['mappings.customer'],
      summary: [{ system: 'accounting', field: 'phone', records: 1 }],
    });

    const saved = await send('POST', '/api/console/config', { body: { yaml: YAML, comment: 'phone from accounting' } });
    expect(saved.status).toBe(201);
    expect(saved.json()).toMatchObject({ version: 1, savedBy: 'admin', comment: 'phone from accounting' });
    await send('POST', '/api/console/config', { body: { yaml: `${YAML}# second\n` } });
    expect(
      (await send('GET', '/api/console/config/versions', { token: VIEWER }))
        .json()
        .map((v: { version: number }) => v.version),
    ).toEqual([2, 1]);

    const restored = await send('POST', '/api/console/config/versions/1/restore');
    expect(restored.status).toBe(201);
    expect(restored.json()).toMatchObject({ version: 3, yaml: YAML });
    expect((await send('GET', '/api/console/config')).json()).toMatchObject({
      source: 'stored',
      version: 3,
      fileDiffers: true,
    });
    expect((await send('POST', '/api/console/config/versions/9/restore')).status).toBe(404);
  });

  it('answers the caller access level', async () => {
    expect((await send('GET', '/api/console/session', { token: VIEWER })).json()).toEqual({ level: 'viewer' });
    expect((await send('GET', '/api/console/session')).json()).toEqual({ level: 'admin' });
  });
});

describe('input and access', () => {
  it('answers 400 naming the field', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['GET', '/api/console/relations?state=sleeping', undefined, 'query.state'],
      ['GET', '/api/console/relations?limit=0', undefined, 'query.limit'],
      ['GET', '/api/console/relations?colour=red', undefined, 'query.colour'],
      ['GET', '/api/console/audit.csv?from=yesterday', undefined, 'query.from'],
      ['POST', '/api/console/conflicts/A2/apply-loser', { loserIndex: -1 }, 'body.loserIndex'],
      [
        'POST',
        '/api/console/matches/reject',
        { contactId: 'C1', accountKind: 'supplier', accountId: 'V1' },
        'body.accountKind',
      ],
      ['POST', '/api/console/matches/reject', { accountKind: 'vendor', accountId: 'V1' }, 'body.contactId'],
      ['POST', '/api/console/config/validate', {}, 'body.yaml'],
      ['POST', '/api/console/config', { yaml: YAML, comment: '' }, 'body.comment'],
      ['POST', '/api/console/config/versions/zero/restore', undefined, 'params.version'],
    ];
    for (const [method, url, body, field] of cases) {
      const response = await send(method, url, { body });
      expect({ url, status: response.status, field: response.json().field }).toEqual({ url, status: 400, field });
    }
  });

  it('answers 401 without a token and 403 to a viewer changing anything', async () => {
    for (const route of CONSOLE_ROUTES) {
      const url = route.url.replace(':id', 'R1').replace(':auditId', 'A1').replace(':version', '1');
      const anonymous = await send(route.method, url, { token: null });
      expect({ url, status: anonymous.status }).toEqual({ url, status: 401 });
      if (route.access === 'change') {
        const viewer = await send(route.method, url, { token: VIEWER, body: {} });
        expect({ url, status: viewer.status }).toEqual({ url, status: 403 });
      }
    }
    expect(consoleService.calls).toEqual([]);
  });

  it('documents every console route in the OpenAPI document', async () => {
    const document = (await send('GET', '/api/openapi.json', { token: VIEWER })).json();
    for (const route of CONSOLE_ROUTES) {
      const operation = document.paths[openApiPath(route.url)]?.[route.method.toLowerCase()];
      expect({ url: route.url, operationId: operation?.operationId }).toEqual({
        url: route.url,
        operationId: route.operationId,
      });
    }
    expect(document.paths['/api/console/relations'].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      'kind',
      'state',
      'text',
      'limit',
      'offset',
    ]);
    expect(document.paths['/api/console/config'].post.responses['403']).toBeDefined();
  });
});

describe('browser session', () => {
  it('signs in with a token, uses the cookie for /api, and signs out', async () => {
    const rejected = await send('POST', '/ui/login', { token: null, body: { token: 'not-a-token-0123456789' } });
    expect(rejected.status).toBe(401);
    expect(rejected.headers.get('set-cookie')).toBeNull();

    const login = await send('POST', '/ui/login', { token: null, body: { token: ADMIN } });
    const setCookie = login.headers.get('set-cookie') ?? '';
    expect(login.json()).toEqual({ level: 'admin' });
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain(ADMIN);
    const cookie = setCookie.split(';')[0] as string;

    expect((await send('GET', '/api/console/overview', { cookie })).status).toBe(200);
    expect((await send('GET', '/api/relations', { cookie })).status).toBe(200);

    const logout = await send('POST', '/ui/logout', { cookie, headers: { 'x-tandem-request': '1' } });
    expect(logout.status).toBe(204);
    expect(logout.headers.get('set-cookie')).toMatch(/^tandem_session=; .*Max-Age=0/);
  });

  it('signs in from a plain form post and redirects to the page asked for, never elsewhere', async () => {
    const login = await send('POST', '/ui/login', { token: null, form: `token=${VIEWER}&next=%2Fui%2Fconflicts` });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/ui/conflicts');
    const elsewhere = await send('POST', '/ui/login', {
      token: null,
      form: `token=${VIEWER}&next=https%3A%2F%2Fevil.example%2F`,
    });
    expect(elsewhere.headers.get('location')).toBe('/ui');
    const wrong = await send('POST', '/ui/login', { token: null, form: 'token=wrong' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('not an admin or viewer token');
  });

  it('marks the cookie Secure behind a TLS proxy it is told to trust, and only then', async () => {
    const forwarded = { 'x-forwarded-proto': 'https' };
    const direct = await send('POST', '/ui/login', { token: null, body: { token: ADMIN }, headers: forwarded });
    expect(direct.headers.get('set-cookie')).not.toContain('Secure');

    const proxied = Fastify({
      loggerInstance: pino({ level: 'silent' }),
      trustProxy: true,
    }) as unknown as FastifyInstance;
    await registerConsole(proxied, {
      tokens: { ...TOKENS },
      console: consoleService,
      relations,
      status: async () => STATUS,
    });
    const url = await proxied.listen({ host: '127.0.0.1', port: 0 });
    try {
      const login = await fetch(`${url}/ui/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...forwarded },
        body: JSON.stringify({ token: ADMIN }),
      });
      expect(login.headers.get('set-cookie')).toContain('; Secure');
    } finally {
      await proxied.close();
    }
  });

  it('revokes a session on sign-out in every process sharing the store, copies of the cookie included', async () => {
    const store = await openPgliteStore();
    const processes: FastifyInstance[] = [];
    try {
      const urls: string[] = [];
      for (let i = 0; i < 2; i++) {
        const other = Fastify({ loggerInstance: pino({ level: 'silent' }) }) as unknown as FastifyInstance;
        const tokens = { ...TOKENS, sessions: store };
        await registerAdminApi(other, { service: relations, status: async () => STATUS, tokens });
        await registerConsole(other, { tokens, console: consoleService, relations, status: async () => STATUS });
        urls.push(await other.listen({ host: '127.0.0.1', port: 0 }));
        processes.push(other);
      }
      const [first, second] = urls as [string, string];
      const login = await fetch(`${first}/ui/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: ADMIN }),
      });
      const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const get = (url: string, path: string) => fetch(`${url}${path}`, { headers: { cookie }, redirect: 'manual' });
      expect((await get(second, '/api/relations')).status).toBe(200);
      expect((await get(second, '/ui')).status).toBe(200);

      const logout = await fetch(`${first}/ui/logout`, {
        method: 'POST',
        headers: { cookie, 'x-tandem-request': '1' },
      });
      expect(logout.status).toBe(204);
      for (const url of urls) {
        const refused = await get(url, '/api/relations');
        expect(refused.status).toBe(401);
        expect(((await refused.json()) as { message: string }).message).toContain('signed out');
        expect((await get(url, '/ui')).headers.get('location')).toMatch(/^\/ui\/login/);
      }
      // A new sign-in is a new session, not the revoked one.
      const again = await fetch(`${second}/ui/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token: ADMIN }),
      });
      const fresh = (again.headers.get('set-cookie') ?? '').split(';')[0] as string;
      expect(fresh).not.toBe(cookie);
      expect((await fetch(`${first}/api/relations`, { headers: { cookie: fresh } })).status).toBe(200);
    } finally {
      for (const app of processes) await app.close();
      await store.close();
    }
  });

  it('does not take a session it cannot check against the store, and keeps it when sign-out cannot be recorded', async () => {
    const down = {
      isSessionRevoked: async () => {
        throw new Error('connection refused');
      },
      revokeSession: async () => {
        throw new Error('connection refused');
      },
    };
    const other = Fastify({ loggerInstance: pino({ level: 'silent' }) }) as unknown as FastifyInstance;
    const tokens = { ...TOKENS, sessions: down };
    await registerAdminApi(other, { service: relations, status: async () => STATUS, tokens });
    await registerConsole(other, { tokens, console: consoleService, relations, status: async () => STATUS });
    const url = await other.listen({ host: '127.0.0.1', port: 0 });
    try {
      const cookie = `${SESSION_COOKIE}=${createSession(ADMIN, 'admin')}`;
      const refused = await fetch(`${url}/api/relations`, { headers: { cookie } });
      expect(refused.status).toBe(503);
      expect(((await refused.json()) as { error: string }).error).toBe('SESSION_UNVERIFIABLE');
      expect((await fetch(`${url}/ui`, { headers: { cookie }, redirect: 'manual' })).status).toBe(503);
      // A bearer token needs no store.
      expect((await fetch(`${url}/api/relations`, { headers: { authorization: `Bearer ${ADMIN}` } })).status).toBe(200);
      const logout = await fetch(`${url}/ui/logout`, { method: 'POST', headers: { cookie, 'x-tandem-request': '1' } });
      expect(logout.status).toBe(503);
      expect(logout.headers.get('set-cookie')).toBeNull();
    } finally {
      await other.close();
    }
  });

  it('refuses a sign-in or sign-out posted by another site', async () => {
    for (const headers of <Array<Record<string, string>>>[
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'https://evil.example' },
      { origin: 'null' },
    ]) {
      const login = await send('POST', '/ui/login', { token: null, form: `token=${ADMIN}`, headers });
      expect(login.status).toBe(403);
      expect(login.headers.get('set-cookie')).toBeNull();
    }
    const cookie = await signIn(ADMIN);
    const logout = await send('POST', '/ui/logout', { cookie, headers: { 'sec-fetch-site': 'cross-site' } });
    expect(logout.status).toBe(403);
    expect(logout.headers.get('set-cookie')).toBeNull();
    // The console's own posts, and clients that are not browsers, still sign in.
    const own = await send('POST', '/ui/login', {
      token: null,
      form: `token=${ADMIN}`,
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(own.status).toBe(303);
  });

  it('refuses a client that keeps sending wrong tokens with 429, for a while even with a right one', async () => {
    for (let attempt = 0; attempt < MAX_AUTH_FAILURES; attempt++) {
      const guess =
        attempt % 2 === 0
          ? await send('POST', '/ui/login', { token: null, body: { token: `guess-${attempt}-0123456789` } })
          : await send('GET', '/api/relations', { token: `guess-${attempt}-0123456789` });
      expect(guess.status).toBe(401);
    }
    const blocked = await send('POST', '/ui/login', { token: null, body: { token: ADMIN } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(blocked.headers.get('set-cookie')).toBeNull();
    expect((await send('GET', '/api/relations', { token: ADMIN })).status).toBe(429);
  });

  it('refuses a change made with the cookie but without the CSRF header', async () => {
    const cookie = await signIn(ADMIN);
    const withoutHeader = await send('POST', '/api/console/relations/R1/resync', { cookie });
    expect(withoutHeader.status).toBe(403);
    expect(withoutHeader.json().error).toBe('CSRF');
    expect((await send('DELETE', '/api/relations/R1', { cookie })).status).toBe(403);
    expect(consoleService.callsOf('resync')).toEqual([]);

    const withHeader = await send('POST', '/api/console/relations/R1/resync', {
      cookie,
      headers: { 'x-tandem-request': '1' },
    });
    expect(withHeader.status).toBe(202);
    // A bearer token is not sent by a browser on its own, so it needs no header.
    expect((await send('POST', '/api/console/relations/R1/resync')).status).toBe(202);
  });

  it('keeps a viewer session read-only', async () => {
    const cookie = await signIn(VIEWER);
    expect((await send('GET', '/api/console/overview', { cookie })).status).toBe(200);
    expect(
      (await send('POST', '/api/console/relations/R1/resync', { cookie, headers: { 'x-tandem-request': '1' } })).status,
    ).toBe(403);
  });

  it('rejects a forged, tampered or expired session, and one whose token was removed', async () => {
    const valid = createSession(ADMIN, 'admin');
    expect(readSession(valid, TOKENS)?.level).toBe('admin');
    expect(readSession(valid.replace(/^admin/, 'viewer'), TOKENS)).toBeNull();
    expect(readSession(createSession('someone-elses-token-0123', 'admin'), TOKENS)).toBeNull();
    expect(readSession(createSession(ADMIN, 'admin', Date.now() - 13 * 3600_000), TOKENS)).toBeNull();
    expect(readSession(valid, { admin: [], viewer: [VIEWER] })).toBeNull();
    // Another session's id under this one's MAC is refused: the id is signed.
    const other = createSession(ADMIN, 'admin').split('.');
    const parts = valid.split('.');
    expect(readSession([parts[0], parts[1], other[2], parts[3]].join('.'), TOKENS)).toBeNull();
    const forged = await send('GET', '/api/console/overview', {
      cookie: `${SESSION_COOKIE}=admin.9999999999.${'A'.repeat(43)}`,
    });
    expect(forged.status).toBe(401);
  });
});

describe('pages', () => {
  it('redirects every page to the login without a session, and serves it with one', async () => {
    const cookie = await signIn(VIEWER);
    for (const page of CONSOLE_PAGES) {
      const url = page.path.replace(':id', 'R1');
      const anonymous = await send('GET', url, { token: null });
      expect({ url, status: anonymous.status, location: anonymous.headers.get('location') }).toEqual({
        url,
        status: 302,
        location: `/ui/login?next=${encodeURIComponent(url)}`,
      });
      const signedIn = await send('GET', url, { cookie });
      expect(signedIn.status).toBe(200);
      expect(signedIn.headers.get('content-type')).toMatch(/^text\/html/);
      expect(signedIn.text).toContain(`/ui/static/${page.script}`);
      expect(signedIn.text).toContain('data-level="viewer"');
    }
  });

  it('serves the login page, the stylesheet and every page module; nothing outside the folder', async () => {
    const login = await send('GET', '/ui/login', { token: null });
    expect(login.status).toBe(200);
    expect(login.text).toContain('<form method="post" action="/ui/login"');
    const css = await send('GET', '/ui/static/console.css', { token: null });
    expect(css.headers.get('content-type')).toMatch(/^text\/css/);
    for (const page of CONSOLE_PAGES) {
      const script = await send('GET', `/ui/static/${page.script}`, { token: null });
      expect({ script: page.script, status: script.status, type: script.headers.get('content-type') }).toEqual({
        script: page.script,
        status: 200,
        type: 'text/javascript; charset=utf-8',
      });
    }
    expect((await send('GET', '/ui/static/..%2Findex.ts', { token: null })).status).toBe(404);
    expect((await send('GET', '/ui/static/missing.js', { token: null })).status).toBe(404);
  });

  it('finds the static files from the compiled output, which copies none', () => {
    const fromDist = loadStaticAssets(staticDir(`${__dirname}/../dist/src/http/console`));
    expect([...fromDist.keys()]).toEqual(expect.arrayContaining(['console.css', 'lib.js', 'overview.js', 'config.js']));
  });
});

describe('failed token checks', () => {
  it('are counted per client over a sliding minute', () => {
    let now = 0;
    const failures = new AuthFailures(() => now);
    for (let attempt = 0; attempt < MAX_AUTH_FAILURES; attempt++) failures.failed('10.0.0.1');
    expect(failures.retryAfter('10.0.0.1')).toBe(60);
    expect(failures.retryAfter('10.0.0.2')).toBe(0);
    now = 30_000;
    expect(failures.retryAfter('10.0.0.1')).toBe(30);
    now = 60_001;
    expect(failures.retryAfter('10.0.0.1')).toBe(0);
  });
});
