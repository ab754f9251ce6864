/** The Salesforce sandbox over HTTP: token, SOQL paging, collections, conditional updates, deletions, merges, describe and limits. */
import { type SalesforceSandbox, type SalesforceSandboxOptions, startSalesforceSandbox, SANDBOX_API_PATH } from '.';

let sandbox: SalesforceSandbox;
let token: string;

async function start(options: SalesforceSandboxOptions = {}): Promise<void> {
  sandbox = await startSalesforceSandbox(options);
  const answer = await fetch(sandbox.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
    }),
  });
  const body = (await answer.json()) as Record<string, unknown>;
  token = String(body.access_token);
}
afterEach(async () => {
  await sandbox.close();
});

/** One API call: status, headers and the JSON body. */
async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const url = path.startsWith('/services') ? `${sandbox.url}${path}` : `${sandbox.url}${SANDBOX_API_PATH}${path}`;
  const answer = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  // The assertions read the answers as Salesforce documents them.
  const json = (text === '' ? undefined : JSON.parse(text)) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  return { status: answer.status, headers: answer.headers, body: json };
}
const soql = (query: string, headers?: Record<string, string>) =>
  call('GET', `/query?q=${encodeURIComponent(query)}`, undefined, headers);

test('the token endpoint grants client credentials without expires_in, and a bad token is INVALID_SESSION_ID', async () => {
  await start();
  const refused = await fetch(sandbox.tokenUrl, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sandbox.clientId,
      client_secret: 'wrong',
    }),
  });
  expect(refused.status).toBe(400);
  expect(await refused.json()).toMatchObject({ error: 'invalid_client' });
  sandbox.revokeTokens();
  const answer = await call('GET', '/limits');
  expect(answer).toMatchObject({ status: 401, body: [{ errorCode: 'INVALID_SESSION_ID' }] });
});

test('SOQL pages through nextRecordsUrl in the batch size asked, oldest SystemModstamp first', async () => {
  await start({ queryBatchSize: 200 });
  for (let n = 0; n < 450; n++) sandbox.createAccount({ Name: `Account ${n}` });
  const first = await soql('SELECT Id, Name, SystemModstamp FROM Account ORDER BY SystemModstamp, Id', {
    'Sforce-Query-Options': 'batchSize=200',
  });
  expect(first.body).toMatchObject({ totalSize: 450, done: false });
  expect(first.body.records).toHaveLength(200);
  expect(first.body.records[0]).toEqual({
    attributes: { type: 'Account' },
    Id: expect.stringMatching(/^001\w{15}$/),
    Name: 'Account 0',
    SystemModstamp: expect.stringMatching(/\+0000$/),
  });
  const second = await call('GET', first.body.nextRecordsUrl);
  const third = await call('GET', second.body.nextRecordsUrl);
  expect(third.body).toMatchObject({ totalSize: 450, done: true });
  expect(
    [...first.body.records, ...second.body.records, ...third.body.records].map(
      (record: { Name: string }) => record.Name,
    ),
  ).toEqual(Array.from({ length: 450 }, (_, n) => `Account ${n}`));
  expect((await soql('SELECT Id, Nope FROM Account')).body).toEqual([
    expect.objectContaining({ errorCode: 'INVALID_FIELD' }),
  ]);
});

test('sObject Collections read in order with null for unknown ids, and write 200 at most, item by item', async () => {
  await start();
  const a = sandbox.createAccount({ Name: 'Alpha' }).Id;
  const b = sandbox.createAccount({ Name: 'Beta' }).Id;
  const missing = '001Sb0000099999AAA';
  const read = await call('GET', `/composite/sobjects/Account?ids=${a},${missing},${b}&fields=Id,Name`);
  expect(read.body.map((record: { Name?: string } | null) => record?.Name ?? null)).toEqual(['Alpha', null, 'Beta']);

  const written = await call('PATCH', '/composite/sobjects', {
    allOrNone: false,
    records: [
      { attributes: { type: 'Account' }, id: a, Phone: '+31 1' },
      { attributes: { type: 'Account' }, id: missing, Phone: '+31 2' },
      { attributes: { type: 'Account' }, id: b, Name: null },
    ],
  });
  expect(written.body).toEqual([
    { id: a, success: true, errors: [] },
    { id: missing, success: false, errors: [expect.objectContaining({ statusCode: 'INVALID_CROSS_REFERENCE_KEY' })] },
    {
      id: b,
      success: false,
      errors: [expect.objectContaining({ statusCode: 'REQUIRED_FIELD_MISSING', fields: ['Name'] })],
    },
  ]);
  expect(sandbox.getAccount(a)?.Phone).toBe('+31 1');
  const tooMany = Array.from({ length: 201 }, () => ({ attributes: { type: 'Account' }, Name: 'x' }));
  expect((await call('POST', '/composite/sobjects', { records: tooMany })).body).toEqual([
    expect.objectContaining({ errorCode: 'EXCEEDED_ID_LIMIT' }),
  ]);
  const created = await call('POST', '/composite/sobjects', {
    allOrNone: false,
    records: [{ attributes: { type: 'Contact' }, LastName: 'Dijk', AccountId: a, Email: 'not-an-address' }],
  });
  expect(created.body).toEqual([
    { id: null, success: false, errors: [expect.objectContaining({ statusCode: 'INVALID_EMAIL_ADDRESS' })] },
  ]);
});

test('a single-record PATCH with If-Unmodified-Since is refused with 412 once the record changed after that time', async () => {
  await start();
  const id = sandbox.createAccount({ Name: 'Gamma' }).Id;
  const before = new Date(Date.now() - 5000).toUTCString();
  const after = new Date(Date.now() + 5000).toUTCString();
  expect(
    (await call('PATCH', `/sobjects/Account/${id}`, { Phone: '1' }, { 'If-Unmodified-Since': before })).status,
  ).toBe(412);
  expect(
    (await call('PATCH', `/sobjects/Account/${id}`, { Phone: '2' }, { 'If-Unmodified-Since': after })).status,
  ).toBe(204);
  expect(sandbox.getAccount(id)?.Phone).toBe('2');
});

test('getDeleted lists deletions; a merge moves the Contacts and leaves MasterRecordId on the loser, seen through queryAll', async () => {
  await start();
  const master = sandbox.createAccount({ Name: 'Survivor' }).Id;
  const loser = sandbox.createAccount({ Name: 'Duplicate' }).Id;
  const person = sandbox.createContact({ LastName: 'Moreau', AccountId: loser }).Id;
  const from = new Date(Date.now() - 60_000).toISOString();
  sandbox.mergeAccounts(master, [loser]);
  const end = new Date(Date.now() + 1000).toISOString();
  const deleted = await call(
    'GET',
    `/sobjects/Account/deleted/?start=${encodeURIComponent(from)}&end=${encodeURIComponent(end)}`,
  );
  expect(deleted.body).toMatchObject({
    deletedRecords: [{ id: loser }],
    latestDateCovered: expect.stringMatching(/:00\.000\+0000$/),
  });
  expect(sandbox.getContact(person)?.AccountId).toBe(master);
  const all = await call(
    'GET',
    `/queryAll?q=${encodeURIComponent(`SELECT Id, MasterRecordId FROM Account WHERE IsDeleted = true`)}`,
  );
  expect(all.body.records).toEqual([{ attributes: { type: 'Account' }, Id: loser, MasterRecordId: master }]);
  expect((await soql('SELECT Id FROM Account')).body.records).toHaveLength(1);
});

test('field history logs changes of tracked fields, address parts as the compound address', async () => {
  await start({ fieldHistory: true });
  const id = sandbox.createAccount({ Name: 'Delta', Phone: '1' }).Id;
  sandbox.updateAccount(id, { Phone: '2', BillingCity: 'Utrecht' });
  const rows = await soql(
    `SELECT AccountId, Field, OldValue, NewValue, CreatedDate FROM AccountHistory WHERE AccountId IN ('${id}') ORDER BY CreatedDate`,
  );
  expect(
    rows.body.records.map((row: { Field: string; OldValue: unknown; NewValue: unknown }) => [
      row.Field,
      row.OldValue,
      row.NewValue,
    ]),
  ).toEqual([
    ['created', null, 'created'],
    ['Phone', '1', '2'],
    ['BillingAddress', null, null],
  ]);
});

test('describe lists the fields with their types, writability and picklist values; picklists set the country text', async () => {
  await start({
    stateAndCountryPicklists: true,
    customFields: { Account: [{ name: 'Region__c', label: 'Region', type: 'string', updateable: true }] },
  });
  const described = await call('GET', '/sobjects/Account/describe');
  const field = (name: string) => described.body.fields.find((candidate: { name: string }) => candidate.name === name);
  expect(field('SystemModstamp')).toMatchObject({ type: 'datetime', updateable: false });
  expect(field('Region__c')).toMatchObject({ custom: true, updateable: true });
  expect(field('BillingCountryCode').picklistValues).toContainEqual(
    expect.objectContaining({ value: 'NL', label: 'Netherlands' }),
  );
  const id = sandbox.createAccount({ Name: 'Epsilon' }).Id;
  const refused = await call('PATCH', `/sobjects/Account/${id}`, { BillingCountryCode: 'XX' });
  expect(refused.body).toEqual([expect.objectContaining({ errorCode: 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST' })]);
  await call('PATCH', `/sobjects/Account/${id}`, { BillingCountryCode: 'NL' });
  expect(sandbox.getAccount(id)).toMatchObject({ BillingCountryCode: 'NL', BillingCountry: 'Netherlands' });
});

test('the daily allocation is told in Sforce-Limit-Info and /limits, and a spent one is 403 REQUEST_LIMIT_EXCEEDED', async () => {
  await start({ rateLimits: { dailyApiRequests: { limit: 3 } } });
  const first = await call('GET', '/limits');
  expect(first.headers.get('sforce-limit-info')).toBe('api-usage=1/3');
  expect(first.body).toEqual({ DailyApiRequests: { Max: 3, Remaining: 2 } });
  await call('GET', '/limits');
  await call('GET', '/limits');
  const spent = await call('GET', '/limits');
  expect(spent).toMatchObject({
    status: 403,
    body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED', message: 'TotalRequests Limit exceeded.' }],
  });
  expect(spent.headers.get('retry-after')).toBeNull();
});

test('requests running at once beyond the limit are refused with 403 REQUEST_LIMIT_EXCEEDED', async () => {
  await start({ latencyMs: 300, rateLimits: { concurrentRequests: { limit: 2 } } });
  const answers = await Promise.all([1, 2, 3].map(() => call('GET', '/limits')));
  expect(answers.map((answer) => answer.status).sort()).toEqual([200, 200, 403]);
  expect(answers.find((answer) => answer.status === 403)?.body).toEqual([
    expect.objectContaining({
      errorCode: 'REQUEST_LIMIT_EXCEEDED',
      message: 'ConcurrentPerOrgLongTxn Limit exceeded.',
    }),
  ]);
  // An injected throttle is Salesforce's too.
  sandbox.injectFailures({ next429: 1 });
  expect(await call('GET', '/limits')).toMatchObject({ status: 403, body: [{ errorCode: 'REQUEST_LIMIT_EXCEEDED' }] });
  expect((await call('GET', '/limits')).status).toBe(200);
});
