/**
 * The sandbox speaks Xero's documented API: the connector drives every route, and each exchange
 * the sandbox saw (the connector's request and the sandbox's answer) is checked against
 * xero_accounting.yaml.
 */
import type { ChangedPage } from '../../kit/types';
import { createXeroConnector } from '../connector';
import { xeroInfo } from '../mappers';
import { accountingValidator } from '../../../test/support/xero/openapi-validator';
import { startXeroSandbox, type XeroSandbox } from './server';

let sandbox: XeroSandbox;
const rotated: string[] = [];

beforeAll(async () => {
  sandbox = await startXeroSandbox({ pageSize: 2, refreshToken: 'first-refresh' });
});
afterAll(async () => sandbox.close());

function connector() {
  return createXeroConnector({
    name: 'accounting',
    baseUrl: sandbox.url,
    tenantId: sandbox.tenantId,
    auth: {
      tokenUrl: sandbox.tokenUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      refreshToken: sandbox.refreshToken,
      onRefreshToken: (next) => void rotated.push(next),
    },
    retry: { baseDelayMs: 1 },
  });
}

async function collect(pages: AsyncIterable<ChangedPage>): Promise<ChangedPage[]> {
  const result: ChangedPage[] = [];
  for await (const page of pages) result.push(page);
  return result;
}

it('serves the connector end to end, and every exchange conforms to xero_accounting.yaml', async () => {
  const accounting = connector();
  const customer = sandbox.createContact({
    Name: 'Sandbox Customer',
    IsCustomer: true,
    Phones: [{ PhoneType: 'DEFAULT', PhoneNumber: '555-0100' }],
  });
  const vendor = sandbox.createContact({ Name: 'Sandbox Vendor', IsSupplier: true });
  const survivor = sandbox.createContact({ Name: 'Sandbox Survivor', IsCustomer: true });
  const merged = sandbox.createContact({ Name: 'Sandbox Merged', IsCustomer: true });
  sandbox.mergeContact(String(merged.ContactID), String(survivor.ContactID));
  const bank = sandbox.createBankAccount({
    Code: '090',
    Name: 'Sandbox Bank',
    BankAccountNumber: '0209087654321050',
    CurrencyCode: 'NZD',
  });

  const pages = await collect(accounting.listChanged!('customer', null));
  expect(pages.length).toBeGreaterThan(1);
  const listed = pages.flatMap((page) => page.records);
  expect(listed.map((record) => record.id)).toEqual([customer.ContactID, survivor.ContactID, merged.ContactID]);
  expect(xeroInfo(listed[2]!)).toMatchObject({ status: 'ARCHIVED', mergedInto: survivor.ContactID });
  expect(
    (await collect(accounting.listChanged!('customer', pages.at(-1)!.cursor))).flatMap((page) => page.records),
  ).toEqual([]);

  expect((await accounting.get('vendor', String(vendor.ContactID)))?.fields.name).toBe('Sandbox Vendor');
  expect(await accounting.batchGet!('customer', [String(customer.ContactID), String(merged.ContactID)])).toHaveLength(
    2,
  );
  const created = await accounting.create!(
    'customer',
    { name: 'Created Customer', city: 'Wellington' },
    { idempotencyKey: 'sandbox-create-1', extra: { number: 'T0000001' } },
  );
  expect(
    await accounting.create!(
      'customer',
      { name: 'Created Customer', city: 'Wellington' },
      { idempotencyKey: 'sandbox-create-1', extra: { number: 'T0000001' } },
    ),
  ).toMatchObject({ id: created.id });
  await accounting.update!('customer', { id: created.id, fields: { phone: '+64 4 555 0100' } });
  const results = await accounting.batchUpdate!('customer', [
    { id: created.id, fields: { email: 'ar@created.example' } },
    { id: '00000000-0000-0000-0000-00000000dead', fields: { email: 'x@example.com' } },
  ]);
  expect(results.map((result) => result.ok)).toEqual([true, false]);

  expect((await collect(accounting.listChanged!('bankAccount', null)))[0]!.records.map((record) => record.id)).toEqual([
    bank.AccountID,
  ]);
  const newBank = await accounting.create!(
    'bankAccount',
    { name: 'Created Bank', bankAccountNo: '12-3456-7890123-00' },
    { idempotencyKey: 'bank-create-1', extra: { number: 'T0002' } },
  );
  await accounting.update!('bankAccount', { id: newBank.id, fields: { currencyCode: 'NZD' } });
  expect(await accounting.get('bankAccount', '00000000-0000-0000-0000-00000000dead')).toBeNull();

  sandbox.injectFailures({ next429: 1, retryAfterSeconds: 0 });
  expect((await accounting.get('customer', String(customer.ContactID)))?.id).toBe(customer.ContactID);
  expect(rotated.length).toBeGreaterThan(0);

  const validator = accountingValidator();
  const violations = sandbox.exchanges.flatMap((exchange) => [
    ...validator.validateRequest({
      method: exchange.method,
      path: exchange.path,
      headers: exchange.headers,
      body: exchange.requestBody,
    }),
    ...validator.validateResponse({
      method: exchange.method,
      path: exchange.path,
      status: exchange.status,
      body: exchange.responseBody,
    }),
  ]);
  expect(violations).toEqual([]);
  expect(new Set(sandbox.exchanges.map((exchange) => `${exchange.method} ${exchange.status}`))).toEqual(
    new Set(['GET 200', 'GET 404', 'GET 429', 'POST 200', 'PUT 200']),
  );
});

it('searches contacts with searchTerm and TaxNumber, and bank accounts in their list, as documented', async () => {
  const accounting = createXeroConnector({
    name: 'accounting',
    baseUrl: sandbox.url,
    tenantId: sandbox.tenantId,
    auth: {
      tokenUrl: sandbox.tokenUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      refreshToken: sandbox.refreshToken,
    },
    contactNumberPrefix: { customer: 'CUST-' },
    retry: { baseDelayMs: 1 },
  });
  const percent = sandbox.createContact({ Name: 'Percent 100% Ltd', IsCustomer: true });
  sandbox.createContact({ Name: 'Percent 1000 Ltd', IsCustomer: true });
  const quoted = sandbox.createContact({ Name: 'Quote "Q" Supplies', IsSupplier: true });
  const taxed = sandbox.createContact({ Name: 'Tax Holder', IsCustomer: true, TaxNumber: 'NL 8123.45.678 B01' });
  // No invoice yet (no IsCustomer), a customer by its number's prefix: a where clause on the flag would miss it.
  const numbered = sandbox.createContact({ Name: 'Numbered Prospect', ContactNumber: 'CUST-9' });
  const bank = sandbox.createBankAccount({ Code: '095', Name: 'Search Bank', BankAccountNumber: '11-2222-3333' });
  const ids = async (entity: 'customer' | 'vendor' | 'bankAccount', text: string) =>
    (await accounting.search!(entity, text, 10)).map((record) => record.id);
  const before = sandbox.exchanges.length;

  expect(await ids('customer', '100%')).toEqual([percent.ContactID]);
  expect(await ids('vendor', 'quote "q"')).toEqual([quoted.ContactID]);
  expect(await ids('customer', 'quote "q"')).toEqual([]);
  // Contacts without a TaxNumber are there too: the filter tests it for null first.
  expect(await ids('customer', 'nl 8123.45.678 b01')).toEqual([taxed.ContactID]);
  expect(await ids('customer', 'cust-9')).toEqual([numbered.ContactID]);
  expect(await ids('bankAccount', 'search 2222')).toEqual([bank.AccountID]);

  const searches = sandbox.exchanges.slice(before);
  expect(searches.map((exchange) => exchange.status)).toEqual(searches.map(() => 200));
  const validator = accountingValidator();
  const violations = searches.flatMap((exchange) => [
    ...validator.validateRequest({ method: exchange.method, path: exchange.path, headers: exchange.headers }),
    ...validator.validateResponse({
      method: exchange.method,
      path: exchange.path,
      status: exchange.status,
      body: exchange.responseBody,
    }),
  ]);
  expect(violations).toEqual([]);
});

it('fails a method on a missing property as Xero does, and refuses what it does not serve: pageSize over 1000, searchTerm on Accounts', async () => {
  const strict = await startXeroSandbox({ refreshToken: 'search-refresh' });
  try {
    strict.createContact({ Name: 'No Tax Number' });
    const basic = Buffer.from(`${strict.clientId}:${strict.clientSecret}`).toString('base64');
    const granted = await fetch(strict.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'search-refresh' }),
    });
    const { access_token: accessToken } = (await granted.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${accessToken}`, 'xero-tenant-id': strict.tenantId };
    const status = async (path: string, query: Record<string, string>) =>
      (await fetch(`${strict.url}${path}?${new URLSearchParams(query).toString()}`, { headers })).status;

    expect(await status('/Contacts', { where: 'TaxNumber.Contains("1")' })).toBe(500);
    expect(await status('/Contacts', { where: 'TaxNumber!=null&&TaxNumber.Contains("1")' })).toBe(200);
    expect(await status('/Contacts', { where: 'Name=="a" OR 1==1' })).toBe(400);
    expect(await status('/Contacts', { page: '1', pageSize: '1001' })).toBe(400);
    expect(await status('/Contacts', { page: '1', pageSize: '1000', searchTerm: 'tax' })).toBe(200);
    expect(await status('/Accounts', { searchTerm: 'bank' })).toBe(400);
  } finally {
    await strict.close();
  }
});

it('refuses a call without the tenant header or with a spent refresh token', async () => {
  const stale = createXeroConnector({
    name: 'accounting',
    baseUrl: sandbox.url,
    tenantId: sandbox.tenantId,
    auth: {
      tokenUrl: sandbox.tokenUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      refreshToken: 'first-refresh',
    },
    retry: { baseDelayMs: 1 },
  });
  await expect(stale.get('customer', '00000000-0000-0000-0000-00000000dead')).rejects.toThrow(/invalid_grant/);
  const otherTenant = createXeroConnector({
    name: 'accounting',
    baseUrl: sandbox.url,
    tenantId: '00000000-0000-0000-0000-000000000000',
    auth: {
      tokenUrl: sandbox.tokenUrl,
      clientId: sandbox.clientId,
      clientSecret: sandbox.clientSecret,
      refreshToken: sandbox.refreshToken,
    },
    retry: { baseDelayMs: 1 },
  });
  await expect(otherTenant.get('customer', '00000000-0000-0000-0000-00000000dead')).rejects.toThrow(/403/);
});

it('holds calls to Xero’s limits: 60 a minute and 5 in flight, each 429 naming its limit', async () => {
  // The limits' clock stands still unless the test moves it, so refills come only when told.
  let clock = Date.now();
  const limited = await startXeroSandbox({ refreshToken: 'limits-refresh', now: () => clock });
  try {
    const basic = Buffer.from(`${limited.clientId}:${limited.clientSecret}`).toString('base64');
    const granted = await fetch(limited.tokenUrl, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'limits-refresh' }),
    });
    const { access_token: accessToken } = (await granted.json()) as { access_token: string };
    const headers = { authorization: `Bearer ${accessToken}`, 'xero-tenant-id': limited.tenantId };
    const contacts = () => fetch(`${limited.url}/Contacts`, { headers });

    const answers: Response[] = [];
    for (let index = 0; index < 61; index++) answers.push(await contacts());
    expect(answers.map((answer) => answer.status)).toEqual([...Array(60).fill(200), 429]);
    expect(answers.slice(0, 3).map((answer) => answer.headers.get('x-minlimit-remaining'))).toEqual(['59', '58', '57']);
    expect(answers[0]!.headers.get('x-daylimit-remaining')).toBe('4999');
    expect(answers[60]!.headers.get('x-rate-limit-problem')).toBe('minute');
    expect(answers[60]!.headers.get('retry-after')).toBe('1');

    clock += 60_000;
    limited.setLatency(150);
    const parallel = await Promise.all(Array.from({ length: 6 }, contacts));
    const refused = parallel.filter((answer) => answer.status === 429);
    expect(parallel.filter((answer) => answer.status === 200)).toHaveLength(5);
    expect(refused.map((answer) => answer.headers.get('x-rate-limit-problem'))).toEqual(['concurrent']);
  } finally {
    await limited.close();
  }
});
