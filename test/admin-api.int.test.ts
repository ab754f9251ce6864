/**
 * The admin API of a running daemon over both sandboxes, real Redis and PGlite, with real HTTP:
 * a link made through the API carries later changes, creating an account twice gives one account,
 * a second relation of a kind is refused, and tokens are checked. The CLI talks to the same daemon.
 */
import { waitFor } from '../src/util/net';
import { runCli } from '../src/cli/run';
import { settle, startRig, toBc, toHubSpot, type Rig } from './support/harness';

const ADMIN = 'int-admin-token-0123456789';
const VIEWER = 'int-viewer-token-0123456789';

let rig: Rig;
beforeAll(async () => {
  rig = await startRig({
    adminTokens: { admin: [ADMIN], viewer: [VIEWER] },
    config: (base) => ({ ...base, templates: { customer: { default: {} } } }),
  });
});
afterAll(async () => {
  await rig?.stop();
});

async function api(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  options: { token?: string | null; body?: unknown; headers?: Record<string, string> } = {},
) {
  const token = options.token === undefined ? ADMIN : options.token;
  const response = await fetch(new URL(path, rig.daemon.url), {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read whatever the API answered
    body: text ? (JSON.parse(text) as Record<string, any>) : undefined,
  };
}

const fields = (name: string) => ({
  name,
  address: 'Keizersgracht 1',
  city: 'Amsterdam',
  postCode: '1015 CJ',
  countryCode: 'NL',
  phone: '+31 20 200 0000',
});

test('a contact linked through the API carries a later phone change to the customer', async () => {
  const company = rig.hubspot.createCompany(toHubSpot(fields('Linked Through API BV')));
  const customer = rig.bc.createCustomer(toBc(fields('Linked Through API BV')));
  const contactId = `company-${company.id}`;
  const linked = await api('POST', '/api/relations', {
    body: { contactId, accountKind: 'customer', accountId: String(customer.id) },
  });
  expect(linked.status).toBe(201);
  expect(linked.body?.relation).toMatchObject({
    contactId,
    accountKind: 'customer',
    accountId: String(customer.id),
    relationCode: 'CUST',
  });
  await rig.hubspot.flushWebhooks();
  await rig.bc.flushNotifications();
  await settle(rig);

  rig.hubspot.updateCompany(company.id, { phone: '+31 20 555 0101' });
  await waitFor(() => rig.bc.getCustomer(String(customer.id))?.phoneNumber === '+31 20 555 0101', 15_000);

  const status = await api('GET', `/api/relations/${linked.body?.relation.id}/status`, { token: VIEWER });
  expect(status.status).toBe(200);
  expect(status.body?.relation.id).toBe(linked.body?.relation.id);
});

test('creating a customer from a contact twice gives one customer in Business Central', async () => {
  const name = 'Created Twice Through API BV';
  const company = rig.hubspot.createCompany(toHubSpot(fields(name)));
  const contactId = `company-${company.id}`;
  const first = await api('POST', `/api/contacts/${contactId}/accounts`, {
    body: { accountKind: 'customer' },
    headers: { 'idempotency-key': `create-${company.id}` },
  });
  expect(first.status).toBe(201);
  expect(first.body).toMatchObject({
    created: true,
    relation: { contactId, accountKind: 'customer', origin: 'createdFromContact' },
  });
  const second = await api('POST', `/api/contacts/${contactId}/accounts`, {
    body: { accountKind: 'customer' },
    headers: { 'idempotency-key': `create-${company.id}` },
  });
  expect(second.status).toBe(200);
  expect(second.body?.account.id).toBe(first.body?.account.id);
  expect(rig.bc.listCustomers().filter((customer) => customer.displayName === name)).toHaveLength(1);
});

test('a create refused for bad input leaves no trace, and its key serves the corrected request', async () => {
  const name = 'Refused First BV';
  const company = rig.hubspot.createCompany(toHubSpot(fields(name)));
  const contactId = `company-${company.id}`;
  const key = `refused-${company.id}`;
  // The key's first use names a contact that does not exist.
  const unknown = await api('POST', `/api/contacts/company-99999999/accounts`, {
    body: { accountKind: 'customer' },
    headers: { 'idempotency-key': key },
  });
  expect(unknown.status).toBe(404);
  expect(await rig.store.getOperation(key)).toBeNull();
  const corrected = await api('POST', `/api/contacts/${contactId}/accounts`, {
    body: { accountKind: 'customer' },
    headers: { 'idempotency-key': key },
  });
  expect(corrected.status).toBe(201);
  expect(rig.bc.listCustomers().filter((customer) => customer.displayName === name)).toHaveLength(1);
});

test('a second customer relation for a contact is 409', async () => {
  const { contactId } = await rig.linkedCompany(fields('Already Linked BV'), ['customer']);
  const other = rig.bc.createCustomer(toBc(fields('Another Customer BV')));
  const response = await api('POST', '/api/relations', {
    body: { contactId, accountKind: 'customer', accountId: String(other.id) },
  });
  expect(response.status).toBe(409);
  expect(response.body?.error).toBe('RELATION_EXISTS');
});

test('no token is 401, a viewer token on a change is 403, a viewer token reads', async () => {
  const none = await api('GET', '/api/relations', { token: null });
  expect(none.status).toBe(401);
  expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
  expect((await api('GET', '/api/relations', { token: 'not-a-configured-token-at-all' })).status).toBe(401);
  expect(
    (
      await api('POST', '/api/relations', {
        token: VIEWER,
        body: { contactId: 'x', accountKind: 'customer', accountId: 'y' },
      })
    ).status,
  ).toBe(403);
  expect((await api('GET', '/api/relations', { token: VIEWER })).status).toBe(200);
  expect((await fetch(new URL('/healthz', rig.daemon.url))).status).toBe(200);
});

test('the daemon status and the CLI against the running daemon', async () => {
  const status = await api('GET', '/api/status', { token: VIEWER });
  expect(status.status).toBe(200);
  expect(status.body).toMatchObject({
    role: 'all',
    relationCodes: { customer: 'CUST', vendor: 'VEND', bankAccount: 'BANK' },
  });
  expect(Object.keys(status.body?.queues ?? {})).toEqual(['intake', 'write-crm', 'write-accounting']);
  expect(status.body?.relations.customer).toBeGreaterThan(0);

  let stdout = '';
  const code = await runCli(['relations', '--kind', 'customer', '--json'], {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: () => true },
    env: { TANDEM_URL: rig.daemon.url, TANDEM_TOKEN: VIEWER },
  });
  expect(code).toBe(0);
  expect((JSON.parse(stdout) as unknown[]).length).toBe(status.body?.relations.customer);
});
