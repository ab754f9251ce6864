/** The Salesforce connector against its sandbox: what the connector contract cannot express. */
import { PreconditionFailedError, RateLimitedError } from '../kit/errors';
import type { Connector } from '../kit/types';
import { createSalesforceConnector, type SalesforceConnectorOptions } from '.';
import { type SalesforceSandbox, type SalesforceSandboxOptions, startSalesforceSandbox } from './sandbox';

let sandbox: SalesforceSandbox;
let connector: Connector;

async function start(sandboxOptions: SalesforceSandboxOptions = {}, options: Partial<SalesforceConnectorOptions> = {}) {
  sandbox = await startSalesforceSandbox(sandboxOptions);
  connector = createSalesforceConnector({
    name: 'crm',
    baseUrl: sandbox.url,
    clientId: sandbox.clientId,
    clientSecret: sandbox.clientSecret,
    retry: { baseDelayMs: 1 },
    readWindowMs: 0,
    ...options,
  });
}
afterEach(async () => {
  await connector.close?.();
  await sandbox.close();
});

async function poll(cursor: string | null) {
  const pages = [];
  for await (const page of connector.listChanged!('contact', cursor)) pages.push(page);
  return {
    ids: pages.flatMap((page) => page.records.map((record) => record.id)),
    deleted: pages.flatMap((page) => page.deleted ?? []),
    cursor: pages.at(-1)?.cursor ?? cursor,
  };
}

test('Contacts are persons of their Account: created with companyId, read back with it, polled after the Accounts', async () => {
  await start();
  const company = await connector.create!('contact', { name: 'Fabrikam', city: 'Utrecht' }, { idempotencyKey: 'k-1' });
  const person = await connector.create!(
    'contact',
    { name: 'Anna van Dijk', email: 'anna@fabrikam.example' },
    { idempotencyKey: 'k-2', extra: { type: 'person', companyId: company.id } },
  );
  expect(person).toMatchObject({ type: 'person', companyId: company.id, fields: { name: 'Anna van Dijk' } });
  const stored = sandbox.getContact(person.id.replace('person-', ''));
  expect(stored).toMatchObject({
    FirstName: 'Anna van',
    LastName: 'Dijk',
    AccountId: company.id.replace('company-', ''),
  });
  expect((await poll(null)).ids).toEqual([company.id, person.id]);
});

test('deletions come from getDeleted once a minute, merged Accounts among them', async () => {
  let now = Date.now();
  await start({}, { now: () => now });
  const survivor = sandbox.createAccount({ Name: 'Survivor' }).Id;
  const loser = sandbox.createAccount({ Name: 'Duplicate' }).Id;
  const gone = sandbox.createContact({ LastName: 'Gone' }).Id;
  const first = await poll(null);
  sandbox.deleteContact(gone);
  sandbox.mergeAccounts(survivor, [loser]);
  // Within the minute: the changes, but no getDeleted yet.
  const soon = await poll(first.cursor);
  expect(soon.deleted).toEqual([]);
  expect(sandbox.countRequests({ path: '/deleted' })).toBe(0);
  now += 61_000;
  const later = await poll(soon.cursor);
  expect(later.deleted.sort()).toEqual([`company-${loser}`, `person-${gone}`].sort());
  const again = await poll(later.cursor);
  expect(again.deleted).toEqual([]);
});

test('a merged Account reads as merged into its survivor (queryAll of MasterRecordId), by id and in a batch', async () => {
  await start();
  const survivor = sandbox.createAccount({ Name: 'Survivor' }).Id;
  const loser = sandbox.createAccount({ Name: 'Duplicate' }).Id;
  const deleted = sandbox.createAccount({ Name: 'Deleted' }).Id;
  sandbox.mergeAccounts(survivor, [loser]);
  sandbox.deleteAccount(deleted);
  expect(await connector.get('contact', `company-${loser}`)).toMatchObject({
    id: `company-${loser}`,
    type: 'company',
    fields: {},
    mergedInto: `company-${survivor}`,
  });
  // Deleted without a merge: gone.
  expect(await connector.get('contact', `company-${deleted}`)).toBeNull();
  const batch = await connector.batchGet!('contact', [`company-${survivor}`, `company-${loser}`, `company-${deleted}`]);
  expect(batch.map((record) => [record.id, record.mergedInto ?? null])).toEqual([
    [`company-${survivor}`, null],
    [`company-${loser}`, `company-${survivor}`],
  ]);
});

test('field history gives each field its change time on reads by id', async () => {
  await start({ fieldHistory: true }, { fieldHistory: true });
  const id = sandbox.createAccount({ Name: 'Delta', Phone: '1' }).Id;
  await new Promise((resolve) => setTimeout(resolve, 20));
  sandbox.updateAccount(id, { BillingCity: 'Utrecht' });
  const record = await connector.get('contact', `company-${id}`);
  const history = sandbox.historyOf('Account', id);
  expect(record?.fieldModifiedAt?.city).toBe(
    new Date(Date.parse(String(history.at(-1)?.CreatedDate).replace('+0000', 'Z'))).toISOString(),
  );
  expect(record?.fieldModifiedAt?.phone).toBeUndefined();
});

test('a batch update refuses the stale item with PreconditionFailedError and writes the others', async () => {
  await start();
  const [a, b] = [sandbox.createAccount({ Name: 'A' }).Id, sandbox.createAccount({ Name: 'B' }).Id];
  const [readA, readB] = await connector.batchGet!('contact', [`company-${a}`, `company-${b}`]);
  await new Promise((resolve) => setTimeout(resolve, 5));
  sandbox.updateAccount(b, { Phone: 'theirs' });
  const results = await connector.batchUpdate!('contact', [
    { id: `company-${a}`, fields: { phone: 'ours' }, ifMatch: readA?.version },
    { id: `company-${b}`, fields: { phone: 'ours' }, ifMatch: readB?.version },
  ]);
  expect(results.map((result) => result.ok)).toEqual([true, false]);
  expect(results[1]?.ok === false && results[1].error).toBeInstanceOf(PreconditionFailedError);
  expect(sandbox.getAccount(a)?.Phone).toBe('ours');
  expect(sandbox.getAccount(b)?.Phone).toBe('theirs');
  // One read of the versions, one collection write, one read back.
  expect(sandbox.countRequests({ method: 'PATCH', path: '/composite/sobjects' })).toBe(1);
});

test('search sends the word escaped: a quote and a % find the record holding them, not every record', async () => {
  await start();
  const obrien = sandbox.createAccount({ Name: "O'Brien 100% Trading" }).Id;
  sandbox.createAccount({ Name: 'Plain Trading' });
  expect((await connector.search!('contact', "o'brien", 10)).map((record) => record.id)).toEqual([`company-${obrien}`]);
  sandbox.resetRequests();
  expect((await connector.search!('contact', '100%', 10)).map((record) => record.id)).toEqual([`company-${obrien}`]);
  // The log holds the query string as sent, its spaces as +.
  const queries = sandbox.requests
    .map((request) => request.query.replace(/\+/g, ' '))
    .filter((query) => query.includes('LIKE'));
  expect(queries[0]).toContain("Name LIKE '%100\\%%'");
});

test("the org's daily allocation is read from /limits and Sforce-Limit-Info and its reserve is left alone", async () => {
  await start({ rateLimits: { dailyApiRequests: { limit: 20 } } }, { dailyReserve: 0.5 });
  const id = `company-${sandbox.createAccount({ Name: 'Budget' }).Id}`;
  await connector.checkHealth!();
  const calls = () => sandbox.countRequests({ path: '/' });
  for (let n = 0; n < 20 && calls() < 10; n++) await connector.get('contact', id);
  const before = calls();
  expect(before).toBe(10);
  await expect(connector.get('contact', id)).rejects.toBeInstanceOf(RateLimitedError);
  expect(calls()).toBe(before);
});

test('a spent allocation (403 REQUEST_LIMIT_EXCEEDED) is a throttle for the queue, not bad credentials', async () => {
  await start({ rateLimits: { dailyApiRequests: { limit: 1 } } }, { dailyReserve: 0 });
  await connector.checkHealth!();
  await expect(connector.get('contact', 'company-001Sb0000999999AAA')).rejects.toBeInstanceOf(RateLimitedError);
});

test('custom fields join the objects that have them; describe lists them with their picklist values', async () => {
  const region = {
    name: 'Region__c',
    label: 'Region',
    type: 'picklist' as const,
    updateable: true,
    picklistValues: [{ value: 'EU', label: 'Europe', active: true }],
  };
  await start({ customFields: { Account: [region] } }, { customFields: () => ['Region__c'] });
  const account = sandbox.createAccount({ Name: 'Custom', Region__c: 'EU' }).Id;
  const person = sandbox.createContact({ LastName: 'Plain' }).Id;
  expect((await connector.get('contact', `company-${account}`))?.fields['custom.Region__c']).toBe('EU');
  expect((await connector.get('contact', `person-${person}`))?.fields).not.toHaveProperty('custom.Region__c');
  const described = await connector.describeFields!('contact');
  expect(described.find((field) => field.name === 'custom.Region__c')).toMatchObject({
    type: 'enumeration',
    writable: true,
    options: [{ value: 'EU', label: 'Europe' }],
  });
  expect(described.find((field) => field.name === 'phone')).toMatchObject({ custom: false });
});

test('with state and country picklists on, codes are written to the code fields', async () => {
  await start({ stateAndCountryPicklists: true }, { stateAndCountryPicklists: true });
  const id = sandbox.createAccount({ Name: 'Picklists' }).Id;
  const written = await connector.update!('contact', { id: `company-${id}`, fields: { countryCode: 'NL' } });
  expect(written.fields.countryCode).toBe('NL');
  expect(sandbox.getAccount(id)).toMatchObject({ BillingCountryCode: 'NL', BillingCountry: 'Netherlands' });
});

test('an expired session is renewed once on 401', async () => {
  await start();
  const id = sandbox.createAccount({ Name: 'Session' }).Id;
  await connector.get('contact', `company-${id}`);
  sandbox.revokeTokens();
  expect(await connector.get('contact', `company-${id}`)).toMatchObject({ fields: { name: 'Session' } });
  expect(sandbox.countRequests({ path: 'token' })).toBe(2);
});
