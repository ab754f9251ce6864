/** The Dynamics 365 Sales sandbox answers and refuses as the Dataverse Web API does, held to Microsoft's table pages. */
import { bodyViolations, recordViolations } from '../../../test/support/dynamics/manifest';
import { decodeBatchResponse, encodeBatch } from '../batch';
import { DATAVERSE_RATE_LIMITS, type DynamicsSandbox, SANDBOX_COLUMNS, startDynamicsSandbox } from '.';

const API = '/api/data/v9.2';

async function tokenFor(sandbox: DynamicsSandbox, secret = sandbox.clientSecret): Promise<Response> {
  return fetch(sandbox.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sandbox.clientId,
      client_secret: secret,
      scope: `${sandbox.url}/.default`,
    }).toString(),
  });
}

let sandbox: DynamicsSandbox;
let token = '';

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  return fetch(`${sandbox.url}${API}/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(body !== undefined && { 'content-type': 'application/json' }),
      ...headers,
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}
const json = async (response: Response) => (await response.json()) as Record<string, unknown>;

beforeEach(async () => {
  sandbox = await startDynamicsSandbox();
  token = ((await (await tokenFor(sandbox)).json()) as { access_token: string }).access_token;
});

afterEach(async () => {
  // Whatever a test sent and got, the sandbox's traffic holds to the manifest: bodies set only
  // columns valid for the operation, rows carry only real columns.
  for (const entry of sandbox.requests) {
    const set = /^(accounts|contacts)/.exec(entry.path)?.[1];
    if (set === undefined) continue;
    if ((entry.method === 'POST' || entry.method === 'PATCH') && entry.status < 300)
      expect(bodyViolations(set, entry.method, entry.requestBody)).toEqual([]);
    const answer = entry.responseBody as { value?: unknown[] } | undefined;
    if (entry.status === 200 || entry.status === 201)
      for (const row of answer?.value ?? [answer])
        if (!JSON.stringify(row).includes('$deletedEntity')) expect(recordViolations(set, row)).toEqual([]);
  }
  await sandbox.close();
});

describe('the Dynamics 365 Sales sandbox', () => {
  it('grants tokens to the client credentials only, and refuses API calls without one', async () => {
    expect((await tokenFor(sandbox, 'wrong')).status).toBe(401);
    token = 'not-a-token';
    const refused = await call('GET', 'accounts');
    expect(refused.status).toBe(401);
    expect(await json(refused)).toEqual({ error: { code: '0x80072560', message: expect.any(String) } });
  });

  it('takes only columns the manifest allows on create and update', () => {
    for (const table of ['account', 'contact'] as const) {
      const body = Object.fromEntries(SANDBOX_COLUMNS[table].map((column) => [column, 'x']));
      expect(bodyViolations(table, 'POST', body)).toEqual([]);
      expect(bodyViolations(table, 'PATCH', body)).toEqual([]);
    }
  });

  it('creates an account and a contact bound to it, and answers them with etag, modifiedon and the lookup', async () => {
    const created = await call('POST', 'accounts', { name: 'Fabrikam', telephone1: '+31 20 555 0100' });
    expect(created.status).toBe(204);
    const accountid = /accounts\(([^)]+)\)$/.exec(created.headers.get('odata-entityid') ?? '')?.[1] ?? '';
    const contact = await call(
      'POST',
      'contacts',
      { firstname: 'Anna', lastname: 'Dijk', 'parentcustomerid_account@odata.bind': `/accounts(${accountid})` },
      { prefer: 'return=representation' },
    );
    expect(contact.status).toBe(201);
    const row = await json(contact);
    expect(row).toMatchObject({ fullname: 'Anna Dijk', _parentcustomerid_value: accountid });
    const read = await call(
      'GET',
      `contacts(${String(row.contactid)})?$select=firstname,_parentcustomerid_value`,
      undefined,
      {
        prefer: 'odata.include-annotations="Microsoft.Dynamics.CRM.lookuplogicalname"',
      },
    );
    expect(await json(read)).toEqual({
      '@odata.context': expect.stringContaining('$metadata#contacts/$entity'),
      '@odata.etag': expect.stringMatching(/^W\/"\d+"$/),
      contactid: row.contactid,
      firstname: 'Anna',
      _parentcustomerid_value: accountid,
      '_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname': 'account',
    });
    expect(sandbox.getAccount(accountid)).toMatchObject({ name: 'Fabrikam', modifiedon: expect.stringMatching(/Z$/) });
  });

  it('refuses a column it does not know, a read-only one, and a bind to an account that does not exist', async () => {
    const unknown = await call('POST', 'accounts', { vatnumber: 'NL1' });
    expect(unknown.status).toBe(400);
    expect(await json(unknown)).toEqual({
      error: {
        code: '0x80060888',
        message: "Could not find a property named 'vatnumber' on type 'Microsoft.Dynamics.CRM.account'.",
      },
    });
    const account = sandbox.createAccount({ name: 'Fabrikam' });
    expect(
      (await call('PATCH', `accounts(${String(account.accountid)})`, { modifiedon: '2026-01-01T00:00:00Z' })).status,
    ).toBe(400);
    const bind = {
      lastname: 'Dijk',
      'parentcustomerid_account@odata.bind': '/accounts(00000000-0000-0000-0000-000000000001)',
    };
    expect((await call('POST', 'contacts', bind)).status).toBe(400);
    expect((await call('GET', 'accounts(00000000-0000-0000-0000-000000000001)')).status).toBe(404);
  });

  it('updates with If-Match: the current etag passes and moves, a stale one is 412', async () => {
    const account = sandbox.createAccount({ name: 'Fabrikam' });
    const id = String(account.accountid);
    const etag = String(account['@odata.etag']);
    expect((await call('PATCH', `accounts(${id})`, { name: 'Fabrikam Ltd' }, { 'if-match': etag })).status).toBe(204);
    const stale = await call('PATCH', `accounts(${id})`, { name: 'Fabrikam BV' }, { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect(await json(stale)).toEqual({ error: { code: '0x80060882', message: expect.any(String) } });
    expect(sandbox.getAccount(id)).toMatchObject({ name: 'Fabrikam Ltd' });
    expect(sandbox.getAccount(id)?.['@odata.etag']).not.toBe(etag);
  });

  it('tracks changes: a first delta query lists every row, its delta link the changes and deletions since', async () => {
    const kept = sandbox.createAccount({ name: 'Fabrikam' });
    const removed = sandbox.createAccount({ name: 'Contoso' });
    const first = await json(await call('GET', 'accounts?$select=name', undefined, { prefer: 'odata.track-changes' }));
    expect((first.value as unknown[]).length).toBe(2);
    const deltaLink = String(first['@odata.deltaLink']);
    expect(deltaLink).toContain('$deltatoken=');
    expect(await json(await fetch(deltaLink, { headers: { authorization: `Bearer ${token}` } }))).toMatchObject({
      value: [],
    });
    sandbox.updateAccount(String(kept.accountid), { telephone1: '+1 555 0100' });
    sandbox.deleteAccount(String(removed.accountid));
    const changes = await json(await fetch(deltaLink, { headers: { authorization: `Bearer ${token}` } }));
    expect(changes.value).toEqual([
      { '@odata.etag': expect.any(String), accountid: kept.accountid, name: 'Fabrikam' },
      {
        '@odata.context': expect.stringMatching(/#accounts\/\$deletedEntity$/),
        id: removed.accountid,
        reason: 'deleted',
      },
    ]);
    expect(String(changes['@odata.deltaLink'])).not.toBe(deltaLink);
    const filtered = await call('GET', "accounts?$filter=contains(name,'x')", undefined, {
      prefer: 'odata.track-changes',
    });
    expect(filtered.status).toBe(400);
  });

  it('filters with contains(), quotes doubled, case-insensitive, at most $top rows', async () => {
    sandbox.createAccount({ name: "O'Brien Bakery" });
    sandbox.createAccount({ name: 'Fabrikam', emailaddress1: 'info@obrien.example' });
    sandbox.createAccount({ name: "O'Brien Mill" });
    const found = await json(
      await call('GET', `accounts?$filter=${encodeURIComponent("contains(name,'o''brien')")}&$top=5`),
    );
    expect((found.value as { name: string }[]).map((row) => row.name)).toEqual(["O'Brien Bakery", "O'Brien Mill"]);
    const either = await json(
      await call(
        'GET',
        `accounts?$filter=${encodeURIComponent("contains(name,'obrien') or contains(emailaddress1,'obrien')")}&$top=1`,
      ),
    );
    expect((either.value as { name: string }[]).map((row) => row.name)).toEqual(['Fabrikam']);
  });

  it('carries out a $batch in order, stopping at the first failure unless told to continue', async () => {
    const fabrikam = sandbox.createAccount({ name: 'Fabrikam' });
    const contoso = sandbox.createAccount({ name: 'Contoso' });
    const parts = [
      {
        method: 'PATCH',
        url: `${API}/accounts(${String(fabrikam.accountid)})`,
        headers: { 'If-Match': 'W/"1"' },
        body: { name: 'Stale' },
      },
      {
        method: 'PATCH',
        url: `${API}/accounts(${String(contoso.accountid)})`,
        headers: { 'If-Match': '*' },
        body: { name: 'Contoso Ltd' },
      },
      { method: 'GET', url: `${API}/accounts(${String(contoso.accountid)})?$select=name` },
    ];
    const send = async (prefer?: string) => {
      const response = await fetch(`${sandbox.url}${API}/$batch`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'multipart/mixed; boundary=batch_t',
          ...(prefer !== undefined && { prefer }),
        },
        body: encodeBatch('batch_t', parts),
      });
      expect(response.status).toBe(200);
      return decodeBatchResponse(response.headers.get('content-type') ?? undefined, await response.text());
    };
    expect((await send()).map((answer) => answer.status)).toEqual([412]);
    expect(sandbox.getAccount(String(contoso.accountid))).toMatchObject({ name: 'Contoso' });
    const answers = await send('odata.continue-on-error');
    expect(answers.map((answer) => answer.status)).toEqual([412, 204, 200]);
    expect(answers[2]?.body).toMatchObject({ name: 'Contoso Ltd' });
  });

  it('holds calls to the service protection limits, answering 429 in Dataverse’s words with Retry-After', async () => {
    // 6,000 requests per user in a sliding five minutes, 52 at once (service protection API limits).
    expect(DATAVERSE_RATE_LIMITS.requests).toMatchObject({ limit: 6000, windowMs: 300_000 });
    expect(DATAVERSE_RATE_LIMITS.concurrent).toMatchObject({ limit: 52 });
    await sandbox.close();
    sandbox = await startDynamicsSandbox({ rateLimits: { requests: { limit: 3 } } });
    token = ((await (await tokenFor(sandbox)).json()) as { access_token: string }).access_token;
    const answers = [];
    for (let index = 0; index < 4; index++) answers.push(await call('GET', 'accounts'));
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 429]);
    expect(answers[3]?.headers.get('retry-after')).toBe('100');
    expect(await json(answers[3] as Response)).toEqual({
      error: {
        code: '0x80072322',
        message: 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.',
      },
    });
  });

  it('offers the kit knobs: injected failures, latency and the request log', async () => {
    sandbox.injectFailures({ next429: 1, next5xx: 1 });
    expect((await call('GET', 'accounts')).status).toBe(429);
    expect((await call('GET', 'accounts')).status).toBe(503);
    sandbox.setLatency(30);
    const started = Date.now();
    expect((await call('GET', 'accounts')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(25);
    expect(sandbox.countRequests({ method: 'GET', path: 'accounts' })).toBe(3);
    expect(sandbox.requests.find((entry) => entry.path === 'token')).toBeDefined();
  });
});
