/** The Pipedrive sandbox answers and refuses as API v2 does; every body it takes and gives is held to the pipedrive client's models. */
import { modelViolations, type PipedriveModel } from '../../../test/support/pipedrive/models';
import { SANDBOX_API_PATH, startPipedriveSandbox, type PipedriveSandbox } from '.';

let sandbox: PipedriveSandbox;
beforeEach(async () => {
  sandbox = await startPipedriveSandbox();
});
afterEach(async () => {
  // Every exchange, held to the models: what was sent, and the records answered.
  const violations = sandbox.requests.flatMap((entry) => {
    const collection = /^\/(organizations|persons)/.exec(entry.path)?.[1];
    if (collection === undefined || entry.status < 200 || entry.status >= 300) return [];
    const record: PipedriveModel = collection === 'organizations' ? 'OrganizationItem' : 'Person';
    const body = entry.responseBody as { data: unknown };
    const sent =
      entry.method === 'PATCH'
        ? modelViolations(
            collection === 'organizations' ? 'UpdateOrganizationRequest' : 'UpdatePersonRequest',
            entry.requestBody,
          )
        : entry.method === 'POST'
          ? modelViolations(
              collection === 'organizations' ? 'AddOrganizationRequest' : 'AddPersonRequest',
              entry.requestBody,
            )
          : [];
    if (entry.path.endsWith('/search')) {
      const itemModel =
        collection === 'organizations'
          ? 'GetOrganizationSearchResponseAllOfDataItemsInnerItem'
          : 'GetPersonSearchResponseAllOfDataItemsInnerItem';
      const items = (body.data as { items: { item: unknown }[] }).items;
      return [...sent, ...items.flatMap(({ item }) => modelViolations(itemModel, item))];
    }
    const records = Array.isArray(body.data) ? body.data : [body.data];
    return [...sent, ...records.flatMap((data) => modelViolations(record, data))];
  });
  await sandbox.close();
  expect(violations).toEqual([]);
});

const call = async (path: string, init: RequestInit & { token?: string | null } = {}) => {
  const { token = sandbox.apiToken, ...rest } = init;
  const response = await fetch(`${sandbox.url}${SANDBOX_API_PATH}${path}`, {
    ...rest,
    headers: {
      'content-type': 'application/json',
      ...(token !== null && { 'x-api-token': token }),
      ...(rest.headers as Record<string, string> | undefined),
    },
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- answers are read loosely, the models judge them
};

describe('Pipedrive sandbox', () => {
  it('refuses a call without a valid token, and takes the api_token query and an OAuth bearer token', async () => {
    expect((await call('/organizations', { token: null })).status).toBe(401);
    expect((await call('/organizations', { token: 'wrong' })).body).toEqual({
      success: false,
      error: 'unauthorized access',
      errorCode: 401,
    });
    expect((await call(`/organizations?api_token=${sandbox.apiToken}`, { token: null })).status).toBe(200);
    const bearer = await call('/organizations', {
      token: null,
      headers: { authorization: `Bearer ${sandbox.accessToken}` },
    });
    expect(bearer.status).toBe(200);
  });

  it('serves a record a user created, with v2 times, and 404 for one it does not have', async () => {
    const created = sandbox.createOrganization({
      name: 'Boulangerie Moreau',
      address: { value: '12 rue du Four', locality: 'Paris' },
    });
    const answer = await call(`/organizations/${String(created.id)}`);
    expect(answer.body.data).toMatchObject({
      id: created.id,
      name: 'Boulangerie Moreau',
      address: { locality: 'Paris' },
    });
    expect(answer.body.data.update_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect((await call('/organizations/999')).status).toBe(404);
    expect((await call('/persons/abc')).status).toBe(404);
  });

  it('lists by update_time from updated_since (inclusive, to the second), page by page through next_cursor', async () => {
    for (const name of ['A', 'B', 'C', 'D', 'E']) sandbox.createPerson({ name });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?sort_by=update_time&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`;
      const page = await call(`/persons${query}`);
      seen.push(...(page.body.data as { name: string }[]).map((person) => person.name));
      cursor = page.body.additional_data.next_cursor as string | null;
    } while (cursor !== null);
    expect(seen).toEqual(['A', 'B', 'C', 'D', 'E']);
    const future = new Date(Date.now() + 5000).toISOString();
    expect((await call(`/persons?updated_since=${future}`)).body.data).toEqual([]);
    const now = new Date(Math.floor(Date.now() / 1000) * 1000 - 1000).toISOString();
    expect((await call(`/persons?updated_since=${now}`)).body.data).toHaveLength(5);
    expect((await call('/persons?updated_since=yesterday')).status).toBe(400);
    expect((await call('/persons?limit=501')).status).toBe(400);
  });

  it('updates what a PATCH names, merges custom fields, and refuses a property v2 does not have', async () => {
    const organization = sandbox.createOrganization({ name: 'Moreau', custom_fields: { vat: 'FR1', other: 'x' } });
    const patched = await call(`/organizations/${String(organization.id)}`, {
      method: 'PATCH',
      body: JSON.stringify({ website: 'https://moreau.example', custom_fields: { vat: 'FR2' } }),
    });
    expect(patched.body.data).toMatchObject({
      name: 'Moreau',
      website: 'https://moreau.example',
      custom_fields: { vat: 'FR2', other: 'x' },
    });
    const refused = await call(`/organizations/${String(organization.id)}`, {
      method: 'PATCH',
      body: JSON.stringify({ phone: '+33 1' }),
    });
    expect(refused.status).toBe(400);
    expect(sandbox.getOrganization(organization.id)).not.toHaveProperty('phone');
    expect((await call('/organizations/999', { method: 'PATCH', body: '{}' })).status).toBe(404);
  });

  it('creates a person in an organization, and refuses one without a name or in an unknown organization', async () => {
    const organization = sandbox.createOrganization({ name: 'Moreau' });
    const created = await call('/persons', {
      method: 'POST',
      body: JSON.stringify({
        name: 'Ada',
        org_id: organization.id,
        emails: [{ value: 'ada@moreau.example', primary: true, label: 'work' }],
      }),
    });
    expect(created.body.data).toMatchObject({ name: 'Ada', org_id: organization.id });
    expect(sandbox.listPersons()).toHaveLength(1);
    expect((await call('/persons', { method: 'POST', body: JSON.stringify({ org_id: organization.id }) })).status).toBe(
      400,
    );
    expect(
      (await call('/persons', { method: 'POST', body: JSON.stringify({ name: 'Bob', org_id: 999 }) })).status,
    ).toBe(404);
  });

  it('searches names, e-mails and custom fields, answering summaries, and wants 2 characters (1 with exact_match)', async () => {
    const organization = sandbox.createOrganization({ name: 'Boulangerie Moreau', custom_fields: { vat: 'FR123' } });
    sandbox.createPerson({
      name: 'Ada Moreau',
      org_id: organization.id as number,
      emails: [{ value: 'ada@moreau.example' }],
    });
    const byName = await call('/organizations/search?term=moreau');
    expect(byName.body.data.items).toEqual([
      {
        result_score: 1,
        item: {
          id: organization.id,
          type: 'organization',
          name: 'Boulangerie Moreau',
          custom_fields: ['FR123'],
          notes: [],
        },
      },
    ]);
    expect((await call('/organizations/search?term=fr123')).body.data.items).toHaveLength(1);
    const person = await call('/persons/search?term=ada@moreau.example&fields=email');
    expect(person.body.data.items[0].item).toMatchObject({
      emails: ['ada@moreau.example'],
      organization: { id: organization.id },
    });
    expect((await call('/persons/search?term=a')).status).toBe(400);
    expect((await call('/persons/search?term=x&exact_match=true')).status).toBe(200);
  });

  it('holds calls to 20 per 2 s and searches to 10 per 2 s, reporting x-ratelimit-* on every answer', async () => {
    // The limits' clock stands still, so no token comes back while the calls are made.
    await sandbox.close();
    sandbox = await startPipedriveSandbox({ now: () => 0 });
    const first = await call('/organizations');
    expect(first.headers.get('x-ratelimit-limit')).toBe('20');
    expect(first.headers.get('x-ratelimit-remaining')).toBe('19');
    const answers = await Promise.all(Array.from({ length: 20 }, () => call('/organizations')));
    const refused = answers.filter((answer) => answer.status === 429);
    expect(refused).toHaveLength(1);
    expect(refused[0]?.headers.get('retry-after')).toBe('1');
    expect(refused[0]?.body).toEqual({ success: false, error: 'Request over limit', errorCode: 429 });
    const searches = await Promise.all(Array.from({ length: 11 }, () => call('/organizations/search?term=none')));
    expect(searches.filter((answer) => answer.status === 429)).toHaveLength(1);
  });

  it('fails on demand, logs every call and delays by the latency knob', async () => {
    sandbox.injectFailures({ next429: 1, next5xx: 1 });
    expect((await call('/persons')).status).toBe(429);
    expect((await call('/persons')).status).toBe(503);
    expect((await call('/persons')).status).toBe(200);
    expect(sandbox.countRequests({ method: 'GET', path: '/persons' })).toBe(3);
    sandbox.setLatency(150);
    const started = Date.now();
    await call('/persons');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});
